// txrepo repo create|list|show|delete

import { actionOf, integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo repo create NAME [--upstream URL] [--keep N] [--retain-last N] [--retain-days D]
       txrepo repo list
       txrepo repo show NAME
       txrepo repo delete NAME

Options:
      --upstream URL       the yum repo this one mirrors (for 'txrepo sync')
      --keep N             keep the newest N builds of each name.arch (default: all)
      --retain-last N      'txrepo gc' keeps the newest N snapshots (and those younger
                           than --retain-days); default: keep every snapshot
      --retain-days D      'txrepo gc' keeps snapshots younger than D days (and the
                           newest --retain-last); default: keep every snapshot
${STORE_HELP}
  -h, --help               this help

Whatever the retention, gc keeps snapshots a tag points at (or pointed at within its
grace window) and those a live set pins.`;

const options = { ...STORE_OPTION, upstream: { type: 'string' }, keep: { type: 'string' }, 'retain-last': { type: 'string' }, 'retain-days': { type: 'string' } } as const;

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 100_000) throw new UsageError(`--retain-days ${JSON.stringify(value)}: give a number of days above 0`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('repo', argv, options);
  const [given, name, ...rest] = positionals;
  const action = actionOf('repo', given, ['create', 'list', 'show', 'delete']);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const needName = () => {
    if (!name) throw new UsageError(`give the repository name: txrepo repo ${action} NAME`);
    return name;
  };
  const create = action === 'create' ? { keep: integer('keep', v.keep, 1, 1_000_000), retainLast: integer('retain-last', v['retain-last'], 1, 1_000_000), retainDays: days(v['retain-days']) } : undefined;
  const use = action === 'create' || action === 'delete' ? 'writes' : 'reads';
  return withTxrepo(v, use, async (tx) => {
    switch (action) {
      case 'create': {
        const repo = await tx.createRepo({ name: needName(), upstream: v.upstream, ...create });
        print(v.json, repo, () => `created repository ${repo.name}`);
        return 0;
      }
      case 'list': {
        const rows = await tx.listRepos();
        print(v.json, rows, () => (rows.length ? rows.map((r) => `${r.name}\t${r.latest ?? '(empty)'}`).join('\n') : 'no repositories yet'));
        return 0;
      }
      case 'show': {
        const repo = await tx.showRepo(needName());
        const retention = repo.retainLast === undefined && repo.retainDays === undefined ? 'all snapshots' : [repo.retainLast && `newest ${repo.retainLast}`, repo.retainDays && `${repo.retainDays} days`].filter(Boolean).join(' and ');
        print(v.json, repo, () =>
          [
            `repository ${repo.name}`,
            `  created   ${repo.createdAt} by ${repo.createdBy}`,
            `  upstream  ${repo.upstream ?? '-'}`,
            `  keep      ${repo.keep ?? 'all'} builds per name.arch`,
            `  retain    ${retention}`,
            `  snapshots ${repo.snapshots}`,
            ...repo.tags.map((t) => `  tag       ${t.tag} -> ${t.snapshot}`),
          ].join('\n'),
        );
        return 0;
      }
      default: {
        const r = await tx.deleteRepo(needName());
        print(v.json, r, () => `deleted repository ${r.deleted} (its files go at the next 'txrepo gc')`);
        return 0;
      }
    }
  });
}
