// Blob storage: files stored once under the sha256 of their content, never modified.
// This interface is all the rest of txrepo knows of it; a local directory
// (local-blobs.ts) and S3-compatible object storage (s3-blobs.ts) implement it.

import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Failure } from '../common/index.ts';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface Expected {
  /** The digest the content must have; a mismatch stores nothing and throws. */
  digest?: string;
  size?: number;
}

/**
 * A blob that is not what the catalog says (another size than it lists, or moved to
 * quarantine by `fsck --repair`): its bytes must not be served as the file.
 */
export class BlobDamagedError extends Failure {
  override name = 'BlobDamagedError';
  readonly kind = 'damaged';
  /** The size of what is stored, when known. */
  readonly stored?: number;
  constructor(digest: string, stored: number | undefined, expected: number) {
    super(`blob ${digest} is damaged: it has ${stored ?? 'an unknown number of'} bytes, where its files have ${expected}`);
    this.stored = stored;
  }
}

export class BlobMismatchError extends Failure {
  override name = 'BlobMismatchError';
  readonly kind = 'bad_package';
  /** What the content turned out to be. */
  readonly actual?: BlobInfo;
  constructor(message: string, actual?: BlobInfo) {
    super(message);
    this.actual = actual;
  }
}

/** A blob being written: nothing is visible until commit, which verifies and installs it. */
export interface BlobWriter {
  write(data: Uint8Array): Promise<void>;
  commit(expect?: Expected): Promise<BlobInfo>;
  /** Drops what was written (also safe after a failed commit). */
  abort(): Promise<void>;
}

/** adopt()s whose durability is made sure of together, at flush() (BlobStore.batch()). */
export interface BlobBatch {
  adopt(path: string, expect?: Expected, opts?: { hashed?: boolean }): Promise<BlobInfo>;
  /**
   * Stores bytes held in memory (a small download, whole): putBytes() of the store,
   * durable once flush() resolves. With `hashed`, `expect` is the truth, as for adopt,
   * and the caller touch()ed first. `name`: what a mismatch with `expect` calls the
   * bytes (the file they were read from; default "blob").
   */
  putBytes(data: Uint8Array, expect?: Expected, opts?: { hashed?: boolean; name?: string }): Promise<BlobInfo>;
  /** touch(), with the blob found made durable by flush() (it may be another batch's, unflushed). */
  touch(digest: string, size?: number): Promise<boolean>;
  /** Makes every blob this batch stored durable; call it once its adopt()s have settled. */
  flush(): Promise<void>;
  /** Drops what the batch wrote and has not flushed (its writer failed): none of it becomes a blob. */
  discard(): Promise<void>;
}

/** A blob as a local file, for reads that need one (RPM headers); release() when done. */
export interface LocalCopy {
  path: string;
  release(): Promise<void>;
}

/**
 * Every put of content that is already stored marks the blob as used now, so that gc,
 * which only removes blobs unused for a grace period, cannot take a blob that a commit
 * on its way is about to list.
 */
