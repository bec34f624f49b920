// What this host says of processes: whether one still runs (how a lock, createrepo's
// .repodata or a publish's lock object, tells a holder that died from one still at
// work), and this process's own limits that can make a write fail.

import { readFileSync } from 'node:fs';

/** True while process `pid` exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This process's file size limit (RLIMIT_FSIZE, `ulimit -f`) in bytes, or undefined when
 * it has none or the system does not say (only Linux's /proc/self/limits is read). A
 * write past it fails with EFBIG, or cuts the process down with SIGXFSZ.
 */
export function fileSizeLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max file size\s+(\S+)/m.exec(text)?.[1];
  return soft !== undefined && /^[0-9]+$/.test(soft) ? Number(soft) : undefined;
}
