// txrepo export: a snapshot as a plain directory tree (repodata/ and Packages/) that
// any web server can serve. Files are hard links to the blobs where possible (blobs are
// read-only: do not modify exported files in place), copies otherwise. The tree is
// built beside DIR and renamed into place, so DIR appears complete or not at all.

import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, join, resolve } from 'node:path';
import type { Snapshot, Store } from '../store/index.ts';
import { Failure } from '../common/index.ts';

export class ExportError extends Failure {
  override name = 'ExportError';
  readonly kind = 'invalid_input';
}

export async function exportSnapshot(store: Store, snapshot: Snapshot, dir: string): Promise<{ dir: string; files: number; linked: number }> {
  const target = resolve(dir);
  const existing = await stat(target).catch(() => undefined);
  if (existing && (!existing.isDirectory() || (await readdir(target)).length > 0)) {
    throw new ExportError(`${dir} exists and is not an empty directory; export into a new directory`);
  }
  const work = `${target}.txrepo-export-${process.pid}`;
  await mkdir(work, { recursive: true });
  let linked = 0;
  const files = await store.catalog.snapshotFiles(snapshot.id);
  try {
    for (const f of files) {
      const out = join(work, f.href);
      if (!out.startsWith(work + '/')) throw new ExportError(`snapshot ${snapshot.id} lists a file outside its tree: ${f.href}`);
      await mkdir(dirname(out), { recursive: true });
      const src = store.blobs.localPath(f.digest);
      if (src === undefined) {
        // Object storage: downloaded, and checked against the catalog's size.
        await pipeline(await store.blobs.open(f.digest), createWriteStream(out, { flags: 'wx' }));
        const got = (await stat(out)).size;
        if (got !== f.size) throw new ExportError(`${f.href}: blob ${f.digest} has ${got} bytes, the snapshot lists ${f.size}; run 'txrepo fsck --verify-blobs'`);
        continue;
      }
      try {
        await link(src, out);
        linked++;
      } catch {
        await copyFile(src, out);
      }
    }
    if (existing) await rm(target, { recursive: true });
    await rename(work, target);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  return { dir: target, files: files.length, linked };
}
