// Reading and comparing repo metadata in tests.

import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

export { mdcompare } from './mdcompare.ts';

export async function tempDir(prefix = 'txrepo-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Copies a directory, dereferencing symlinks and keeping mtimes (which metadata records). */
export async function copyTree(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, dereference: true, preserveTimestamps: true });
}

export function decompress(name: string, data: Buffer): Buffer {
  if (name.endsWith('.gz')) return zlib.gunzipSync(data);
  if (name.endsWith('.zst')) return zlib.zstdDecompressSync(data);
  if (name.endsWith('.xz')) return execFileSync('xz', ['-dc'], { input: data, maxBuffer: 1 << 30 });
  return data;
}

export interface DataRecord {
  type: string;
  href: string;
  checksum: string;
  checksumType: string;
}

export async function repomdRecords(root: string): Promise<DataRecord[]> {
  const xml = await readFile(join(root, 'repodata/repomd.xml'), 'utf8');
  const out: DataRecord[] = [];
  for (const m of xml.matchAll(/<data type="([^"]+)">([\s\S]*?)<\/data>/g)) {
    const body = m[2];
    const ck = /<checksum type="([^"]+)">([0-9a-f]+)<\/checksum>/.exec(body)!;
    out.push({ type: m[1], href: /<location href="([^"]+)"/.exec(body)![1], checksum: ck[2], checksumType: ck[1] });
  }
  return out;
}

/** The uncompressed content of a metadata type, with file mtimes blanked. */
export async function metadataText(root: string, type: string): Promise<string> {
  const rec = (await repomdRecords(root)).find((r) => r.type === type);
  if (!rec) throw new Error(`${root}: no ${type} record`);
  const data = decompress(rec.href, await readFile(join(root, rec.href)));
  return data.toString('utf8').replace(/<time file="[0-9]+"/g, '<time file="-"');
}

export async function listRepodata(root: string): Promise<string[]> {
  return (await readdir(join(root, 'repodata'))).sort();
}
