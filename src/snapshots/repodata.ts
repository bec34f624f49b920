// A snapshot's repodata, generated from catalog records (never from RPM files) with
// the same renderer as `txrepo createrepo`, and stored as blobs.
//
// The cost follows the change, not the repo size. Each package page (see pages.ts) is
// rendered once: its primary, filelists and other chunks, gzipped as separate members
// and also kept uncompressed, in one cached blob. A metadata file is a header member,
// the pages' members and a footer member: gzip readers (zlib, python's gzip,
// librepo/libsolv) read concatenated members as one stream, and the uncompressed
// content equals what `txrepo createrepo` writes. The uncompressed copies are there
// for the open-checksum, which covers the whole uncompressed file: hashing them is
// several times cheaper than inflating every member again, and a worker thread does it
// while this one assembles the compressed files from the members.

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { eachLimited } from '../common/index.ts';
import {
  DEFAULT_CHANGELOG_LIMIT,
  FILELISTS_FOOTER,
  filelistsHeader,
  OTHER_FOOTER,
  otherHeader,
  PRIMARY_FOOTER,
  primaryHeader,
  renderPackage,
  renderRepomd,
  type RepomdRecord,
} from '../metadata/index.ts';
import type { BlobWriter, PackagePage, PageRef, RepodataPage, SnapshotFile, Store } from '../store/index.ts';
import { hashTexts, type TextHashJob, type TextHashReply } from './text-hash-worker.ts';

const gzip = promisify(zlib.gzip);

export interface GeneratedRepodata {
  files: SnapshotFile[];
  repomd: string;
}

const RENDER_FORMAT = 'txrepo-repodata-page-v1';

/** The rendered page depends on the packages and on the options of the renderer. */
function renderKey(page: PageRef, changelogLimit: number): string {
  return createHash('sha256').update(`${RENDER_FORMAT}\n${changelogLimit}\n${page.key}`).digest('hex');
}

type Kind = 'primary' | 'filelists' | 'other';
const KINDS: Kind[] = ['primary', 'filelists', 'other'];
const DOCUMENT: Record<Kind, { header: (n: number) => string; footer: string }> = {
  primary: { header: primaryHeader, footer: PRIMARY_FOOTER },
  filelists: { header: filelistsHeader, footer: FILELISTS_FOOTER },
  other: { header: otherHeader, footer: OTHER_FOOTER },
};

/** The cached blob: the three gzip members, then the three texts, in KINDS order. */
function layout(row: RepodataPage) {
  const compressed = KINDS.reduce((n, k) => n + row[k].size, 0);
  const plain = KINDS.reduce((n, k) => n + row[k].openSize, 0);
  return { compressed, plain, total: compressed + plain };
}

async function renderPage(store: Store, page: PageRef | PackagePage, key: string, changelogLimit: number): Promise<RepodataPage> {
  const packages = 'packages' in page ? page.packages : (await store.catalog.getPages([page.key])).get(page.key);
  if (!packages) throw new Error(`the catalog has no package page ${page.key}; run 'txrepo fsck'`);
  const records = await store.catalog.getPackages([...new Set(packages.map((p) => p.digest))]);
  const text: Record<Kind, string[]> = { primary: [], filelists: [], other: [] };
  for (const p of packages) {
    const record = records.get(p.digest);
    if (!record) throw new Error(`the catalog has no record for package ${p.digest} (${p.href}); run 'txrepo fsck'`);
    const r = renderPackage({ ...record, locationHref: p.href }, changelogLimit);
    text.primary.push(r.primary as string);
    text.filelists.push(r.filelists as string);
    text.other.push(r.other as string);
  }
  const plain = KINDS.map((k) => Buffer.from(text[k].join('')));
  const compressed = await Promise.all(plain.map((t) => gzip(t, { level: 6 })));
  const blob = await store.blobs.putBytes(Buffer.concat([...compressed, ...plain]));
  const part = (i: number) => ({ size: compressed[i].length, openSize: plain[i].length });
  return { key, blob: blob.digest, primary: part(0), filelists: part(1), other: part(2) };
}

