// txrepo deploy: ingest packages into the store and commit one snapshot = the repo's
// latest snapshot + the new packages (under the repo's policy), moving `latest`.
// Concurrent deploys to one repo each retry on a stale parent, so none is lost.

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { scanPackages } from '../createrepo/index.ts';
import { readPackage, rpmvercmp, type PackageRecord } from '../rpm/index.ts';
import { ConflictError, NotFoundError, type Snapshot, type SnapshotFile, type Store } from '../store/index.ts';
import { generateRepodata } from './repodata.ts';

export interface DeployOptions {
  repo: string;
  sources: string[];
  actor: string;
  message?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface DeployResult {
  /** Undefined when every package was already in the latest snapshot. */
  snapshot?: Snapshot;
  latest: string;
  added: string[];
  removed: string[];
  path: string;
}

export class DeployInputError extends Error {
  override name = 'DeployInputError';
}

/** Where a package lives in a snapshot's tree: Packages/<first letter>/<file name>. */
export function packageHref(fileName: string): string {
  return `Packages/${fileName[0].toLowerCase()}/${fileName}`;
}

async function collect(sources: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const source of sources) {
    const st = await stat(source).catch(() => undefined);
    if (!st) throw new DeployInputError(`${source}: no such file or directory`);
    if (st.isDirectory()) {
      const { packages } = await scanPackages(source);
      if (packages.length === 0) throw new DeployInputError(`${source}: no .rpm files in this directory`);
      files.push(...packages.map((p) => p.path));
    } else if (source.endsWith('.rpm')) {
      files.push(source);
    } else {
      throw new DeployInputError(`${source}: not an .rpm file or a directory of them`);
    }
  }
  return files;
}

function compareEvr(a: PackageRecord, b: PackageRecord): number {
  return Number(a.epoch) - Number(b.epoch) || rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

/** The repo's policy: the newest `keep` builds of each name.arch. */
function applyKeep(records: PackageRecord[], keep: number | undefined): PackageRecord[] {
  if (!keep) return records;
  const groups = new Map<string, PackageRecord[]>();
  for (const r of records) {
    const key = `${r.name}.${r.arch}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const kept = new Set<PackageRecord>();
  for (const list of groups.values()) for (const r of list.sort((a, b) => compareEvr(b, a)).slice(0, keep)) kept.add(r);
  return records.filter((r) => kept.has(r));
}

export async function deploy(store: Store, opts: DeployOptions): Promise<DeployResult> {
  const { catalog, blobs } = store;
  const repo = await catalog.getRepo(opts.repo);
  if (!repo) throw new NotFoundError(`no repository ${opts.repo}; create it with 'txrepo repo create ${opts.repo}'`);
  const files = await collect(opts.sources);

  // Read every package before storing anything: one bad file fails the deploy, clean.
  const incoming = new Map<string, { path: string; record: PackageRecord }>();
  for (const [i, path] of files.entries()) {
    const record = await readPackage(path, { checksumType: 'sha256', locationHref: packageHref(basename(path)) });
    const same = incoming.get(record.locationHref);
    if (same && same.record.pkgid !== record.pkgid) throw new DeployInputError(`${path} and ${same.path}: two different files named ${basename(path)} in one deploy`);
    incoming.set(record.locationHref, { path, record });
    opts.onProgress?.(i + 1, files.length);
  }
  // The digest check catches a file that changed after it was read.
  for (const { path, record } of incoming.values()) await blobs.putFile(path, { digest: record.pkgid, size: record.sizePackage });
  await catalog.putPackages([...incoming.values()].map((x) => x.record));

  for (let attempt = 0; ; attempt++) {
    const latest = (await catalog.getTag(opts.repo, 'latest'))?.snapshot;
    const parentFiles = latest ? await catalog.snapshotFiles(latest) : [];
    const current = new Map<string, SnapshotFile>(parentFiles.filter((f) => f.kind === 'package').map((f) => [f.href, f]));
    const added: string[] = [];
    for (const { record: r } of incoming.values()) {
      const existing = current.get(r.locationHref);
      if (existing?.digest === r.pkgid) continue;
      if (existing) {
        throw new DeployInputError(
          `${r.locationHref.slice(r.locationHref.lastIndexOf('/') + 1)} is already in ${opts.repo} with different content (sha256 ${existing.digest.slice(0, 12)}…, this one ${r.pkgid.slice(0, 12)}…): a rebuild needs a new release number`,
        );
      }
      current.set(r.locationHref, { href: r.locationHref, digest: r.pkgid, size: r.sizePackage, kind: 'package' });
      added.push(r.locationHref);
    }
    if (added.length === 0 && latest) {
      return { latest, added: [], removed: [], path: `/repos/${opts.repo}/snapshots/${latest}/` };
    }
    const recordsByDigest = await catalog.getPackages([...new Set([...current.values()].map((f) => f.digest))]);
    let records = [...current.values()].map((f) => ({ ...recordsByDigest.get(f.digest)!, locationHref: f.href }));
    const kept = applyKeep(records, repo.keep);
    const removed = records.filter((r) => !kept.includes(r)).map((r) => r.locationHref);
    records = kept;
    const timestamp = Math.floor(Date.now() / 1000);
    const repodata = await generateRepodata(store, records, { timestamp });
    const packageFiles: SnapshotFile[] = records.map((r) => ({ href: r.locationHref, digest: r.pkgid, size: r.sizePackage, kind: 'package' }));
    try {
      const snapshot = await catalog.commitSnapshot({
        repo: opts.repo,
        parent: latest,
        files: [...packageFiles, ...repodata.files],
        packages: records.length,
        repomd: repodata.repomd,
        actor: opts.actor,
        message: opts.message ?? `deploy ${added.length} package${added.length === 1 ? '' : 's'}`,
        tags: ['latest'],
      });
      return { snapshot, latest: snapshot.id, added, removed, path: `/repos/${opts.repo}/snapshots/${snapshot.id}/` };
    } catch (e) {
      // Another deploy committed first: rebuild on top of it.
      if (e instanceof ConflictError && attempt < 50) continue;
      throw e;
    }
  }
}
