// A blob's content staged in a local file (in STORE/tmp/) before it is stored: every
// blob store writes and verifies through this module; what it then does with the file
// (link it into place, upload it) is its own.

import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { atPath, syncFile, writeAll } from '../common/index.ts';
import { BlobMismatchError, type BlobInfo, type Expected } from './blobs.ts';

/** `info` if it is what `expect` says (digest, then size); else BlobMismatchError, naming `what`. */
export function checkBlob(info: BlobInfo, expect: Expected | undefined, what: string): BlobInfo {
  if (expect?.digest && expect.digest !== info.digest) throw new BlobMismatchError(`${what}: sha256 is ${info.digest}, expected ${expect.digest}`, info);
  if (expect?.size !== undefined && expect.size !== info.size) throw new BlobMismatchError(`${what}: ${info.size} bytes, expected ${expect.size}`, info);
  return info;
}

/**
 * What `expect` says a staged file holds, when the caller hashed exactly these bytes as
 * it wrote them (`hashed`, see BlobStore.adopt) and `expect` is complete: no second read.
 */
export function vouchedFor(expect: Expected | undefined, hashed: boolean | undefined): BlobInfo | undefined {
  return hashed && expect?.digest && expect.size !== undefined ? { digest: expect.digest, size: expect.size } : undefined;
}

/** The sha256 and size of an open file, read from its start. */
export async function hashHandle(fh: FileHandle): Promise<BlobInfo> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, size);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { digest: hash.digest('hex'), size };
}

export async function hashFile(path: string): Promise<BlobInfo> {
  const fh = await open(path, 'r');
  try {
    return await hashHandle(fh);
  } finally {
    await fh.close();
  }
}

/** Content written piece by piece to a new staging file (BlobStore.create()), hashed as it goes. */
export class StagedBlob {
  readonly path: string;
  private readonly fh: FileHandle;
  private readonly hash = createHash('sha256');
  private size = 0;
  private closed = false;

  private constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.fh = fh;
  }

  /** Creates the file; it must not exist. */
  static async create(path: string, mode: number): Promise<StagedBlob> {
    return new StagedBlob(path, await open(path, 'wx', mode));
  }

  async write(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    this.size += data.length;
    await writeAll(this.fh, data).catch((e: unknown) => Promise.reject(atPath(e, this.path)));
  }

  /** What was written, checked against `expect`; once, when the writing is over. */
  written(expect?: Expected): BlobInfo {
    return checkBlob({ digest: this.hash.digest('hex'), size: this.size }, expect, 'blob');
  }

  sync(): Promise<void> {
    return syncFile(this.fh, this.path);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  /** Closes and removes the file, whatever became of its content. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  /** Drops what was written (also safe after a failed commit). */
  async abort(): Promise<void> {
    await this.close().catch(() => {});
    await rm(this.path, { force: true });
  }
}
