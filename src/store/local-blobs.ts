// Blobs in a local directory: STORE/blobs/sha256/<first 2 hex>/<64 hex>. A blob is
// written to STORE/tmp, fsynced, verified, then linked into place (so it appears whole
// or not at all) and its directory fsynced.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, constants, copyFile, mkdir, open, readdir, readFile, rm, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { atPath, fileCreated, fsyncDir, linkEntry, makeDirDurable, renameEntry, syncFile, writeAll } from '../common/index.ts';
import { assertDigest, BlobMismatchError, putStreamWith, sweepStagingDir, type BlobInfo, type BlobStore, type BlobWriter, type Expected, type LocalCopy } from './blobs.ts';

async function hashHandle(fh: FileHandle): Promise<BlobInfo> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, size);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { digest: hash.digest('hex'), size };
}

export class LocalBlobStore implements BlobStore {
  readonly root: string;
  private readonly tmp: string;
  /** Prefix directories known to exist. */
  private readonly dirs = new Set<string>();

  constructor(storeDir: string) {
    this.root = join(storeDir, 'blobs', 'sha256');
    this.tmp = join(storeDir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await mkdir(this.tmp, { recursive: true });
  }

  localPath(digest: string): string {
    assertDigest(digest);
    // Concatenated, not join()ed: a deploy asks for hundreds of these, and root is
    // already absolute and normalised.
    return `${this.root}/${digest.slice(0, 2)}/${digest}`;
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

  private tempPath(): string {
    return join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  private check(info: BlobInfo, expect: Expected | undefined, what: string) {
    if (expect?.digest && expect.digest !== info.digest) {
      throw new BlobMismatchError(`${what}: sha256 is ${info.digest}, expected ${expect.digest}`, info);
    }
    if (expect?.size !== undefined && expect.size !== info.size) {
      throw new BlobMismatchError(`${what}: ${info.size} bytes, expected ${expect.size}`, info);
    }
  }

  /** Moves a verified temp file into place; an existing blob is the same content. */
  private async install(temp: string, digest: string): Promise<void> {
    const final = this.localPath(digest);
    const dir = join(this.root, digest.slice(0, 2));
    if (!this.dirs.has(dir)) {
      // The prefix directory's own entry must be durable too, or a power loss could take
      // the blob with it. Another process may have just created it and died before its
      // fsync, so the parent is fsynced on first use either way (once per process).
      if (!(await makeDirDurable(dir))) await fsyncDir(this.root);
      this.dirs.add(dir);
    }
    await linkEntry(temp, final, { existingIsSame: true });
    await fsyncDir(dir);
  }

  async touch(digest: string, size?: number): Promise<boolean> {
    const st = await this.stat(digest);
    return st !== undefined && (size === undefined || st.size === size) && this.reuse(digest, st.size);
  }

  /**
   * Marks an existing blob as used now (its mtime): true if it exists with this size.
   * A blob gc just took away is false, and the caller stores it again.
   */
  private async reuse(digest: string, size: number): Promise<boolean> {
    try {
      const now = new Date();
      await utimes(this.localPath(digest), now, now);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    return (await this.stat(digest))?.size === size;
  }

  async putBytes(data: Uint8Array, expect?: Expected): Promise<BlobInfo> {
    const info = { digest: createHash('sha256').update(data).digest('hex'), size: data.length };
    this.check(info, expect, 'blob');
    if (await this.reuse(info.digest, info.size)) return info;
    const existing = await this.stat(info.digest);
    const temp = this.tempPath();
    try {
      const fh = await open(temp, 'wx', 0o444);
      try {
        fileCreated(temp);
        await fh.writeFile(data).catch((e: unknown) => Promise.reject(atPath(e, temp)));
        await syncFile(fh, temp);
      } finally {
        await fh.close();
      }
      if (existing) {
        // A blob of the wrong size is damaged (fsck reports it): the good copy replaces it.
        await renameEntry(temp, this.localPath(info.digest));
        await fsyncDir(join(this.root, info.digest.slice(0, 2)));
      } else {
        await this.install(temp, info.digest);
      }
    } finally {
      await rm(temp, { force: true });
    }
    return info;
  }

  async create(): Promise<BlobWriter> {
    const temp = this.tempPath();
    const fh = await open(temp, 'wx', 0o444);
    fileCreated(temp);
    const hash = createHash('sha256');
    let size = 0;
    let open_ = true;
    const finish = async () => {
      if (open_) {
        open_ = false;
        await fh.close();
      }
    };
    return {
      write: async (data) => {
        hash.update(data);
        size += data.length;
        await writeAll(fh, data).catch((e: unknown) => Promise.reject(atPath(e, temp)));
      },
      commit: async (expect) => {
        try {
          const info = { digest: hash.digest('hex'), size };
          this.check(info, expect, 'blob');
          if (!(await this.reuse(info.digest, info.size))) {
            await syncFile(fh, temp);
            await finish();
            await this.install(temp, info.digest);
          }
          return info;
        } finally {
          await finish();
          await rm(temp, { force: true });
        }
      },
      abort: async () => {
        await finish().catch(() => {});
        await rm(temp, { force: true });
      },
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
        if (hashed && expect?.digest && expect.size !== undefined) {
          info = { digest: expect.digest, size: expect.size };
        } else {
          info = await hashHandle(fh);
          this.check(info, expect, what);
        }
        if (await this.reuse(info.digest, info.size)) return info;
        await syncFile(fh, temp);
      } finally {
        await fh.close();
      }
      await chmod(temp, 0o444);
      await this.install(temp, info.digest);
      return info;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const st = await stat(this.localPath(digest)).catch(() => undefined);
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

  async open(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    const path = this.localPath(digest);
    await stat(path); // fail now, with ENOENT, rather than on the first read
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

  sweepStaging(before: Date): Promise<{ files: number; bytes: number }> {
    return sweepStagingDir(this.tmp, before);
  }

  async *list(): AsyncIterable<BlobInfo & { usedAt: Date }> {
    for (const prefix of (await readdir(this.root).catch(() => [] as string[])).sort()) {
      for (const name of (await readdir(join(this.root, prefix))).sort()) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const st = await stat(join(this.root, prefix, name)).catch(() => undefined);
        if (st?.isFile()) yield { digest: name, size: st.size, usedAt: st.mtime };
      }
    }
  }
}
