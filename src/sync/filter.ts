// Mirror filters: which of an upstream's packages a sync takes (`repo create|update
// --include/--exclude/--arch/--newest`, as aptly's filters and Pulp's
// retain_package_versions). Applied to the upstream's package list before anything is
// downloaded, so a package left out is never fetched. The one place of the rule and of
// the checks of its values (given by a user, or read back from the catalog).
//
// A package is taken when, in this order:
//   1. its arch is listed in `arches` (none listed: any arch); noarch is always taken,
//      as a mirror of x86_64 needs its noarch packages; src (and nosrc) only when
//      listed, as reposync and Pulp leave sources out unless asked;
//   2. one `include` glob matches it (none given: every package);
//   3. no `exclude` glob matches it;
//   4. it is among the `newest` N builds of its name.arch (by epoch, version and
//      release, as rpm compares them) of those left by 1 to 3. (sync.ts also has the
//      commit keep no more than N builds of a name.arch in the repo's whole list.)
//   5. with `withDeps` (aptly's -filter-with-deps), a package that 1 to 4 left out is
//      taken too when the packages taken need it: resolved as `copy --with-deps`
//      resolves (snapshots/deps.ts), among the upstream packages that rules 1, 3 and 4
//      let through (of its arches, not excluded, among the newest N builds), whatever
//      the include globs say. An excluded package is never brought in: exclude wins,
//      as it does in dnf.
// A glob matches a package when it matches one of its names (rpm's specForms): NAME,
// NAME.ARCH, NAME-VERSION, NAME-VERSION-RELEASE, NAME-VERSION-RELEASE.ARCH,
// NAME-EPOCH:VERSION-RELEASE and NAME-EPOCH:VERSION-RELEASE.ARCH, the forms dnf takes
// for a package spec. Globs are fnmatch's, as dnf's excludes: `*` any run of
// characters, `?` one character, `[abc]`, `[a-z]`, `[!abc]` one of (not of) a set.
// What the filter leaves out is reported, not mended (but by rule 5, when asked): the
// advisories it empties (advisoriesLeftOut) and the kept packages whose requirements
// it left out (requiresLeftOut); docs/sync.md says why the upstream's metadata stays
// as it is.

import { Failure, GlobError, globMatcher } from '../common/index.ts';
import { keptByPolicy, resolveWithDeps } from '../snapshots/index.ts';
import { specForms, type PackageRecord } from '../rpm/index.ts';
import type { MirrorFilter, MirrorFilterChange, PackageIdentity } from '../store/index.ts';

export class MirrorFilterError extends Failure {
  override name = 'MirrorFilterError';
  readonly kind = 'invalid_input';
}

export const FILTER_LIMITS = { globs: 1000, globLength: 256, arches: 64, newest: 1_000_000 } as const;

/** What a package is to the filter: its name, epoch, version, release and arch. */
export type Nevra = Pick<PackageIdentity, 'name' | 'epoch' | 'version' | 'release' | 'arch'>;

const SOURCE_ARCHES = new Set(['src', 'nosrc']);

/** The field's name in the CLI's words, for messages. */
const OPTION: Record<keyof MirrorFilter, string> = { include: '--include', exclude: '--exclude', arches: '--arch', newest: '--newest', withDeps: '--with-deps' };

/** A glob as a test of a name (common/glob.ts, fnmatch's globs), or an error naming it. */
function compileGlob(glob: string, where: string): (name: string) => boolean {
  try {
    return globMatcher(glob, { sets: true });
  } catch (e) {
    throw e instanceof GlobError ? new MirrorFilterError(`${where} ${JSON.stringify(glob)}: ${e.message}`) : e;
  }
}

function checkGlob(glob: unknown, where: string): string {
  if (typeof glob !== 'string') throw new MirrorFilterError(`${where}: a glob is a string, not ${JSON.stringify(glob)?.slice(0, 60)}`);
  const shown = JSON.stringify(glob.slice(0, 80));
  if (!glob.length) throw new MirrorFilterError(`${where}: an empty glob matches nothing; give a package name or a pattern such as 'kernel*'`);
  if (glob.length > FILTER_LIMITS.globLength) throw new MirrorFilterError(`${where} ${shown}...: a glob is at most ${FILTER_LIMITS.globLength} characters`);
  if (/[\s\p{Cc}]/u.test(glob)) throw new MirrorFilterError(`${where} ${shown}: a glob has no spaces or control characters (package names have none); give one glob per ${where}`);
  if (glob.includes('/') || glob.includes(',')) throw new MirrorFilterError(`${where} ${shown}: globs match package names (NAME, NAME.ARCH, NAME-VERSION-RELEASE.ARCH ...), not paths or lists; give one glob per ${where}`);
  compileGlob(glob, where);
  return glob;
}

