// Downloads one upstream file into the blob store: into a partial file under
// STORE/tmp (named after the URL, so a later run resumes it), with retries that
// continue where the last attempt stopped, then verified against the checksum and size
// the upstream metadata gives before it becomes a blob.

import { createHash, type Hash } from 'node:crypto';
import { chmod, open, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atPath, Failure, fileCreated, writeAll } from '../common/index.ts';
import type { BlobBatch, BlobInfo, Store } from '../store/index.ts';
import { UpstreamError, type Upstream } from './source.ts';

export interface ExpectedFile {
  checksumType: string;
  checksum: string;
  /** Size in bytes when the metadata gives it. */
  size?: number;
  /** Refuse files larger than this (when no size is known). */
  maxSize: number;
}

export class ChecksumMismatchError extends Failure {
  override name = 'ChecksumMismatchError';
  readonly kind = 'bad_package';
}

const ATTEMPTS = 4;
const BACKOFF_MS = [0, 250, 1000, 3000];

/** Hashes what an earlier attempt or run left in the partial file (none: empty). */
async function hashPartial(path: string, types: string[]): Promise<{ hashes: Hash[]; size: number }> {
  const fh = await open(path, 'r').catch(() => undefined);
  return fh ? hashOpened(fh, types) : { hashes: types.map((t) => createHash(t)), size: 0 };
}

/**
 * Opens the partial file to write (`append`: to resume it). A new one is created
 * read-only, as the blob it becomes, so that storing it takes no chmod; one left by an
 * earlier run is made writable again first (a non-root user could not reopen it).
 */
async function openPartial(path: string, append: boolean): Promise<FileHandle> {
  const flags = append ? 'a' : 'w';
  try {
    return await open(path, flags, 0o444);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
    await chmod(path, 0o644);
    return await open(path, flags);
  }
}

/** A file hashed with each of `types` (sha256, sha1, ...), and its size; a missing file throws. */
export async function hashFileAs(path: string, types: string[]): Promise<{ hashes: Hash[]; size: number }> {
  return hashOpened(await open(path, 'r'), types);
}

async function hashOpened(fh: FileHandle, types: string[]): Promise<{ hashes: Hash[]; size: number }> {
  const hashes = types.map((t) => createHash(t));
  let size = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      for (const h of hashes) h.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { hashes, size };
}

/** A download verified against the upstream's metadata, as the inspector sees it. */
export type Downloaded = { path: string; sha256: string } | { bytes: Buffer; sha256: string };

export interface DownloadOptions {
  /** Store the blob through this batch: durable once the batch is flushed. */
  batch?: BlobBatch;
  /**
   * Looks at the verified download before it becomes a blob (a sync reads the
   * package's record from it, not from the blob, which may be in object storage); a
   * failure stores nothing.
   */
  inspect?: (file: Downloaded) => Promise<void>;
  /**
   * For a download held in memory, instead of `inspect`: hashes its bytes with each of
   * `types` (sha256 first) and looks at them, in one go and elsewhere (a sync's
   * inspector thread), so that the thread running the downloads does not hash them as
   * they arrive. What the look found wrong comes back, not thrown: the hashes are
   * compared first, and a file that is not the listed one is reported as that. It may
   * also write the bytes to a staging file of the store (`written`; the bytes may then
   * be gone from `bytes`), which becomes the blob, or is removed.
   */
  hashAndInspect?: (bytes: Buffer, types: string[]) => Promise<{ digests: string[]; problem?: Error; written?: string }>;
}

/**
 * A download of at most this many bytes (the size the metadata lists) is held in
 * memory and stored in one write: no partial file to resume (a retry fetches it again,
 * which costs less than the file's opens, writes and closes on every download; most
 * of a distribution's packages are a few tens of KiB).
 */
export const IN_MEMORY_MAX = 1 << 20;

/** Where a download's bytes go while they arrive, and what an earlier attempt left there. */
interface Sink {
  /** Whether what an attempt got is kept for the next run (a partial file). */
  keeps: boolean;
  /** What earlier attempts (or runs) left, hashed; a fresh start is size 0. */
  resume(types: string[]): Promise<{ hashes: Hash[]; size: number }>;
  /** Drops what is kept (too large, or not the file). */
  discard(): Promise<void>;
  /** Starts an attempt: appending to what is kept, or from nothing. */
  begin(append: boolean): Promise<void>;
  write(chunk: Uint8Array): Promise<void> | void;
  /** Ends an attempt (also after a failure). */
  end(): Promise<void>;
}

/** A partial file under STORE/tmp, named after the URL, which a later attempt or run resumes. */
function fileSink(partial: string, onDisk: (e: unknown) => never): Sink {
  let fh: FileHandle | undefined;
  return {
    keeps: true,
    resume: (types) => hashPartial(partial, types),
    discard: () => rm(partial, { force: true }),
    begin: async (append) => {
      fh = await openPartial(partial, append).catch(onDisk);
      fileCreated(partial);
    },
    write: (chunk) => writeAll(fh!, chunk).catch(onDisk),
    end: async () => {
      const open = fh;
      fh = undefined;
      await open?.close();
    },
  };
}

/** The bytes in memory (a small download): nothing outlives the run, an attempt starts over. */
function memorySink(): Sink & { bytes(size: number): Buffer } {
  let chunks: Uint8Array[] = [];
  return {
    keeps: false,
    resume: async (types) => {
      chunks = [];
      return { hashes: types.map((t) => createHash(t)), size: 0 };
    },
    discard: async () => {
      chunks = [];
    },
    begin: async () => {},
    write: (chunk) => {
      chunks.push(chunk);
    },
    end: async () => {},
    bytes: (size) => Buffer.concat(chunks, size),
  };
}

