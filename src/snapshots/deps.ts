// What `copy --with-deps` brings along: the packages of the source snapshot that the
// chosen ones need, resolved as dnf would within that snapshot. Each requires is
// matched against the provides (and, for a path, the files) of the packages the
// destination will hold (what it has, and what the copy brings so far) first: a need
// met there brings nothing. Else the source's providers are asked, the newest build of
// the best name taken (libsolv's preference, simplified: the requirer's arch or
// noarch, then a provider named as the requirement, then the shortest name; of the
// builds that fit, one that meets the requirer's other requires of the same name too,
// as a solver sees them together), and its own requires followed in turn, until
// nothing more is needed.
//
// Versioned requires compare EVRs as rpm does (src/rpm/vercmp.ts). Rich (boolean)
// requires are followed: `and` needs each, `or` the first alternative that is met or
// can be brought, `with` one package meeting every operand, `without` one meeting the
// first and not the second; `if` and `unless` are judged by what the destination will
// hold, again each time more is brought (so a condition met later still counts). What
// no package of either side meets is reported as unresolved, not an error: it may come
// from another repository (the base OS's libc, say) on the machines that install.

import { evrcmp, nevra, type Dependency, type PackageRecord } from '../rpm/index.ts';

/** What resolving needs of a package: who it is, what it provides, requires and owns. */
export type Resolvable = Pick<PackageRecord, 'name' | 'epoch' | 'version' | 'release' | 'arch' | 'provides' | 'requires' | 'files'>;

/** A package of the source snapshot: where it is, and its record. */
export interface SourcePackage {
  href: string;
  digest: string;
  size: number;
  record: PackageRecord;
}

/** A requirement nothing meets: the package that has it, and its text. */
export interface Unresolved {
  package: string;
  requires: string;
  /** Why: nothing provides it, no alternative of a rich one is provided, or it cannot be read. */
  why?: string;
}

export interface Resolution<P> {
  /** The chosen packages, then those they need, in the order they were found. */
  packages: P[];
  /** Those of `packages` brought as dependencies. */
  dependencies: P[];
  unresolved: Unresolved[];
}

type Flags = NonNullable<Dependency['flags']>;

/** A requirement, plain or rich (boolean). */
type Requirement =
  | { dep: Dependency }
  | { op: 'and' | 'or' | 'with' | 'without'; args: Requirement[] }
  | { op: 'if' | 'unless'; then: Requirement; cond: Requirement; else?: Requirement };

export class RichDependencyError extends Error {}

const OPERATORS: Record<string, Flags> = { '=': 'EQ', '==': 'EQ', '<': 'LT', '>': 'GT', '<=': 'LE', '>=': 'GE', '=<': 'LE', '=>': 'GE' };
const SYMBOL: Record<Flags, string> = { EQ: '=', LT: '<', GT: '>', LE: '<=', GE: '>=' };

/** A dependency as rpm prints it: name [op [epoch:]version[-release]]. */
export function dependencyText(d: Dependency): string {
  if (!d.flags) return d.name;
  return `${d.name} ${SYMBOL[d.flags]} ${d.epoch && d.epoch !== '0' ? `${d.epoch}:` : ''}${d.ver ?? ''}${d.rel ? `-${d.rel}` : ''}`;
}

/** An EVR as a rich dependency writes it. */
function parseEvr(text: string): Pick<Dependency, 'epoch' | 'ver' | 'rel'> {
  const colon = text.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(text.slice(0, colon)) ? text.slice(0, colon) : undefined;
  const vr = epoch === undefined ? text : text.slice(colon + 1);
  const dash = vr.lastIndexOf('-');
  return dash === -1 ? { epoch, ver: vr } : { epoch, ver: vr.slice(0, dash), rel: vr.slice(dash + 1) };
}

/** Parses a rich dependency, `(a >= 1 and (b or c))`; a RichDependencyError if it is not one. */
export function parseRich(text: string): Requirement {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    if (at >= tokens.length) throw new RichDependencyError('it ends early');
    return tokens[at++];
  };
  const operand = (): Requirement => {
    if (peek() === '(') return group();
    const name = next();
    if (name === ')' || ['and', 'or', 'if', 'else', 'unless', 'with', 'without'].includes(name)) throw new RichDependencyError(`${JSON.stringify(name)} where a package name was expected`);
    const flags = OPERATORS[peek() ?? ''];
    if (!flags) return { dep: { name } };
    next();
    return { dep: { name, flags, ...parseEvr(next()) } };
  };
  const group = (): Requirement => {
    if (next() !== '(') throw new RichDependencyError("it does not start with '('");
    const first = operand();
    let result: Requirement = first;
    const op = peek();
    if (op === 'and' || op === 'or' || op === 'with' || op === 'without') {
      const args = [first];
      while (peek() === op) {
        next();
        args.push(operand());
      }
      result = { op, args };
    } else if (op === 'if' || op === 'unless') {
      next();
      const cond = operand();
      let otherwise: Requirement | undefined;
      if (peek() === 'else') {
        next();
        otherwise = operand();
      }
      result = { op, then: first, cond, ...(otherwise && { else: otherwise }) };
    }
    if (next() !== ')') throw new RichDependencyError('operators of different kinds in one group need their own parentheses');
    return result;
  };
  const req = group();
  if (at !== tokens.length) throw new RichDependencyError('text after its closing parenthesis');
  return req;
}

