// txrepo publish: keeps a static yum tree (for a public web server) at a snapshot, with
// history. Outside consumers cache metadata and keep downloading for a while after it
// changed, so the tree keeps the last N metadata generations (and any younger than D
// days) and every file they list; only repomd.xml is replaced in place, last, by
// rename. See docs/publish.md.
//
//   DIR/repodata/repomd.xml              the current generation (with repomd.xml.asc
//                                        and repomd.xml.key when it is signed)
//   DIR/repodata/..., DIR/Packages/...   the files of every kept generation
//   DIR/.txrepo-publish/state.json       the kept generations, newest last
//   DIR/.txrepo-publish/<repomd sha256>.json   the files of one generation
//
// The run holds DIR/.repodata (the createrepo_c lock) and stages files there.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { atPath, Failure, fileCreated, fsyncDir, linkEntry, makeDirDurable, renameEntry, replaceFile, syncFile, writeAll } from '../common/index.ts';
import { acquireLock } from '../createrepo/index.ts';
import { isRepomdFile, REPOMD_HREF, REPOMD_KEY_HREF, REPOMD_SIGNATURE_HREF } from '../metadata/index.ts';

export class PublishError extends Failure {
  override name = 'PublishError';
  readonly kind = 'io';
}

export interface PublishedFile {
  href: string;
  sha256: string;
  size: number;
}

/** Where a snapshot's files come from: the local store, or a txrepo server. */
export interface PublishSource {
  repo: string;
  snapshot: string;
  files: PublishedFile[];
  /** A local file with this content (a blob), to hard-link; undefined: stream it. */
  localPath(file: PublishedFile): string | undefined;
  open(file: PublishedFile): Promise<Readable>;
}

export interface PublishOptions {
  /** Metadata generations kept, the new one included (default 10). */
  keepMd?: number;
  /** Generations younger than this are kept too (default 0). */
  keepDays?: number;
  now?: Date;
  /** Bytes of the files this run writes (those the tree lacks), as they are written. */
  onProgress?: (done: number, total: number) => void;
}

interface Generation {
  repo: string;
  snapshot: string;
  repomd: string;
  publishedAt: string;
}

interface State {
  format: 1;
  generations: Generation[];
}

export interface PublishResult {
  dir: string;
  repo: string;
  snapshot: string;
  /** False when the tree already was at this snapshot. */
  changed: boolean;
  written: number;
  linked: number;
  removed: number;
  generations: number;
}

const STATE_DIR = '.txrepo-publish';

function safeHref(href: string): string {
  const parts = href.split('/');
  if (href.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || /[\0\\]/.test(href) || parts[0] === STATE_DIR || parts[0] === '.repodata') {
    throw new PublishError(`the snapshot lists a file outside its tree: ${JSON.stringify(href)}`);
  }
  return href;
}

async function sha256Of(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PublishError(`${path} is damaged (not JSON); move ${dirname(path)} away to start the history afresh`);
  }
}

/** A tree's publish history, as publish keeps it; undefined: the tree has none. */
export async function readGenerations(root: string): Promise<{ generations: Generation[]; files(g: Generation): Promise<PublishedFile[]> } | undefined> {
  const stateDir = join(root, STATE_DIR);
  const state = await readJson<State>(join(stateDir, 'state.json'));
  if (!state) return undefined;
  if (!Array.isArray(state.generations) || state.generations.some((g) => typeof g?.repomd !== 'string' || !/^[0-9a-f]{64}$/.test(g.repomd))) {
    throw new PublishError(`${join(stateDir, 'state.json')} is damaged (not a list of generations); move ${stateDir} away to start the history afresh`);
  }
  const files = async (g: Generation) => {
    const list = (await readJson<PublishedFile[]>(join(stateDir, `${g.repomd}.json`))) ?? [];
    if (!Array.isArray(list)) throw new PublishError(`${join(stateDir, `${g.repomd}.json`)} is damaged (not a list of files)`);
    for (const f of list) safeHref(String(f?.href));
    return list;
  };
  return { generations: state.generations, files };
}

