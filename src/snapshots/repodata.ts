// A snapshot's repodata, generated from catalog records (never from RPM files) with
// the same renderer as `txrepo createrepo`, and stored as blobs.
//
// The cost follows the change, not the repo size. Each package page (see pages.ts) is
// rendered once: its primary, filelists and other chunks, gzipped as separate members
// and also kept uncompressed, in one cached blob. A metadata file is a header member,
// the pages' members and a footer member (assemble.ts): gzip readers (zlib, python's
// gzip, librepo/libsolv) read concatenated members as one stream, and the uncompressed
// content equals what `txrepo createrepo` writes. The uncompressed copies are there
// for the open-checksum, which covers the whole uncompressed file: hashing them is
// several times cheaper than inflating every member again.

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { eachLimited } from '../common/index.ts';
import { threadsFor, WorkerPool } from '../common/worker-pool.ts';
import {
  DEFAULT_CHANGELOG_LIMIT,
  FILELISTS_FOOTER,
  filelistsHeader,
  OTHER_FOOTER,
  otherHeader,
  PRIMARY_FOOTER,
  primaryHeader,
  renderRepomd,
  REPOMD_HREF,
  REPOMD_KEY_HREF,
  REPOMD_SIGNATURE_HREF,
  type RepomdRecord,
} from '../metadata/index.ts';
import type { PackagePage, PageRef, RepodataPage, SnapshotFile, Store } from '../store/index.ts';
import type { Signer } from './signing.ts';
import { MEMBER_GZIP, renderJob, type RenderedPage, type RenderReply, type RenderTask } from './render-worker.ts';
import { assembleFiles, FileChecksums, KINDS, pageRanges, PageReadError, type AssembledFile, type DocumentPart, type Kind, type PageParts } from './assemble.ts';

const gzip = promisify(zlib.gzip);

export interface GeneratedRepodata {
  files: SnapshotFile[];
  repomd: string;
}

const RENDER_FORMAT = 'txrepo-repodata-page-v1';

/**
 * Pages rendered at once: while one renders and is gzipped (on the renderer thread, or
 * this one), the others' catalog reads and blob writes go on. Each page in flight holds its
 * records, its texts and their compressed copies (a few MiB for a page of small
 * packages), so more would only hold more memory: 16 made a first sync of 50,000
 * packages peak at 314 MiB, 4 at 261 MiB, at the same CPU and wall time (issue 19).
 */
const RENDER_AHEAD = 4;

/** The rendered page depends on the packages and on the options of the renderer. */
function renderKey(page: PageRef, changelogLimit: number): string {
  return createHash('sha256').update(`${RENDER_FORMAT}\n${changelogLimit}\n${page.key}`).digest('hex');
}

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

type Renderer = WorkerPool<RenderTask, RenderReply, RenderedPage>;

/**
 * From this many pages to render (about 32 packages each), a renderer thread renders
 * and gzips them while this one reads the catalog and writes: a first sync or deploy of
 * thousands of packages. Below, starting the thread costs more than it saves. (Its
 * isolate adds 20-40 MiB: once too much for a first sync of 50,000 packages and its
 * 300 MiB budget, it fits since bin/txrepo keeps V8's old generation near its live
 * size, --heap-growing-percent: 224 MiB with it, 185 without; issue 19.)
 */
const RENDER_THREAD_FROM = 16;

function startRenderer(pagesToRender: number): Renderer {
  const threads = pagesToRender >= RENDER_THREAD_FROM ? threadsFor(2) : 0;
  return new WorkerPool(new URL('./render-worker.ts', import.meta.url), renderJob, { threads, batch: 1, inFlight: 2, selfBatch: 1 });
}

async function renderPage(store: Store, renderer: Renderer, page: PageRef | PackagePage, key: string, changelogLimit: number): Promise<RepodataPage> {
  const packages = 'packages' in page ? page.packages : (await store.catalog.getPages([page.key])).get(page.key);
  if (!packages) throw new Error(`the catalog has no package page ${page.key}; run 'txrepo fsck'`);
  const records = await store.catalog.getPackageTexts([...new Set(packages.map((p) => p.digest))]);
  const texts = packages.map((p) => {
    const record = records.get(p.digest);
    if (!record) throw new Error(`the catalog has no record for package ${p.digest} (${p.href}); run 'txrepo fsck'`);
    return record;
  });
  const { plain, compressed } = await renderer.run({ records: texts, hrefs: packages.map((p) => p.href), changelogLimit });
  const blob = await store.blobs.putBytes(Buffer.concat([...compressed, ...plain]));
  const part = (i: number) => ({ size: compressed[i].length, openSize: plain[i].length });
  return { key, page: page.key, blob: blob.digest, primary: part(0), filelists: part(1), other: part(2) };
}

/** A cached page's blob is gone or short (a gc raced us, or the store was damaged). */
class MissingPageError extends Error {
  override name = 'MissingPageError';
}

function parts(row: RepodataPage): PageParts {
  return { sizes: KINDS.map((k) => row[k].size), openSizes: KINDS.map((k) => row[k].openSize) };
}

/** Assembled files; `install` makes them blobs (done alongside repomd.xml's write). */
interface Assembled {
  files: AssembledFile[];
  install(): Promise<void>;
}

/**
 * With local blobs: the three files written to the staging area by assembleFiles, with
 * synchronous I/O (a worker thread would cost more to start than it saves on a 2-core
 * machine). Undefined if the backend has no local files.
 */
