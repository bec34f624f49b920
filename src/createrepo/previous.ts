// The previous metadata of a repo directory, for --update: each unchanged package's
// chunks of primary, filelists and other, ready to be copied into the new files.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compressionOf, decompressBuffer, parseRepomd, splitByPkgid, splitPrimary, type RenderedPackage, type Repomd } from '../metadata/index.ts';

export interface PreviousPackage {
  checksumType: string;
  base?: string;
  timeFile: number;
  sizePackage: number;
  rendered: RenderedPackage;
}

export interface PreviousMetadata {
  repomd?: Repomd;
  /** By location href, for --update; empty when the old metadata is unusable. */
  packages: Map<string, PreviousPackage>;
  /** Location hrefs in the order of the old primary.xml. */
  order: string[];
}

/** Old metadata files are at most this big uncompressed (a bound against bombs). */
const MAX_OPEN_SIZE = 4 * 1024 * 1024 * 1024;

async function openFile(dir: string, repomd: Repomd, type: string): Promise<Buffer> {
  const rec = repomd.records.find((r) => r.type === type);
  if (!rec) throw new Error(`repomd.xml lists no ${type}`);
  const raw = await readFile(join(dir, rec.href));
  if (createHash(rec.checksum.type).update(raw).digest('hex') !== rec.checksum.value) throw new Error(`${rec.href} does not match its checksum in repomd.xml`);
  return decompressBuffer(compressionOf(rec.href), raw, MAX_OPEN_SIZE, rec.href);
}

/**
 * Loads the previous repomd.xml and, with `packages`, the chunks of every package.
 * Problems are reported through `warn`, and mean a full run: --update is an
 * optimisation, never a reason to fail.
 */
export async function loadPrevious(dir: string, packages: boolean, warn: (m: string) => void): Promise<PreviousMetadata> {
  const result: PreviousMetadata = { packages: new Map(), order: [] };
  const path = join(dir, 'repodata', 'repomd.xml');
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch {
    return result;
  }
  try {
    result.repomd = parseRepomd(xml, path);
    if (!packages) return result;
    const [primary, filelists, other] = await Promise.all(['primary', 'filelists', 'other'].map((t) => openFile(dir, result.repomd!, t)));
    const prim = splitPrimary(primary);
    const fl = splitByPkgid(filelists, 'filelists');
    const ot = splitByPkgid(other, 'otherdata');
    if (!prim || !fl || !ot) throw new Error('its layout is not the one createrepo_c writes');
    for (const p of prim) {
      const f = fl.get(p.pkgid)?.shift();
      const o = ot.get(p.pkgid)?.shift();
      const href = p.href.replace(/^(\.\/)+/, '');
      result.order.push(href);
      if (!f || !o) continue; // incomplete: this package will be read again
      result.packages.set(href, {
        checksumType: p.checksumType,
        base: p.base,
        timeFile: p.timeFile,
        sizePackage: p.sizePackage,
        rendered: { primary: p.bytes, filelists: f, other: o },
      });
    }
  } catch (e) {
    warn(`--update: the existing metadata cannot be reused (${(e as Error).message}); reading every package`);
    result.packages.clear();
    result.order = [];
  }
  return result;
}
