// txrepo sync: mirror an upstream yum repo into a store repository. Downloads only
// the blobs the store lacks, verifies every file against the upstream's metadata,
// carries the upstream's other metadata (comps, updateinfo, modules, ...) into the
// snapshot, and makes no snapshot when nothing changed. Nothing is committed unless
// every file arrived and verified.

import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { eachLimited } from '../common/index.ts';
import { parsePrimary, parseRepomd, REPOMD_MAX_BYTES, type RepomdRecord } from '../metadata/index.ts';
import { RpmFormatError } from '../rpm/index.ts';
import { commitOnLatest, ingestStored, type CommitResult, type ExtraMetadata, type IngestedPackage, type StoredPackageFailures } from '../snapshots/index.ts';
import { repoOrFail, type Store } from '../store/index.ts';
import { ChecksumMismatchError, downloadToBlob, hashFileAs } from './download.ts';
import { checkHref, checkPackageHref } from './hrefs.ts';
import type { FetchPolicy } from './fetch-policy.ts';
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
}

/**
 * Fetches a yum repo's packages (and, with `extras`, its extra metadata) into the
 * store, verified against the repo's own checksums. Commits nothing.
 */
export async function ingestRepo(store: Store, location: string, opts: { extras?: boolean; concurrency?: number; onProgress?: (done: number, total: number) => void; fetchPolicy?: FetchPolicy } = {}): Promise<IngestedRepo> {
  const { catalog, blobs } = store;
  const up = openUpstream(location, opts.fetchPolicy);
  const { repomd, primaryRecord } = await readRepomd(up);

  const fetchMetadata = (r: RepomdRecord) =>
    downloadToBlob(store, up, r.href, { checksumType: hashName(r.checksum.type, up.describe(REPOMD_HREF)), checksum: r.checksum.value, size: r.size >= 0 ? r.size : undefined, maxSize: 1 << 30 });

  // The upstream's package list, from its primary.xml (its expansion bounded).
  const primaryBlob = await fetchMetadata(primaryRecord);
  const listed = await parsePrimary(await blobs.open(primaryBlob.digest), primaryRecord.href, up.describe(primaryRecord.href), { maxBytes: primaryLimit(primaryBlob.size) });

  // Extra metadata (comps, updateinfo, modules, ...) goes into the snapshot as is.
  const extras: IngestedRepo['extras'] = [];
  for (const r of opts.extras ? repomd.records : []) {
    if (DERIVED_TYPES.test(r.type)) continue;
    const blob = await fetchMetadata(r);
    const href = `repodata/${basename(r.href)}`;
    extras.push({ record: { ...r, href }, file: { href, digest: blob.digest, size: blob.size, kind: 'metadata' } });
  }

  // Packages: reuse blobs the store has (by sha256), download the rest in parallel.
  const packages: IngestedPackage[] = [];
  // The upstream's file times, not our download times: syncing the same upstream twice
  // must give the same metadata (a mirror is reproducible, and its times are upstream's).
  const fileTimes = new Map<string, number>();
  let downloaded = 0;
  let done = 0;
  await eachLimited(listed, opts.concurrency ?? 16, async (p) => {
    const href = checkPackageHref(p.locationHref, up.describe(primaryRecord.href));
    const type = hashName(p.checksumType, up.describe(primaryRecord.href));
    // touch(), not stat(): a blob this sync reuses must not be taken by a gc meanwhile.
    // With the listed size: a stored blob of another size is not the listed file (the
    // metadata says something else, or the blob is damaged), and the download decides.
    let digest = type === 'sha256' && (await blobs.touch(p.pkgid, p.sizePackage)) ? p.pkgid : undefined;
    if (!digest) {
      const blob = await downloadToBlob(store, up, href, { checksumType: type, checksum: p.pkgid, size: p.sizePackage, maxSize: p.sizePackage });
      digest = blob.digest;
      downloaded++;
    }
    packages.push({ href, digest, size: p.sizePackage, source: up.describe(href) });
    fileTimes.set(digest, p.timeFile);
    opts.onProgress?.(++done, listed.length);
  });

  // Records come from the packages' own headers, parsed once at ingest: those the
  // catalog has were read (and verified) when their content first came in. The
  // packages' own digests are verified too: the upstream's metadata may list a
  // damaged file.
  const sources = new Map(packages.map((f) => [f.digest, f.source]));
  const known = await catalog.getPackages([...sources.keys()]);
  const fresh = [...sources].filter(([d]) => !known.has(d)).map(([digest, source]) => ({ digest, source, locationHref: '', timeFile: fileTimes.get(digest) }));
  await ingestStored(store, fresh, { failures: DOWNLOAD_FAILURES });
  return { packages, extras, downloaded };
}

export async function sync(store: Store, opts: SyncOptions): Promise<SyncResult> {
  const { catalog } = store;
  const repo = await repoOrFail(catalog, opts.repo, { createRepo: opts.repo, upstream: true });
  const from = opts.from ?? repo.upstream;
  if (!from) throw new UpstreamError(`${opts.repo} has no upstream: give --from URL (or create the repo with --upstream URL)`);
  const { packages, extras, downloaded } = await ingestRepo(store, from, { extras: true, concurrency: opts.concurrency, onProgress: opts.onProgress, fetchPolicy: opts.fetchPolicy });
  const result = await commitOnLatest(store, {
    repo: opts.repo,
    change: opts.mirror ? { kind: 'replace', packages } : { kind: 'add', packages, sameHref: 'replace' },
    extras,
    actor: opts.actor,
    message: opts.message ?? `sync from ${from}`,
  });
  return { ...result, downloaded };
}
