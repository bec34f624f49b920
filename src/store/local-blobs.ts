// Blobs in a local directory: STORE/blobs/, laid out as blob-layout.ts says. A blob is
// written to STORE/tmp, fsynced, verified, then linked into place (so it appears whole
// or not at all) and its directory fsynced: at once, or, for a batch (a sync's
// downloads), each directory once when the batch is flushed. A batch's small files
// (putBytes) are staged in tmp/ and made durable a chunk at a time, by one syncfs
// where there are enough of them, before they are linked (docs/store.md).

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, open as openFd, statSync } from 'node:fs';
import { chmod, constants, copyFile, mkdir, open, readdir, readFile, rm, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { atPath, eachLimited, fileCreated, fsyncDir, linkEntry, makeDir, makeDirDurable, renameEntry, syncFd, syncFile, syncFileSystem, writeAllSync } from '../common/index.ts';
import { blobAt, blobDir, blobPath, BLOBS_DIR, quarantinePath } from './blob-layout.ts';
import { BlobDamagedError, putStreamWith, sweepStagingDir, type BlobBatch, type BlobInfo, type BlobStore, type BlobWriter, type Expected, type LocalCopy } from './blobs.ts';
import { checkBlob, hashFile, hashHandle, StagedBlob, vouchedFor } from './staged-blob.ts';

/** Runs a synchronous file call, its failure naming `path`. */
function tryAt<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw atPath(e, path);
  }
}

/** What a batch of adopts (batch()) leaves to its flush. */
interface Batch {
  /** Directories whose entries are not durable until fsynced. */
  toSync: Set<string>;
  /** Fan-out directories this batch made sure exist, one promise each (parallel adopts share it). */
  made: Map<string, Promise<void>>;
  /** Files putBytes() wrote, not yet durable nor linked in (installStaged() does both): a chunk filling. */
  staged: Staged[];
  stagedBytes: number;
  /** Files putBytes() staged over the batch's life. */
  stagedTotal: number;
  /** The install of the chunk before, if any (a failure is thrown by the next putBytes() or flush()). */
  installing: Promise<void>;
}

interface Staged {
  temp: string;
  digest: string;
  size: number;
}

/**
 * From this many staged files (in a chunk; the names: in the batch), one syncfs
 * (syncFileSystem) makes them durable rather than an fsync each: a sync of 5,000 small
 * packages spent 1.3 s of CPU in 5,000 fsyncs, each a device flush (issue 19). A
 * few files are fsynced: a syncfs also waits for whatever else the file system holds.
 */
export const SYNCFS_FROM = 32;

/**
 * A batch's staged files are installed a chunk at a time, while the next chunk fills:
 * a sync of 50,000 packages must not hold 50,000 files in tmp/ and 2 GB of unwritten
 * data for one syncfs at its end (that doubled its time).
 */
const CHUNK_FILES = 1024;
const CHUNK_BYTES = 64 << 20;

/** Removes staged files from tmp/: installed (linked in already), or never to be. */
async function dropStaged(staged: Staged[]): Promise<void> {
  await eachLimited(staged, 8, ({ temp }) => unlink(temp).catch(() => {}));
}

/** The batch's staged files so far, as a chunk to install; the batch starts a new one. */
function takeChunk(batch: Batch): Staged[] {
  batch.stagedBytes = 0;
  return batch.staged.splice(0);
}

export class LocalBlobStore implements BlobStore {
  /** STORE/blobs: the blob root. */
  private readonly base: string;
  /** The directory of the fan-out directories. */
  readonly root: string;
  private readonly tmp: string;
  /** Fan-out directories made durable by this process: one promise per directory, so parallel installs share it. */
  private readonly dirs = new Map<string, Promise<void>>();
  private readonly tempPrefix: string;
  private temps = 0;

