// Assembles a snapshot's primary, filelists and other files from rendered repodata
// pages (see repodata.ts): each file is its gzipped header, the pages' gzip members in
// order, and its gzipped footer. Both checksums are taken on the way: the sha256 of the
// compressed file (its blob digest) and of the text (the open-checksum), which is the
// header, the pages' uncompressed texts and the footer, so nothing is inflated.
//
// With local blobs, `assembleFiles` does the job with synchronous I/O, reading page
// members straight into the files' write buffers: one open and a few positioned reads
// per page.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { atPath, fileCreated, writeAllSync } from '../common/index.ts';

/** The three metadata files, in the order of a page blob's parts. */
export const KINDS = ['primary', 'filelists', 'other'] as const;
export type Kind = (typeof KINDS)[number];

/** Where one page's parts lie in its blob: three gzip members, then three texts. */
export interface PageParts {
  /** Sizes of the gzip members, in KINDS order. */
  sizes: number[];
  /** Sizes of the texts, in KINDS order. */
  openSizes: number[];
}

export interface AssembledFile {
  digest: string;
  size: number;
  openDigest: string;
  openSize: number;
}

/** One part of a document per kind: the gzip member and its text. */
export interface DocumentPart {
  member: Uint8Array;
  text: Uint8Array;
}

/** Where kind k's member and text lie in a page blob, as [start, end). */
export function pageRanges(parts: PageParts, k: number): { member: [number, number]; text: [number, number] } {
  let member = 0;
  let text = parts.sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k; i++) {
    member += parts.sizes[i];
    text += parts.openSizes[i];
  }
  return { member: [member, member + parts.sizes[k]], text: [text, text + parts.openSizes[k]] };
}

/** The checksums of one metadata file, taken as its members and texts go by, in order. */
export class FileChecksums {
  private readonly hash = createHash('sha256');
  private readonly openHash = createHash('sha256');
  private size = 0;
  private openSize = 0;

  member(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.size += bytes.length;
  }

  text(bytes: Uint8Array): void {
    this.openHash.update(bytes);
    this.openSize += bytes.length;
  }

  finish(): AssembledFile {
    return { digest: this.hash.digest('hex'), size: this.size, openDigest: this.openHash.digest('hex'), openSize: this.openSize };
  }
}

export interface AssembleJob {
  /** Header and footer parts, in KINDS order. */
  heads: DocumentPart[];
  tails: DocumentPart[];
  pages: (PageParts & { path: string })[];
  /** The files to create, in KINDS order; removed again on failure. */
  outputs: string[];
}

/** A page blob is gone or shorter than its catalog row says. */
export class PageReadError extends Error {
  override name = 'PageReadError';
}

const BUFFER_SIZE = 1 << 20;

/** A file being written through a buffer that page members are read straight into. */
class OutputFile {
  readonly checksums = new FileChecksums();
  readonly fd: number;
  private readonly path: string;
  private buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private fill = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'wx', 0o444);
    this.path = path;
    fileCreated(path);
  }

  /** Room for `n` more bytes in the buffer (flushing, or growing for a huge member). */
  private room(n: number): void {
    if (this.fill + n > this.buf.length) this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  append(part: DocumentPart): void {
    this.room(part.member.length);
    this.buf.set(part.member, this.fill);
    this.fill += part.member.length;
    this.checksums.member(part.member);
    this.checksums.text(part.text);
  }

  /** Reads bytes [start, end) of page `fd` as the file's next member. */
  readMember(fd: number, path: string, [start, end]: [number, number]): void {
    this.room(end - start);
    const member = this.buf.subarray(this.fill, this.fill + end - start);
    readFully(fd, path, member, start);
    this.fill += member.length;
    this.checksums.member(member);
  }

  flush(): void {
    try {
      writeAllSync(this.fd, this.buf.subarray(0, this.fill));
    } catch (e) {
      throw atPath(e, this.path);
    }
    this.fill = 0;
  }
}

/**
 * Writes the files of `job` (not fsynced: moving them into the store does that);
 * returns their checksums, in KINDS order.
 */
export function assembleFiles(job: AssembleJob): AssembledFile[] {
  const files: OutputFile[] = [];
  try {
    for (const path of job.outputs) files.push(new OutputFile(path));
    files.forEach((f, k) => f.append(job.heads[k]));
    let scratch = Buffer.allocUnsafe(BUFFER_SIZE);
    for (const page of job.pages) {
      const fd = openPage(page.path);
      try {
        files.forEach((f, k) => {
          const { member, text } = pageRanges(page, k);
          f.readMember(fd, page.path, member);
          const length = text[1] - text[0];
          if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
          const bytes = scratch.subarray(0, length);
          readFully(fd, page.path, bytes, text[0]);
          f.checksums.text(bytes);
        });
      } finally {
        closeSync(fd);
      }
    }
    files.forEach((f, k) => f.append(job.tails[k]));
    for (const f of files) f.flush();
    return files.map((f) => f.checksums.finish());
  } catch (e) {
    for (const path of job.outputs.slice(0, files.length)) unlinkSync(path);
    throw e;
  } finally {
    for (const f of files) closeSync(f.fd);
  }
}

function openPage(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PageReadError(`repodata page blob ${path} is missing`);
    throw e;
  }
}

function readFully(fd: number, path: string, into: Uint8Array, position: number): void {
  for (let got = 0; got < into.length; ) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw new PageReadError(`repodata page blob ${path} is shorter than the catalog says`);
    got += n;
  }
}
