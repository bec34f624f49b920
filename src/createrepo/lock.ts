// The repo directory lock: `DIR/.repodata`, the same directory createrepo_c uses, so
// that txrepo and createrepo_c also refuse to run over each other. It doubles as the
// staging area for new metadata files.
//
// The lock appears with its owner already recorded: we build `.repodata.<pid>.tmp`
// with `txrepo.lock.json` inside and rename it to `.repodata`. The rename fails while
// another (non-empty) lock exists, and a killed run never leaves an anonymous lock
// that could not be told apart from a live createrepo_c.

import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atPath, Failure, processAlive, renameEntry } from '../common/index.ts';

export const LOCK_DIR = '.repodata';
const OWNER_FILE = 'txrepo.lock.json';
// Our private lock under construction, and old locks moved aside to be removed.
const PRIVATE = /^\.repodata\.(?:(\d+)\.[0-9a-z]+\.tmp|stale\.(\d+)\.\d+)$/;

export class LockedError extends Failure {
  override name = 'LockedError';
  readonly kind = 'locked';
}

interface Owner {
  pid: number;
  host: string;
  started: string;
}

export interface Lock {
  /** The staging directory, inside the repo dir. */
  dir: string;
  release(): Promise<void>;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  return readFile(join(dir, OWNER_FILE), 'utf8')
    .then((s) => JSON.parse(s) as Owner)
    .catch(() => undefined);
}

/** Removes private lock directories left by runs killed before they took the lock. */
async function sweepPrivate(repoDir: string): Promise<void> {
  for (const name of await readdir(repoDir).catch(() => [] as string[])) {
    const m = PRIVATE.exec(name);
    if (m && !processAlive(Number(m[1] ?? m[2]))) await rm(join(repoDir, name), { recursive: true, force: true });
  }
}

export async function acquireLock(repoDir: string, opts: { ignoreLock?: boolean } = {}): Promise<Lock> {
  const dir = join(repoDir, LOCK_DIR);
  const owner: Owner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  await sweepPrivate(repoDir);
  const mine = join(repoDir, `${LOCK_DIR}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    await mkdir(mine);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new LockedError(`${repoDir}: cannot write there (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}); txrepo needs to create ${LOCK_DIR}/ and repodata/ in it`);
    }
    throw e;
  }
  try {
    const ownerFile = join(mine, OWNER_FILE);
    await writeFile(ownerFile, JSON.stringify(owner)).catch((e: unknown) => Promise.reject(atPath(e, ownerFile)));
    for (let attempt = 0; ; attempt++) {
      try {
        // A protocol step (crash.ts can stop a run here): from now the lock is held.
        await renameEntry(mine, dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 2) throw e;
      }
      const holder = await readOwner(dir);
      const stale = holder !== undefined && holder.host === owner.host && !processAlive(holder.pid);
      if (!stale && !opts.ignoreLock) {
        const who = holder ? `txrepo (pid ${holder.pid} on ${holder.host}, since ${holder.started})` : 'another process (createrepo_c?)';
        throw new LockedError(`${repoDir} is locked by ${who}: ${dir} exists. Wait for that run to finish; if no run is active, remove ${dir} (or pass --ignore-lock).`);
      }
      // Move the old lock aside first: of two processes taking it over, one rename wins.
      const aside = `${dir}.stale.${process.pid}.${Date.now()}`;
      try {
        await rename(dir, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        continue;
      }
      await rm(aside, { recursive: true, force: true });
      if (holder) process.stderr.write(`txrepo: took over the lock of a run that is gone (pid ${holder.pid})\n`);
    }
  } catch (e) {
    await rm(mine, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    release: () => rm(dir, { recursive: true, force: true }),
  };
}
