// Curating a repository from what the store already has: `remove` (a snapshot without
// some packages, to pull a bad build) and `copy` (a snapshot with packages taken from
// another snapshot, with what they need when asked). Both name packages by patterns
// (patterns.ts), make their snapshot through the commit loop (commit.ts: the
// destination's keep and signature policies apply to a copy as to a deploy) and can
// stop short of committing (`dryRun`), saying what would change. A copy re-reads no
// package: the records and blobs are in the store, listed by the source snapshot.

import { basename } from 'node:path';
import { nevra, type PackageRecord } from '../rpm/index.ts';
import { NotFoundError, repoOrFail, type SnapshotFile, type Store } from '../store/index.ts';
import { commitOnLatest, type CommitResult } from './commit.ts';
import { resolveWithDeps, type Resolution, type Unresolved } from './deps.ts';
import { packageHref, type IngestedPackage } from './ingest.ts';
import { matchPackages } from './patterns.ts';
import { resolveRef } from './refs.ts';

export interface RemoveOptions {
  repo: string;
  patterns: string[];
  actor: string;
  message?: string;
  dryRun?: boolean;
}

export interface CopyOptions {
  /** The source snapshot: its repository and REF. */
  from: { repo: string; ref: string };
  /** The destination repository: its latest gets the packages. */
  repo: string;
  patterns: string[];
  /** Also what the chosen packages need from the source (deps.ts). */
  withDeps?: boolean;
  actor: string;
  message?: string;
  dryRun?: boolean;
}

export interface CopyResult extends CommitResult {
  /** The source snapshot's id. */
  source: string;
  /** Hrefs (in the destination) of the packages brought as dependencies. */
  dependencies: string[];
  /** With dependencies: what neither the source nor the destination provides. */
  unresolved: Unresolved[];
}

/** A package of a snapshot: its place in it, its blob. */
type Listed = Omit<SnapshotFile, 'kind'>;

/** What names a build: all that patterns and messages read (an identity or a whole record). */
type Identity = Pick<PackageRecord, 'name' | 'arch' | 'epoch' | 'version' | 'release'>;

/** The packages of a snapshot, each with `record` from `load` (identities, or whole records). */
async function packagesOf<R>(store: Store, snapshot: string, load: (digests: string[]) => Promise<Map<string, R>>): Promise<(Listed & { record: R })[]> {
  const files = (await store.catalog.snapshotFiles(snapshot)).filter((f) => f.kind === 'package');
  const records = await load([...new Set(files.map((f) => f.digest))]);
  return files.map((f) => {
    const record = records.get(f.digest);
    if (!record) throw new Error(`snapshot ${snapshot} lists ${f.href} (sha256 ${f.digest}) but the catalog has no record of it; run 'txrepo fsck'`);
    return { href: f.href, digest: f.digest, size: f.size, record };
  });
}

/** Name, arch and EVR: all patterns need, cheap to load for a whole repo. */
const identities = (store: Store) => (digests: string[]) => store.catalog.getPackageIdentities(digests);
/** Whole records (requires, provides, files): what dependency resolution reads. */
const records = (store: Store) => (digests: string[]) => store.catalog.getPackages(digests);

/** A message's list of packages: a few by NEVRA, then how many more. */
function listed(records: { record: Identity }[]): string {
  const names = records.slice(0, 5).map((p) => nevra(p.record));
  return names.join(', ') + (records.length > 5 ? ` and ${records.length - 5} more` : '');
}

/**
 * Commits REPO's latest without the packages the patterns name (every build each names).
 * The patterns are matched on latest as it is; if a concurrent commit moves latest
 * first, the same packages are taken out of the new latest: as if this remove had come
 * before that commit (a build it brought stays).
 */
export async function removePackages(store: Store, opts: RemoveOptions): Promise<CommitResult> {
  // A repo with no latest yet has nothing to remove: the error says so.
  const latest = await resolveRef(store.catalog, opts.repo, 'latest');
  const chosen = matchPackages(await packagesOf(store, latest.id, identities(store)), opts.patterns, `${opts.repo}@latest (${latest.id})`);
  return commitOnLatest(store, {
    repo: opts.repo,
    change: { kind: 'remove', hrefs: chosen.map((p) => p.href) },
    actor: opts.actor,
    dryRun: opts.dryRun,
    message: opts.message ?? `remove ${listed(chosen)}`,
  });
}

/**
 * Commits the destination's latest plus the packages the patterns name in the source
 * snapshot (and, with `withDeps`, what they need from it), under the destination's
 * policies. A file name the destination has with other content is refused, as in a deploy.
 */
export async function copyPackages(store: Store, opts: CopyOptions): Promise<CopyResult> {
  const source = await resolveRef(store.catalog, opts.from.repo, opts.from.ref);
  await repoOrFail(store.catalog, opts.repo);
  const where = `${opts.from.repo}@${opts.from.ref}${opts.from.ref === source.id ? '' : ` (${source.id})`}`;
  let resolution: Resolution<Listed & { record: Identity }>;
  if (opts.withDeps) {
    const offered = await packagesOf(store, source.id, records(store));
    const latest = (await store.catalog.getTag(opts.repo, 'latest'))?.snapshot;
    resolution = resolveWithDeps(offered, matchPackages(offered, opts.patterns, where), latest ? await packagesOf(store, latest, records(store)) : []);
  } else {
    resolution = { packages: matchPackages(await packagesOf(store, source.id, identities(store)), opts.patterns, where), dependencies: [], unresolved: [] };
  }
  const place = (p: Listed) => packageHref(basename(p.href));
  const packages: IngestedPackage[] = resolution.packages.map((p) => ({ href: place(p), digest: p.digest, size: p.size, source: `${opts.from.repo}@${source.id}: ${basename(p.href)}` }));
  if (!opts.dryRun) await holdPackages(store, packages);
  const result = await commitOnLatest(store, {
    repo: opts.repo,
    change: { kind: 'add', packages, sameHref: 'refuse' },
    underPolicy: true,
    actor: opts.actor,
    dryRun: opts.dryRun,
    message: opts.message ?? `copy ${listed(resolution.packages)} from ${opts.from.repo}@${source.id}`,
  });
  return { ...result, source: source.id, dependencies: resolution.dependencies.map(place), unresolved: resolution.unresolved };
}

/**
 * Marks the blobs and records a copy lists as used now: gc keeps them (for its grace
 * window) while the commit comes, even if the source snapshot goes meanwhile, as it
 * keeps a deploy's. One gone already fails the copy, naming it.
 */
async function holdPackages(store: Store, packages: IngestedPackage[]): Promise<void> {
  for (const p of packages) {
    if (!(await store.blobs.touch(p.digest, p.size))) throw new NotFoundError(`${p.source}: its blob ${p.digest} is not in the store; run 'txrepo fsck'`);
  }
  // Storing a known record again only renews it (Catalog.putPackages).
  const held = await store.catalog.getPackages([...new Set(packages.map((p) => p.digest))]);
  const gone = packages.find((p) => !held.has(p.digest));
  if (gone) throw new NotFoundError(`${gone.source}: the catalog has no record of it; run 'txrepo fsck'`);
  await store.catalog.putPackages([...held.values()]);
}
