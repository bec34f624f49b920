// txrepo repo create|list|show|delete

import { checkRepoName } from '../../snapshots/index.ts';
import { integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { actor, print, STORE_HELP, STORE_OPTION, withStore } from '../store.ts';

export const help = `Usage: txrepo repo create NAME [--upstream URL] [--keep N]
       txrepo repo list
       txrepo repo show NAME
       txrepo repo delete NAME

Options:
      --upstream URL       the yum repo this one mirrors (for 'txrepo sync')
      --keep N             keep the newest N builds of each name.arch (default: all)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, upstream: { type: 'string' }, keep: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('repo', argv, options);
  const [action, name, ...rest] = positionals;
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const needName = () => {
    if (!name) throw new UsageError(`give the repository name: txrepo repo ${action} NAME`);
    return checkRepoName(name);
  };
  return withStore(v.store, async ({ catalog }) => {
    switch (action) {
      case 'create': {
        const repo = await catalog.createRepo({ name: needName(), upstream: v.upstream, keep: integer('keep', v.keep, 1, 1_000_000), createdBy: actor() });
        print(v.json, repo, () => `created repository ${repo.name}`);
        return 0;
      }
      case 'list': {
        const repos = await catalog.listRepos();
        const rows = await Promise.all(repos.map(async (r) => ({ ...r, latest: (await catalog.getTag(r.name, 'latest'))?.snapshot })));
        print(v.json, rows, () => (rows.length ? rows.map((r) => `${r.name}\t${r.latest ?? '(empty)'}`).join('\n') : 'no repositories yet'));
        return 0;
      }
      case 'show': {
        const n = needName();
        const repo = await catalog.getRepo(n);
        if (!repo) throw new UsageError(`no repository ${n}`);
        const tags = await catalog.listTags(n);
        const snapshots = (await catalog.listSnapshots(n)).length;
        print(v.json, { ...repo, snapshots, tags }, () =>
          [`repository ${repo.name}`, `  created   ${repo.createdAt} by ${repo.createdBy}`, `  upstream  ${repo.upstream ?? '-'}`, `  keep      ${repo.keep ?? 'all'}`, `  snapshots ${snapshots}`, ...tags.map((t) => `  tag       ${t.tag} -> ${t.snapshot}`)].join('\n'),
        );
        return 0;
      }
      case 'delete': {
        const n = needName();
        await catalog.deleteRepo(n);
        print(v.json, { deleted: n }, () => `deleted repository ${n} (its files go at the next 'txrepo gc')`);
        return 0;
      }
      default:
        throw new UsageError(`give an action: create, list, show or delete (got ${JSON.stringify(action ?? '')})`);
    }
  });
}
