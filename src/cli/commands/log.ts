// txrepo log [REPO]

import { integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import { forTerminal as t } from '../../common/index.ts';

export const help = `Usage: txrepo log [REPO] [--limit N]

The audit log: every change to the store (repos, deploys, syncs, tag moves, sets,
promotions, gc, tokens), oldest first, with its time, actor, arguments and result,
failures included. With REPO, only the changes of that repository.

Options:
      --limit N            the newest N entries (default 1000)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, limit: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('log', argv, options);
  if (positionals.length > 1) throw new UsageError('give at most one repository: txrepo log [REPO]');
  const limit = integer('limit', v.limit, 1, 1_000_000);
  const entries = await withTxrepo(v, 'reads', (tx) => tx.log({ repo: positionals[0], limit }));
  const args = (a: unknown) => (typeof a === 'string' ? a : JSON.stringify(a));
  print(v.json, entries, () => entries.map((e) => `${e.at}\t${t(e.actor)}\t${e.command}${e.repo ? ` ${e.repo}` : ''}\t${t(e.result)}\t${t(args(e.args))}`).join('\n') || 'no changes recorded yet');
  return 0;
}
