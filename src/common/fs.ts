// File-system steps that several layers need for their commit protocols.

import { chmod, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileCreated, fsyncDir, renameEntry, syncFile } from './durable.ts';

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
    await fh.writeFile(data);
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
