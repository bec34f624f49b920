// txrepo gc [--dry-run]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo gc [--dry-run] [--grace DURATION]

Removes the snapshots each repository's retention policy does not keep ('txrepo repo
create --retain-last N --retain-days D'; without one, every snapshot is kept), then
what no snapshot uses any more: package pages, cached renderings, package records and
blobs, and leftovers of killed runs.

Never removed: a snapshot a tag points at, or pointed at within the grace window; one
a live set pins; and blobs or records written or reused within the grace window (a
deploy or sync on its way may list them).

Options:
      --dry-run            only list what would go, and the bytes it would free
      --grace DURATION     the grace window (default 1h; 0s: none)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, 'dry-run': { type: 'boolean' }, grace: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('gc', argv, options);
  if (positionals.length) throw new UsageError(`gc takes no arguments (got ${positionals.join(' ')})`);
  const r = await withTxrepo(v, v['dry-run'] ? 'reads' : 'writes', (tx) => tx.gc({ dryRun: v['dry-run'], grace: v.grace }));
  const verb = r.dryRun ? 'would remove' : 'removed';
  print(v.json, r, () =>
    [
      ...r.snapshots.map((s) => `${verb} snapshot ${s.repo}@${s.id} (${s.createdAt})`),
      `${verb} ${r.snapshots.length} snapshots and ${r.blobs} blobs, ${(r.bytes / 2 ** 20).toFixed(1)} MiB${r.staging.files ? `, and ${r.staging.files} leftover files of killed runs` : ''}`,
      ...(r.protectedBy.tags + r.protectedBy.tagGrace + r.protectedBy.sets
        ? [`kept beyond the retention policy: ${r.protectedBy.tags} tagged, ${r.protectedBy.tagGrace} in a tag's grace window, ${r.protectedBy.sets} pinned by live sets`]
        : []),
    ].join('\n'),
  );
  return 0;
}
