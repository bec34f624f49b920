// Switches a repo directory to new metadata. The files are moved into repodata/ under
// content-derived names (they never overwrite a file an old repomd.xml lists), then
// repomd.xml is replaced by rename: that rename is the commit point. A reader sees the
// old repomd.xml or the new one, and every file either lists; a crash before the
// rename leaves the old state plus unreferenced files that the next run cleans up.

import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileCreated, fsyncDir, renameEntry, syncFile } from '../common/index.ts';
import { renderRepomd, type Repomd } from '../metadata/index.ts';

/** Old metadata files of createrepo_c's unique naming: `<hex checksum>-<name>`. */
const GENERATED = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})-(.+)$/;

export interface CommitOptions {
  repoDir: string;
  /** Staging dir holding the new files (named as repomd's hrefs say). */
  stagingDir: string;
  repomd: Repomd;
}

/** Commits and returns the names of the files the new repomd.xml lists (and itself). */
export async function commitRepodata(opts: CommitOptions): Promise<Set<string>> {
  const repodata = join(opts.repoDir, 'repodata');
  await mkdir(repodata, { recursive: true });
  const keep = new Set<string>(['repomd.xml']);
  for (const r of opts.repomd.records) {
    if (r.base) continue;
    const name = basename(r.href);
    keep.add(name);
    const staged = join(opts.stagingDir, name);
    const present = await stat(staged).then(() => true, () => false);
    if (present) await renameEntry(staged, join(repodata, name));
  }
  await fsyncDir(repodata);

  // We hold the lock, so any other .repomd.xml.*.tmp is a killed run's: drop it.
  for (const name of await readdir(repodata)) {
    if (/^\.repomd\.xml\.\d+\.tmp$/.test(name)) await rm(join(repodata, name), { force: true });
  }
  const tmp = join(repodata, `.repomd.xml.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    fileCreated(tmp);
    await fh.writeFile(renderRepomd(opts.repomd));
    await syncFile(fh, tmp);
  } finally {
    await fh.close();
  }
  await renameEntry(tmp, join(repodata, 'repomd.xml'));
  await fsyncDir(repodata);
  return keep;
}

/**
 * Removes generated metadata files that the current repomd.xml does not list, keeping
 * the newest `retain` of each kind (primary.xml.gz, comps.xml, ...). Files that do not
 * follow the `<checksum>-<name>` pattern are the user's and stay.
 */
export async function pruneOldMetadata(repodata: string, current: Set<string>, retain: number): Promise<string[]> {
  const byKind = new Map<string, { name: string; mtime: number }[]>();
  for (const name of await readdir(repodata)) {
    if (current.has(name)) continue;
    const m = GENERATED.exec(name);
    if (!m) continue;
    const st = await stat(join(repodata, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const list = byKind.get(m[1]) ?? [];
    list.push({ name, mtime: st.mtimeMs });
    byKind.set(m[1], list);
  }
  const removed: string[] = [];
  for (const list of byKind.values()) {
    list.sort((a, b) => b.mtime - a.mtime || (a.name < b.name ? -1 : 1));
    for (const { name } of list.slice(retain)) {
      await rm(join(repodata, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
