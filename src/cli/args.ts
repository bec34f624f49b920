// Command-line parsing on node:util's parseArgs, with errors that say what to do.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs takes `--opt -1` for an option followed by another option; createrepo_c
 * users write `--changelog-limit -1`, so a negative number joins its option.
 */
function joinNegativeNumbers(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && /^-[0-9]+$/.test(argv[i + 1] ?? '')) {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * The options every store command takes, accepted before the command name as well
 * (`txrepo --store S repo list`): main.ts moves them after it. A command that does
 * not take one of them refuses it by name.
 */
export const GLOBAL_OPTIONS = {
  store: { type: 'string' },
  catalog: { type: 'string' },
  blobs: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type GlobalName = keyof typeof GLOBAL_OPTIONS;

const isGlobal = (name: string): name is GlobalName => Object.hasOwn(GLOBAL_OPTIONS, name);

/** Why a command has no use for a global option, for its refusal. */
function globalRefusal(command: string, name: GlobalName): string {
  const why = name === 'server' || name === 'token' ? 'it does not work through a server' : 'it does not use a store';
  return `'txrepo ${command}' does not take --${name}: ${why}; see 'txrepo ${command} --help'`;
}

/**
 * The edit distance of two words (insertions, deletions, substitutions and swaps of
 * neighbours: the usual typing slips).
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The rule for "did you mean": the candidates `word` is a start of (at least two
 * characters), or within a few typing slips of (one per three characters, at least
 * one); the closest ones, at most three. Used for commands, actions and options.
 */
export function closest(word: string, candidates: readonly string[]): string[] {
  const bare = (s: string) => s.replace(/^-+/, '');
  const w = bare(word);
  const limit = Math.max(1, Math.floor(w.length / 3));
  const scored = candidates
    .map((c) => ({ c, score: w.length >= 2 && bare(c).startsWith(w) ? 0 : editDistance(w, bare(c)) }))
    .filter((x) => x.score <= limit);
  const best = Math.min(...scored.map((x) => x.score));
  return scored.filter((x) => x.score === best).slice(0, 3).map((x) => x.c);
}

/** "; did you mean 'x'?" for a mistyped word, or nothing when no candidate is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates);
  return near.length ? `; did you mean ${near.map((c) => `'${c}'`).join(' or ')}?` : '';
}

/** Refuses options the command does not have, by name, with the nearest it has. */
function refuseUnknownOptions(command: string, argv: string[], options: Options): void {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.hasOwn(options, t.name)) continue;
    if (t.rawName.startsWith('--') && isGlobal(t.name)) throw new UsageError(globalRefusal(command, t.name));
    const known = [...Object.keys(options).map((o) => `--${o}`), '--help'];
    throw new UsageError(`unknown option ${t.rawName} for 'txrepo ${command}'${didYouMean(t.rawName, known)}\nRun 'txrepo ${command} --help' for the options.`);
  }
}

export function parse<O extends Options>(command: string, argv: string[], options: O) {
  const args = joinNegativeNumbers(argv, options);
  refuseUnknownOptions(command, args, options);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg}\nRun 'txrepo ${command} --help' for the options.`);
  }
}

/** The action of a command with several (repo create|list...), or a usage error naming the nearest. */
export function actionOf<A extends string>(command: string, given: string | undefined, actions: readonly A[]): A {
  if (given !== undefined && (actions as readonly string[]).includes(given)) return given as A;
  const got = given === undefined ? 'none' : JSON.stringify(given);
  const hint = given === undefined ? '' : didYouMean(given, actions);
  throw new UsageError(`give an action: ${actions.slice(0, -1).join(', ')} or ${actions.at(-1)} (got ${got})${hint}\nRun 'txrepo ${command} --help' for the usage.`);
}

/**
 * The global options given before the command name, and the rest of the command line
 * from the name on. Each global comes back as one `--name=value` word, so that it
 * can go after the name whatever its value looks like.
 */
export function leadingGlobals(argv: string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--') || word === '--' || word === '--help' || word === '--version') break;
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    if (!isGlobal(name)) {
      const known = [...Object.keys(GLOBAL_OPTIONS).map((o) => `--${o}`), '--help', '--version'];
      throw new UsageError(`unknown option ${word.slice(0, eq < 0 ? undefined : eq)} before the command${didYouMean(word, known)}\nGlobal options: ${Object.keys(GLOBAL_OPTIONS).map((o) => `--${o}`).join(' ')}; run 'txrepo --help' for the commands.`);
    }
    if (GLOBAL_OPTIONS[name].type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value (got ${JSON.stringify(word)}): write --${name} alone`);
      globals.push(word);
    } else if (eq >= 0) {
      globals.push(word);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value: txrepo --${name} VALUE COMMAND ...`);
      globals.push(`--${name}=${argv[++i]}`);
    }
  }
  return { globals, rest: argv.slice(i) };
}

/** Whether --json appears anywhere among the options (before a '--'), even where it is refused. */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(value)) throw new UsageError(`--${name} ${JSON.stringify(value)}: give a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} ${value}: give a number from ${min} to ${max}`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A size in bytes: 1048576, 512K, 100M, 4G or 4GiB (binary multiples). */
export function byteSize(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]{1,15})([kmgt]?)(i?b)?$/i.exec(value);
  if (!m || (m[3] && !m[2] && m[3].toLowerCase() !== 'b')) throw new UsageError(`--${name} ${JSON.stringify(value)}: give a size, such as 512M or 4G`);
  const n = Number(m[1]) * UNITS[m[2].toLowerCase()];
  if (n < min || n > max) throw new UsageError(`--${name} ${value}: give a size from ${sizeWords(min)} to ${sizeWords(max)}`);
  return n;
}

/** A byte count as the largest whole binary unit: 1048576 is 1M. */
function sizeWords(n: number): string {
  for (const unit of ['T', 'G', 'M', 'K']) {
    const size = UNITS[unit.toLowerCase()];
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} ${JSON.stringify(value)}: give one of ${allowed.join(', ')}`);
  return value as T;
}

/** Splits repeated and comma-free list options: --excludes a --excludes b. */
export function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