function checkArch(arch: unknown, where: string): string {
  if (typeof arch !== 'string' || !/^[a-z0-9_]{1,32}$/.test(arch)) {
    throw new MirrorFilterError(`${where} ${JSON.stringify(arch)?.slice(0, 60)}: an architecture is one word of lower-case letters, digits and '_' (x86_64, aarch64, i686, noarch, src); give one per ${where}`);
  }
  return arch;
}

function checkList(value: unknown, where: string, limit: number, each: (x: unknown, where: string) => string): string[] {
  if (!Array.isArray(value)) throw new MirrorFilterError(`${where}: give a list, not ${JSON.stringify(value)?.slice(0, 60)}`);
  if (!value.length) throw new MirrorFilterError(`${where}: the list is empty; give at least one value (or clear the setting)`);
  if (value.length > limit) throw new MirrorFilterError(`${where}: ${value.length} values; at most ${limit}`);
  return [...new Set(value.map((x) => each(x, where)))];
}

function checkNewest(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > FILTER_LIMITS.newest) {
    throw new MirrorFilterError(`${where} ${JSON.stringify(value)?.slice(0, 60)}: give a whole number of builds per name.arch, from 1 to ${FILTER_LIMITS.newest}`);
  }
  return value;
}

/** One field of a filter, checked; `where` names it for the messages. */
function checkField(field: keyof MirrorFilter, value: unknown, where: string): MirrorFilter[keyof MirrorFilter] {
  switch (field) {
    case 'include':
    case 'exclude':
      return checkList(value, where, FILTER_LIMITS.globs, checkGlob);
    case 'arches':
      return checkList(value, where, FILTER_LIMITS.arches, checkArch);
    case 'newest':
      return checkNewest(value, where);
    case 'withDeps':
      if (value !== true) throw new MirrorFilterError(`${where} ${JSON.stringify(value)?.slice(0, 60)}: give true (or clear the setting)`);
      return true;
    default:
      throw new MirrorFilterError(`${where}: not a filter setting; a filter has include, exclude, arches, newest and withDeps`);
  }
}

const FIELDS = Object.keys(OPTION) as (keyof MirrorFilter)[];

/**
 * A filter as given (a request) or stored (the catalog), checked; its values
 * normalised (duplicates dropped). `whose` says whose filter it is, for the messages.
 */
export function checkMirrorFilter(value: unknown, whose = ''): MirrorFilter | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new MirrorFilterError(`${whose}filter ${JSON.stringify(value)?.slice(0, 80)}: not a filter (an object of include, exclude, arches, newest)`);
  const filter: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const known = FIELDS.includes(field as keyof MirrorFilter);
    filter[field] = checkField(field as keyof MirrorFilter, v, known ? `${whose}${OPTION[field as keyof MirrorFilter]}` : `${whose}filter field ${JSON.stringify(field).slice(0, 40)}`);
  }
  return Object.keys(filter).length ? (filter as MirrorFilter) : undefined;
}

/** A change of a filter (`repo update`): fields given are checked, null clears one. */
export function checkMirrorFilterChange(change: unknown): MirrorFilterChange | null | undefined {
  if (change === undefined || change === null) return change;
  if (typeof change !== 'object' || Array.isArray(change)) throw new MirrorFilterError(`filter ${JSON.stringify(change)?.slice(0, 80)}: not a filter change (an object of include, exclude, arches, newest; null clears one)`);
  const checked: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(change)) {
    if (v === null) {
      if (!FIELDS.includes(field as keyof MirrorFilter)) throw new MirrorFilterError(`filter field ${JSON.stringify(field).slice(0, 40)}: not a filter setting; a filter has include, exclude, arches, newest and withDeps`);
      checked[field] = null;
    } else Object.assign(checked, checkMirrorFilter({ [field]: v }));
  }
  return checked as MirrorFilterChange;
}

/** What a filter did to an upstream's package list. */
export interface FilterOutcome<T> {
  kept: T[];
  /** Packages the filter left out. */
  leftOut: T[];
  /** Those of `kept` taken because others need them (rule 5). */
  dependencies: T[];
}

/** What rules 1 to 3 make of a package: left out (1 or 3), allowed but not included (2), or taken. */
type Verdict = 'out' | 'allowed' | 'taken';

/** A filter, compiled: the verdict of rules 1 to 3 (a package's spec forms made once), and N of rule 4. */
interface CompiledFilter {
  verdict: (p: Nevra) => Verdict;
  newest?: number;
}

