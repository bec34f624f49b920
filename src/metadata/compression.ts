// Compression of metadata files, by name suffix, and bounded decompression for
// reading metadata that may come from a hostile source.

import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { Failure } from '../common/index.ts';

// Loaded on first use: most runs never touch xz, and start-up time counts.
const require = createRequire(import.meta.url);
let lzmaModule: typeof import('lzma-native') | undefined;
const lzma = () => (lzmaModule ??= require('lzma-native') as typeof import('lzma-native'));

export const COMPRESSION_TYPES = ['gz', 'xz', 'zstd', 'none'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

export const SUFFIX: Record<CompressionType, string> = { gz: '.gz', xz: '.xz', zstd: '.zst', none: '' };

export function isCompressionType(s: string): s is CompressionType {
  return (COMPRESSION_TYPES as readonly string[]).includes(s);
}

/** The compression a file name's suffix says, or 'none'. Also knows bz2, for reading. */
export function compressionOf(name: string): CompressionType | 'bz2' {
  if (name.endsWith('.gz')) return 'gz';
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.zst')) return 'zstd';
  if (name.endsWith('.bz2')) return 'bz2';
  return 'none';
}

/** Strips a known compression suffix (modifyrepo re-compresses its input). */
export function stripCompressionSuffix(name: string): string {
  return name.replace(/\.(gz|xz|zst|bz2|zck)$/, '');
}

export function createCompressor(type: CompressionType): Transform | undefined {
  switch (type) {
    case 'gz':
      // Output in 128 KiB pieces, not zlib's 16 KiB: each piece is a callback on the
      // calling thread (a createrepo's busiest), and the bytes come out the same.
      return zlib.createGzip({ level: 6, chunkSize: 128 * 1024 });
    case 'xz':
      return lzma().createCompressor({ preset: 6, threads: 1 });
    case 'zstd':
      return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 10 } });
    case 'none':
      return undefined;
  }
}

export class DecompressionLimitError extends Failure {
  override name = 'DecompressionLimitError';
  readonly kind = 'bad_metadata';
}

/** Fails the stream once more than `limit` bytes have come out of it (bomb guard). */
export function limitBytes(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) cb(new DecompressionLimitError(`${what} expands to more than ${limit} bytes; refusing it`));
      else cb(null, chunk);
    },
  });
}

export function createDecompressor(type: CompressionType | 'bz2', what: string): Transform | undefined {
  switch (type) {
    case 'gz':
      return zlib.createGunzip();
    case 'xz':
      // memlimit bounds the decoder's dictionary, so a crafted header cannot make it allocate gigabytes.
      return lzma().createDecompressor({ memlimit: 256 * 1024 * 1024 });
    case 'zstd':
      return zlib.createZstdDecompress();
    case 'bz2':
      throw new Error(`${what}: bzip2-compressed metadata is not supported; use gz, xz or zstd`);
    case 'none':
      return undefined;
  }
}

/**
 * Decompresses a whole file held in memory, refusing output beyond `limit` bytes.
 * gz and zstd run on libuv's thread pool, so several files decompress in parallel.
 */
export async function decompressBuffer(type: CompressionType | 'bz2', data: Buffer, limit: number, what: string): Promise<Buffer> {
  const tooBig = () => new DecompressionLimitError(`${what} expands to more than ${limit} bytes; refusing it`);
  const viaZlib = (fn: typeof zlib.gunzip) =>
    new Promise<Buffer>((resolve, reject) =>
      fn(data, { maxOutputLength: limit }, (err, out) => (err ? reject((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? tooBig() : err) : resolve(out))),
    );
  switch (type) {
    case 'none':
      return data;
    case 'gz':
      return viaZlib(zlib.gunzip);
    case 'zstd':
      return viaZlib(zlib.zstdDecompress as unknown as typeof zlib.gunzip);
    default: {
      const stream = createDecompressor(type, what)!;
      const guard = limitBytes(limit, what);
      const parts: Buffer[] = [];
      guard.on('data', (c: Buffer) => parts.push(c));
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        guard.on('error', reject);
        guard.on('end', resolve);
        stream.pipe(guard);
        stream.end(data);
      });
      return Buffer.concat(parts);
    }
  }
}
