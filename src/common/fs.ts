// File-system steps that several layers need for their commit protocols.

import { chmod, open, rename, rm } from 'node:fs/promises';

/** Makes the directory's entries (a rename, a link) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `data` in one rename: written to `stage` (a path on the same
 * file system, not in use), fsynced, given `mode`, then renamed over `path`. Readers
 * see the old file or the new one, never a part. `stage` is removed on failure.
 */
export async function replaceFile(stage: string, path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const fh = await open(stage, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await chmod(stage, mode);
    await rename(stage, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(stage, { force: true });
    throw e;
  }
}
