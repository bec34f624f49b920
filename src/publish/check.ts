// txrepo fsck --published TARGET: checks a tree that publish keeps (in a directory or
// under an S3 prefix), as a client would
// find it. The current generation (the newest in .txrepo-publish/state.json) must be
// what the tree serves: repomd.xml and every file it lists, with the sizes and
// checksums publish wrote; a signed generation's repomd.xml.asc must verify against
// its repomd.xml.key. Files of the older generations kept must be there too.

import { REPOMD_HREF, REPOMD_KEY_HREF, REPOMD_SIGNATURE_HREF } from '../metadata/index.ts';
import { DirTarget } from './dir-target.ts';
import { PublishError, readGenerations, type PublishedFile, type PublishTarget } from './publish.ts';

export interface PublishedReport {
  dir: string;
  /** Snapshot the tree serves (its newest generation), if the history says. */
  snapshot?: string;
  generations: number;
  files: number;
  /** Files whose checksum was computed (metadata always; packages with `verifyFiles`). */
  hashed: number;
  /** Whether the current generation is signed, and by which keys (fingerprints). */
  signedBy: string[];
  problems: string[];
}

/** Checks the published tree at `where` (a target, or a directory's path); `verifyFiles` also re-hashes every package. */
export async function checkPublished(where: PublishTarget | string, opts: { verifyFiles?: boolean } = {}): Promise<PublishedReport> {
  const target = typeof where === 'string' ? new DirTarget(where) : where;
  const report: PublishedReport = { dir: target.name, generations: 0, files: 0, hashed: 0, signedBy: [], problems: [] };
  const history = await readGenerations(target);
  if (!history) throw new PublishError(`${target.name}: not a tree txrepo publishes (no .txrepo-publish/state.json)`, 'not_found');
  report.generations = history.generations.length;
  const current = history.generations.at(-1);
  if (!current) return { ...report, problems: ['the history lists no generation'] };
  report.snapshot = `${current.repo}@${current.snapshot}`;
  const checked = new Set<string>();
  for (const g of history.generations) {
    const newest = g === current;
    for (const f of await history.files(g)) {
      // An older generation's repomd.xml and signature were replaced by the newer ones'.
      if (!newest && (f.href === REPOMD_HREF || f.href === REPOMD_SIGNATURE_HREF || f.href === REPOMD_KEY_HREF)) continue;
      if (checked.has(f.href)) continue;
      checked.add(f.href);
      const problem = await checkFile(target, f, newest || opts.verifyFiles === true || f.href.startsWith('repodata/'), report);
      if (problem) report.problems.push(`${f.href}: ${problem}`);
    }
  }
  await checkSignature(target, await history.files(current), report);
  return report;
}

async function checkFile(target: PublishTarget, f: PublishedFile, hash: boolean, report: PublishedReport): Promise<string | undefined> {
  const size = await target.size(f.href);
  report.files++;
  if (size === undefined) return 'missing';
  if (size !== f.size) return `${size} bytes, published with ${f.size}`;
  if (!hash || (!f.href.startsWith('repodata/') && !f.href.endsWith('.rpm'))) return undefined;
  report.hashed++;
  const digest = await target.sha256(f.href);
  return digest === f.sha256 ? undefined : `sha256 ${digest}, published with ${f.sha256} (changed after publishing)`;
}

/** A signed generation's signature verifies against its keys; an unsigned one has no stale signature beside it. */
async function checkSignature(target: PublishTarget, files: PublishedFile[], report: PublishedReport): Promise<void> {
  const read = (href: string) => target.read(href);
  const signed = files.some((f) => f.href === REPOMD_SIGNATURE_HREF);
  const [repomd, signature, keys] = await Promise.all([read(REPOMD_HREF), read(REPOMD_SIGNATURE_HREF), read(REPOMD_KEY_HREF)]);
  if (!signed) {
    if (signature) report.problems.push(`${REPOMD_SIGNATURE_HREF}: the current generation is not signed, yet the tree has a signature`);
    return;
  }
  if (!repomd || !signature || !keys) return; // reported missing above
  const { verifyRepomd } = await import('../signing/index.ts');
  const verdict = await verifyRepomd(repomd, signature.toString('utf8'), keys.toString('utf8'));
  report.signedBy = verdict.goodBy;
  for (const p of verdict.problems) report.problems.push(`${REPOMD_SIGNATURE_HREF}: ${p}`);
}