function assembleLocal(store: Store, rows: RepodataPage[], heads: DocumentPart[], tails: DocumentPart[]): Assembled | undefined {
  const paths = rows.map((r) => store.blobs.localPath(r.blob));
  const outputs = KINDS.map(() => store.blobs.stagingPath());
  if (paths.some((p) => p === undefined) || outputs.some((p) => p === undefined)) return undefined;
  let files: AssembledFile[];
  try {
    files = assembleFiles({ heads, tails, pages: rows.map((r, i) => ({ path: paths[i]!, ...parts(r) })), outputs: outputs as string[] });
  } catch (e) {
    throw e instanceof PageReadError ? new MissingPageError(e.message) : e;
  }
  return {
    files,
    // adopt() fsyncs each file and links it into place.
    install: async () => {
      await Promise.all(files.map((f, k) => store.blobs.adopt(outputs[k]!, { digest: f.digest, size: f.size }, { hashed: true })));
    },
  };
}

/** Pages read ahead of the one being written, so that reads overlap. */
const LOOKAHEAD = 8;

/** Without local files (object storage): page blobs read and the files written as streams. */
async function assembleStreaming(store: Store, rows: RepodataPage[], heads: DocumentPart[], tails: DocumentPart[]): Promise<Assembled> {
  const writers = await Promise.all(KINDS.map(() => store.blobs.create()));
  try {
    const sums = KINDS.map(() => new FileChecksums());
    const append = async (k: number, member: Uint8Array, text: Uint8Array) => {
      sums[k].member(member);
      sums[k].text(text);
      await writers[k].write(member);
    };
    for (const k of KINDS.keys()) await append(k, heads[k].member, heads[k].text);
    const reads: Promise<Buffer | undefined>[] = [];
    const read = (i: number) => (reads[i] ??= store.blobs.read(rows[i].blob));
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < Math.min(rows.length, i + 1 + LOOKAHEAD); j++) read(j).catch(() => {}); // awaited in turn
      const blob = await read(i);
      delete reads[i];
      if (!blob || blob.length < layout(rows[i]).total) throw new MissingPageError(`repodata page blob ${rows[i].blob} is missing or short`);
      for (const k of KINDS.keys()) {
        const { member, text } = pageRanges(parts(rows[i]), k);
        await append(k, blob.subarray(...member), blob.subarray(...text));
      }
    }
    for (const k of KINDS.keys()) await append(k, tails[k].member, tails[k].text);
    const files = sums.map((s) => s.finish());
    for (const [k, f] of files.entries()) await writers[k].commit({ digest: f.digest, size: f.size });
    return { files, install: async () => {} };
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
}

export interface RepodataOptions {
  timestamp: number;
  extra?: RepomdRecord[];
  changelogLimit?: number;
  /** Signs repomd.xml: repodata/repomd.xml.asc and .key join the files. */
  signer?: Signer;
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
  const renderer = startRenderer(keys.filter((k) => !cached.has(k)).length);
  try {
    await eachLimited(pages.map((_, i) => i), RENDER_AHEAD, async (i) => {
      const row = cached.get(keys[i]);
      if (row && (!verify || (await store.blobs.stat(row.blob))?.size === layout(row).total)) rows[i] = row;
      else made.push((rows[i] = await renderPage(store, renderer, pages[i], keys[i], changelogLimit)));
    });
  } finally {
    await renderer.close();
  }
  if (made.length) await store.catalog.putRepodataPages(made);

  const document = async (texts: string[]): Promise<DocumentPart[]> =>
    Promise.all(texts.map(async (t) => ({ text: Buffer.from(t), member: await gzip(t, MEMBER_GZIP) })));
  const heads = await document(KINDS.map((k) => DOCUMENT[k].header(count)));
  const tails = await document(KINDS.map((k) => DOCUMENT[k].footer));
  const assembled = assembleLocal(store, rows, heads, tails) ?? (await assembleStreaming(store, rows, heads, tails));
  return finishRepodata(store, assembled, opts);
}

/** The records of the assembled files, and repomd.xml. */
async function finishRepodata(store: Store, assembled: Assembled, opts: RepodataOptions): Promise<GeneratedRepodata> {
  const records: RepomdRecord[] = assembled.files.map((f, k) => ({
    type: KINDS[k],
    href: `repodata/${f.digest}-${KINDS[k]}.xml.gz`,
    checksum: { type: 'sha256', value: f.digest },
    openChecksum: { type: 'sha256', value: f.openDigest },
    timestamp: opts.timestamp,
    size: f.size,
    openSize: f.openSize,
  }));
  const out: SnapshotFile[] = records.map((r) => ({ href: r.href, digest: r.checksum.value, size: r.size, kind: 'metadata' }));
  records.push(...(opts.extra ?? []));
  const xml = Buffer.from(renderRepomd({ revision: String(opts.timestamp), content: [], repo: [], distro: [], records }));
  const texts: [string, Buffer][] = [[REPOMD_HREF, xml]];
  if (opts.signer) texts.push([REPOMD_SIGNATURE_HREF, Buffer.from(await opts.signer.sign(xml))], [REPOMD_KEY_HREF, Buffer.from(opts.signer.publicKeys())]);
  // Their fsyncs overlap; the snapshot that lists them is committed after all.
  const [, ...blobs] = await Promise.all([assembled.install(), ...texts.map(([, bytes]) => store.blobs.putBytes(bytes))]);
  for (const [i, [href]] of texts.entries()) out.push({ href, digest: blobs[i].digest, size: blobs[i].size, kind: 'metadata' });
  return { files: out, repomd: blobs[0].digest };
}