export async function publish(source: PublishSource, dir: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const root = resolve(dir);
  const keepMd = opts.keepMd ?? 10;
  const keepDays = opts.keepDays ?? 0;
  const now = opts.now ?? new Date();
  const repomdFile = source.files.find((f) => f.href === REPOMD_HREF);
  if (!repomdFile) throw new PublishError(`snapshot ${source.snapshot} has no repodata/repomd.xml`);
  for (const f of source.files) safeHref(f.href);

  await mkdir(root, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new PublishError(`${dir}: cannot create it (${e.code})`);
  });
  const lock = await acquireLock(root);
  try {
    const stateDir = join(root, STATE_DIR);
    await makeDirDurable(stateDir);
    const state: State = (await readJson<State>(join(stateDir, 'state.json'))) ?? { format: 1, generations: [] };
    const genFiles = async (g: Generation) => (await readJson<PublishedFile[]>(join(stateDir, `${g.repomd}.json`))) ?? [];
    // What the kept generations say each href holds (newest wins).
    const known = new Map<string, string>();
    for (const g of state.generations) for (const f of await genFiles(g)) known.set(f.href, f.sha256);

    let written = 0;
    let linked = 0;
    let n = 0;
    const replaced = new Set<string>();
    const touched = new Set<string>();
    const stage = () => join(lock.dir, `publish-${process.pid}-${n++}`);
    // The files to write, first: their bytes are the run's progress.
    const missing: PublishedFile[] = [];
    for (const f of source.files) {
      if (isRepomdFile(f.href)) continue;
      const path = join(root, f.href);
      const st = await stat(path).catch(() => undefined);
      // A file the history says has this content is trusted; any other is checked.
      if (st?.size === f.size && (known.get(f.href) === f.sha256 || (!known.has(f.href) && (await sha256Of(path)) === f.sha256))) continue;
      if (st) replaced.add(f.href);
      missing.push(f);
    }
    const total = missing.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    const progress = (bytes: number) => opts.onProgress?.((done += bytes), total);
    for (const f of missing) {
      const path = join(root, f.href);
      const temp = stage();
      const local = source.localPath(f);
      if (local) {
        try {
          await linkEntry(local, temp);
          linked++;
        } catch {
          // Another file system: a copy, which (unlike the blob) is not durable yet.
          await copyFile(local, temp);
          fileCreated(temp);
          const fh = await open(temp, 'r');
          await syncFile(fh, temp).finally(() => fh.close());
          written++;
        }
        progress(f.size);
      } else {
        await download(source, f, temp, progress);
        written++;
      }
      // Directories only once the file verified: a failed run leaves no empty ones.
      await makeDirDurable(dirname(path));
      await renameEntry(temp, path);
      touched.add(dirname(path));
    }
    for (const d of touched) await fsyncDir(d);
    // The files are in place (and fsynced, or hard links to fsynced blobs): now the
    // generation's list, then the switch.
    const last = state.generations.at(-1);
    const changed = last?.repomd !== repomdFile.sha256 || written + linked > 0;
    // Publishing the current snapshot again changes nothing, not even its age.
    const gen: Generation = { repo: source.repo, snapshot: source.snapshot, repomd: repomdFile.sha256, publishedAt: changed || !last ? now.toISOString() : last.publishedAt };
    await replaceFile(stage(), join(stateDir, `${gen.repomd}.json`), JSON.stringify(source.files));
    await switchRepomd(source, root, stage);

    // History: the newest keepMd generations and those younger than keepDays, minus
    // any whose files this run replaced with other content (they no longer verify).
    const cutoff = now.getTime() - keepDays * 86_400_000;
    const previous = state.generations.filter((g) => g.repomd !== gen.repomd);
    const kept: Generation[] = [];
    for (const [i, g] of [...previous].reverse().entries()) {
      const files = await genFiles(g);
      if (files.some((f) => replaced.has(f.href) && source.files.find((s) => s.href === f.href)?.sha256 !== f.sha256)) continue;
      if (i + 1 < keepMd || Date.parse(g.publishedAt) >= cutoff) kept.unshift(g);
    }
    const next: State = { format: 1, generations: [...kept, gen] };
    await replaceFile(stage(), join(stateDir, 'state.json'), JSON.stringify(next, null, 2) + '\n');

    // Files only dropped generations listed go; files txrepo never published stay.
    const wanted = new Set<string>();
    for (const g of next.generations) for (const f of g === gen ? source.files : await genFiles(g)) wanted.add(f.href);
    let removed = 0;
    for (const g of state.generations) {
      if (next.generations.some((k) => k.repomd === g.repomd)) continue;
      for (const f of await genFiles(g)) {
        if (wanted.has(f.href) || isRepomdFile(f.href)) continue;
        await unlink(join(root, f.href)).then(
          () => removed++,
          () => {},
        );
        wanted.add(f.href); // listed by several dropped generations: once
      }
      await rm(join(stateDir, `${g.repomd}.json`), { force: true });
    }
    return { dir: root, repo: source.repo, snapshot: source.snapshot, changed, written, linked, removed, generations: next.generations.length };
  } finally {
    await lock.release();
  }
}

/**
 * The switch to the new generation: repomd.xml and, for a signed snapshot, its key file
 * and signature, each replaced by rename. Two renames are not one: the key file goes
 * first (it only adds keys a client may import), then repomd.xml, then at once its
 * signature, so that a client sees a mismatched pair only in the moment between the
 * last two. A generation without a signature takes away the one before it.
 */
async function switchRepomd(source: PublishSource, root: string, stage: () => string): Promise<void> {
  const order = [REPOMD_KEY_HREF, REPOMD_HREF, REPOMD_SIGNATURE_HREF];
  const staged = new Map<string, string>();
  for (const href of order) {
    const f = source.files.find((x) => x.href === href);
    if (!f) continue;
    staged.set(href, stage());
    await download(source, f, staged.get(href)!);
  }
  await makeDirDurable(join(root, 'repodata'));
  for (const href of order) {
    const temp = staged.get(href);
    if (temp) await renameEntry(temp, join(root, href));
    else await unlink(join(root, href)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  }
  await fsyncDir(join(root, 'repodata'));
}

/** Streams a file of the source to `temp`, verifying its sha256 and size, and fsyncs it. */
async function download(source: PublishSource, f: PublishedFile, temp: string, progress?: (bytes: number) => void): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(temp, 'w', 0o644);
  fileCreated(temp);
  try {
    for await (const chunk of await source.open(f)) {
      size += (chunk as Buffer).length;
      if (size > f.size) throw new PublishError(`${f.href}: more than the ${f.size} bytes the snapshot lists`);
      hash.update(chunk as Buffer);
      await writeAll(fh, chunk as Buffer).catch((e: unknown) => Promise.reject(atPath(e, temp)));
      progress?.((chunk as Buffer).length);
    }
    await syncFile(fh, temp);
  } catch (e) {
    await fh.close();
    await rm(temp, { force: true });
    throw e;
  }
  await fh.close();
  const digest = hash.digest('hex');
  if (size !== f.size || digest !== f.sha256) {
    await rm(temp, { force: true });
    throw new PublishError(`${f.href}: got ${size} bytes with sha256 ${digest}, the snapshot lists ${f.size} bytes with ${f.sha256}; nothing was switched`);
  }
}
