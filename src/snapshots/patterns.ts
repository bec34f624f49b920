// Which packages of a snapshot a PATTERN names, for `remove` and `copy`: the one rule.
// A pattern is compared with each of a package's names, as dnf spells them: its name,
// name.arch, name-version, name-version-release, name-version-release.arch (N-V-R.A),
// name-epoch:version-release.arch (NEVRA, the epoch written even when 0) and its file
// name; shell globs (`*`, `?`, `[...]` with ranges `a-z`, `[!...]`) match any run, one
// character, one of a set or not of it. A pattern that names no package is an error naming it: a typo never makes an
// empty change without a word.

import { basename } from 'node:path';
import { Failure } from '../common/index.ts';
import type { PackageRecord } from '../rpm/index.ts';
import { NotFoundError } from '../store/index.ts';

export class PatternError extends Failure {
  override name = 'PatternError';
  readonly kind = 'invalid_input';
}

/** A package as patterns see it: its record's identity and its href in the snapshot. */
export interface NamedPackage {
  href: string;
  record: Pick<PackageRecord, 'name' | 'arch' | 'epoch' | 'version' | 'release'>;
}

/** Every name a pattern may give a package by. */
export function namesOf(p: NamedPackage): string[] {
  const { name, arch, epoch, version, release } = p.record;
  const vr = `${version}-${release}`;
  return [name, `${name}.${arch}`, `${name}-${version}`, `${name}-${vr}`, `${name}-${vr}.${arch}`, `${name}-${epoch || '0'}:${vr}.${arch}`, basename(p.href)];
}

/** One step of a glob: a character, any one character, one of a set, or any run. */
type GlobStep = { one: (c: string) => boolean } | { run: true };

/** Parses a shell glob into its steps. */
function globSteps(pattern: string): GlobStep[] {
  const chars = Array.from(pattern);
  const steps: GlobStep[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      // Several in a row match what one does.
      if (!steps.length || !('run' in steps[steps.length - 1])) steps.push({ run: true });
    } else if (c === '?') steps.push({ one: () => true });
    else if (c === '[') {
      const end = chars.indexOf(']', i + 2);
      if (end === -1) throw new PatternError(`pattern ${JSON.stringify(pattern)}: a '[' without its ']'; write [[] for a literal '['`);
      let set = chars.slice(i + 1, end);
      const negated = set[0] === '!' || set[0] === '^';
      if (negated) set = set.slice(1);
      const inSet = (x: string) => set.some((m, j) => (set[j + 1] === '-' && j + 2 < set.length ? m <= x && x <= set[j + 2] : m === x));
      steps.push({ one: (x) => inSet(x) !== negated });
      i = end;
    } else steps.push({ one: (x) => x === c });
  }
  return steps;
}

/**
 * Whether a glob's steps match the whole of `name`: a run goes back only to its last
 * `*`, so that matching takes at most (steps x characters), whatever the pattern (trying
 * every way to split the name among many `*` takes exponential time).
 */
function globMatches(steps: GlobStep[], name: string): boolean {
  const chars = Array.from(name);
  let s = 0;
  let i = 0;
  let lastRun = -1;
  let runFrom = 0;
  while (i < chars.length) {
    const step = steps[s];
    if (step && 'one' in step && step.one(chars[i])) {
      s++;
      i++;
    } else if (step && 'run' in step) {
      lastRun = s++;
      runFrom = i;
    } else if (lastRun !== -1) {
      s = lastRun + 1;
      i = ++runFrom;
    } else return false;
  }
  while (s < steps.length && 'run' in steps[s]) s++;
  return s === steps.length;
}

/** A shell glob as a test of a whole name. */
export function globMatcher(pattern: string): (name: string) => boolean {
  const steps = globSteps(pattern);
  return (name) => globMatches(steps, name);
}

/** Longer than any package's NEVRA or file name could sensibly be. */
const MAX_PATTERN = 1024;

/** Refuses what could never be a pattern: empty, blank, or with control characters. */
function checkPattern(pattern: string): void {
  if (!pattern.trim() || /[\x00-\x1f\x7f]/.test(pattern)) throw new PatternError(`pattern ${JSON.stringify(pattern)}: give a package name, name.arch, NEVRA, file name or a glob of one`);
  if (pattern.length > MAX_PATTERN) throw new PatternError(`pattern ${JSON.stringify(pattern.slice(0, 40))}… is ${pattern.length} characters long: give one of at most ${MAX_PATTERN}`);
}

/**
 * The packages of `packages` that `patterns` name, in their order; `where` names the
 * snapshot for the error of a pattern that names none.
 */
export function matchPackages<P extends NamedPackage>(packages: P[], patterns: string[], where: string): P[] {
  if (!patterns.length) throw new PatternError('give at least one package pattern (a name, name.arch, NEVRA, file name, or a glob)');
  const names = packages.map((p) => namesOf(p));
  const chosen = new Set<number>();
  for (const pattern of patterns) {
    checkPattern(pattern);
    const matches = globMatcher(pattern);
    let matched = false;
    names.forEach((forms, i) => {
      if (forms.some(matches)) {
        chosen.add(i);
        matched = true;
      }
    });
    if (!matched) throw new NotFoundError(`no package in ${where} matches ${JSON.stringify(pattern)} (as a name, name.arch, N-V-R, N-V-R.A, NEVRA or file name); nothing was changed`);
  }
  return packages.filter((_, i) => chosen.has(i));
}
