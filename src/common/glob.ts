// Shell globs, the one matcher of every glob txrepo takes: createrepo's --excludes, the
// package patterns of remove and copy, mirror filters, token scopes. `*` matches any run
// of characters, `?` one character; with sets, `[abc]`, `[a-z]` and `[!abc]` (or
// `[^abc]`) one character of a set or not of it, a `]` first in a set being one of its
// members, as fnmatch(3) reads them. A glob matches a whole name.
//
// Matching never backtracks further than the last `*`, so it takes at most (glob length
// x name length) steps whatever the glob: a regular expression made of one (`.*` for
// each `*`) takes exponential time on a glob such as `*a*a*a*a*a*a*a*a*a*a*a*a*b`, and
// globs come from clients.

import { Failure } from './failures.ts';

/** A glob that cannot be read; the message says what is wrong, callers say which glob. */
export class GlobError extends Failure {
  override name = 'GlobError';
  readonly kind = 'invalid_input';
}

export interface GlobOptions {
  /** `[...]` is a set of characters (fnmatch's globs), or a literal `[` (GLib's simple patterns, token scopes). */
  sets: boolean;
}

/** One step of a glob: a character, any one character, one of a set, or any run. */
type Step = { one: (c: string) => boolean } | { run: true };

/** The code point of one character (an element of Array.from(text)). */
const codePoint = (c: string) => c.codePointAt(0)!;

/** The set that starts at chars[open] (a `[`): its test and the index of its `]`. */
function parseSet(chars: string[], open: number): { test: (c: string) => boolean; close: number } {
  let start = open + 1;
  const negated = chars[start] === '!' || chars[start] === '^';
  if (negated) start++;
  // A `]` right after the opening is a member, not the end.
  const close = chars.indexOf(']', start + 1);
  if (close === -1) throw new GlobError(`the "[" at ${open + 1} opens a set of characters that no "]" closes (for a literal "[", write "[[]")`);
  const members = chars.slice(start, close);
  // Each member a range of code points; a single character is a range of one.
  const ranges: [number, number][] = [];
  for (let j = 0; j < members.length; j++) {
    if (members[j + 1] === '-' && j + 2 < members.length) {
      const [from, to] = [members[j], members[j + 2]];
      if (codePoint(from) > codePoint(to)) throw new GlobError(`the range "${from}-${to}" in the set at ${open + 1} runs backwards (write ${to}-${from}, not ${from}-${to})`);
      ranges.push([codePoint(from), codePoint(to)]);
      j += 2;
    } else ranges.push([codePoint(members[j]), codePoint(members[j])]);
  }
  const inSet = (c: string) => {
    const x = codePoint(c);
    return ranges.some(([from, to]) => x >= from && x <= to);
  };
  return { test: (c) => inSet(c) !== negated, close };
}

/** A glob's steps; a GlobError if it cannot be read. */
function parse(glob: string, opts: GlobOptions): Step[] {
  const chars = Array.from(glob);
  const steps: Step[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      // Several in a row match what one does.
      if (!steps.length || !('run' in steps[steps.length - 1])) steps.push({ run: true });
    } else if (c === '?') steps.push({ one: () => true });
    else if (c === '[' && opts.sets) {
      const set = parseSet(chars, i);
      steps.push({ one: set.test });
      i = set.close;
    } else steps.push({ one: (x) => x === c });
  }
  return steps;
}

/**
 * Whether the steps match the whole of `name`: on a mismatch, the last `*` takes one
 * more character and matching resumes after it; no earlier `*` is ever revisited (what
 * an earlier one could take, the last one can take as well).
 */
function matches(steps: Step[], name: string): boolean {
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

/** A glob as a test of whole names; a GlobError (saying what is wrong) if it cannot be read. */
export function globMatcher(glob: string, opts: GlobOptions): (name: string) => boolean {
  const steps = parse(glob, opts);
  return (name) => matches(steps, name);
}
