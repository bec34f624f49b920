// A published tree in a local directory (for a web server's document root). Files are
// staged in the lock directory (DIR/.repodata, createrepo_c's), made durable, and
// renamed into place; every directory a rename touched is fsynced before a switch.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileCreated, fsyncDir, linkEntry, makeDirDurable, renameEntry, syncFile } from '../common/index.ts';
import { acquireLock, type Lock } from '../createrepo/index.ts';
import { copyVerified, PublishError, type Progress, type PublishedFile, type PublishSource, type PublishTarget } from './target.ts';

export class DirTarget implements PublishTarget {
  readonly name: string;
  private held: Lock | undefined;
  private n = 0;
  /** Directories a file was renamed into since the last settle(). */
  private readonly touched = new Set<string>();

  constructor(dir: string) {
    this.name = resolve(dir);
  }

  private path(href: string): string {
    return join(this.name, href);
  }

  private stage(): string {
    if (!this.held) throw new Error('DirTarget: the lock is not held');
    return join(this.held.dir, `publish-${process.pid}-${this.n++}`);
  }

  async lock(): Promise<void> {
    await mkdir(this.name, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      throw new PublishError(`${this.name}: cannot create it (${e.code})`);
    });
    this.held = await acquireLock(this.name);
  }

  async unlock(): Promise<void> {
    await this.held?.release();
    this.held = undefined;
  }

  async size(href: string): Promise<number | undefined> {
    const st = await stat(this.path(href)).catch(() => undefined);
    return st?.isFile() ? st.size : undefined;
  }

  async sha256(href: string): Promise<string | undefined> {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.path(href))) hash.update(chunk as Buffer);
    } catch {
      return undefined;
    }
    return hash.digest('hex');
  }

  read(href: string): Promise<Buffer | undefined> {
    return readFile(this.path(href)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  }

  async put(f: PublishedFile, source: PublishSource, progress: Progress): Promise<'linked' | 'written'> {
    const temp = this.stage();
    const local = source.localPath(f);
    let how: 'linked' | 'written' = 'written';
    if (local) {
      try {
        await linkEntry(local, temp);
        how = 'linked';
      } catch {
        // Another file system: a copy, which (unlike the blob) is not durable yet.
        await copyFile(local, temp);
        fileCreated(temp);
        const fh = await open(temp, 'r');
        await syncFile(fh, temp).finally(() => fh.close());
      }
      progress(f.size);
    } else {
      await this.download(source, f, temp, progress);
    }
    // Directories only once the file verified: a failed run leaves no empty ones.
    const path = this.path(f.href);
    await makeDirDurable(dirname(path));
    await renameEntry(temp, path);
    this.touched.add(dirname(path));
    return how;
  }

  /** Streams a file of the source to `temp`, verified, and fsyncs it; nothing stays on failure. */
  private async download(source: PublishSource, f: PublishedFile, temp: string, progress?: Progress): Promise<void> {
    const fh = await open(temp, 'w', 0o644);
    fileCreated(temp);
    try {
      await copyVerified(source, f, fh, temp, progress);
      await syncFile(fh, temp);
    } catch (e) {
      await fh.close();
      await rm(temp, { force: true });
      throw e;
    }
    await fh.close();
  }

  async settle(): Promise<void> {
    for (const d of this.touched) await fsyncDir(d);
    this.touched.clear();
  }

  async replace(entries: { href: string; data: Buffer | undefined }[]): Promise<void> {
    // All staged (and fsynced) first, then renamed one right after the other.
    const staged = new Map<string, string>();
    for (const { href, data } of entries) {
      if (data === undefined) continue;
      const temp = this.stage();
      const fh = await open(temp, 'w', 0o644);
      fileCreated(temp);
      try {
        await fh.writeFile(data);
        await syncFile(fh, temp);
      } finally {
        await fh.close();
      }
      staged.set(href, temp);
    }
    const dirs = new Set(entries.map((e) => dirname(this.path(e.href))));
    for (const d of dirs) await makeDirDurable(d);
    for (const { href } of entries) {
      const temp = staged.get(href);
      if (temp) await renameEntry(temp, this.path(href));
      else await unlink(this.path(href)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    }
    for (const d of dirs) await fsyncDir(d);
  }

  remove(href: string): Promise<boolean> {
    return unlink(this.path(href)).then(
      () => true,
      () => false,
    );
  }

  close(): void {}
}
