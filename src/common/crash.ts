// Crash points, for the reliability suite (reliability/). Every step of a commit
// protocol (durable.ts, and the catalog's COMMIT) calls crashPoint(). With
//   TXREPO_CRASH_TRACE=FILE  each step is appended to FILE as "N<TAB>kind<TAB>path";
//   TXREPO_CRASH_AT=N        the process kills itself (SIGKILL) just before step N
//                            ('exit': before its last step, the exit, whatever its
//                            number: a run's step count can differ by one from
//                            another's, when two of its new blobs share a fan-out
//                            directory, which time-stamped metadata makes a matter
//                            of chance);
//   TXREPO_CRASH_MODE=power  it first undoes what a power loss could undo at that
//                            instant (see PowerLoss);
//   TXREPO_CRASH_PAUSE=MS    each step waits MS milliseconds first, so that a kill
//                            from outside lands between two steps even in an
//                            operation that takes a millisecond.
// The last step of every run is "exit". With none of these set, crashPoint() is one
// comparison, and nothing is recorded.

import { appendFileSync, chmodSync, lstatSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

const AT_EXIT = process.env.TXREPO_CRASH_AT === 'exit';
const AT = Number(process.env.TXREPO_CRASH_AT ?? 0) || 0;
const TRACE = process.env.TXREPO_CRASH_TRACE;
const PAUSE = Math.min(Number(process.env.TXREPO_CRASH_PAUSE ?? 0) || 0, 1000);
const ACTIVE = AT > 0 || AT_EXIT || !!TRACE;
let steps = 0;

/**
 * What a power loss can take back, under the POSIX rules the protocols rely on (no
 * stronger file-system ordering assumed): a directory entry (link, rename, mkdir) is
 * durable only once its directory is fsynced; a file's data only once the file is.
 * Unlinks are not undone (an undone unlink only leaves more files behind). The
 * catalog's own durability is SQLite's (synchronous=FULL: a COMMIT that returned is
 * durable), so its files are not touched.
 */
class PowerLoss {
  /** Inode → names of files created by this process whose data is not yet durable. */
  private readonly dirty = new Map<string, Set<string>>();
  /** Entry changes not yet durable, oldest first. */
  private readonly pending: { dir: string; undo: () => void }[] = [];

  private static key(st: Stats): string {
    return `${st.dev}:${st.ino}`;
  }

  created(path: string): void {
    const st = statSync(path);
    this.dirty.set(PowerLoss.key(st), new Set([resolve(path)]));
  }

  synced(st: Stats): void {
    this.dirty.delete(PowerLoss.key(st));
  }

  /** syncfs(2): every file and entry of this process is durable (the store is one file system). */
  allSynced(): void {
    this.dirty.clear();
    this.pending.length = 0;
  }

  dirSynced(dir: string): void {
    const d = resolve(dir);
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]!.dir === d) this.pending.splice(i, 1);
  }

  private named(path: string): void {
    const names = this.dirty.get(PowerLoss.key(statSync(path)));
    names?.add(resolve(path));
  }

  linked(_from: string, to: string): void {
    const target = resolve(to);
    this.named(target);
    this.pending.push({ dir: dirname(target), undo: () => unlinkSync(target) });
  }

  /** Called before rename(from, to); returns what to call after it succeeded. */
  beforeRename(from: string, to: string): () => void {
    const [source, target] = [resolve(from), resolve(to)];
    let old: { data: Buffer; mode: number } | undefined;
    const st = lstatSync(target, { throwIfNoEntry: false });
    if (st?.isFile() && st.size < 64 << 20) old = { data: readFileSync(target), mode: st.mode & 0o7777 };
    return () => {
      this.named(target);
      this.pending.push({
        dir: dirname(target),
        undo: () => {
          renameSync(target, source);
          if (old) writeFileSync(target, old.data, { mode: old.mode });
        },
      });
    };
  }

  /** Directories `first` … `last` (each inside the one before) were just created. */
  madeDirs(first: string, last: string): void {
    for (let d = last; ; d = dirname(d)) {
      const dir = d;
      this.pending.push({ dir: dirname(dir), undo: () => rmSync(dir, { recursive: true, force: true }) });
      if (d === first || d === dirname(d)) break;
    }
  }

  apply(): void {
    for (const { undo } of this.pending.reverse()) {
      try {
        undo();
      } catch {
        // Already gone with an undone directory.
      }
    }
    for (const names of this.dirty.values()) {
      for (const name of names) {
        try {
          chmodSync(name, 0o644);
          truncateSync(name, 0);
        } catch {
          // Not there any more.
        }
      }
    }
  }
}

const sim = ACTIVE && process.env.TXREPO_CRASH_MODE === 'power' ? new PowerLoss() : undefined;

/** The power-loss bookkeeping, when the suite asked for it. */
export function simulator(): PowerLoss | undefined {
  return sim;
}

/** A step of a commit protocol is about to run. */
export function crashPoint(kind: string, path: string): void {
  if (!ACTIVE) return;
  steps++;
  if (TRACE) appendFileSync(TRACE, `${steps}\t${kind}\t${path}\n`);
  if (PAUSE > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE);
  if (steps === AT || (AT_EXIT && kind === 'exit')) {
    sim?.apply();
    process.kill(process.pid, 'SIGKILL');
  }
}

if (ACTIVE) process.on('exit', () => crashPoint('exit', ''));
