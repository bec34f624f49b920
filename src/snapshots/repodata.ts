// A snapshot's repodata, generated from catalog records (never from RPM files) with
// the same writer as `txrepo createrepo`, and stored as blobs.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CHANGELOG_LIMIT, renderPackage, renderRepomd, writePackageMetadata, type RepomdRecord } from '../metadata/index.ts';
import type { PackageRecord } from '../rpm/index.ts';
import type { SnapshotFile, Store } from '../store/index.ts';

export interface GeneratedRepodata {
  files: SnapshotFile[];
  repomd: string;
}

/** createrepo_c's package order: by file name, then by path. */
export function byFileNameThenPath(a: PackageRecord, b: PackageRecord): number {
  const na = a.locationHref.slice(a.locationHref.lastIndexOf('/') + 1);
  const nb = b.locationHref.slice(b.locationHref.lastIndexOf('/') + 1);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.locationHref < b.locationHref ? -1 : a.locationHref > b.locationHref ? 1 : 0;
}

export async function generateRepodata(store: Store, records: PackageRecord[], opts: { timestamp: number; extra?: RepomdRecord[] }): Promise<GeneratedRepodata> {
  const sorted = [...records].sort(byFileNameThenPath);
  const work = await mkdtemp(join(store.dir, 'tmp', 'repodata-'));
  try {
    const recs = await writePackageMetadata(
      sorted.map((r) => renderPackage(r, DEFAULT_CHANGELOG_LIMIT)),
      sorted.length,
      { dir: work, compression: 'gz', checksumType: 'sha256', uniqueNames: true, timestamp: opts.timestamp },
    );
    const files: SnapshotFile[] = [];
    for (const name of await readdir(work)) {
      const info = await store.blobs.putFile(join(work, name));
      files.push({ href: `repodata/${name}`, digest: info.digest, size: info.size, kind: 'metadata' });
    }
    const all = [...recs, ...(opts.extra ?? [])];
    const xml = Buffer.from(renderRepomd({ revision: String(opts.timestamp), content: [], repo: [], distro: [], records: all }));
    const repomd = await store.blobs.putBytes(xml);
    files.push({ href: 'repodata/repomd.xml', digest: repomd.digest, size: repomd.size, kind: 'metadata' });
    return { files, repomd: repomd.digest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
