// txrepo fsck: checks the catalog and the blobs against each other and against the
// invariants of docs/store.md. Read-only; reports every problem it finds.

import { createHash } from 'node:crypto';
import { parseRepomd, REPOMD_HREF, REPOMD_KEY_HREF, REPOMD_SIGNATURE_HREF } from '../metadata/index.ts';
import { pageKey, type PageRef, type SnapshotFile, type Store } from '../store/index.ts';


export interface FsckReport {
  snapshots: number;
  files: number;
  blobsVerified: number;
  problems: string[];
  /** Every blob that is missing, of the wrong size or (with verifyBlobs) corrupted, with who uses it. */
  damaged: DamagedBlob[];
  /** What `fsck --repair` did about each damaged blob (repair.ts). */
  repairs?: BlobRepair[];
}

/** What is wrong with a blob: absent, another size than the catalog's, or content that does not hash to its name. */
export type BlobDamage = 'missing' | 'wrong-size' | 'corrupted';

/** A snapshot that lists a damaged blob: where, under which tags, as which files. */
export interface BlobUser {
  repo: string;
  snapshot: string;
  /** The tags that point at the snapshot. */
  tags: string[];
  /** The files of the snapshot that are this blob: package files (Packages/...) or metadata files (repodata/...). */
  hrefs: string[];
}

export interface DamagedBlob {
  digest: string;
  damage: BlobDamage;
  /** The size the catalog lists (undefined for a corrupted blob no snapshot lists). */
  size?: number;
  /** The size of what is stored (not for a missing blob). */
  storedSize?: number;
  users: BlobUser[];
}

/** The outcome of `fsck --repair` for one damaged blob. */
export interface BlobRepair {
  digest: string;
  /**
   * restored: a good copy replaced it; quarantined: no good copy, the damaged blob moved
   * aside; unrepaired: missing, and no good copy; sound: it was repaired meanwhile (a
   * deploy of the same file), and left alone.
   */
  outcome: 'restored' | 'quarantined' | 'unrepaired' | 'sound';
  /** Where the good copy came from (a file or a URL). */
  from?: string;
}

/** One line naming a damaged blob's users, for people: "el9@ID (latest): Packages/b/bear.rpm". */
export function describeUsers(users: BlobUser[]): string {
  if (!users.length) return 'used by no snapshot';
  return 'used by ' + users.map((u) => `${u.repo}@${u.snapshot}${u.tags.length ? ` (${u.tags.join(', ')})` : ''}: ${u.hrefs.join(', ')}`).join('; ');
}

/**
 * A signed snapshot's repomd.xml.asc verifies against its repomd.xml.key (each
 * signature in it); a snapshot has both files or neither.
 */
async function signatureProblems(store: Store, byHref: Map<string, SnapshotFile>): Promise<string[]> {
  const [signature, keys] = [byHref.get(REPOMD_SIGNATURE_HREF), byHref.get(REPOMD_KEY_HREF)];
  if (!signature && !keys) return [];
  if (!signature || !keys) return [`has ${signature ? REPOMD_SIGNATURE_HREF : REPOMD_KEY_HREF} without ${signature ? REPOMD_KEY_HREF : REPOMD_SIGNATURE_HREF}`];
  const [repomd, sig, key] = await Promise.all([byHref.get(REPOMD_HREF)!, signature, keys].map((f) => store.blobs.read(f.digest)));
  if (!repomd || !sig || !key) return []; // a missing blob is reported already
  const { verifyRepomd } = await import('../signing/index.ts');
  const verdict = await verifyRepomd(repomd, sig.toString('utf8'), key.toString('utf8'));
  return verdict.problems.map((p) => `${REPOMD_SIGNATURE_HREF}: ${p}`);
}

/**
 * Checks the store. The catalog is read in one consistent view (Catalog.consistentRead):
 * on a live store, separate reads would see a commit land between them and report
 * problems that are not there (a tag moved to a snapshot listed after the list was read).
 */
export async function fsck(store: Store, opts: { verifyBlobs?: boolean } = {}): Promise<FsckReport> {
  const { report, blobIssues, damaged } = await store.catalog.consistentRead(() => check(store, opts));
  // The blobs are not in the catalog's view: a gc may have removed a snapshot, then its
  // blobs, since the view began. A blob problem of a snapshot that is gone now is gc's
  // work, not damage (gc removes blobs only after their snapshots).
  const live = new Map<string, boolean>();
  const stillThere = async (repo: string, id: string) => {
    if (!live.has(id)) live.set(id, (await store.catalog.getSnapshot(repo, id)) !== undefined);
    return live.get(id)!;
  };
  for (const [id, issue] of blobIssues) if (await stillThere(issue.repo, id)) report.problems.push(...issue.problems);
  for (const d of damaged.values()) {
    const users = [];
    for (const u of d.users) if (await stillThere(u.repo, u.snapshot)) users.push(u);
    d.users = users;
    // A missing or short blob matters through its users; a corrupted one is damage even unused.
    if (d.users.length || d.damage === 'corrupted') report.damaged.push(d);
  }
  return report;
}

