// txrepo sync: mirror an upstream yum repo into a store repository. Downloads only
// the blobs the store lacks, verifies every file against the upstream's metadata,
// carries the upstream's other metadata (comps, updateinfo, modules, ...) into the
// snapshot, and makes no snapshot when nothing changed. Nothing is committed unless
// every file arrived and verified. A repo's mirror filter (filter.ts) picks from the
// upstream's list before any download; what it left out is reported.

import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { eachLimited } from '../common/index.ts';
import { threadsFor, WorkerPool, WorkerReportedError, type Outcome } from '../common/worker-pool.ts';
import { eachPrimaryPackage, parsePrimary, parseRepomd, parseUpdateinfo, REPOMD_MAX_BYTES, type RepomdRecord } from '../metadata/index.ts';
import { RpmFormatError, type PackageRecord } from '../rpm/index.ts';
import { commitOnLatest, readStored, readVerified, type CommitResult, type ExtraMetadata, type IngestedPackage, type StoredPackage, type StoredPackageFailures } from '../snapshots/index.ts';
import { repoOrFail, type BlobInfo, type MirrorFilter, type StorableRecord, type Store } from '../store/index.ts';
import { ChecksumMismatchError, downloadToBlob, hashFileAs, type Downloaded } from './download.ts';
import { checkHref, checkPackageHref } from './hrefs.ts';
import { inspectJob, type Inspected, type InspectTask } from './inspect-worker.ts';
import type { FetchPolicy } from './fetch-policy.ts';
import { advisoriesLeftOut, applyMirrorFilter, checkMirrorFilter, MirrorFilterError, requiresLeftOut, type RequiresLeftOut } from './filter.ts';
import { openUpstream, UpstreamError, type Upstream } from './source.ts';

export interface SyncOptions {
  repo: string;
  /** Upstream URL or path; default: the repo's --upstream. */
  from?: string;
  /** Make the repo exactly the upstream (drop packages the upstream no longer has). */
  mirror?: boolean;
  actor: string;
  message?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Where a server may fetch from for its client (fetch-policy.ts); none: anywhere. */
  fetchPolicy?: FetchPolicy;
}

export interface SyncResult extends CommitResult {
  downloaded: number;
  /** What the repo's filter left out; absent when the repo has no filter. */
  filtered?: FilterReport;
}

/**
 * What a mirror filter left out of the upstream. The upstream's extra metadata
 * (updateinfo, comps, modules) is carried as the upstream has it: an advisory or group
 * may name packages the mirror does not carry, as it may in any repo (dnf skips them);
 * the advisories that lost all their packages, and the kept packages whose
 * requirements went, are named here (docs/sync.md).
 */
export interface FilterReport {
  /** Packages of the upstream the filter did not take (and that were not downloaded). */
  leftOut: number;
  /** Ids of the upstream's advisories whose packages the filter all left out. */
  advisoriesLeftOut: string[];
  /** Kept packages that require what only left-out packages provide: dnf cannot install them from this repo alone. */
  requiresLeftOut: RequiresLeftOut[];
  /** With --with-deps: how many of the kept packages were taken because others need them. */
  dependencies?: number;
}

/**
 * Metadata derived from the packages (regenerated for every snapshot) or pointing at
 * files a mirror does not carry (delta RPMs): not copied from the upstream.
 */
const DERIVED_TYPES = /^(primary|filelists|other|filelists_ext)(_db|_zck)?$|^(prestodelta|deltainfo)$/;