export async function downloadToBlob(store: Store, upstream: Upstream, href: string, expect: ExpectedFile, opts: DownloadOptions = {}): Promise<BlobInfo> {
  const url = upstream.describe(href);
  // The size the metadata lists bounds the download, but only up to maxSize: a hostile
  // repomd.xml could list its primary.xml as a terabyte and stream that into tmp/.
  if (expect.size !== undefined && expect.size > expect.maxSize) {
    throw new ChecksumMismatchError(`${url}: the metadata lists ${expect.size} bytes, more than the ${expect.maxSize} allowed; refusing it`);
  }
  const memory = opts.batch && expect.size !== undefined && expect.size <= IN_MEMORY_MAX ? memorySink() : undefined;
  // Named only where it is made: a sync of small packages needs no partial files.
  const partial = memory ? '' : join(store.dir, 'tmp', `download-${createHash('sha256').update(url).digest('hex').slice(0, 32)}.part`);
  // A failure of our own disk (full, read-only) is not the upstream's: retrying cannot
  // help, and the message names the file.
  let diskFailure: unknown;
  const onDisk = (e: unknown): never => {
    throw (diskFailure = atPath(e, partial));
  };
  const sink = memory ?? fileSink(partial, onDisk);
  // sha256 names the blob, the upstream's type verifies it.
  const types = expect.checksumType === 'sha256' ? ['sha256'] : ['sha256', expect.checksumType];
  const hashedElsewhere = memory !== undefined && opts.hashAndInspect !== undefined;
  const state = await fetchInto(sink, upstream, href, expect, url, () => diskFailure, hashedElsewhere ? [] : types);
  const checkListed = async ([sha256, other]: string[]) => {
    const actual = other ?? sha256;
    if (actual === expect.checksum.toLowerCase()) return;
    await sink.discard();
    throw new ChecksumMismatchError(`${url}: ${expect.checksumType} is ${actual}, the upstream metadata lists ${expect.checksum}; refusing it`);
  };
  if (hashedElsewhere) {
    const bytes = memory.bytes(state.size);
    const { digests, problem, written } = await opts.hashAndInspect!(bytes, types);
    try {
      await checkListed(digests);
      if (problem) throw problem;
    } catch (e) {
      if (written) await rm(written, { force: true });
      throw e;
    }
    const blob = { digest: digests[0], size: state.size };
    return written ? opts.batch!.adopt(written, blob, { hashed: true }) : opts.batch!.putBytes(bytes, blob, { hashed: true });
  }
  const digests = state.hashes.map((h) => h.digest('hex'));
  await checkListed(digests);
  const sha256 = digests[0];
  if (memory) {
    const bytes = memory.bytes(state.size);
    await opts.inspect?.({ bytes, sha256 });
    return opts.batch!.putBytes(bytes, { digest: sha256, size: state.size }, { hashed: true });
  }
  if (opts.inspect) {
    try {
      await opts.inspect({ path: partial, sha256 });
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
  }
  // The partial file becomes the blob: moved in, not copied, and not hashed again.
  return (opts.batch ?? store.blobs).adopt(partial, { digest: sha256, size: state.size }, { hashed: true });
}

/**
 * Fetches the file into `sink`, hashed with each of `types` as the bytes arrive (none:
 * the caller hashes them), with retries that continue where the last attempt stopped
 * (when the sink keeps it and the server can resume).
 */
async function fetchInto(sink: Sink, upstream: Upstream, href: string, expect: ExpectedFile, url: string, diskFailure: () => unknown, types: string[]): Promise<{ hashes: Hash[]; size: number }> {
  const limit = expect.size ?? expect.maxSize;
  const tooLarge = () => new ChecksumMismatchError(`${url}: larger than the ${limit} bytes ${expect.size !== undefined ? 'the metadata lists' : 'allowed'}`);
  let state: { hashes: Hash[]; size: number } | undefined;
  let lastError: Error | undefined;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await sleep(BACKOFF_MS[attempt]);
    state ??= await sink.resume(types);
    if (state.size > limit) {
      await sink.discard();
      state = await sink.resume(types);
    }
    if (expect.size !== undefined && state.size === expect.size) return state; // an earlier run got it all
    try {
      const { body, resumed } = await upstream.open(href, state.size);
      if (!resumed && state.size > 0) state = { hashes: types.map((t) => createHash(t)), size: 0 }; // the server sent it all
      await sink.begin(resumed);
      for await (const chunk of body) {
        state.size += chunk.length;
        if (state.size > limit) throw tooLarge();
        for (const h of state.hashes) h.update(chunk);
        await sink.write(chunk);
      }
      await sink.end();
      if (expect.size !== undefined && state.size !== expect.size) throw new UpstreamError(`${url}: got ${state.size} bytes, the metadata lists ${expect.size}`);
      return state;
    } catch (e) {
      await sink.end().catch(() => {});
      if (e instanceof ChecksumMismatchError) {
        await sink.discard();
        throw e;
      }
      if (e === diskFailure()) throw e;
      // What reached the disk is the truth: hash it again before resuming.
      state = undefined;
      lastError = e as Error;
      if (attempt === ATTEMPTS - 1) {
        throw new UpstreamError(`${lastError.message} (gave up after ${ATTEMPTS} attempts${sink.keeps ? '; the partial download is kept and resumed next time' : ''})`);
      }
    }
  }
}