/** The problems with the blobs of one snapshot, confirmed once the check is done. */
interface BlobIssue {
  repo: string;
  problems: string[];
}

/**
 * Every blob's stored size, from one listing, where asking for each is a round trip
 * (object storage, which has no local paths: a listing gives a thousand per request);
 * undefined where a stat is a system call (a local directory). `digest`: any blob's.
 */
async function listedSizes(store: Store, digest: string): Promise<Map<string, number> | undefined> {
  if (store.blobs.localPath(digest) !== undefined) return undefined;
  const sizes = new Map<string, number>();
  for await (const b of store.blobs.list()) sizes.set(b.digest, b.size);
  return sizes;
}

/**
 * The blobs (as listed by the blob store) whose content does not hash to their name,
 * with their stored size. A blob gc removes while this reads it is not damage.
 */
async function corruptedBlobs(store: Store): Promise<{ corrupted: Map<string, number>; verified: number }> {
  const corrupted = new Map<string, number>();
  let verified = 0;
  for await (const b of store.blobs.list()) {
    const hash = createHash('sha256');
    let content;
    try {
      content = await store.blobs.open(b.digest);
    } catch (e) {
      // Listed, then removed by a gc before it could be read: not damage.
      if (!(await store.blobs.stat(b.digest))) continue;
      throw e;
    }
    for await (const chunk of content) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== b.digest) corrupted.set(b.digest, b.size);
    verified++;
  }
  return { corrupted, verified };
}

