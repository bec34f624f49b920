// File-system steps that several layers need for their commit protocols.

import { writeSync } from 'node:fs';
import { chmod, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileCreated, fsyncDir, renameEntry, syncFile } from './durable.ts';
import { atPath } from './errors.ts';

/**
 * Replaces `path` with `data` in one rename: written to `stage` (a path on the same
 * file system, not in use), fsynced, given `mode`, then renamed over `path`, and the
 * directory fsynced. Readers see the old file or the new one, never a part, and once
 * it returns the new file survives a power loss. `stage` is removed on failure.
 */
export async function replaceFile(stage: string, path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const fh = await open(stage, 'wx', mode);
  try {
    fileCreated(stage);
    await fh.writeFile(data).catch((e: unknown) => Promise.reject(atPath(e, stage)));
    await syncFile(fh, stage);
    await fh.close();
    await chmod(stage, mode);
    await renameEntry(stage, path);
    await fsyncDir(dirname(path));
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(stage, { force: true });
    throw e;
  }
}

/**
 * Writes all of `data` at the file's current position. FileHandle.write makes one
 * write(2), which may write only a part (a disk that fills up mid-write takes what fits
 * and says so only on the next call); a caller that hashed the whole chunk would then
 * name a file by bytes it does not hold. This writes on until all is written, and a
 * full disk fails with ENOSPC.
 */
export async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const { bytesWritten } = await fh.write(data, at, data.length - at);
    if (bytesWritten === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    at += bytesWritten;
  }
}

/** writeAll() for a descriptor written with synchronous calls (a worker thread's, a short-lived file's). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length; ) {
    const written = writeSync(fd, data, at, data.length - at);
    if (written === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    at += written;
  }
}

/**
 * Reads a file a user names that should be small (a config file, a mirror list): its
 * bytes, or undefined if it holds more than `limit`. readFile would first take the
 * whole of a huge file, or of an endless device such as /dev/zero, into memory. Errors
 * are those of open and read, with the path (a directory fails with EISDIR).
 */
export async function readSmallFile(path: string, limit: number): Promise<Buffer | undefined> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(1 << 16), 0, 1 << 16, null);
      if (bytesRead === 0) return Buffer.concat(chunks, size);
      size += bytesRead;
      if (size > limit) return undefined;
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } catch (e) {
    (e as NodeJS.ErrnoException).path ??= path;
    throw e;
  } finally {
    await fh.close();
  }
}
