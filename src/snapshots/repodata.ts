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
// several times cheaper than inflating every member again.

import { createHash, type Hash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
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

/** A rendered page: per kind, the gzip member and the text it inflates to. */
interface PageChunks {
  compressed: Record<Kind, Buffer>;
  plain: Record<Kind, Buffer>;
}

/** The cached blob: the three gzip members, then the three texts, in KINDS order. */
function splitPageBlob(blob: Buffer, row: RepodataPage): PageChunks | undefined {
  const total = KINDS.reduce((n, k) => n + row[k].size + row[k].openSize, 0);
  if (blob.length !== total) return undefined;
  const compressed = {} as Record<Kind, Buffer>;
  const plain = {} as Record<Kind, Buffer>;
  let at = 0;
  for (const k of KINDS) compressed[k] = blob.subarray(at, (at += row[k].size));
  for (const k of KINDS) plain[k] = blob.subarray(at, (at += row[k].openSize));
  return { compressed, plain };
}

async function renderPage(store: Store, page: PageRef | PackagePage, key: string, changelogLimit: number): Promise<{ chunks: PageChunks; row: RepodataPage }> {
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
  const plain = {} as Record<Kind, Buffer>;
  for (const k of KINDS) plain[k] = Buffer.from(text[k].join(''));
  const [p, f, o] = await Promise.all(KINDS.map((k) => gzip(plain[k], { level: 6 })));
  const compressed = { primary: p, filelists: f, other: o };
  const blob = await store.blobs.putBytes(Buffer.concat([...KINDS.map((k) => compressed[k]), ...KINDS.map((k) => plain[k])]));
  const part = (k: Kind) => ({ size: compressed[k].length, openSize: plain[k].length });
  return { chunks: { compressed, plain }, row: { key, blob: blob.digest, primary: part('primary'), filelists: part('filelists'), other: part('other') } };
}

/** One metadata file being assembled: the blob, plus the open-size and open-checksum. */
class MetadataFile {
  private readonly openHash: Hash = createHash('sha256');
  private openSize = 0;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  readonly kind: Kind;
  private readonly writer: BlobWriter;

  constructor(kind: Kind, writer: BlobWriter) {
    this.kind = kind;
    this.writer = writer;
  }

  async add(compressed: Buffer, plain: Buffer): Promise<void> {
    this.openHash.update(plain);
    this.openSize += plain.length;
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

  async finish(timestamp: number): Promise<{ record: RepomdRecord; file: SnapshotFile }> {
    await this.flush();
    const blob = await this.writer.commit();
    const href = `repodata/${blob.digest}-${this.kind}.xml.gz`;
    return {
      record: {
        type: this.kind,
        href,
        checksum: { type: 'sha256', value: blob.digest },
        openChecksum: { type: 'sha256', value: this.openHash.digest('hex') },
        timestamp,
        size: blob.size,
        openSize: this.openSize,
      },
      file: { href, digest: blob.digest, size: blob.size, kind: 'metadata' },
    };
  }
}

/** Reads a page's cached rendering, or renders it (first use, or its blob is gone). */
async function loadPage(store: Store, page: PageRef | PackagePage, key: string, cached: RepodataPage | undefined, changelogLimit: number, made: RepodataPage[]): Promise<PageChunks> {
  if (cached) {
    const blob = await store.blobs.read(cached.blob);
    const chunks = blob && splitPageBlob(blob, cached);
    if (chunks) return chunks;
  }
  const { chunks, row } = await renderPage(store, page, key, changelogLimit);
  made.push(row);
  return chunks;
}

/** Pages read (or rendered) ahead of the one being written: I/O and gzip overlap. */
const LOOKAHEAD = 8;

export async function generateRepodata(
  store: Store,
  pages: (PageRef | PackagePage)[],
  opts: { timestamp: number; extra?: RepomdRecord[]; changelogLimit?: number },
): Promise<GeneratedRepodata> {
  const changelogLimit = opts.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT;
  const keys = pages.map((p) => renderKey(p, changelogLimit));
  const cached = await store.catalog.getRepodataPages(keys);
  const count = pages.reduce((n, p) => n + p.count, 0);
  const made: RepodataPage[] = [];

  const files = await Promise.all(KINDS.map(async (k) => new MetadataFile(k, await store.blobs.create())));
  try {
    const heads = await Promise.all(KINDS.map((k) => gzip(Buffer.from(DOCUMENT[k].header(count)), { level: 6 })));
    for (const [i, f] of files.entries()) await f.add(heads[i], Buffer.from(DOCUMENT[f.kind].header(count)));

    const loads: Promise<PageChunks>[] = [];
    const load = (i: number) => (loads[i] ??= loadPage(store, pages[i], keys[i], cached.get(keys[i]), changelogLimit, made));
    for (let i = 0; i < pages.length; i++) {
      for (let j = i + 1; j < Math.min(pages.length, i + 1 + LOOKAHEAD); j++) load(j).catch(() => {}); // awaited in turn below
      const chunks = await load(i);
      delete loads[i];
      for (const f of files) await f.add(chunks.compressed[f.kind], chunks.plain[f.kind]);
    }

    const feet = await Promise.all(KINDS.map((k) => gzip(Buffer.from(DOCUMENT[k].footer), { level: 6 })));
    for (const [i, f] of files.entries()) await f.add(feet[i], Buffer.from(DOCUMENT[f.kind].footer));
  } catch (e) {
    await Promise.all(files.map((f) => f.abort()));
    throw e;
  }
  const assembled = await Promise.all(files.map((f) => f.finish(opts.timestamp)));
  if (made.length) await store.catalog.putRepodataPages(made);

  const out = assembled.map((a) => a.file);
  const records = [...assembled.map((a) => a.record), ...(opts.extra ?? [])];
  const xml = Buffer.from(renderRepomd({ revision: String(opts.timestamp), content: [], repo: [], distro: [], records }));
  const repomd = await store.blobs.putBytes(xml);
  out.push({ href: 'repodata/repomd.xml', digest: repomd.digest, size: repomd.size, kind: 'metadata' });
  return { files: out, repomd: repomd.digest };
}
