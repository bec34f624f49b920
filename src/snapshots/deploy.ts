// txrepo deploy: ingest packages into the store and commit one snapshot = the repo's
// latest snapshot + the new packages (under the repo's policy), moving `latest`.
// Concurrent deploys to one repo each retry on a stale parent, so none is lost.

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { eachLimited, Failure } from '../common/index.ts';
import { readPackage, rpmvercmp, type PackageRecord } from '../rpm/index.ts';
import { ConflictError, NotFoundError, pageIndexOf, paginate, replacePages, type PackageIdentity, type PackagePage, type PageRef, type Snapshot, type SnapshotFile, type Store } from '../store/index.ts';
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

export class DeployInputError extends Failure {
  override name = 'DeployInputError';
  readonly kind = 'invalid_input';
}

/** Where a package lives in a snapshot's tree: Packages/<first letter>/<file name>. */
export function packageHref(fileName: string): string {
  return `Packages/${fileName[0].toLowerCase()}/${fileName}`;
}

/**
 * Control characters and backslashes in a package's file name: the server refuses
 * them in paths (and yum clients mangle them), so its href could never be downloaded.
 */
export const UNSERVABLE_NAME = /[\x00-\x1f\x7f\\]/;

/** The .rpm files of SOURCEs that are files or plain directories. */
export async function collectRpmFiles(sources: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const source of sources) {
    const st = await stat(source).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      const why: Record<string, string> = { ENOENT: 'no such file or directory', ELOOP: 'a loop of symbolic links', EACCES: 'permission denied', ENOTDIR: 'a path through something that is not a directory' };
      throw new DeployInputError(`${source}: ${why[st.code ?? ''] ?? st.message}`);
    }
    if (st.isDirectory()) {
      // Loaded on demand: deploying files needs none of the createrepo layer.
      const { scanPackages } = await import('../createrepo/index.ts');
      const { packages, broken } = await scanPackages(source);
      // A package that cannot be read fails the deploy, a broken link to one included.
      if (broken.length) throw new DeployInputError(broken.map((b) => `${b.path}: ${b.problem}; fix or remove it`).join('\n'));
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

function compareEvr(a: PackageIdentity, b: PackageIdentity): number {
  return Number(a.epoch) - Number(b.epoch) || rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

/** The repo's policy: the newest `keep` builds of each name.arch. */
function applyKeep<T extends { id: PackageIdentity }>(items: T[], keep: number): T[] {
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const key = `${x.id.name}.${x.id.arch}`;
    const list = groups.get(key);
    if (list) list.push(x);
    else groups.set(key, [x]);
  }
  const kept = new Set<T>();
  for (const list of groups.values()) for (const x of list.sort((a, b) => compareEvr(b.id, a.id)).slice(0, keep)) kept.add(x);
  return items.filter((x) => kept.has(x));
}

/** The packages of a list of pages, loading those given by reference only. */
async function packagesOf(store: Store, pages: (PageRef | PackagePage)[]): Promise<SnapshotFile[]> {
  const loaded = await store.catalog.getPages(pages.filter((p) => !('packages' in p)).map((p) => p.key));
  return pages.flatMap((p) => ('packages' in p ? p.packages : loaded.get(p.key)!));
}

/** A package in the store (blob and record), ready to be added to a repository. */
export interface IngestedPackage {
  /** Where it goes in the snapshot tree. */
  href: string;
  digest: string;
  size: number;
  /** The file or URL it came from, for messages. */
  source: string;
}

/**
 * Reads local RPM files and stores them (blob and record). Every file is read, and its
 * own digests verified, before anything is stored: one bad file fails the whole ingest.
 */
export async function ingestFiles(store: Store, paths: string[], onProgress?: (done: number, total: number) => void): Promise<IngestedPackage[]> {
  const records: { path: string; record: PackageRecord }[] = [];
  for (const [i, path] of paths.entries()) {
    if (UNSERVABLE_NAME.test(basename(path))) throw new DeployInputError(`${JSON.stringify(path)}: the file name has control characters or backslashes, which no URL of the repo could carry; rename the file`);
    records.push({ path, record: await readPackage(path, { checksumType: 'sha256', locationHref: packageHref(basename(path)), verifyDigests: true }) });
    onProgress?.(i + 1, paths.length);
  }
  // The digest check catches a file that changed after it was read. A few at a time:
  // each ends in fsyncs, which overlap.
  await eachLimited(records, 4, ({ path, record }) => store.blobs.putFile(path, { digest: record.pkgid, size: record.sizePackage }).then(() => {}));
  await store.catalog.putPackages(records.map((x) => x.record));
  return records.map(({ path, record }) => ({ href: record.locationHref, digest: record.pkgid, size: record.sizePackage, source: path }));
}

export interface CommitPackagesOptions {
  repo: string;
  packages: IngestedPackage[];
  actor: string;
  message?: string;
}

/**
 * Commits a snapshot = the repo's latest + `packages` (under its keep policy), moving
 * latest; retries on top of a concurrent commit. No snapshot when nothing is new.
 */
export async function commitPackages(store: Store, opts: CommitPackagesOptions): Promise<DeployResult> {
  const { catalog } = store;
  const repo = await catalog.getRepo(opts.repo);
  if (!repo) throw new NotFoundError(`no repository ${opts.repo}`, { createRepo: opts.repo });
  const incoming = new Map<string, IngestedPackage>();
  for (const p of opts.packages) {
    const same = incoming.get(p.href);
    if (same && same.digest !== p.digest) throw new DeployInputError(`${p.source} and ${same.source}: two different files named ${basename(p.href)} in one deploy`);
    incoming.set(p.href, p);
  }

  for (let attempt = 0; ; attempt++) {
    const latest = (await catalog.getTag(opts.repo, 'latest'))?.snapshot;
    const parentPages = latest ? await catalog.snapshotPages(latest) : [];
    // Only the pages the new packages fall in are read: the cost follows the change.
    const target = new Map<number, IngestedPackage[]>();
    for (const p of incoming.values()) {
      const i = pageIndexOf(parentPages, p.href);
      target.set(i, [...(target.get(i) ?? []), p]);
    }
    const loaded = await catalog.getPages([...target.keys()].filter((i) => i < parentPages.length).map((i) => parentPages[i].key));
    const changed = new Map<number, SnapshotFile[]>();
    const added: string[] = [];
    for (const [i, additions] of target) {
      const list = i < parentPages.length ? [...loaded.get(parentPages[i].key)!] : [];
      const byHref = new Map(list.map((f) => [f.href, f]));
      for (const p of additions) {
        const existing = byHref.get(p.href);
        if (existing?.digest === p.digest) continue;
        if (existing) {
          throw new DeployInputError(
            `${basename(p.href)} is already in ${opts.repo} with different content (sha256 ${existing.digest.slice(0, 12)}…, this one ${p.digest.slice(0, 12)}…): a rebuild needs a new release number`,
          );
        }
        list.push({ href: p.href, digest: p.digest, size: p.size, kind: 'package' });
        added.push(p.href);
      }
      if (list.length > (i < parentPages.length ? parentPages[i].count : 0)) changed.set(i, list);
    }
    if (added.length === 0 && latest) {
      return { latest, added: [], removed: [], path: `/repos/${opts.repo}/snapshots/${latest}/` };
    }
    let pages = parentPages.length ? replacePages(parentPages, changed) : paginate(changed.get(0) ?? []);
    const removed: string[] = [];
    if (repo.keep) {
      // The policy looks at every build of a name.arch, wherever its pages are: this
      // path reads the whole package list.
      const all = await packagesOf(store, pages);
      const identities = await catalog.getPackageIdentities([...new Set(all.map((f) => f.digest))]);
      const kept = new Set(applyKeep(all.map((f) => ({ file: f, id: identities.get(f.digest)! })), repo.keep).map((x) => x.file));
      removed.push(...all.filter((f) => !kept.has(f)).map((f) => f.href));
      if (removed.length) pages = paginate(all.filter((f) => kept.has(f)));
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const repodata = await generateRepodata(store, pages, { timestamp });
    try {
      const snapshot = await catalog.commitSnapshot({
        repo: opts.repo,
        parent: latest,
        pages,
        files: repodata.files,
        packages: pages.reduce((n, p) => n + p.count, 0),
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

/** Deploys local .rpm files and directories of them (see also the CLI, which adds yum repos). */
export async function deploy(store: Store, opts: DeployOptions): Promise<DeployResult> {
  if (!(await store.catalog.getRepo(opts.repo))) throw new NotFoundError(`no repository ${opts.repo}`, { createRepo: opts.repo });
  const packages = await ingestFiles(store, await collectRpmFiles(opts.sources), opts.onProgress);
  return commitPackages(store, { repo: opts.repo, packages, actor: opts.actor, message: opts.message });
}
