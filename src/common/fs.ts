// File-system steps that several layers need for their commit protocols.

import { open } from 'node:fs/promises';

/** Makes the directory's entries (a rename, a link) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
