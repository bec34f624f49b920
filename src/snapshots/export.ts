// txrepo export: a snapshot as a plain directory tree (repodata/ and Packages/) that
// any web server can serve. Files are hard links to the blobs where possible (blobs are
// read-only: do not modify exported files in place), copies otherwise. The tree is
// built beside DIR and renamed into place, so DIR appears complete or not at all.

import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Snapshot, Store } from '../store/index.ts';

export class ExportError extends Error {
  override name = 'ExportError';
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
      if (!src) throw new ExportError('this blob store has no local files to export from');
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
