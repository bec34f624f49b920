// Where a published tree lives: a directory (dir-target.ts) or a prefix in an
// S3-compatible bucket (s3-target.ts). What publish writes, in which order, what it
// keeps and what it prunes is decided once, in publish.ts; a target only knows how to
// put, read, replace and remove the files of a tree, whole and verified, on its medium.

import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { atPath, Failure, writeAll, type FailureKind } from '../common/index.ts';

export class PublishError extends Failure {
  override name = 'PublishError';
  readonly kind: FailureKind;
  constructor(message: string, kind: FailureKind = 'io') {
    super(message);
    this.kind = kind;
  }
}

export interface PublishedFile {
  href: string;
  sha256: string;
  size: number;
}

/** Where a snapshot's files come from: the local store, or a txrepo server. */
export interface PublishSource {
  repo: string;
  snapshot: string;
  files: PublishedFile[];
  /** A local file with this content (a blob), to hard-link; undefined: stream it. */
  localPath(file: PublishedFile): string | undefined;
  open(file: PublishedFile): Promise<Readable>;
}

/** A new file of a run: its bytes are counted as they are written. */
export type Progress = (bytes: number) => void;

export interface PublishTarget {
  /** The directory's absolute path or the s3:// URL, for messages and results. */
  readonly name: string;
  /** Takes the tree's lock: one publish at a time. Everything but reads needs it. */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** The size of the file at `href`; undefined: there is none. */
  size(href: string): Promise<number | undefined>;
  /** The sha256 of the content at `href`, read whole; undefined: there is none. */
  sha256(href: string): Promise<string | undefined>;
  /** A small file's content (the history's, repomd.xml); undefined: there is none. */
  read(href: string): Promise<Buffer | undefined>;
  /**
   * Puts the source's file `f` at f.href, verified against its sha256 and size; a
   * failure leaves nothing at f.href but what was there. 'linked': a hard link to
   * the source's own file, nothing copied.
   */
  put(f: PublishedFile, source: PublishSource, progress: Progress): Promise<'linked' | 'written'>;
  /** Makes every put so far durable and checks it arrived whole: before any switch. */
  settle(): Promise<void>;
  /**
   * Replaces each file by its new content (undefined: removes it), in the order given,
   * each whole or not at all, each durable before this returns.
   */
  replace(entries: { href: string; data: Buffer | undefined }[]): Promise<void>;
  /** Removes a file; false: it was not there. */
  remove(href: string): Promise<boolean>;
  close(): void;
}

/**
 * How long web caches and CDNs may keep a file (Cache-Control, where the target can
 * say it). A package and a metadata file never change under their name (metadata is
 * named by its checksum; a deploy refuses other content under a package's name):
 * immutable. repomd.xml and its signature and keys are replaced in place, and so is
 * the history: a client must ask again each time.
 */
export function cacheControlOf(href: string): string {
  return isMutable(href) ? 'no-cache' : 'public, max-age=31536000, immutable';
}

function isMutable(href: string): boolean {
  return href === 'repodata/repomd.xml' || href === 'repodata/repomd.xml.asc' || href === 'repodata/repomd.xml.key' || href.startsWith(`${STATE_DIR}/`);
}

/** The history's folder in a tree (publish.ts). */
export const STATE_DIR = '.txrepo-publish';

/**
 * Streams the source's file `f` into `fh`, verifying its size and sha256 as it goes;
 * `alsoHash` sees every chunk too (the MD5 an S3 PUT sends). Throws, having written
 * part of it, when the source sends other bytes than the snapshot lists.
 */
export async function copyVerified(source: PublishSource, f: PublishedFile, fh: FileHandle, path: string, progress?: Progress, alsoHash?: (chunk: Buffer) => void): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await source.open(f)) {
    const data = chunk as Buffer;
    size += data.length;
    if (size > f.size) throw new PublishError(`${f.href}: more than the ${f.size} bytes the snapshot lists`);
    hash.update(data);
    alsoHash?.(data);
    await writeAll(fh, data).catch((e: unknown) => Promise.reject(atPath(e, path)));
    progress?.(data.length);
  }
  checkContent(f, size, hash.digest('hex'));
}

/** Reads the source's (small) file `f` whole, verified. */
export async function readVerified(source: PublishSource, f: PublishedFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await source.open(f)) {
    size += (chunk as Buffer).length;
    if (size > f.size) throw new PublishError(`${f.href}: more than the ${f.size} bytes the snapshot lists`);
    chunks.push(chunk as Buffer);
  }
  const data = Buffer.concat(chunks);
  checkContent(f, data.length, createHash('sha256').update(data).digest('hex'));
  return data;
}

function checkContent(f: PublishedFile, size: number, digest: string): void {
  if (size !== f.size || digest !== f.sha256) {
    throw new PublishError(`${f.href}: got ${size} bytes with sha256 ${digest}, the snapshot lists ${f.size} bytes with ${f.sha256}; nothing was switched`);
  }
}