async function check(store: Store, opts: { verifyBlobs?: boolean }): Promise<{ report: FsckReport; blobIssues: Map<string, BlobIssue>; damaged: Map<string, DamagedBlob> }> {
  const { catalog, blobs } = store;
  const problems: string[] = [];
  const blobIssues = new Map<string, BlobIssue>();
  const blobProblem = (s: { repo: string; id: string }, problem: string) => {
    const issue = blobIssues.get(s.id) ?? { repo: s.repo, problems: [] };
    issue.problems.push(problem);
    blobIssues.set(s.id, issue);
  };
  // Re-hashed first, so that the pass over the snapshots can name every user of a corrupted blob.
  const { corrupted, verified: blobsVerified } = opts.verifyBlobs ? await corruptedBlobs(store) : { corrupted: new Map<string, number>(), verified: 0 };
  const damaged = new Map<string, DamagedBlob>();
  for (const [digest, storedSize] of corrupted) {
    damaged.set(digest, { digest, damage: 'corrupted', storedSize, users: [] });
    problems.push(`blob ${digest}: its content does not hash to its name (corrupted)`);
  }
  /** Records that snapshot `s`, under `tags`, lists blob `f` as `f.href`, and the blob is damaged. */
  const usedBy = (s: { repo: string; id: string }, tags: string[], f: SnapshotFile, damage: BlobDamage, storedSize: number | undefined) => {
    const d = damaged.get(f.digest) ?? { digest: f.digest, damage, storedSize, users: [] };
    // A blob of the wrong size does not hash to its name either: its size says more.
    if (damage === 'wrong-size') d.damage = damage;
    d.size ??= f.size;
    damaged.set(f.digest, d);
    let user = d.users.find((u) => u.snapshot === s.id);
    if (!user) d.users.push((user = { repo: s.repo, snapshot: s.id, tags, hrefs: [] }));
    user.hrefs.push(f.href);
  };
  let snapshotCount = 0;
  let fileCount = 0;
  const checkedPages = new Set<string>();
  const checkedBlobs = new Map<string, number | undefined>();
  let listed: Promise<Map<string, number> | undefined> | undefined;
  /** The stored size of a blob a file of `size` bytes lists (undefined: missing). */
  const blobSize = async (digest: string, size?: number) => {
    if (!checkedBlobs.has(digest)) {
      listed ??= listedSizes(store, digest);
      const fromList = (await listed)?.get(digest);
      // What the listing shows as expected is so; anything else is confirmed by a stat
      // (the blob may have been stored or replaced since the listing).
      checkedBlobs.set(digest, fromList !== undefined && fromList === size ? fromList : (await blobs.stat(digest))?.size);
    }
    return checkedBlobs.get(digest);
  };

  for (const repo of await catalog.listRepos()) {
    const snapshots = await catalog.listSnapshots(repo.name);
    const ids = new Set(snapshots.map((s) => s.id));
    const tags = await catalog.listTags(repo.name);
    for (const s of snapshots) {
      snapshotCount++;
      const tagsOf = tags.filter((t) => t.snapshot === s.id).map((t) => t.tag);
      const where = `${repo.name}@${s.id}`;
      // Pages are shared by snapshots: each is checked once.
      let refs: PageRef[];
      try {
        refs = await catalog.snapshotPages(s.id);
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message.replace(/; run 'txrepo fsck'$/, '')}`);
        continue;
      }
      const pageFiles = await catalog.getPages(refs.filter((r) => !checkedPages.has(r.key)).map((r) => r.key));
      for (const [key, packages] of pageFiles) {
        checkedPages.add(key);
        if (pageKey(packages) !== key) problems.push(`${where}: package page ${key} does not hash to its key`);
      }
      for (const r of refs) {
        const entries = pageFiles.get(r.key);
        if (!checkedPages.has(r.key)) problems.push(`${where}: package page ${r.key} is missing`);
        else if (entries && (entries.length !== r.count || entries[entries.length - 1].href !== r.last)) {
          problems.push(`${where}: package page ${r.key}: its page_info row (${r.count} packages, last ${r.last}) does not match its entries`);
        }
      }
      const counted = refs.reduce((n, r) => n + r.count, 0);
      if (counted !== s.packages) problems.push(`${where}: its pages count ${counted} packages, the snapshot says ${s.packages}`);
      const files = await catalog.snapshotFiles(s.id);
      fileCount += files.length;
      const byHref = new Map(files.map((f) => [f.href, f]));
      for (const f of files) {
        const size = await blobSize(f.digest, f.size);
        if (size === undefined) {
          blobProblem(s, `${where}: ${f.href}: blob ${f.digest} is missing`);
          usedBy(s, tagsOf, f, 'missing', undefined);
        } else if (size !== f.size) {
          blobProblem(s, `${where}: ${f.href}: blob ${f.digest} has ${size} bytes, the catalog says ${f.size}`);
          usedBy(s, tagsOf, f, 'wrong-size', size);
        } else if (corrupted.has(f.digest)) usedBy(s, tagsOf, f, 'corrupted', size);
      }
      const packages = files.filter((f) => f.kind === 'package');
      if (packages.length !== s.packages) problems.push(`${where}: lists ${packages.length} packages, the snapshot says ${s.packages}`);
      const records = await catalog.getPackages(packages.map((f) => f.digest));
      for (const f of packages) if (!records.has(f.digest)) problems.push(`${where}: ${f.href}: no package record for ${f.digest}`);
      const repomdFile = byHref.get('repodata/repomd.xml');
      if (!repomdFile || repomdFile.digest !== s.repomd) {
        problems.push(`${where}: repodata/repomd.xml is not the snapshot's repomd blob ${s.repomd}`);
        continue;
      }
      if ((await blobSize(s.repomd, repomdFile.size)) === undefined) continue;
      const repomdXml = await blobs.read(s.repomd);
      if (!repomdXml) {
        blobProblem(s, `${where}: repodata/repomd.xml: blob ${s.repomd} is missing`);
        continue;
      }
      try {
        const repomd = parseRepomd(repomdXml.toString('utf8'), `${where}/repodata/repomd.xml`);
        for (const r of repomd.records) {
          const f = byHref.get(r.href);
          if (!f) problems.push(`${where}: repomd.xml lists ${r.href}, which is not in the snapshot`);
          else if (r.checksum.type === 'sha256' && r.checksum.value !== f.digest) problems.push(`${where}: ${r.href}: repomd.xml says sha256 ${r.checksum.value}, the blob is ${f.digest}`);
          else if (r.size >= 0 && r.size !== f.size) problems.push(`${where}: ${r.href}: repomd.xml says ${r.size} bytes, the blob has ${f.size}`);
        }
      } catch (e) {
        problems.push(`${where}: repomd.xml: ${(e as Error).message}`);
      }
      for (const p of await signatureProblems(store, byHref)) problems.push(`${where}: ${p}`);
    }
    for (const t of tags) if (!ids.has(t.snapshot)) problems.push(`${repo.name}: tag ${t.tag} points at ${t.snapshot}, which is not a snapshot of the repo`);
    // tag_history may name snapshots that gc removed since; only current tags must resolve.
  }

  for (const set of await catalog.listSets({ liveAt: new Date().toISOString() })) {
    for (const m of set.members) if (!(await catalog.getSnapshot(m.repo, m.snapshot))) problems.push(`set ${set.id}: pins ${m.repo}@${m.snapshot}, which does not exist`);
  }

  return { report: { snapshots: snapshotCount, files: fileCount, blobsVerified, problems, damaged: [] }, blobIssues, damaged };
}