  constructor(storeDir: string) {
    this.base = join(storeDir, 'blobs');
    this.root = join(this.base, BLOBS_DIR);
    this.tmp = join(storeDir, 'tmp');
    this.tempPrefix = join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}-`);
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await mkdir(this.tmp, { recursive: true });
  }

  localPath(digest: string): string {
    // Concatenated, not join()ed: a deploy asks for hundreds of these, and the base is
    // already absolute and normalised.
    return `${this.base}/${blobPath(digest)}`;
  }

  /** The fan-out directory a blob is linked into. */
  private dirOf(digest: string): string {
    return `${this.base}/${blobDir(digest)}`;
  }

  stagingPath(): string {
    return this.tempPath();
  }

  async localCopy(digest: string): Promise<LocalCopy | undefined> {
    return (await this.stat(digest)) ? { path: this.localPath(digest), release: async () => {} } : undefined;
  }

  async downloadUrl(): Promise<undefined> {
    return undefined;
  }

  close(): void {}

  /**
   * A new name under tmp/: the pid and a random part drawn once per store (no two
   * processes or stores share a prefix), then a counter. A random part per file cost
   * a sync 13 us a blob in the system's random source.
   */
  private tempPath(): string {
    return `${this.tempPrefix}${(this.temps++).toString(36)}`;
  }

  /**
   * Moves a verified, fsynced temp file into place. A blob stored meanwhile (by another
   * writer) of the same size is taken for the same content, and reused (marked used);
   * one of another size is damaged (fsck reports it) and the good copy replaces it, by
   * rename (atomic: a reader sees the old file or the new one). The blob is durable once
   * its directory is fsynced: here, or, given `batch`, by the batch that collects them.
   */
  private async install(temp: string, digest: string, size: number, batch?: Batch): Promise<void> {
    const final = this.localPath(digest);
    const dir = this.dirOf(digest);
    await (batch ? this.batchDirReady(dir, batch) : this.dirReady(dir));
    // Link first, look only if that fails: a new blob costs one link, no stat.
    try {
      await linkEntry(temp, final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!(await this.reuse(digest, size, batch))) await renameEntry(temp, final);
    }
    if (batch) batch.toSync.add(dir);
    else await fsyncDir(dir);
  }

  /**
   * A fan-out directory for a batch's blob: made if missing, but made durable (its
   * entry in the blob root) only with the batch, whose flush fsyncs the root too (also
   * for a directory another process made and died before its fsync). Not remembered as
   * durable for the rest of the process: a batch may never be flushed.
   */
  private batchDirReady(dir: string, batch: Batch): Promise<void> {
    let ready = this.dirs.get(dir) ?? batch.made.get(dir);
    if (!ready) {
      ready = makeDir(dir).then(() => {
        batch.toSync.add(this.root);
      });
      batch.made.set(dir, ready);
      ready.catch(() => batch.made.delete(dir));
    }
    return ready;
  }

  /** Makes a fan-out directory exist durably, once per process (see below). */
  private async dirReady(dir: string): Promise<void> {
    // The fan-out directory's own entry must be durable too, or a power loss could take
    // the blob with it. Another process may have just created it and died before its
    // fsync, so the parent is fsynced on first use either way (once per process). Parallel
    // installs into one new directory wait on the same promise: one mkdir, one fsync, and
    // the same protocol steps on every run (the power-loss trials count on that).
    let ready = this.dirs.get(dir);
    if (!ready) {
      ready = makeDirDurable(dir).then(async (made) => {
        if (!made) await fsyncDir(this.root);
      });
      this.dirs.set(dir, ready);
      ready.catch(() => this.dirs.delete(dir));
    }
    await ready;
  }

  batch(): BlobBatch {
    const batch: Batch = { toSync: new Set(), made: new Map(), staged: [], stagedBytes: 0, stagedTotal: 0, installing: Promise.resolve() };
    return {
      adopt: (path, expect, opts = {}) => this.stageAdopted(path, expect, opts.hashed === true, batch),
      putBytes: (data, expect, opts = {}) => this.writeIn(data, expect, opts.hashed === true, batch, opts.name),
      touch: (digest, size) => this.touch(digest, size, batch),
      flush: async () => {
        const last = takeChunk(batch);
        await batch.installing.catch(async (e: unknown) => {
          await dropStaged(last);
          throw e;
        });
        await this.installStaged(last, batch);
        // The names: all at once, as the files were (one syncfs), or each directory once,
        // a few at a time, in a fixed order (the same protocol steps on every run, for the
        // crash trials).
        const todo = [...batch.toSync].sort();
        batch.toSync.clear();
        if (todo.length && !(batch.stagedTotal >= SYNCFS_FROM && (await syncFileSystem(this.tmp)))) await eachLimited(todo, 8, fsyncDir);
      },
      discard: async () => {
        const left = takeChunk(batch);
        await batch.installing.catch(() => {});
        await dropStaged(left);
      },
    };
  }

  /**
   * A batch's adopt(): the file (hashed unless `hashed` vouches for `expect`; a sync's
   * downloads were hashed as they came) is staged as putBytes() stages what it writes,
   * made durable with its chunk (one syncfs), not on its own. Its writer may have been
   * another thread, so the crash bookkeeping learns of it here. A file made writable (a
   * partial download resumed by another user) is made read-only, as a blob is.
   */
  private async stageAdopted(path: string, expect: Expected | undefined, hashed: boolean, batch: Batch): Promise<BlobInfo> {
    let info: BlobInfo;
    try {
      info = vouchedFor(expect, hashed) ?? checkBlob(await hashFile(path), expect, path);
      const st = statSync(path);
      if (st.size !== info.size) throw new Error(`${path} holds ${st.size} bytes, not the ${info.size} expected`);
      if ((st.mode & 0o777) !== 0o444) await chmod(path, 0o444);
      fileCreated(path);
    } catch (e) {
      await unlink(path).catch(() => {});
      throw atPath(e, path);
    }
    await this.stage(batch, { temp: path, digest: info.digest, size: info.size });
    return info;
  }

  /**
   * Stages a file putBytes() wrote; a full chunk starts installing once the chunk before
   * is in (the caller waits for that: at most one chunk installs while the next fills).
   */
  private async stage(batch: Batch, file: Staged): Promise<void> {
    batch.staged.push(file);
    batch.stagedBytes += file.size;
    batch.stagedTotal++;
    if (batch.staged.length < CHUNK_FILES && batch.stagedBytes < CHUNK_BYTES) return;
    const before = batch.installing;
    const chunk = takeChunk(batch);
    batch.installing = before.then(
      () => this.installStaged(chunk, batch),
      async (e: unknown) => {
        await dropStaged(chunk);
        throw e;
      },
    );
    batch.installing.catch(() => {}); // thrown to the next caller, and by flush()
    await before;
  }

  /**
   * Staged files: made durable (one syncfs, or an fsync each), then linked into place;
   * a file is never linked before its data is durable. Their names are made durable by
   * the batch's flush (or by the syncfs of a later chunk, which covers them too).
   */
  private async installStaged(staged: Staged[], batch: Batch): Promise<void> {
    if (!staged.length) return;
    try {
      const bySyncfs = staged.length >= SYNCFS_FROM && (await syncFileSystem(this.tmp));
      if (!bySyncfs) {
        await eachLimited(staged, 8, async ({ temp }) => {
          const fh = await open(temp, 'r').catch((e: unknown) => Promise.reject(atPath(e, temp)));
          try {
            await syncFile(fh, temp);
          } finally {
            await fh.close();
          }
        });
      }
      await eachLimited(staged, 8, (s) => this.install(s.temp, s.digest, s.size, batch));
    } finally {
      await dropStaged(staged);
    }
  }

  async touch(digest: string, size?: number, batch?: Batch): Promise<boolean> {
    const st = await this.stat(digest);
    return st !== undefined && (size === undefined || st.size === size) && this.reuse(digest, st.size, batch);
  }

  /**
   * Marks an existing blob as used now (its mtime): true if it exists with this size.
   * A blob gc just took away is false, and the caller stores it again. A blob found is
   * made durable for the caller too (its directory fsynced, at once or at `batch`'s
   * flush): another writer's batch may have linked it and not flushed yet, and the
   * caller's commit must not list a blob a power loss could still take away.
   */
  private async reuse(digest: string, size: number, batch?: Batch): Promise<boolean> {
    try {
      const now = new Date();
      await utimes(this.localPath(digest), now, now);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    if ((await this.stat(digest))?.size !== size) return false;
    if (batch) batch.toSync.add(this.dirOf(digest));
    else await fsyncDir(this.dirOf(digest));
    return true;
  }

  async putBytes(data: Uint8Array, expect?: Expected): Promise<BlobInfo> {
    return this.writeIn(data, expect, false);
  }

  /**
   * Writes bytes to a temp file, fsynced, and installs it; for a batch, leaves both to
   * its flush (installStaged). The file is written with plain descriptor calls, not a
   * FileHandle: a sync stores thousands of small packages this way, and a round trip
   * through the thread pool costs more than writing the bytes to the page cache (the
   * open and the fsync go there).
   */
  private async writeIn(data: Uint8Array, expect: Expected | undefined, hashed: boolean, batch?: Batch, name = 'blob'): Promise<BlobInfo> {
    const vouched = vouchedFor(expect, hashed);
    const info = vouched ?? checkBlob({ digest: createHash('sha256').update(data).digest('hex'), size: data.length }, expect, name);
    if (!vouched && (await this.reuse(info.digest, info.size, batch))) return info;
    const temp = this.tempPath();
    if (batch) {
      await this.writeTemp(temp, data).catch(async (e: unknown) => {
        await unlink(temp).catch(() => {});
        throw e;
      });
      await this.stage(batch, { temp, digest: info.digest, size: info.size });
      return info;
    }
    try {
      await this.writeTemp(temp, data, { sync: true });
      await this.install(temp, info.digest, info.size);
    } finally {
      // Through the thread pool too (the journal); gone already if it was never made.
      await unlink(temp).catch(() => {});
    }
    return info;
  }

  /** Creates `temp` (read-only, as a blob) holding `data`, fsynced if asked. */
  private async writeTemp(temp: string, data: Uint8Array, opts: { sync?: boolean } = {}): Promise<void> {
    // Opened through the thread pool: creating a file waits on the file system's
    // journal, which other writers' fsyncs hold; the write only fills the page cache.
    const fd = await new Promise<number>((resolve, reject) => openFd(temp, 'wx', 0o444, (e, fd) => (e ? reject(atPath(e, temp)) : resolve(fd))));
    try {
      fileCreated(temp);
      tryAt(temp, () => {
        writeAllSync(fd, data);
      });
      if (opts.sync) await syncFd(fd, temp);
    } finally {
      closeSync(fd);
    }
  }

  async create(): Promise<BlobWriter> {
    const staged = await StagedBlob.create(this.tempPath(), 0o444);
    // It becomes a blob by link: a power loss before its fsync would leave it empty.
    fileCreated(staged.path);
    return {
      write: (data) => staged.write(data),
      commit: async (expect) => {
        try {
          const info = staged.written(expect);
          if (!(await this.reuse(info.digest, info.size))) {
            await staged.sync();
            await staged.close();
            await this.install(staged.path, info.digest, info.size);
          }
          return info;
        } finally {
          await staged.remove();
        }
      },
      abort: () => staged.abort(),
    };
  }

  putStream(source: Readable, expect?: Expected): Promise<BlobInfo> {
    return putStreamWith(() => this.create(), source, expect);
  }

  async putFile(path: string, expect?: Expected): Promise<BlobInfo> {
    // Copy (a reflink where the file system can) rather than link: a blob must not
    // share an inode with a file the user may later overwrite in place. The copy is
    // what gets hashed, so the source changing meanwhile cannot slip through.
    const temp = this.tempPath();
    try {
      await copyFile(path, temp, constants.COPYFILE_FICLONE);
      fileCreated(temp);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return this.moveIn(temp, expect, path, false);
  }

  adopt(path: string, expect?: Expected, opts: { hashed?: boolean } = {}): Promise<BlobInfo> {
    return this.moveIn(path, expect, path, opts.hashed === true);
  }

  /**
   * Hashes (unless `hashed` vouches for `expect`), verifies, fsyncs and links a file of
   * tmp/ into place; the file is consumed either way. `what` names it in errors.
   */
  private async moveIn(temp: string, expect: Expected | undefined, what: string, hashed: boolean): Promise<BlobInfo> {
    try {
      const fh = await open(temp, 'r');
      let info: BlobInfo;
      try {
        const vouched = vouchedFor(expect, hashed);
        info = vouched ?? checkBlob(await hashHandle(fh), expect, what);
        // A caller that vouches for the content looked for the blob before it made the
        // file (a sync touch()es first): install() finds one stored since.
        if (!vouched && (await this.reuse(info.digest, info.size))) return info;
        await syncFile(fh, temp);
        // Blobs are read-only; a file its writer created so (a download) needs no chmod.
        if (((await fh.stat()).mode & 0o777) !== 0o444) await fh.chmod(0o444);
      } finally {
        await fh.close();
      }
      await this.install(temp, info.digest, info.size);
      return info;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    // Synchronous, and no exception for a missing blob: a sync asks this of every
    // package first, and most are not stored yet (a stat is microseconds; a promise
    // through the thread pool and a thrown ENOENT cost more).
    let st;
    try {
      st = statSync(this.localPath(digest), { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    return st?.isFile() ? { digest, size: st.size } : undefined;
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
    try {
      if (!range) return await readFile(this.localPath(digest));
      const fh = await open(this.localPath(digest), 'r');
      try {
        const buf = Buffer.allocUnsafe(range.end - range.start);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, range.start + got);
          if (bytesRead === 0) throw new Error(`blob ${digest} is shorter than ${range.end} bytes`);
          got += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async open(digest: string, range?: { start: number; end: number }, opts: { size?: number } = {}): Promise<Readable> {
    const path = this.localPath(digest);
    const st = await stat(path); // fail now, with ENOENT, rather than on the first read
    if (opts.size !== undefined && st.size !== opts.size) throw new BlobDamagedError(digest, st.size, opts.size);
    // Large reads: a package download is served in a few hundred reads, not thousands.
    return createReadStream(path, { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async sweep(digest: string, unusedSince: Date): Promise<boolean> {
    // Moved aside first, then its mtime looked at again: a writer that reused the blob
    // before the move made it young (it goes back); one that comes after the move finds
    // no blob and stores its own copy (reuse() is false). Either way its commit finds it.
    const path = this.localPath(digest);
    const st = await stat(path).catch(() => undefined);
    if (!st || st.mtime >= unusedSince) return false;
    const aside = join(this.tmp, `gc-${digest}-${process.pid}`);
    try {
      await renameEntry(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    const again = await stat(aside);
    if (again.mtime >= unusedSince) {
      await linkEntry(aside, path, { existingIsSame: true });
      await fsyncDir(dirname(path));
      await unlink(aside);
      return false;
    }
    await unlink(aside);
    return true;
  }

  private quarantineFile(digest: string): string {
    return `${this.base}/${quarantinePath(digest)}`;
  }

  async quarantine(digest: string): Promise<boolean> {
    const to = this.quarantineFile(digest);
    await makeDirDurable(dirname(to));
    try {
      await renameEntry(this.localPath(digest), to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    await fsyncDir(this.dirOf(digest));
    await fsyncDir(dirname(to));
    return true;
  }

  async quarantined(digest: string): Promise<boolean> {
    return (await stat(this.quarantineFile(digest)).catch(() => undefined))?.isFile() === true;
  }

  sweepStaging(before: Date): Promise<{ files: number; bytes: number }> {
    return sweepStagingDir(this.tmp, before);
  }

  async *list(): AsyncIterable<BlobInfo & { usedAt: Date }> {
    for (const dir of (await readdir(this.root).catch(() => [] as string[])).sort()) {
      for (const name of (await readdir(join(this.root, dir))).sort()) {
        const digest = blobAt(`${BLOBS_DIR}/${dir}/${name}`);
        if (!digest) continue;
        const st = await stat(this.localPath(digest)).catch(() => undefined);
        if (st?.isFile()) yield { digest, size: st.size, usedAt: st.mtime };
      }
    }
  }
}
