// Real file systems for the disk scenario: a size-limited tmpfs, filled to leave a
// chosen number of KiB free, remounted read-only and back. Needs root (mount(2)).

import { mkdir, readdir, readFile, readlink, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../test/helpers/run.ts';

export class Tmpfs {
  readonly dir: string;
  private readonly filler: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.filler = join(dir, 'filler');
  }

  /** Mounts a tmpfs of `bytes` on `dir`; throws with mount's own words if it cannot. */
  static async mount(dir: string, bytes: number): Promise<Tmpfs> {
    await mkdir(dir, { recursive: true });
    const r = await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
    if (r.code !== 0) throw new Error(`mount -t tmpfs on ${dir} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return new Tmpfs(dir);
  }

  async free(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Fills the file system with a filler file so that only `kib` KiB stay free. */
  async fill(kib: number): Promise<void> {
    await this.unfill();
    const size = (await this.free()) - kib * 1024;
    if (size <= 0) return;
    const r = await run('fallocate', ['-l', String(size), this.filler]);
    if (r.code !== 0) throw new Error(`fallocate -l ${size} ${this.filler} failed: ${r.stderr.trim()}`);
  }

  async unfill(): Promise<void> {
    await rm(this.filler, { force: true });
  }

  /**
   * Remounts read-only or read-write. The kernel refuses a read-only remount while a
   * file is open for writing (or mapped shared and writable, as SQLite's -shm is), and
   * a process just killed may take a moment to be torn down: a busy mount is tried
   * again for up to 30 s, and then the error names what still holds files on it.
   */
  async remount(mode: 'ro' | 'rw'): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await run('mount', ['-o', `remount,${mode}`, this.dir]);
      if (r.code === 0) return;
      if (!/busy/.test(r.stderr) || Date.now() > deadline) {
        const holders = /busy/.test(r.stderr) ? `; files on it held by: ${(await this.holders()).join('; ') || 'no process found'}` : '';
        throw new Error(`mount -o remount,${mode} ${this.dir} failed (exit ${r.code}): ${r.stderr.trim()}${holders}`);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** The processes with a file under the mount open or mapped: "PID (COMMAND): PATH", for the error of a busy remount. */
  private async holders(): Promise<string[]> {
    const found: string[] = [];
    const under = (path: string) => path === this.dir || path.startsWith(`${this.dir}/`);
    for (const pid of (await readdir('/proc')).filter((p) => /^[0-9]+$/.test(p))) {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      const paths = new Set<string>();
      for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        if (under(target)) paths.add(target);
      }
      for (const line of (await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '')).split('\n')) {
        const path = line.slice(line.indexOf('/'));
        if (line.includes('/') && under(path)) paths.add(`${path} (mapped)`);
      }
      for (const path of paths) found.push(`${pid} (${comm}): ${path}`);
    }
    return found;
  }

  /** Unmounts (lazily if something still holds it, so the scenario's cleanup never hangs). */
  async unmount(): Promise<void> {
    const r = await run('umount', [this.dir]);
    if (r.code !== 0) await run('umount', ['-l', this.dir]);
  }
}
