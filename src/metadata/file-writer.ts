// Writes one metadata file: content goes through a compressor to disk while both the
// uncompressed and the compressed bytes are hashed, so the repomd record (checksum,
// open-checksum, sizes) comes out of a single pass.

import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { createCompressor, SUFFIX, type CompressionType } from './compression.ts';
import type { RepomdRecord } from './repomd.ts';
import { syncFile, writeAll } from '../common/index.ts';

const FLUSH_AT = 256 * 1024;
const UNIQUE_PREFIX = /^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})-/;

export interface FileWriterOptions {
  /** Directory the file is written to. */
  dir: string;
  /** Record type in repomd.xml: primary, filelists, group, updateinfo, ... */
  type: string;
  /** Uncompressed file name, e.g. primary.xml. */
  name: string;
  compression: CompressionType;
  checksumType: string;
  /** Prefix the name with the checksum of the file (createrepo_c's default). */
  uniqueName: boolean;
  /** File mtime and record timestamp, seconds; default: now. */
  timestamp?: number;
  /** The href of the record is `${hrefDir}/${final name}`. */
  hrefDir?: string;
  fsync?: boolean;
}

export class MetadataFileWriter {
  private readonly opts: FileWriterOptions;
  private readonly tempPath: string;
  private readonly openHash: Hash;
  private readonly hash: Hash;
  private readonly compressor: Transform | undefined;
  private fh!: FileHandle;
  /** Whole blocks (and chunks too big for one) waiting for the next flush. */
  private pending: Uint8Array[] = [];
  /** The block being filled: text is encoded straight into it. */
  private block: Buffer | undefined;
  private blockUsed = 0;
  private openSize = 0;
  private size = 0;
  private writeChain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  private constructor(opts: FileWriterOptions) {
    this.opts = opts;
    this.tempPath = join(opts.dir, `.${opts.name}${SUFFIX[opts.compression]}.${process.pid}.tmp`);
    this.openHash = createHash(opts.checksumType);
    this.hash = createHash(opts.checksumType);
    this.compressor = createCompressor(opts.compression);
  }

  static async create(opts: FileWriterOptions): Promise<MetadataFileWriter> {
    const w = new MetadataFileWriter(opts);
    w.fh = await open(w.tempPath, 'w', 0o644);
    if (w.compressor) {
      w.compressor.on('data', (chunk: Buffer) => {
        w.hash.update(chunk);
        w.size += chunk.length;
        w.writeChain = w.writeChain.then(() => writeAll(w.fh, chunk));
        w.writeChain.catch((e) => (w.failure ??= e));
      });
      w.compressor.on('error', (e) => (w.failure ??= e));
    }
    return w;
  }

  /**
   * Appends text or UTF-8 bytes. Returns a promise only when the caller should wait.
   * Small chunks are copied into a block of FLUSH_AT bytes, so a package's chunks cost
   * no allocation of their own (a Buffer per chunk made most of a createrepo run's
   * garbage), and the compressor gets whole blocks, without a concat.
   */
  write(s: string | Uint8Array): Promise<void> | undefined {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: a sure fit needs no measuring.
    const most = typeof s === 'string' ? s.length * 3 : s.length;
    if (most > FLUSH_AT - this.blockUsed) this.sealBlock();
    if (most > FLUSH_AT / 2) {
      const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
      this.pending.push(bytes);
    } else {
      this.block ??= Buffer.allocUnsafe(FLUSH_AT);
      if (typeof s === 'string') this.blockUsed += this.block.write(s, this.blockUsed);
      else {
        this.block.set(s, this.blockUsed);
        this.blockUsed += s.length;
      }
    }
    return this.pending.length ? this.flush() : undefined;
  }

  /** Moves the filled part of the block to the pending list; the next write starts a new one. */
  private sealBlock() {
    if (this.blockUsed === 0) return;
    this.pending.push(this.block!.subarray(0, this.blockUsed));
    this.block = undefined;
    this.blockUsed = 0;
  }

  /**
   * Hashes and compresses (or writes) the pending pieces. They go to the compressor
   * before the first await, so a flush that overlaps another cannot reorder them.
   */
  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const pieces = this.pending;
    this.pending = [];
    let full = false;
    for (const piece of pieces) {
      this.openHash.update(piece);
      this.openSize += piece.length;
      if (this.compressor) full = !this.compressor.write(piece);
      else {
        this.hash.update(piece);
        this.size += piece.length;
        const chained = this.writeChain.then(() => writeAll(this.fh, piece));
        this.writeChain = chained;
        chained.catch((e) => (this.failure ??= e));
      }
    }
    if (full) await new Promise<void>((resolve) => this.compressor!.once('drain', resolve));
    // Keep the queue of disk writes short: wait for what was queued before.
    await this.writeChain;
    if (this.failure) throw this.failure;
  }

  /** Finishes the file, moves it to its final name and returns its repomd record. */
  async finish(): Promise<RepomdRecord> {
    this.sealBlock();
    await this.flush();
    if (this.compressor) {
      const c = this.compressor;
      await new Promise<void>((resolve, reject) => {
        c.once('end', resolve);
        c.once('error', reject);
        c.end();
        c.resume();
      });
      await this.writeChain;
    }
    if (this.failure) throw this.failure;
    const { opts } = this;
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    if (opts.fsync) await syncFile(this.fh, this.tempPath);
    await this.fh.close();
    await utimes(this.tempPath, timestamp, timestamp);
    const checksum = this.hash.digest('hex');
    const plain = opts.name + SUFFIX[opts.compression];
    const finalName = opts.uniqueName ? `${checksum}-${plain.replace(UNIQUE_PREFIX, '')}` : plain;
    await rename(this.tempPath, join(opts.dir, finalName));
    const record: RepomdRecord = {
      type: opts.type,
      href: `${opts.hrefDir ?? 'repodata'}/${finalName}`,
      checksum: { type: opts.checksumType, value: checksum },
      timestamp,
      size: this.size,
    };
    if (this.compressor) {
      record.openChecksum = { type: opts.checksumType, value: this.openHash.digest('hex') };
      record.openSize = this.openSize;
    }
    return record;
  }

  /** Drops the temp file after a failure. */
  async abort(): Promise<void> {
    this.compressor?.destroy();
    await this.fh.close().catch(() => {});
    await rm(this.tempPath, { force: true });
  }
}
