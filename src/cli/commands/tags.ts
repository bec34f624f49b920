// txrepo tags REPO [--history]

import { checkRepoName } from '../../snapshots/index.ts';
import { NotFoundError } from '../../store/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { print, STORE_HELP, STORE_OPTION, withStore } from '../store.ts';

export const help = `Usage: txrepo tags REPO [--history [--tag TAG]]

Options:
      --history            every move: from, to, time, actor and reason
      --tag TAG            with --history: only this tag
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, history: { type: 'boolean' }, tag: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('tags', argv, options);
  if (positionals.length !== 1) throw new UsageError('give one repository: txrepo tags REPO');
  const repo = checkRepoName(positionals[0]);
  return withStore(v.store, async ({ catalog }) => {
    if (!(await catalog.getRepo(repo))) throw new NotFoundError(`no repository ${repo}; see 'txrepo repo list'`);
    if (v.history) {
      const moves = await catalog.tagHistory(repo, v.tag);
      print(v.json, moves, () => moves.map((m) => `${m.at}\t${m.tag}\t${m.from ?? '(new)'} -> ${m.to}\t${m.actor}\t${m.reason}`).join('\n') || 'no tag moves yet');
    } else {
      const tags = await catalog.listTags(repo);
      print(v.json, tags, () => tags.map((t) => `${t.tag}\t${t.snapshot}\t${t.movedAt}`).join('\n') || `${repo} has no tags yet`);
    }
    return 0;
  });
}
