// Switches a repo directory to new metadata. The files are moved into repodata/ under
// content-derived names (they never overwrite a file an old repomd.xml lists), then
// repomd.xml is replaced by rename: that rename is the commit point. A reader sees the
// old repomd.xml or the new one, and every file either lists; a crash before the
// rename leaves the old state plus unreferenced files that the next run cleans up.

import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileCreated, fsyncDir, renameEntry, syncFile } from '../common/index.ts';
import { parseRepomd, renderRepomd, type Repomd } from '../metadata/index.ts';

/** Old metadata files of createrepo_c's unique naming: `<hex checksum>-<name>`. */
const GENERATED = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})-(.+)$/;

export interface CommitOptions {
  repoDir: string;
  /** Staging dir holding the new files (named as repomd's hrefs say). */
  stagingDir: string;
  repomd: Repomd;
}

/** The files a repomd.xml lists (by name in repodata/) and itself. */
export interface Generation {
  current: Set<string>;
  /** What the replaced repomd.xml listed: a client that just read it still needs them. */
  replaced: Set<string>;
}

/** The names of the repodata files an existing repomd.xml lists; none if it is unreadable. */
async function listedFiles(repodata: string): Promise<Set<string>> {
  const text = await readFile(join(repodata, 'repomd.xml'), 'utf8').catch(() => undefined);
  if (text === undefined) return new Set();
  try {
    return new Set(parseRepomd(text, join(repodata, 'repomd.xml')).records.filter((r) => !r.base).map((r) => basename(r.href)));
  } catch {
    return new Set();
  }
}

/** Commits; returns the names of the files the new repomd.xml lists, and the replaced one's. */
export async function commitRepodata(opts: CommitOptions): Promise<Generation> {
  const repodata = join(opts.repoDir, 'repodata');
  await mkdir(repodata, { recursive: true });
  const replaced = await listedFiles(repodata);
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
  return { current: keep, replaced };
}

/**
 * Removes generated metadata files that the current repomd.xml does not list, keeping
 * the newest `retain` older generations of each kind (primary.xml.gz, comps.xml, ...):
 * the replaced generation first, by what its repomd.xml listed (file times cannot tell
 * it: they are whole seconds, and two runs may share one), then the newest of the
 * rest. Files that do not follow the `<checksum>-<name>` pattern are the user's and stay.
 */
export async function pruneOldMetadata(repodata: string, generation: Generation, retain: number): Promise<string[]> {
  const byKind = new Map<string, { name: string; mtime: number }[]>();
  const replacedKinds = new Set<string>();
  for (const name of await readdir(repodata)) {
    if (generation.current.has(name)) continue;
    const m = GENERATED.exec(name);
    if (!m) continue;
    if (retain > 0 && generation.replaced.has(name)) {
      replacedKinds.add(m[1]);
      continue;
    }
    const st = await stat(join(repodata, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const list = byKind.get(m[1]) ?? [];
    list.push({ name, mtime: st.mtimeMs });
    byKind.set(m[1], list);
  }
  const removed: string[] = [];
  for (const [kind, list] of byKind) {
    list.sort((a, b) => b.mtime - a.mtime || (a.name < b.name ? -1 : 1));
    for (const { name } of list.slice(Math.max(0, retain - (replacedKinds.has(kind) ? 1 : 0)))) {
      await rm(join(repodata, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