function compile(filter: MirrorFilter): CompiledFilter {
  const include = filter.include?.map((g) => compileGlob(g, '--include'));
  const exclude = filter.exclude?.map((g) => compileGlob(g, '--exclude'));
  const arches = filter.arches && new Set(filter.arches);
  const matches = (globs: ((name: string) => boolean)[], forms: string[]) => globs.some((g) => forms.some(g));
  const archTaken = (arch: string) => !arches || arches.has(arch) || arch === 'noarch' || (SOURCE_ARCHES.has(arch) && arches.has('src'));
  return {
    verdict: (p) => {
      if (!archTaken(p.arch)) return 'out';
      if (!include && !exclude) return 'taken';
      const forms = specForms(p);
      if (exclude && matches(exclude, forms)) return 'out';
      return !include || matches(include, forms) ? 'taken' : 'allowed';
    },
    newest: filter.newest,
  };
}

/** The newest N builds of each name.arch of `packages` (all, without N), in their order. */
function newestOf<T extends Nevra>(packages: T[], newest: number | undefined): T[] {
  if (newest === undefined) return packages;
  const ids = packages.map((p) => ({ id: { digest: '', name: p.name, arch: p.arch, epoch: p.epoch || '0', version: p.version, release: p.release }, p }));
  return keptByPolicy(ids, newest).map((x) => x.p);
}

/** Splits an upstream's packages into those the filter takes and those it leaves out, in their order. */
export function applyMirrorFilter<T extends WithDependencies>(packages: T[], filter: MirrorFilter | undefined): FilterOutcome<T> {
  if (!filter) return { kept: packages, leftOut: [], dependencies: [] };
  const { verdict, newest } = compile(filter);
  const verdicts = packages.map(verdict);
  const taken = new Set(newestOf(packages.filter((_, i) => verdicts[i] === 'taken'), newest));
  const dependencies: T[] = [];
  if (filter.withDeps) {
    const offered = newestOf(packages.filter((_, i) => verdicts[i] !== 'out'), newest).map((record) => ({ record }));
    const chosen = offered.filter((o) => taken.has(o.record));
    for (const dep of resolveWithDeps(offered, chosen, []).dependencies) dependencies.push(dep.record);
    for (const dep of dependencies) taken.add(dep);
  }
  return { kept: packages.filter((p) => taken.has(p)), leftOut: packages.filter((p) => !taken.has(p)), dependencies };
}

const nevraKey = (p: Nevra) => `${p.name}-${p.epoch || '0'}:${p.version}-${p.release}.${p.arch}`;

/**
 * The ids of the advisories (updateinfo) the filter took everything from: each lists
 * at least one package the upstream has, and the filter kept none of those. Packages
 * an advisory lists that the upstream does not have (other arches, other repos) do not
 * count either way.
 */
export function advisoriesLeftOut(advisories: { id: string; packages: Nevra[] }[], upstream: Nevra[], kept: Nevra[]): string[] {
  const inUpstream = new Set(upstream.map(nevraKey));
  const isKept = new Set(kept.map(nevraKey));
  return advisories
    .filter((a) => {
      const carried = a.packages.map(nevraKey).filter((k) => inUpstream.has(k));
      return carried.length > 0 && !carried.some((k) => isKept.has(k));
    })
    .map((a) => a.id);
}

/** What a package provides and requires, as primary.xml lists them. */
export type WithDependencies = Nevra & Pick<PackageRecord, 'provides' | 'requires' | 'files'>;

/** A kept package that requires what only packages the filter left out provide. */
export interface RequiresLeftOut {
  /** NAME-[EPOCH:]VERSION-RELEASE.ARCH */
  package: string;
  /** The names of those requirements. */
  requires: string[];
}

/**
 * The kept packages the filter broke: each requires something no kept package
 * provides (by name, or a file it owns) and a left-out one does. Versions are not
 * compared: a requirement some kept package provides at any version counts as met. A
 * requirement no upstream package meets is not the filter's doing (another repo, the
 * base system) and is not named; nor are rpmlib() ones.
 */
export function requiresLeftOut(kept: WithDependencies[], leftOut: WithDependencies[]): RequiresLeftOut[] {
  if (!leftOut.length) return [];
  const provided = (packages: WithDependencies[]) => {
    const names = new Set<string>();
    for (const p of packages) {
      for (const d of p.provides) names.add(d.name);
      for (const f of p.files) names.add(f.path);
    }
    return names;
  };
  const byKept = provided(kept);
  const byLeftOut = provided(leftOut);
  const out: RequiresLeftOut[] = [];
  for (const p of kept) {
    const missing = [...new Set(p.requires.map((d) => d.name))].filter((name) => !name.startsWith('rpmlib(') && !byKept.has(name) && byLeftOut.has(name));
    if (missing.length) out.push({ package: nevraText(p), requires: missing });
  }
  return out;
}

const nevraText = (p: Nevra) => `${p.name}-${p.epoch && p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`;