export interface BlobStore {
  /** Stores bytes; idempotent. */
  putBytes(data: Uint8Array, expect?: Expected): Promise<BlobInfo>;
  /** Stores a stream's content; nothing becomes visible unless it completes and verifies. */
  putStream(source: Readable, expect?: Expected): Promise<BlobInfo>;
  /** Stores a local file, by hard link where possible. */
  putFile(path: string, expect?: Expected): Promise<BlobInfo>;
  /**
   * Stores a file that txrepo staged for the store (a finished download under the
   * store's tmp/): verified, then moved in rather than copied. The file is consumed
   * whether or not it verifies. With `hashed`, the caller hashed exactly these bytes as
   * it wrote them and `expect` is taken as the truth (no second read).
   */
  adopt(path: string, expect?: Expected, opts?: { hashed?: boolean }): Promise<BlobInfo>;
  /**
   * Adopts many files and pays for their durability once (a sync's downloads): the
   * batch's adopt() is adopt(), except that the blobs it stores are durable only once
   * flush() resolves. Whoever commits what lists them must flush first.
   */
  batch(): BlobBatch;
  /**
   * A fresh path in the store's staging area, where txrepo can write a file for
   * adopt(); undefined when the backend has no local files.
   */
  stagingPath(): string | undefined;
  /** Starts a blob written piece by piece (hashed as it goes). */
  create(): Promise<BlobWriter>;
  stat(digest: string): Promise<BlobInfo | undefined>;
  /**
   * Marks a stored blob as used now (see above); false if there is no such blob, or,
   * given `size`, if the stored one has another size (a caller that knows it never
   * relies on a blob that is not what it expects).
   */
  touch(digest: string, size?: number): Promise<boolean>;
  /** A small blob's content (or bytes [start, end) of it); undefined if there is no such blob. */
  read(digest: string, range?: { start: number; end: number }): Promise<Buffer | undefined>;
  /**
   * A stream of the blob (or of the inclusive range of it). Given `size`, the size the
   * caller knows the whole blob has, a stored blob of another size fails with
   * BlobDamagedError before any byte is read (a cheap check: damage of the same size
   * only a re-hash finds, fsck --verify-blobs).
   */
  open(digest: string, range?: { start: number; end: number }, opts?: { size?: number }): Promise<Readable>;
  /** A local path of the blob, when the backend has one (hard links, sendfile). */
  localPath(digest: string): string | undefined;
  /** The blob as a local file: its own path, or a copy; undefined if there is no such blob. */
  localCopy(digest: string): Promise<LocalCopy | undefined>;
  /**
   * A URL a client can download the blob from for `expiresIn` seconds without asking
   * txrepo (object storage's presigned URL); undefined if the backend has none.
   */
  downloadUrl(digest: string, opts: { expiresIn: number; fileName?: string }): Promise<string | undefined>;
  /**
   * gc's removal of an unreferenced blob: only if it was not written or reused since
   * `unusedSince`, and safely against a writer that reuses it meanwhile (see
   * docs/store.md). Resolves whether it was removed.
   */
  sweep(digest: string, unusedSince: Date): Promise<boolean>;
  /** Removes staging files (killed runs' leftovers) not touched since `before`; their count and bytes. */
  sweepStaging(before: Date): Promise<{ files: number; bytes: number }>;
  /** Every blob, with when it was last written or reused. */
  list(): AsyncIterable<BlobInfo & { usedAt: Date }>;
  /**
   * Moves a damaged blob aside, to the quarantine area (blob-layout.ts): from then on
   * the store has no such blob (a deploy of the same content stores it anew) and
   * quarantined() says why. False if there was no blob to move.
   */
  quarantine(digest: string): Promise<boolean>;
  /** Whether a blob of this digest was quarantined (whether or not it was stored again since). */
  quarantined(digest: string): Promise<boolean>;
  /** Lets go of connections. */
  close(): void;
}

/**
 * putStream() of every blob store: a stream into a writer of `create()`, stopped as
 * soon as it runs past the expected size; nothing stays if it fails.
 */
export async function putStreamWith(create: () => Promise<BlobWriter>, source: Readable, expect?: Expected): Promise<BlobInfo> {
  const writer = await create();
  let size = 0;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      // Stop an oversized stream early rather than at commit.
      if (expect?.size !== undefined && size > expect.size) throw new BlobMismatchError(`blob: more than the expected ${expect.size} bytes`);
      await writer.write(chunk as Buffer);
    }
    return await writer.commit(expect);
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** sweepStaging() of every blob store: files of a local staging directory untouched since `before`. */
export async function sweepStagingDir(dir: string, before: Date): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile() || st.mtime >= before) continue;
    await rm(path, { force: true });
    files++;
    bytes += st.size;
  }
  return { files, bytes };
}
