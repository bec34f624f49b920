// txrepo fsck [--verify-blobs] | fsck --published TREE

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo fsck [--verify-blobs]
       txrepo fsck --published DIR|s3://BUCKET/PREFIX [--verify-blobs]

Checks that every file of every snapshot has its blob, with the right size; that each
snapshot's repomd.xml lists only files of the snapshot, with matching checksums, and
that its signature (repodata/repomd.xml.asc) verifies against its keys; that every
package has its record; and that every tag points at a snapshot of its repo.
Exit status 1 when anything is wrong.

With --published, checks instead a tree 'txrepo publish' keeps, in a directory or
under an S3 prefix (no store needed):
that it serves the generation it last published, every file with the size and
checksum published, and a signature that verifies.

Options:
      --verify-blobs       also re-hash every blob (reads the whole store); with
                           --published, every package of the tree
      --published TREE     check the published tree at TREE (a directory or
                           s3://BUCKET/PREFIX)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, 'verify-blobs': { type: 'boolean' }, published: { type: 'string' } } as const;

async function checkTree(dir: string, v: { json?: boolean; 'verify-blobs'?: boolean }): Promise<number> {
  const { checkPublished, openTarget } = await import('../../publish/index.ts');
  const target = await openTarget(dir);
  const report = await checkPublished(target, { verifyFiles: v['verify-blobs'] }).finally(() => target.close());
  print(v.json, report, () =>
    [
      ...report.problems.map((p) => `problem: ${p}`),
      `${report.dir}: ${report.snapshot ?? 'nothing'} published (${report.generations} generations), ${report.files} files checked, ${report.hashed} re-hashed${report.signedBy.length ? `, signed by ${report.signedBy.join(', ')}` : ''}: ${report.problems.length ? `${report.problems.length} problems` : 'no problems'}`,
    ].join('\n'),
  );
  return report.problems.length ? 1 : 0;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('fsck', argv, options);
  if (positionals.length) throw new UsageError(`fsck takes no arguments (got ${positionals.join(' ')})`);
  if (v.published !== undefined) return checkTree(v.published, v);
  const report = await withTxrepo(v, 'reads', (tx) => tx.fsck({ verifyBlobs: v['verify-blobs'] }));
  print(v.json, report, () =>
    [
      ...report.problems.map((p) => `problem: ${p}`),
      `${report.snapshots} snapshots, ${report.files} files checked${v['verify-blobs'] ? `, ${report.blobsVerified} blobs re-hashed` : ''}: ${report.problems.length ? `${report.problems.length} problems` : 'no problems'}`,
    ].join('\n'),
  );
  return report.problems.length ? 1 : 0;
}