/** Below this much text, hashing on the calling thread is cheaper than starting one. */
const THREAD_ABOVE = 8 << 20;

/** The open-checksums of the three files, from the texts in the page blobs. */
function openChecksums(store: Store, rows: RepodataPage[], heads: Buffer[], tails: Buffer[], threadAbove: number): Promise<string[]> {
  const paths = rows.map((r) => store.blobs.localPath(r.blob));
  const local = paths.every((p) => p !== undefined);
  const job: TextHashJob = {
    heads,
    tails,
    pages: rows.map((r, i) => ({ path: paths[i] ?? '', offset: layout(r).compressed, lengths: KINDS.map((k) => r[k].openSize) })),
  };
  const plain = rows.reduce((n, r) => n + layout(r).plain, 0);
  if (local && plain < threadAbove) {
    try {
      return Promise.resolve(hashTexts(job));
    } catch (e) {
      return Promise.reject(missingOr(e as Error));
    }
  }
  if (!local) return hashRemote(store, rows, heads, tails);
  return onThread(job);
}

/** A page blob that is absent or shorter than its row says is a MissingPageError. */
function missingOr(e: Error): Error {
  return /ENOENT|shorter than/.test(e.message) ? new MissingPageError(e.message) : e;
}

/** One thread for all three: on a 2-core machine more threads only contend. */
function onThread(job: TextHashJob): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./text-hash-worker.ts', import.meta.url));
    worker.once('message', (reply: TextHashReply) => {
      void worker.terminate();
      if (reply.digests) resolve(reply.digests);
      else reject(missingOr(new Error(`hashing the metadata texts: ${reply.error}`)));
    });
    worker.once('error', reject);
    worker.postMessage(job);
  });
}

/** For blob stores without local files: read each page's texts and hash them here. */
async function hashRemote(store: Store, rows: RepodataPage[], heads: Buffer[], tails: Buffer[]): Promise<string[]> {
  const hashes = heads.map((h) => createHash('sha256').update(h));
  for (const r of rows) {
    const { compressed, total } = layout(r);
    const texts = await store.blobs.read(r.blob, { start: compressed, end: total });
    if (!texts) throw new Error(`repodata page blob ${r.blob} is missing`);
    let at = 0;
    for (const [i, k] of KINDS.entries()) hashes[i].update(texts.subarray(at, (at += r[k].openSize)));
  }
  return hashes.map((h, i) => h.update(tails[i]).digest('hex'));
}

/** One metadata file being assembled from gzip members, as a blob. */
class MetadataFile {
  private openSize = 0;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  readonly kind: Kind;
  private readonly writer: BlobWriter;

  constructor(kind: Kind, writer: BlobWriter) {
    this.kind = kind;
    this.writer = writer;
  }

