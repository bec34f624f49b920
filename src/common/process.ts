// Whether a process of this host still runs: how a lock (createrepo's .repodata, a
// publish's lock object) tells a holder that died from one still at work.

/** True while process `pid` exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
