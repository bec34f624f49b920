// txrepo tags REPO [--history]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import { forTerminal as t } from '../../common/index.ts';

export const help = `Usage: txrepo tags REPO [--history [--tag TAG]]

Options:
      --history            every move: from, to, time, actor and reason (and the set,
                           for promotions)
      --tag TAG            with --history: only this tag
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, history: { type: 'boolean' }, tag: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('tags', argv, options);
  if (positionals.length !== 1) throw new UsageError('give one repository: txrepo tags REPO');
  const repo = positionals[0];
  return withTxrepo(v, 'reads', async (tx) => {
    if (v.history) {
      const moves = await tx.tagHistory(repo, v.tag);
      print(v.json, moves, () => moves.map((m) => `${m.at}\t${m.tag}\t${m.from ?? '(new)'} -> ${m.to}\t${t(m.actor)}\t${t(m.reason)}${m.set ? `\tset ${m.set}` : ''}`).join('\n') || 'no tag moves yet');
    } else {
      const tags = await tx.tags(repo);
      print(v.json, tags, () => tags.map((t) => `${t.tag}\t${t.snapshot}\t${t.movedAt}`).join('\n') || `${repo} has no tags yet`);
    }
    return 0;
  });
}
