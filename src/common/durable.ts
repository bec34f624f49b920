// The file-system steps of txrepo's commit protocols (fsync a file, fsync a directory,
// rename, link, mkdir) in one place. Keeping them here documents the protocols' order
// in code and lets the reliability suite stop a process at each step: see crash.ts.

import { execFile } from 'node:child_process';
import { fstatSync, fsync } from 'node:fs';
import { link, mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { crashPoint, simulator } from './crash.ts';
import { atPath } from './errors.ts';

/** Makes a file's data durable (any handle of it will do, even a read-only one). */
export async function syncFile(fh: FileHandle, path: string): Promise<void> {
  crashPoint('fsync', path);
  await fh.sync().catch((e: unknown) => Promise.reject(atPath(e, path)));
  simulator()?.synced(await fh.stat());
}

/** syncFile() for a raw descriptor (a blob written in one go, without a FileHandle's cost). */
export async function syncFd(fd: number, path: string): Promise<void> {
  crashPoint('fsync', path);
  await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(atPath(e, path)) : resolve())));
  simulator()?.synced(fstatSync(fd));
}

/** Makes the directory's entries (a rename, a link, a new subdirectory) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  crashPoint('fsync-dir', dir);
  const fh = await open(dir, 'r');
  try {
    await fh.sync().catch((e: unknown) => Promise.reject(atPath(e, dir)));
  } finally {
    await fh.close();
  }
  simulator()?.dirSynced(dir);
}

/** rename(2), as a step of a protocol: durable once the target's directory is fsynced. */
export async function renameEntry(from: string, to: string): Promise<void> {
  crashPoint('rename', to);
  const sim = simulator();
  const undo = sim?.beforeRename(from, to);
  await rename(from, to);
  undo?.();
}

/**
 * syncfs(2) of the file system that holds `path`: everything written there, files'
 * data and directories' entries alike, made durable in one call (one flush of the
 * device, and one journal commit where there is a journal; an fsync per file makes
 * one each). Node has no binding for it, so coreutils'
 * `sync --file-system` makes the call. False, with nothing promised, where that is not
 * there or fails (another system, an old coreutils, an I/O error): the caller then
 * fsyncs each file, which reports a failing disk by name. On Linux 5.8 and later a
 * write error since the files were opened fails syncfs, and so this.
 */
export async function syncFileSystem(path: string): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  crashPoint('syncfs', path);
  const done = await new Promise<boolean>((resolve) => execFile('sync', ['--file-system', path], { timeout: 10 * 60_000 }, (e) => resolve(!e)));
  if (done) simulator()?.allSynced();
  return done;
}

/**
 * link(2), as a step of a protocol; EEXIST is success when `sameContent` (content-
 * addressed names). Durable once the target's directory is fsynced.
 */
export async function linkEntry(from: string, to: string, opts: { existingIsSame?: boolean } = {}): Promise<void> {
  crashPoint('link', to);
  try {
    await link(from, to);
  } catch (e) {
    if (opts.existingIsSame && (e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  simulator()?.linked(from, to);
}

/**
 * mkdir -p that also makes the new directories durable: each parent whose entries
 * changed is fsynced, so a file later linked inside cannot vanish with its directory.
 * True if it created any.
 */
export async function makeDirDurable(dir: string): Promise<boolean> {
  const first = await makeDir(dir);
  if (first === undefined) return false; // it existed
  // Every directory from `first` down was created: fsync each one's parent.
  const created: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    created.push(d);
    if (d === resolve(first) || d === dirname(d)) break;
  }
  for (const d of created.reverse()) await fsyncDir(dirname(d));
  return true;
}

/**
 * mkdir -p, as a step of a protocol: the first directory it created (undefined if
 * `dir` existed), whose entry is durable once its parent is fsynced (and so on down).
 */
export async function makeDir(dir: string): Promise<string | undefined> {
  const first = await mkdir(dir, { recursive: true });
  if (first !== undefined) simulator()?.madeDirs(resolve(first), resolve(dir));
  return first;
}

/** Registers a file this process is creating: its data is not durable until syncFile(). */
export function fileCreated(path: string): void {
  simulator()?.created(path);
}