/**
 * Whether a provide meets a requirement of the same name: their version ranges overlap,
 * as rpm decides it (an unversioned one on either side meets any).
 */
export function rangesOverlap(provide: Dependency, require: Dependency): boolean {
  if (!provide.flags || !require.flags) return true;
  const has = (f: Flags, what: 'L' | 'G' | 'E') => (what === 'E' ? f.endsWith('E') || f === 'EQ' : f.startsWith(what));
  const sense = evrcmp({ epoch: provide.epoch, version: provide.ver ?? '', release: provide.rel }, { epoch: require.epoch, version: require.ver ?? '', release: require.rel });
  if (sense < 0) return has(provide.flags, 'G') || has(require.flags, 'L');
  if (sense > 0) return has(provide.flags, 'L') || has(require.flags, 'G');
  return (has(provide.flags, 'E') && has(require.flags, 'E')) || (has(provide.flags, 'L') && has(require.flags, 'L')) || (has(provide.flags, 'G') && has(require.flags, 'G'));
}

/** The provides of a package, with the one of its own name and EVR rpm always adds. */
function providesOf(r: Resolvable): Dependency[] {
  return [...r.provides, { name: r.name, flags: 'EQ', epoch: r.epoch, ver: r.version, rel: r.release }];
}

/** Who provides what, among some packages: by provide name, and by file path. */
class Providers<P extends { record: Resolvable }> {
  private readonly byName = new Map<string, { provide: Dependency; pkg: P }[]>();
  private readonly byFile = new Map<string, P[]>();
  readonly all = new Set<P>();

  constructor(packages: Iterable<P> = []) {
    for (const p of packages) this.add(p);
  }

  add(p: P): void {
    if (this.all.has(p)) return;
    this.all.add(p);
    for (const provide of providesOf(p.record)) {
      const list = this.byName.get(provide.name);
      if (list) list.push({ provide, pkg: p });
      else this.byName.set(provide.name, [{ provide, pkg: p }]);
    }
    for (const f of p.record.files) {
      const list = this.byFile.get(f.path);
      if (list) list.push(p);
      else this.byFile.set(f.path, [p]);
    }
  }

  /** The packages that meet a plain requirement. */
  of(dep: Dependency): P[] {
    const found = new Set((this.byName.get(dep.name) ?? []).filter((x) => rangesOverlap(x.provide, dep)).map((x) => x.pkg));
    if (dep.name.startsWith('/') && !dep.flags) for (const p of this.byFile.get(dep.name) ?? []) found.add(p);
    return [...found];
  }

  /** The packages that meet a requirement, plain or rich, each on its own (for `with`, `without`). */
  meeting(req: Requirement): P[] {
    if ('dep' in req) return this.of(req.dep);
    if (req.op === 'with') return req.args.map((a) => this.meeting(a)).reduce((a, b) => a.filter((p) => b.includes(p)));
    if (req.op === 'without') {
      const [first, ...rest] = req.args.map((a) => this.meeting(a));
      return first.filter((p) => !rest.some((r) => r.includes(p)));
    }
    return [];
  }
}

/**
 * The provider dnf would pick: of the requirer's arch or noarch if there is one, then
 * named as the requirement, then the shortest name (then the first by name); of that
 * name, the newest build.
 */