/** Old repos say "sha" for sha1. `source` names the metadata that gave the type. */
function hashName(type: string, source: string): string {
  const t = type.toLowerCase();
  if (t === 'sha') return 'sha1';
  if (!['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(t)) throw new UpstreamError(`${source}: unsupported checksum type ${JSON.stringify(type.slice(0, 40))}`);
  return t;
}

async function readSmall(up: Upstream, href: string, limit: number): Promise<string> {
  const { body } = await up.open(href);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new UpstreamError(`${up.describe(href)}: larger than ${limit} bytes; refusing it`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** A downloaded package that cannot be ingested is named by where it came from. */
const DOWNLOAD_FAILURES: StoredPackageFailures = {
  missing: (p) => new UpstreamError(`${p.source}: its blob ${p.digest} is gone from the store (removed by gc meanwhile?); run the sync again`),
  unreadable: (_, message, e) => (e instanceof RpmFormatError ? new UpstreamError(message) : undefined),
};

const REPOMD_HREF = 'repodata/repomd.xml';

/** An upstream's repomd.xml, its records' hrefs checked, and its primary record. */
async function readRepomd(up: Upstream): Promise<{ repomd: ReturnType<typeof parseRepomd>; primaryRecord: RepomdRecord }> {
  const where = up.describe(REPOMD_HREF);
  const repomd = parseRepomd(await readSmall(up, REPOMD_HREF, REPOMD_MAX_BYTES), where);
  for (const r of repomd.records) {
    checkHref(r.href, where);
    if (r.base) throw new UpstreamError(`${where}: the ${r.type} record points elsewhere (xml:base ${r.base}); mirror that location instead`);
  }
  const primaryRecord = repomd.records.find((r) => r.type === 'primary');
  if (!primaryRecord) throw new UpstreamError(`${where}: lists no primary metadata`);
  return { repomd, primaryRecord };
}

/** Real metadata compresses about 10:1; a primary.xml that expands beyond 50:1 (and 32 MiB) is treated as a bomb. */
const primaryLimit = (compressedSize: number) => Math.min(8 * 2 ** 30, Math.max(32 * 2 ** 20, compressedSize * 50));

/** A package file of a local yum repo directory, with the checksum its metadata lists. */
export interface ListedFile {
  path: string;
  checksumType: string;
  checksum: string;
  size: number;
}

/**
 * The package files a local yum repo directory's metadata lists (its primary.xml
 * verified against repomd.xml): what a deploy of the directory takes, locally and
 * through a server alike (the remote client uploads these, the server cannot read
 * the client's disk). The files themselves are verified by whoever reads them.
 */
export async function listedPackageFiles(dir: string): Promise<ListedFile[]> {
  const up = openUpstream(dir);
  const { primaryRecord } = await readRepomd(up);
  const primaryPath = up.describe(primaryRecord.href);
  const type = hashName(primaryRecord.checksum.type, up.describe(REPOMD_HREF));
  const { hashes, size } = await hashFileAs(primaryPath, [type]).catch((e: NodeJS.ErrnoException) => {
    throw new UpstreamError(`${primaryPath}: ${e.code === 'ENOENT' ? 'listed in repomd.xml but missing' : e.message}`);
  });
  const digest = hashes[0]!.digest('hex');
  if (digest !== primaryRecord.checksum.value.toLowerCase()) throw new ChecksumMismatchError(`${primaryPath}: its ${type} is ${digest}, repomd.xml lists ${primaryRecord.checksum.value}; the repo's metadata is stale or damaged (run createrepo_c on it)`);
  const listed = await parsePrimary(createReadStream(primaryPath), primaryRecord.href, primaryPath, { maxBytes: primaryLimit(size) });
  return listed.map((p) => ({
    path: up.describe(checkPackageHref(p.locationHref, primaryPath)),
    checksumType: hashName(p.checksumType, primaryPath),
    checksum: p.pkgid.toLowerCase(),
    size: p.sizePackage,
  }));
}

export interface IngestedRepo {
  /** Packages with their upstream hrefs, verified and stored (blob and record). */
  packages: IngestedPackage[];
  /** Extra metadata files (comps, updateinfo, ...), stored, with their repomd records. */
  extras: ExtraMetadata[];
  downloaded: number;
  /** With a filter: what it left out. */
  filtered?: FilterReport;
}

/** What a sync keeps of each upstream package: where it is and what it must be, not its record. */
interface ListedPackage {
  locationHref: string;
  checksumType: string;
  pkgid: string;
  sizePackage: number;
  timeFile: number;
}

/**
 * A copy of a string that keeps no larger one alive: the parser's strings may be slices
 * of the chunk of XML they were read from, which V8 would keep whole for each of them.
 */
const owned = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

const listedOf = (p: PackageRecord): ListedPackage => ({ locationHref: owned(p.locationHref), checksumType: owned(p.checksumType), pkgid: owned(p.pkgid), sizePackage: p.sizePackage, timeFile: p.timeFile });

/** Records go into the catalog this many at a time: a sync of a large upstream holds no more. */
const RECORD_BATCH = 500;

/** Downloads at once (as many as the upstream agent's sockets). */
const DEFAULT_CONCURRENCY = 16;

/**
 * The packages of the upstream to fetch. Without a filter, primary.xml is streamed and
 * only what a download needs of each package is kept (50,000 full records would be
 * most of a sync's memory); a filter needs the whole list (newest per name, what the
 * left-out packages provided), and it is kept, with what the filter took and left, for
 * the report.
 */
async function upstreamPackages(store: Store, up: Upstream, primaryRecord: RepomdRecord, primaryBlob: BlobInfo, filter: MirrorFilter | undefined) {
  const where = up.describe(primaryRecord.href);
  const limits = { maxBytes: primaryLimit(primaryBlob.size) };
  if (!filter) {
    const listed: ListedPackage[] = [];
    await eachPrimaryPackage(await store.blobs.open(primaryBlob.digest), primaryRecord.href, where, (p) => listed.push(listedOf(p)), limits);
    return { listed };
  }
  const upstream = await parsePrimary(await store.blobs.open(primaryBlob.digest), primaryRecord.href, where, limits);
  // The filter decides before any package is fetched: what it leaves out is never downloaded.
  const selection = { upstream, ...applyMirrorFilter(upstream, filter) };
  return { listed: selection.kept.map(listedOf), selection };
}

/**
 * Fetches a yum repo's packages (and, with `extras`, its extra metadata) into the
 * store, verified against the repo's own checksums. Commits nothing.
 */
export async function ingestRepo(
  store: Store,
  location: string,
  opts: { extras?: boolean; filter?: MirrorFilter; concurrency?: number; onProgress?: (done: number, total: number) => void; fetchPolicy?: FetchPolicy } = {},
): Promise<IngestedRepo> {
  const { catalog, blobs } = store;
  const up = openUpstream(location, opts.fetchPolicy);
  const { repomd, primaryRecord } = await readRepomd(up);

  const fetchMetadata = (r: RepomdRecord) =>
    downloadToBlob(store, up, r.href, { checksumType: hashName(r.checksum.type, up.describe(REPOMD_HREF)), checksum: r.checksum.value, size: r.size >= 0 ? r.size : undefined, maxSize: 1 << 30 });

  // The upstream's package list, from its primary.xml (its expansion bounded).
  const primaryBlob = await fetchMetadata(primaryRecord);
  const { listed, selection } = await upstreamPackages(store, up, primaryRecord, primaryBlob, opts.filter);

  // Extra metadata (comps, updateinfo, modules, ...) goes into the snapshot as is.
  const extras: IngestedRepo['extras'] = [];
  const advisoriesGone: string[] = [];
  for (const r of opts.extras ? repomd.records : []) {
    if (DERIVED_TYPES.test(r.type)) continue;
    const blob = await fetchMetadata(r);
    const href = `repodata/${basename(r.href)}`;
    extras.push({ record: { ...r, href }, file: { href, digest: blob.digest, size: blob.size, kind: 'metadata' } });
    if (selection && r.type === 'updateinfo') {
      const advisories = await parseUpdateinfo(await blobs.open(blob.digest), r.href, up.describe(r.href), { maxBytes: primaryLimit(blob.size) });
      advisoriesGone.push(...advisoriesLeftOut(advisories, selection.upstream, selection.kept));
    }
  }
  const filtered = selection && {
    leftOut: selection.leftOut.length,
    advisoriesLeftOut: advisoriesGone,
    requiresLeftOut: requiresLeftOut(selection.kept, selection.leftOut),
    ...(opts.filter?.withDeps && { dependencies: selection.dependencies.length }),
  };

  // Packages: reuse blobs the store has (by sha256), download the rest in parallel.
  // Every download is durable before it is linked in, the blob directories after the
  // last (the batch's flush; src/store/local-blobs.ts): the commit that lists them comes
  // after. A failure drops what the batch holds unflushed.
  const batch = blobs.batch();
  const records = recordWriter(catalog);
  const inspector = startInspector();
  const packages: IngestedPackage[] = [];
  // Reused blobs: their records are looked up (and, if the catalog lacks them, read) after.
  const reused = new Map<string, StoredPackage>();
  let downloaded = 0;
  let done = 0;
  await eachLimited(listed, opts.concurrency ?? DEFAULT_CONCURRENCY, async (p) => {
    const href = checkPackageHref(p.locationHref, up.describe(primaryRecord.href));
    const type = hashName(p.checksumType, up.describe(primaryRecord.href));
    const source = up.describe(href);
    // touch(), not stat(): a blob this sync reuses must not be taken by a gc meanwhile.
    // With the listed size: a stored blob of another size is not the listed file (the
    // metadata says something else, or the blob is damaged), and the download decides.
    let digest = type === 'sha256' && (await batch.touch(p.pkgid, p.sizePackage)) ? p.pkgid : undefined;
    if (digest) {
      reused.set(digest, { digest, source, locationHref: '', timeFile: p.timeFile });
    } else {
      // The record comes from the package's own headers, its own digests verified (the
      // upstream's metadata may list a damaged file): read from the download, while the
      // other downloads go on.
      let record: StorableRecord | undefined;
      // A large download (a partial file) is read here; a small one (in memory) by hashAndInspect.
      const inspect = async (file: Downloaded) => {
        if ('path' in file) record = await readDownloaded(file.path, source, p.timeFile);
      };
      const hashAndInspect = async (bytes: Buffer, types: string[]) => {
        // The thread writes the file the blob is made of too (its open, write and close).
        const writeTo = blobs.stagingPath();
        const { digests, record: read, failure, written } = await inspector.run({ bytes, types, name: source, timeFile: p.timeFile, writeTo });
        record = read;
        // Its failure crosses from the thread with its kind, not its class.
        return { digests, problem: failure && (failure.kind === 'bad_package' ? new UpstreamError(failure.message) : new WorkerReportedError(failure)), written: written ? writeTo : undefined };
      };
      const blob = await downloadToBlob(store, up, href, { checksumType: type, checksum: p.pkgid, size: p.sizePackage, maxSize: p.sizePackage }, { batch, inspect, hashAndInspect });
      digest = blob.digest;
      // The upstream's file time, not our download time: syncing the same upstream twice
      // must give the same metadata (a mirror is reproducible, and its times are upstream's).
      records.add(record!);
      downloaded++;
    }
    packages.push({ href, digest, size: p.sizePackage, source });
    opts.onProgress?.(++done, listed.length);
  })
    .catch(async (e: unknown) => {
      await batch.discard();
      throw e;
    })
    .finally(() => inspector.close());
  await batch.flush();

  // A reused blob's record is known when its content came in before; one that is not
  // (a blob left by a sync that failed) is read from the blob.
  const again = [...reused.values()];
  for (let i = 0; i < again.length; i += RECORD_BATCH) {
    const chunk = again.slice(i, i + RECORD_BATCH);
    const known = await catalog.getPackageIdentities(chunk.map((p) => p.digest));
    for (const p of chunk) if (!known.has(p.digest)) records.add(await readStored(store, p, { failures: DOWNLOAD_FAILURES }));
  }
  await records.finish();
  return { packages, extras, downloaded, ...(filtered && { filtered }) };
}

type Inspector = WorkerPool<InspectTask, Outcome<Inspected>[], Inspected>;

/**
 * The inspector thread: it starts once a few downloads needed it (a sync that reuses
 * every blob, or fetches a handful, never pays for it). Downloads finish one at a time,
 * so their tasks travel mostly alone: it holds as many as a sync downloads at once
 * (DEFAULT_CONCURRENCY), and the thread that runs the downloads, the busier one, does
 * not take tasks itself (with 8 it took a sixth of them, 0.8 s of 5,000 small packages).
 */
function startInspector(): Inspector {
  return new WorkerPool(new URL('./inspect-worker.ts', import.meta.url), inspectJob, { threads: threadsFor(2), startAfter: 32, batch: 16, inFlight: DEFAULT_CONCURRENCY, selfBatch: 1 });
}

/**
 * A downloaded package's record, read from its partial file (a large one; a small one
 * held in memory goes to the inspector), its own digests verified, with the upstream's
 * file time; a file that is no RPM is the upstream's fault.
 */
async function readDownloaded(path: string, source: string, timeFile: number): Promise<PackageRecord> {
  try {
    return { ...(await readVerified(path, '')), timeFile };
  } catch (e) {
    if (e instanceof RpmFormatError) throw new UpstreamError(e.message.replace(path, source));
    throw e;
  }
}

/**
 * Puts records into the catalog RECORD_BATCH at a time, one batch after another, as
 * they come. They wait there, unlisted, for the commit (gc keeps young records).
 * finish() puts the rest, and throws the first failure.
 */
function recordWriter(catalog: Store['catalog']) {
  let pending: StorableRecord[] = [];
  let putting: Promise<void> = Promise.resolve();
  const put = () => {
    const chunk = pending;
    pending = [];
    putting = putting.then(() => catalog.putPackages(chunk));
    putting.catch(() => {}); // seen by finish()
  };
  return {
    add(record: StorableRecord) {
      pending.push(record);
      if (pending.length >= RECORD_BATCH) put();
    },
    async finish() {
      if (pending.length) put();
      await putting;
    },
  };
}

/** The repo's stored filter, checked: a damaged one stops the sync, saying how to mend it. */
function storedFilter(repo: { name: string; filter?: unknown }): MirrorFilter | undefined {
  try {
    return checkMirrorFilter(repo.filter, `repository ${repo.name}'s stored `);
  } catch (e) {
    if (!(e instanceof MirrorFilterError)) throw e;
    throw new MirrorFilterError(`${e.message}; set it again with 'txrepo repo update ${repo.name}' (or clear it with --no-filter)`);
  }
}

/** The snapshot's message says what the filter left out, so that the history shows it. */
function filteredMessage(message: string, filtered: FilterReport | undefined): string {
  if (!filtered) return message;
  const n = filtered.advisoriesLeftOut.length;
  const advisories = n ? `, and every package of ${n} ${n === 1 ? 'advisory' : 'advisories'} (${filtered.advisoriesLeftOut.slice(0, 10).join(', ')}${filtered.advisoriesLeftOut.length > 10 ? ', ...' : ''})` : '';
  const broken = filtered.requiresLeftOut.length;
  const requires = broken ? `; ${broken} kept ${broken === 1 ? 'package requires' : 'packages require'} what only those provide` : '';
  const dependencies = filtered.dependencies ? `; it took ${filtered.dependencies} as what the others need` : '';
  return `${message} (the repo's filter left out ${filtered.leftOut} packages${advisories}${dependencies}${requires})`;
}

export async function sync(store: Store, opts: SyncOptions): Promise<SyncResult> {
  const { catalog } = store;
  const repo = await repoOrFail(catalog, opts.repo, { createRepo: opts.repo, upstream: true });
  const from = opts.from ?? repo.upstream;
  if (!from) throw new UpstreamError(`${opts.repo} has no upstream: give --from URL (or create the repo with --upstream URL)`);
  const filter = storedFilter(repo);
  const { packages, extras, downloaded, filtered } = await ingestRepo(store, from, { extras: true, filter, concurrency: opts.concurrency, onProgress: opts.onProgress, fetchPolicy: opts.fetchPolicy });
  const result = await commitOnLatest(store, {
    repo: opts.repo,
    change: opts.mirror ? { kind: 'replace', packages } : { kind: 'add', packages, sameHref: 'replace' },
    // --newest holds for the repo, not only for what this sync brings: older builds go.
    newest: filter?.newest,
    extras,
    actor: opts.actor,
    message: filteredMessage(opts.message ?? `sync from ${from}`, filtered),
  });
  return { ...result, downloaded, ...(filtered && { filtered }) };
}
