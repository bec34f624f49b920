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

export function parse<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: joinNegativeNumbers(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg}\nRun 'txrepo ${command} --help' for the options.`);
  }
}

export function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(value)) throw new UsageError(`--${name} ${JSON.stringify(value)}: give a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} ${value}: give a number from ${min} to ${max}`);
  return n;
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