export function bestProvider<P extends { record: Resolvable }>(candidates: P[], requiredName: string, requirerArch: string): P {
  const fitting = candidates.filter((p) => p.record.arch === 'noarch' || p.record.arch === requirerArch);
  const pool = fitting.length ? fitting : candidates;
  const names = [...new Set(pool.map((p) => p.record.name))].sort((a, b) => Number(b === requiredName) - Number(a === requiredName) || a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const builds = pool.filter((p) => p.record.name === names[0]);
  return builds.reduce((best, p) => (evrcmp(p.record, best.record) > 0 || (evrcmp(p.record, best.record) === 0 && p.record.arch === requirerArch) ? p : best));
}

/**
 * The chosen packages of `source` and what they need from it, given what the
 * destination already holds (`present`, which meets needs without being copied).
 */
export function resolveWithDeps<P extends { record: Resolvable }>(source: P[], chosen: P[], present: { record: Resolvable }[]): Resolution<P> {
  const offered = new Providers(source);
  // What the destination will hold: what it has, and what the copy brings.
  const held = new Providers<{ record: Resolvable }>(present);
  const selected: P[] = [];
  const queue: P[] = [];
  const bring = (p: P) => {
    if (held.all.has(p)) return;
    held.add(p);
    selected.push(p);
    queue.push(p);
  };
  for (const p of chosen) bring(p);
  const unresolved: Unresolved[] = [];
  const conditional: { pkg: P; req: Requirement; text: string }[] = [];

  /** What a requirement brings, or why it cannot be met; a condition is judged now. */
  const plan = (req: Requirement, requirer: P): { bring: P[] } | { why: string } => {
    if ('dep' in req || req.op === 'with' || req.op === 'without') {
      if (held.meeting(req).length) return { bring: [] };
      const candidates = offered.meeting(req);
      if (!candidates.length) return { why: 'nothing in the source or the destination provides it' };
      return { bring: [bestProvider(meetingTheRest(candidates, req, requirer), 'dep' in req ? req.dep.name : '', requirer.record.arch)] };
    }
    if (req.op === 'and') {
      const all: P[] = [];
      for (const arg of req.args) {
        const step = plan(arg, requirer);
        if ('why' in step) return step;
        all.push(...step.bring);
      }
      return { bring: all };
    }
    if (req.op === 'or') {
      const steps = req.args.map((a) => plan(a, requirer));
      return steps.find((s) => 'bring' in s && !s.bring.length) ?? steps.find((s) => 'bring' in s) ?? { why: 'no alternative is provided' };
    }
    if (!isConditional(req)) throw new Error(`unknown rich operator ${req.op}`);
    const condition = conditionHolds(req.cond);
    const branch = (req.op === 'if') === condition ? req.then : req.else;
    return branch ? plan(branch, requirer) : { bring: [] };
  };
  /**
   * Of the candidates for one requires, those that also meet the requirer's other
   * requires of the same name (`lib >= 1.1` and `lib < 2` want one build in the
   * range, not the newest of the first), if any do: as a solver sees them together.
   */
  const meetingTheRest = (candidates: P[], req: Requirement, requirer: P): P[] => {
    if (!('dep' in req)) return candidates;
    const others = requirer.record.requires.filter((d) => d.name === req.dep.name && d !== req.dep);
    const fitting = candidates.filter((p) => others.every((d) => offered.of(d).includes(p)));
    return fitting.length ? fitting : candidates;
  };
  /** A compound condition, judged by what the destination will hold. */
  const conditionHolds = (req: Requirement): boolean => {
    if ('dep' in req || req.op === 'with' || req.op === 'without') return held.meeting(req).length > 0;
    if (req.op === 'and') return req.args.every(conditionHolds);
    if (req.op === 'or') return req.args.some(conditionHolds);
    if (!isConditional(req)) throw new Error(`unknown rich operator ${req.op}`);
    const holds = conditionHolds(req.cond);
    const branch = (req.op === 'if') === holds ? req.then : req.else;
    return branch ? conditionHolds(branch) : true;
  };
  const follow = (pkg: P, req: Requirement, text: string) => {
    const step = plan(req, pkg);
    if ('why' in step) unresolved.push({ package: nevra(pkg.record), requires: text, why: step.why });
    else for (const p of step.bring) bring(p);
  };

  for (;;) {
    while (queue.length) {
      const pkg = queue.shift()!;
      for (const dep of pkg.record.requires) {
        // rpm's own features are met by rpm, not by a package.
        if (dep.name.startsWith('rpmlib(')) continue;
        const text = dependencyText(dep);
        if (!dep.name.startsWith('(')) {
          follow(pkg, { dep }, text);
          continue;
        }
        let req: Requirement;
        try {
          req = parseRich(dep.name);
        } catch (e) {
          unresolved.push({ package: nevra(pkg.record), requires: text, why: `not a rich dependency txrepo can read: ${(e as Error).message}` });
          continue;
        }
        if (hasCondition(req)) conditional.push({ pkg, req, text });
        else follow(pkg, req, text);
      }
    }
    // Conditions are judged once nothing else is to come, and again after what they
    // bring, until they bring nothing more.
    const before = selected.length;
    for (const c of conditional) {
      const step = plan(c.req, c.pkg);
      if ('bring' in step) for (const p of step.bring) bring(p);
    }
    if (selected.length === before) break;
  }
  for (const c of conditional) {
    const step = plan(c.req, c.pkg);
    if ('why' in step) unresolved.push({ package: nevra(c.pkg.record), requires: c.text, why: step.why });
  }
  const asked = new Set(chosen);
  return { packages: selected, dependencies: selected.filter((p) => !asked.has(p)), unresolved };
}

type Conditional = Extract<Requirement, { op: 'if' | 'unless' }>;

const isConditional = (req: Requirement): req is Conditional => 'op' in req && (req.op === 'if' || req.op === 'unless');

function hasCondition(req: Requirement): boolean {
  if ('dep' in req) return false;
  if (isConditional(req)) return true;
  return req.args.some(hasCondition);
}
