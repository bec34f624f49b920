// Which packages of a snapshot a PATTERN names, for `remove` and `copy`: the one rule.
// A pattern is compared with each of a package's names, as dnf spells them (rpm's
// specForms: name, name.arch, N-V, N-V-R, N-V-R.A, N-E:V-R and N-E:V-R.A, the epoch
// written even when 0) and its file name; shell globs (`*`, `?`, `[...]` with ranges
// `a-z`, `[!...]`: common/glob.ts) match any run, one character, one of a set or not
// of it. A pattern that names no package is an error naming it: a typo never makes an
// empty change without a word.

import { basename } from 'node:path';
import { Failure, GlobError, globMatcher } from '../common/index.ts';
import { specForms, type PackageRecord } from '../rpm/index.ts';
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

/** Every name a pattern may give a package by: its spec forms (as dnf's) and its file name. */
export function namesOf(p: NamedPackage): string[] {
  return [...specForms(p.record), basename(p.href)];
}

/** Longer than any package's NEVRA or file name could sensibly be. */
const MAX_PATTERN = 1024;

/** Refuses what could never be a pattern: empty, blank, or with control characters. */
function checkPattern(pattern: string): void {
  if (!pattern.trim() || /[\x00-\x1f\x7f]/.test(pattern)) throw new PatternError(`pattern ${JSON.stringify(pattern)}: give a package name, name.arch, NEVRA, file name or a glob of one`);
  if (pattern.length > MAX_PATTERN) throw new PatternError(`pattern ${JSON.stringify(pattern.slice(0, 40))}… is ${pattern.length} characters long: give one of at most ${MAX_PATTERN}`);
}

/** A pattern as a test of a package's names (common/glob.ts: a shell glob, with sets). */
function matcherOf(pattern: string): (name: string) => boolean {
  try {
    return globMatcher(pattern, { sets: true });
  } catch (e) {
    throw e instanceof GlobError ? new PatternError(`pattern ${JSON.stringify(pattern)}: ${e.message}`) : e;
  }
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
    const matches = matcherOf(pattern);
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