  async add(compressed: Buffer, openSize: number): Promise<void> {
    this.openSize += openSize;
    // Batched: a page's member is a few KiB, a write per member would dominate.
    this.pending.push(compressed);
    this.pendingSize += compressed.length;
    if (this.pendingSize >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingSize === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingSize = 0;
    await this.writer.write(data);
  }

  async abort(): Promise<void> {
    await this.writer.abort();
  }

  async finish(timestamp: number, openChecksum: string): Promise<{ record: RepomdRecord; file: SnapshotFile }> {
    await this.flush();
    const blob = await this.writer.commit();
    const href = `repodata/${blob.digest}-${this.kind}.xml.gz`;
    return {
      record: {
        type: this.kind,
        href,
        checksum: { type: 'sha256', value: blob.digest },
        openChecksum: { type: 'sha256', value: openChecksum },
        timestamp,
        size: blob.size,
        openSize: this.openSize,
      },
      file: { href, digest: blob.digest, size: blob.size, kind: 'metadata' },
    };
  }
}

/** Pages read ahead of the one being written, so that reads overlap. */
const LOOKAHEAD = 8;

/** A cached page's blob is gone or short (a gc raced us, or the store was damaged). */
class MissingPageError extends Error {
  override name = 'MissingPageError';
}

export interface RepodataOptions {
  timestamp: number;
  extra?: RepomdRecord[];
  changelogLimit?: number;
  /** Text size from which a thread hashes it. */
  threadAbove?: number;
}

export async function generateRepodata(store: Store, pages: (PageRef | PackagePage)[], opts: RepodataOptions): Promise<GeneratedRepodata> {
  // The cache is trusted first (checking 600 blobs costs more than the rest of a small
  // deploy); a page blob found missing sends us round again, checking each one.
  try {
    return await generate(store, pages, opts, false);
  } catch (e) {
    if (!(e instanceof MissingPageError)) throw e;
    return generate(store, pages, opts, true);
  }
}

async function generate(store: Store, pages: (PageRef | PackagePage)[], opts: RepodataOptions, verify: boolean): Promise<GeneratedRepodata> {
  const changelogLimit = opts.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT;
  const keys = pages.map((p) => renderKey(p, changelogLimit));
  const cached = await store.catalog.getRepodataPages(keys);
  const count = pages.reduce((n, p) => n + p.count, 0);

  // Every page rendered, its blob present: a cached page whose blob is gone (after a
  // gc, say) is rendered again.
  const rows: RepodataPage[] = new Array(pages.length);
  const made: RepodataPage[] = [];
  await eachLimited(pages.map((_, i) => i), 16, async (i) => {
    const row = cached.get(keys[i]);
    if (row && (!verify || (await store.blobs.stat(row.blob))?.size === layout(row).total)) rows[i] = row;
    else made.push((rows[i] = await renderPage(store, pages[i], keys[i], changelogLimit)));
  });
  if (made.length) await store.catalog.putRepodataPages(made);

  const heads = KINDS.map((k) => Buffer.from(DOCUMENT[k].header(count)));
  const tails = KINDS.map((k) => Buffer.from(DOCUMENT[k].footer));
  const checksums = openChecksums(store, rows, heads, tails, opts.threadAbove ?? THREAD_ABOVE);
  checksums.catch(() => {}); // awaited below; a failure meanwhile must not go unhandled

  const files = await Promise.all(KINDS.map(async (k) => new MetadataFile(k, await store.blobs.create())));
  let assembled;
  try {
    const gzHeads = await Promise.all(heads.map((h) => gzip(h, { level: 6 })));
    for (const [i, f] of files.entries()) await f.add(gzHeads[i], heads[i].length);
    const reads: Promise<Buffer | undefined>[] = [];
    const read = (i: number) => (reads[i] ??= store.blobs.read(rows[i].blob, { start: 0, end: layout(rows[i]).compressed }));
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < Math.min(rows.length, i + 1 + LOOKAHEAD); j++) read(j).catch(() => {}); // awaited in turn
      const members = await read(i).catch((e: Error) => Promise.reject(missingOr(e)));
      delete reads[i];
      if (!members) throw new MissingPageError(`repodata page blob ${rows[i].blob} is missing`);
      let at = 0;
      for (const f of files) await f.add(members.subarray(at, (at += rows[i][f.kind].size)), rows[i][f.kind].openSize);
    }
    const gzTails = await Promise.all(tails.map((t) => gzip(t, { level: 6 })));
    for (const [i, f] of files.entries()) await f.add(gzTails[i], tails[i].length);
    const digests = await checksums;
    assembled = await Promise.all(files.map((f, i) => f.finish(opts.timestamp, digests[i])));
  } catch (e) {
    await Promise.all(files.map((f) => f.abort()));
    throw e;
  }

  const out = assembled.map((a) => a.file);
  const records = [...assembled.map((a) => a.record), ...(opts.extra ?? [])];
  const xml = Buffer.from(renderRepomd({ revision: String(opts.timestamp), content: [], repo: [], distro: [], records }));
  const repomd = await store.blobs.putBytes(xml);
  out.push({ href: 'repodata/repomd.xml', digest: repomd.digest, size: repomd.size, kind: 'metadata' });
  return { files: out, repomd: repomd.digest };
}
