// txrepo promote SET --tag TAG [--force]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo promote SET --tag TAG [--force] [-m REASON]

Moves TAG (latest.tested, stable, ...) of every repository of SET to the snapshot the
set pins, all in one transaction: either every tag moves or none does. A tag is not
moved back to an older snapshot than the one it points at unless --force. The tag
history records the set and its label.

Options:
      --tag TAG            the tag to move (required)
      --force              also move tags back in time
  -m, --message REASON     recorded in the tag history (default: the set and label)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, tag: { type: 'string' }, force: { type: 'boolean' }, message: { type: 'string', short: 'm' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('promote', argv, options);
  if (positionals.length !== 1) throw new UsageError('give one set: txrepo promote SET --tag TAG');
  if (!v.tag) throw new UsageError('give the tag to move: txrepo promote SET --tag TAG');
  const moves = await withTxrepo(v, 'writes', (tx) => tx.promote({ set: positionals[0], tag: v.tag!, force: v.force, reason: v.message }));
  print(v.json, moves, () => moves.map((m) => `${m.repo}: ${m.tag} ${m.from ?? '(new)'} -> ${m.to}`).join('\n') || `every ${v.tag} already points at the set's snapshots`);
  return 0;
}
