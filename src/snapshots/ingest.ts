// Ingest: how a package gets into the store, whichever way it came. Local files are
// read and copied in as blobs; packages already stored as blobs (a client's uploads, a
// sync's downloads) are read from their blobs. Either way the record comes from the
// package's own headers, read once here, and the package's own digests are verified
// (docs/store.md, "Commit protocol", steps 1 and 2): nothing is committed here, the
// records wait in the catalog for the commit that lists them.

import { constants, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { atPath, checkXmlText, eachLimited, forTerminal } from '../common/index.ts';
import type { PackageRecord } from '../rpm/index.ts';
import { hashFile, serializeRecord, type SerializedRecord, type Store } from '../store/index.ts';
import { DeployInputError } from './deploy.ts';
import { readVerified } from './verified.ts';

/** A package in the store (blob and record), ready to be added to a repository. */
export interface IngestedPackage {
  /** Where it goes in the snapshot tree. */
  href: string;
  digest: string;
  size: number;
  /** The file or URL it came from, for messages. */
  source: string;
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

/**
 * Refuses a package file name no repo could carry: one its URL cannot (control
 * characters, backslashes) or its primary.xml cannot (what XML 1.0 cannot hold).
 * `what` names where it came from.
 */
export function checkPackageName(name: string, what: string): string {
  if (UNSERVABLE_NAME.test(name)) throw new DeployInputError(`${what}: the file name has control characters or backslashes, which no URL of the repo could carry; rename the file`);
  return checkXmlText(name, `${what}: the file name`);
}

/** Whether an href is where a repo's metadata lives: no package may be put there (it would stand beside, or over, repomd.xml). */
export const inRepodata = (href: string): boolean => /^repodata(\/|$)/i.test(href);

/** The refusal of a package href inRepodata() holds, in the words of every way in. */
export const refusedInRepodata = (href: string): string => `refusing package href ${JSON.stringify(href.slice(0, 200))}: repodata/ is where the repo's metadata lives`;

type Progress = (done: number, total: number) => void;

/** Files up to this size are stored from memory, through a batch (ingestFiles). */
const BATCHED_BELOW = 1 << 20;

/**
 * The bytes of a file read before as `size` bytes: one more is read, so that a file
 * that grew since comes back too long (and fails its digest check) without being read whole.
 */
async function readAtMost(path: string, size: number): Promise<Buffer> {
  // Non-blocking, as the first read was: a named pipe put in the file's place gives no bytes, not a wait.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    let got = 0;
    for (let n; got < buf.length && (n = (await fh.read(buf, got, buf.length - got, got)).bytesRead) > 0; ) got += n;
    return buf.subarray(0, got);
  } catch (e) {
    throw atPath(e, path);
  } finally {
    await fh.close();
  }
}

/**
 * Reads local RPM files and stores them (blob and record). Every file is read, and its
 * own digests verified, before anything is stored: one bad file fails the whole ingest.
 */
export async function ingestFiles(store: Store, paths: string[], onProgress?: Progress): Promise<IngestedPackage[]> {
  // Each record is kept as the catalog stores it (its JSON, as UTF-8 bytes), not as objects: a
  // first deploy of 50,000 small packages held 1.6 GB of records, and the collector
  // traced them all over again as the heap grew (issue 19).
  const read: { path: string; href: string; record: SerializedRecord; size: number }[] = [];
  for (const [i, path] of paths.entries()) {
    checkPackageName(basename(path), forTerminal(JSON.stringify(path)));
    const record = await readVerified(path, packageHref(basename(path)));
    read.push({ path, href: record.locationHref, record: serializeRecord(record), size: record.sizePackage });
    onProgress?.(i + 1, paths.length);
  }
  // The digest check catches a file that changed after it was read. Small files go
  // through a batch, made durable together (one syncfs a chunk, not an fsync each: a
  // first deploy of 10,000 small packages took 14 s with an fsync each, 7 s so; issue 19);
  // large ones are copied in (a reflink where the file system can) a few at a time.
  const batch = store.blobs.batch();
  await eachLimited(read, 4, async ({ path, record, size }) => {
    const expect = { digest: record.pkgid, size };
    if (size > BATCHED_BELOW) return void (await store.blobs.putFile(path, expect));
    // A mismatch names the file, as putFile's does.
    await batch.putBytes(await readAtMost(path, size), expect, { name: path });
  }).catch(async (e: unknown) => {
    await batch.discard();
    throw e;
  });
  await batch.flush();
  await store.catalog.putPackages(read.map((x) => x.record));
  return read.map(({ path, href, record, size }) => ({ href, digest: record.pkgid, size, source: path }));
}

/** A package already stored as a blob, whose record is to be read from it. */
export interface StoredPackage {
  digest: string;
  /** Its href in a snapshot tree, for the record ('' when it has none of its own). */
  locationHref: string;
  /** What messages call it: an upload's file name, the upstream URL it came from. */
  source: string;
  /** The file time to record instead of the blob's own (a mirror keeps its upstream's). */
  timeFile?: number;
}

/** How the caller reports a stored package that cannot be ingested, in its own words. */
export interface StoredPackageFailures {
  /**
   * The blob's local path means nothing to whoever sent the package: in a reader's
   * message it is replaced by this (default: the package's `source`).
   */
  blobCalled?: string;
  /** The blob is not in the store. */
  missing(p: StoredPackage): Error;
  /**
   * Reading the package failed with `e`, whose message, with the blob's path renamed,
   * is `message`: the error to throw instead, or undefined to let `e` through.
   */
  unreadable(p: StoredPackage, message: string, e: Error): Error | undefined;
}

export interface StoredIngestOptions {
  failures: StoredPackageFailures;
  /**
   * Mark each blob used (touch) before relying on it: its caller did not just store or
   * touch it (an upload may be old), and gc must leave it while the commit comes.
   */
  touch?: boolean;
  onProgress?: Progress;
}

/**
 * Ingests packages already stored as blobs: reads each record from its blob (through
 * a local copy, for object storage), verifying the package's own digests, one at a
 * time, then stores the records. Any failure stops the ingest before a record is stored.
 */
export async function ingestStored(store: Store, packages: StoredPackage[], opts: StoredIngestOptions): Promise<PackageRecord[]> {
  const records: PackageRecord[] = [];
  for (const p of packages) {
    records.push(await readStored(store, p, opts));
    opts.onProgress?.(records.length, packages.length);
  }
  await store.catalog.putPackages(records);
  return records;
}

/** One package of ingestStored(): its record, read and verified, not stored. */
export async function readStored(store: Store, p: StoredPackage, opts: StoredIngestOptions): Promise<PackageRecord> {
  const { failures } = opts;
  const copy = !opts.touch || (await store.blobs.touch(p.digest)) ? await store.blobs.localCopy(p.digest) : undefined;
  if (!copy) throw failures.missing(p);
  let record: PackageRecord;
  try {
    record = await readVerified(copy.path, p.locationHref);
  } catch (e) {
    if (await quarantinedDamage(store, p.digest, copy.path)) throw failures.missing(p);
    throw failures.unreadable(p, (e as Error).message.replace(copy.path, failures.blobCalled ?? p.source), e as Error) ?? e;
  } finally {
    await copy.release();
  }
  // The record's pkgid is the sha256 of the bytes read: another one is a damaged blob.
  if (record.pkgid !== p.digest) {
    await store.blobs.quarantine(p.digest);
    throw failures.missing(p);
  }
  return p.timeFile === undefined ? record : { ...record, timeFile: p.timeFile };
}

/**
 * Whether a stored package that could not be read is a damaged blob (its content does
 * not hash to its name), now moved to quarantine: then it is as good as missing, and
 * the client that uploads it again (or the sync run again) stores the good bytes
 * (docs/store.md, "Damaged blobs"). Hashed only when a read failed.
 */
async function quarantinedDamage(store: Store, digest: string, path: string): Promise<boolean> {
  if ((await hashFile(path)).digest === digest) return false;
  await store.blobs.quarantine(digest);
  return true;
}
