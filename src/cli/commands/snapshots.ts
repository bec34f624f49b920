// txrepo snapshots REPO

import { checkRepoName } from '../../snapshots/index.ts';
import { NotFoundError } from '../../store/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { print, STORE_HELP, STORE_OPTION, withStore } from '../store.ts';

export const help = `Usage: txrepo snapshots REPO

Options:
${STORE_HELP}
  -h, --help               this help`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('snapshots', argv, STORE_OPTION);
  if (positionals.length !== 1) throw new UsageError('give one repository: txrepo snapshots REPO');
  const repo = checkRepoName(positionals[0]);
  return withStore(v.store, async ({ catalog }) => {
    if (!(await catalog.getRepo(repo))) throw new NotFoundError(`no repository ${repo}; see 'txrepo repo list'`);
    const tags = await catalog.listTags(repo);
    const list = (await catalog.listSnapshots(repo)).map((s) => ({ ...s, tags: tags.filter((t) => t.snapshot === s.id).map((t) => t.tag) }));
    print(v.json, list, () =>
      list.length ? list.map((s) => `${s.id}\t${s.packages} packages\t${s.actor}\t${s.message}${s.tags.length ? `\t[${s.tags.join(', ')}]` : ''}`).join('\n') : `${repo} has no snapshots yet`,
    );
    return 0;
  });
}
