// The repo directory lock: `DIR/.repodata`, the same directory createrepo_c uses, so
// that txrepo and createrepo_c also refuse to run over each other. It doubles as the
// staging area for new metadata files. We record our pid in it so that a lock left by
// a killed run can be recognised and taken over.

import { hostname } from 'node:os';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_DIR = '.repodata';
const OWNER_FILE = 'txrepo.lock.json';

export class LockedError extends Error {
  override name = 'LockedError';
}

interface Owner {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  /** The staging directory, inside the repo dir. */
  dir: string;
  release(): Promise<void>;
}

export async function acquireLock(repoDir: string, opts: { ignoreLock?: boolean } = {}): Promise<Lock> {
  const dir = join(repoDir, LOCK_DIR);
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8')
      .then((s) => JSON.parse(s) as Owner)
      .catch(() => undefined);
    const stale = owner !== undefined && owner.host === hostname() && !alive(owner.pid);
    if (!stale && !opts.ignoreLock) {
      const who = owner ? `txrepo (pid ${owner.pid} on ${owner.host}, since ${owner.started})` : 'another process (createrepo_c, or a txrepo run just starting)';
      throw new LockedError(
        `${repoDir} is locked by ${who}: ${dir} exists. Wait for that run to finish; if no run is active, remove ${dir} (or pass --ignore-lock).`,
      );
    }
    // Move the stale lock aside first: of two processes taking it over, one rename wins.
    const aside = `${dir}.stale.${process.pid}.${Date.now()}`;
    try {
      await rename(dir, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    await rm(aside, { recursive: true, force: true });
    if (owner) process.stderr.write(`txrepo: took over the lock of a run that is gone (pid ${owner.pid})\n`);
  }
  const owner: Owner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner));
  return {
    dir,
    release: () => rm(dir, { recursive: true, force: true }),
  };
}
