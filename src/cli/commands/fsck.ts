// txrepo fsck [--verify-blobs] [--repair [--from DIR|URL]] | fsck --published TREE

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import { describeUsers, type BlobDamage, type BlobRepair, type DamagedBlob, type FsckReport } from '../../snapshots/index.ts';

export const help = `Usage: txrepo fsck [--verify-blobs] [--repair [--from DIR|URL]]
       txrepo fsck --published DIR|s3://BUCKET/PREFIX [--verify-blobs]

Checks that every file of every snapshot has its blob, with the right size; that each
snapshot's repomd.xml lists only files of the snapshot, with matching checksums, and
that its signature (repodata/repomd.xml.asc) verifies against its keys; that every
package has its record; and that every tag points at a snapshot of its repo.
Each damaged blob (missing, of the wrong size, or with --verify-blobs corrupted) is
named with the snapshots that use it, their tags, and its files there.
Exit status 1 when anything is wrong (also when --repair repaired it: run fsck
again to see the store sound).

With --repair, each damaged blob is restored from a good copy when --from has one
(verified by its sha256), and otherwise moved to quarantine: the server then
answers 503 for its files instead of wrong bytes, until a good copy is deployed
again or given to --repair. Not through --server: run it where the store is.

With --published, checks instead a tree 'txrepo publish' keeps, in a directory or
under an S3 prefix (no store needed):
that it serves the generation it last published, every file with the size and
checksum published, and a signature that verifies.

Options:
      --verify-blobs       also re-hash every blob (reads the whole store); with
                           --published, every package of the tree
      --repair             repair each damaged blob: restore it from --from, else
                           quarantine it
      --from DIR|URL       where good copies are: a directory (files named as the
                           blob's files first, then any of its size), or an
                           http(s) base URL the files' hrefs are under (a yum repo,
                           a txrepo snapshot or tag path)
      --published TREE     check the published tree at TREE (a directory or
                           s3://BUCKET/PREFIX)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, 'verify-blobs': { type: 'boolean' }, repair: { type: 'boolean' }, from: { type: 'string' }, published: { type: 'string' } } as const;

const DAMAGE: Record<BlobDamage, (d: DamagedBlob) => string> = {
  missing: () => 'missing',
  'wrong-size': (d) => `${d.storedSize} bytes, the catalog says ${d.size}`,
  corrupted: () => 'corrupted: its content does not hash to its name',
};

const REPAIRED: Record<BlobRepair['outcome'], (r: BlobRepair) => string> = {
  restored: (r) => `restored from ${r.from}`,
  quarantined: () => 'quarantined (no good copy found): its files are answered with an error until it is deployed again or repaired with --from',
  unrepaired: () => 'still missing (no good copy found): deploy its files again, or give --from',
  sound: () => 'sound again (stored anew since fsck looked): left alone',
};

/** The lines naming each damaged blob, its users, and what --repair did. */
function damageLines(report: FsckReport): string[] {
  const repairs = new Map((report.repairs ?? []).map((r) => [r.digest, r]));
  return report.damaged.flatMap((d) => {
    const repair = repairs.get(d.digest);
    return [`damaged: blob ${d.digest} (${DAMAGE[d.damage](d)}), ${describeUsers(d.users)}`, ...(repair ? [`repaired: blob ${d.digest}: ${REPAIRED[repair.outcome](repair)}`] : [])];
  });
}

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
  if (v.from !== undefined && !v.repair) throw new UsageError('--from names where --repair finds good copies; give --repair too');
  if (v.published !== undefined) {
    if (v.repair) throw new UsageError('--repair repairs a store, not a published tree (publish it again)');
    return checkTree(v.published, v);
  }
  const report = await withTxrepo(v, 'reads', (tx) => tx.fsck({ verifyBlobs: v['verify-blobs'], repair: v.repair, from: v.from }));
  print(v.json, report, () =>
    [
      ...report.problems.map((p) => `problem: ${p}`),
      ...damageLines(report),
      `${report.snapshots} snapshots, ${report.files} files checked${v['verify-blobs'] ? `, ${report.blobsVerified} blobs re-hashed` : ''}: ${report.problems.length ? `${report.problems.length} problems` : 'no problems'}`,
    ].join('\n'),
  );
  return report.problems.length ? 1 : 0;
}
