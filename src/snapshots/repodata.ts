// A snapshot's repodata, generated from catalog records (never from RPM files) with
// the same renderer as `txrepo createrepo`, and stored as blobs.
//
// The cost follows the change, not the repo size: packages (in createrepo_c's order)
// are cut into pages at content-defined boundaries, each page's three chunks are
// rendered and gzipped once and cached (catalog: repodata_pages; blobs: the members).
// A metadata file is a header member, the page members and a footer member: gzip
// readers (zlib, python's gzip, librepo/libsolv) read concatenated members as one
// stream, and the uncompressed content equals what `txrepo createrepo` writes.

import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
import type { PagePart, RepodataPage, SnapshotFile, Store } from '../store/index.ts';

const gzip = promisify(zlib.gzip);

export interface GeneratedRepodata {
  files: SnapshotFile[];
  repomd: string;
}

export interface PackageRef {
  href: string;
  digest: string;
}

const baseName = (href: string) => href.slice(href.lastIndexOf('/') + 1);

/** createrepo_c's package order: by file name, then by path. */
export function byFileNameThenPath(a: PackageRef, b: PackageRef): number {
  const na = baseName(a.href);
  const nb = baseName(b.href);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.href < b.href ? -1 : a.href > b.href ? 1 : 0;
}

/** A page ends after a package whose href hashes to 0 mod 32: ~32 packages a page,
 * and inserting a package changes only the page it lands in. */
function endsPage(href: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < href.length; i++) {
    h ^= href.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h & 31) === 0;
}

export function pages(refs: PackageRef[]): PackageRef[][] {
  const out: PackageRef[][] = [];
  let page: PackageRef[] = [];
  for (const r of refs) {
    page.push(r);
    if (endsPage(r.href)) {
      out.push(page);
      page = [];
    }
  }
  if (page.length) out.push(page);
  return out;
}

const FORMAT = 'txrepo-page-v1';

function pageKey(page: PackageRef[], changelogLimit: number): string {
  const h = createHash('sha256').update(`${FORMAT}\n${changelogLimit}\n`);
  for (const p of page) h.update(`${p.href}\0${p.digest}\n`);
  return h.digest('hex');
}

type Kind = 'primary' | 'filelists' | 'other';
const KINDS: Kind[] = ['primary', 'filelists', 'other'];
const DOCUMENT: Record<Kind, { header: (n: number) => string; footer: string }> = {
  primary: { header: primaryHeader, footer: PRIMARY_FOOTER },
  filelists: { header: filelistsHeader, footer: FILELISTS_FOOTER },
  other: { header: otherHeader, footer: OTHER_FOOTER },
};

async function member(store: Store, text: string | Buffer): Promise<PagePart & { bytes: Buffer; plain: Buffer }> {
  const plain = typeof text === 'string' ? Buffer.from(text) : text;
  const bytes = await gzip(plain, { level: 6 });
  const info = await store.blobs.putBytes(bytes);
  return { ...info, openSize: plain.length, bytes, plain };
}

/** Renders and caches the pages the catalog does not have yet. */
async function renderPages(store: Store, missing: { key: string; page: PackageRef[] }[], changelogLimit: number): Promise<RepodataPage[]> {
  const records = await store.catalog.getPackages([...new Set(missing.flatMap((m) => m.page.map((p) => p.digest)))]);
  const made: RepodataPage[] = [];
  for (const { key, page } of missing) {
    const text: Record<Kind, string[]> = { primary: [], filelists: [], other: [] };
    for (const p of page) {
      const record = records.get(p.digest);
      if (!record) throw new Error(`the catalog has no record for package ${p.digest} (${p.href})`);
      const r = renderPackage({ ...record, locationHref: p.href }, changelogLimit);
      text.primary.push(r.primary as string);
      text.filelists.push(r.filelists as string);
      text.other.push(r.other as string);
    }
    const [primary, filelists, other] = await Promise.all(KINDS.map((k) => member(store, text[k].join(''))));
    const strip = ({ digest, size, openSize }: PagePart) => ({ digest, size, openSize });
    made.push({ key, primary: strip(primary), filelists: strip(filelists), other: strip(other) });
  }
  await store.catalog.putRepodataPages(made);
  return made;
}

async function readBlob(store: Store, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await store.blobs.open(digest)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Concatenates header, page members and footer into the metadata file, as a blob. */
async function assemble(store: Store, kind: Kind, count: number, parts: PagePart[], timestamp: number): Promise<{ record: RepomdRecord; file: SnapshotFile }> {
  const head = await member(store, DOCUMENT[kind].header(count));
  const foot = await member(store, DOCUMENT[kind].footer);
  const hash = createHash('sha256');
  const openHash = createHash('sha256').update(head.plain);
  let size = 0;
  let openSize = head.openSize;
  const temp = join(store.dir, 'tmp', `${kind}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const fh = await open(temp, 'w');
  try {
    const write = async (bytes: Buffer) => {
      hash.update(bytes);
      size += bytes.length;
      await fh.write(bytes);
    };
    await write(head.bytes);
    for (const part of parts) {
      const bytes = await readBlob(store, part.digest);
      await write(bytes);
      // The open-checksum covers the uncompressed whole, so each member is inflated once here.
      openHash.update(zlib.gunzipSync(bytes));
      openSize += part.openSize;
    }
    await write(foot.bytes);
    openHash.update(foot.plain);
    openSize += foot.openSize;
    await fh.close();
    const checksum = hash.digest('hex');
    const info = await store.blobs.putFile(temp, { digest: checksum, size });
    const href = `repodata/${checksum}-${kind}.xml.gz`;
    return {
      record: { type: kind, href, checksum: { type: 'sha256', value: checksum }, openChecksum: { type: 'sha256', value: openHash.digest('hex') }, timestamp, size, openSize },
      file: { href, digest: info.digest, size: info.size, kind: 'metadata' },
    };
  } finally {
    await fh.close().catch(() => {});
    await rm(temp, { force: true });
  }
}

export async function generateRepodata(store: Store, packages: PackageRef[], opts: { timestamp: number; extra?: RepomdRecord[]; changelogLimit?: number }): Promise<GeneratedRepodata> {
  const changelogLimit = opts.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT;
  const sorted = [...packages].sort(byFileNameThenPath);
  const cut = pages(sorted).map((page) => ({ key: pageKey(page, changelogLimit), page }));
  const cached = await store.catalog.getRepodataPages(cut.map((c) => c.key));
  // A cached page whose member blobs are gone (after a gc, say) is rendered again.
  const usable = new Map<string, RepodataPage>();
  for (const [key, page] of cached) if ((await store.blobs.stat(page.primary.digest)) && (await store.blobs.stat(page.filelists.digest)) && (await store.blobs.stat(page.other.digest))) usable.set(key, page);
  const missing = cut.filter((c) => !usable.has(c.key));
  for (const page of await renderPages(store, missing, changelogLimit)) usable.set(page.key, page);

  const assembled = await Promise.all(KINDS.map((k) => assemble(store, k, sorted.length, cut.map((c) => usable.get(c.key)![k]), opts.timestamp)));
  const files = assembled.map((a) => a.file);
  const all = [...assembled.map((a) => a.record), ...(opts.extra ?? [])];
  const xml = Buffer.from(renderRepomd({ revision: String(opts.timestamp), content: [], repo: [], distro: [], records: all }));
  const repomd = await store.blobs.putBytes(xml);
  files.push({ href: 'repodata/repomd.xml', digest: repomd.digest, size: repomd.size, kind: 'metadata' });
  return { files, repomd: repomd.digest };
}
