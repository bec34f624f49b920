// txrepo fsck [--verify-blobs]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo fsck [--verify-blobs]

Checks that every file of every snapshot has its blob, with the right size; that each
snapshot's repomd.xml lists only files of the snapshot, with matching checksums; that
every package has its record; and that every tag points at a snapshot of its repo.
Exit status 1 when anything is wrong.

Options:
      --verify-blobs       also re-hash every blob (reads the whole store)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, 'verify-blobs': { type: 'boolean' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('fsck', argv, options);
  if (positionals.length) throw new UsageError(`fsck takes no arguments (got ${positionals.join(' ')})`);
  const report = await withTxrepo(v, 'reads', (tx) => tx.fsck({ verifyBlobs: v['verify-blobs'] }));
  print(v.json, report, () =>
    [
      ...report.problems.map((p) => `problem: ${p}`),
      `${report.snapshots} snapshots, ${report.files} files checked${v['verify-blobs'] ? `, ${report.blobsVerified} blobs re-hashed` : ''}: ${report.problems.length ? `${report.problems.length} problems` : 'no problems'}`,
    ].join('\n'),
  );
  return report.problems.length ? 1 : 0;
}
