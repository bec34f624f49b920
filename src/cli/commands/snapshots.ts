// txrepo snapshots REPO

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import { forTerminal as t } from '../../common/index.ts';

export const help = `Usage: txrepo snapshots REPO

Lists REPO's snapshots, oldest first, with the tags that point at each.

Options:
${STORE_HELP}
  -h, --help               this help`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('snapshots', argv, STORE_OPTION);
  if (positionals.length !== 1) throw new UsageError('give one repository: txrepo snapshots REPO');
  const repo = positionals[0];
  return withTxrepo(v, 'reads', async (tx) => {
    const list = await tx.snapshots(repo);
    print(v.json, list, () =>
      list.length ? list.map((s) => `${s.id}\t${s.packages} packages\t${t(s.createdBy)}\t${t(s.message)}${s.tags.length ? `\t[${s.tags.join(', ')}]` : ''}`).join('\n') : `${repo} has no snapshots yet`,
    );
    return 0;
  });
}
