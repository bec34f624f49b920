// MetadataFileWriter copies small chunks into blocks and passes big ones as they are:
// whatever the mix, the file holds every byte once, in the order written, and its
// record's sizes and checksums are those of what was written.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { test } from 'node:test';
import { MetadataFileWriter, type CompressionType } from '../../src/metadata/index.ts';

/** Chunks around the writer's block size (256 KiB): tiny, multi-byte, block-sized, bigger. */
function chunks(): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  let n = 0;
  const text = (len: number) => `<p n="${n++}">${'Zoë 🎄 &amp; x'.repeat(Math.ceil(len / 14)).slice(0, len)}</p>\n`;
  const bytes = (len: number) => Buffer.from(`<b n="${n++}">${'y'.repeat(len)}</b>\n`);
  for (let i = 0; i < 3000; i++) out.push(i % 3 ? text(40 + (i % 97)) : bytes(30 + (i % 50)));
  out.push(text(100_000), bytes(100_000), text(300_000), bytes(300_000), text(45_000));
  for (let i = 0; i < 500; i++) out.push(i % 2 ? text(2000) : bytes(1500));
  out.push(bytes(1 << 20));
  // A small last chunk, as a file's footer: still in its block when the file finishes.
  out.push('</metadata>\n');
  return out;
}

for (const compression of ['none', 'gz', 'zstd'] as CompressionType[]) {
  test(`the file holds every chunk in order (${compression}), with the record's sizes and checksums`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'txrepo-writer-'));
    try {
      const w = await MetadataFileWriter.create({ dir, type: 'other', name: 'other.xml', compression, checksumType: 'sha256', uniqueName: true });
      const expected: Buffer[] = [];
      for (const c of chunks()) {
        expected.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
        // Like writePackageMetadata: wait only when told to.
        const wait = w.write(c);
        if (wait) await wait;
      }
      const record = await w.finish();
      const stored = await readFile(join(dir, record.href.replace(/^repodata\//, '')));
      const plain = compression === 'gz' ? gunzipSync(stored) : compression === 'zstd' ? zstdDecompressSync(stored) : stored;
      const want = Buffer.concat(expected);
      assert.equal(plain.length, want.length);
      assert.ok(plain.equals(want), 'the file differs from the chunks written');
      assert.equal(record.size, stored.length);
      assert.equal(record.checksum.value, createHash('sha256').update(stored).digest('hex'));
      if (compression !== 'none') {
        assert.equal(record.openSize, want.length);
        assert.equal(record.openChecksum?.value, createHash('sha256').update(want).digest('hex'));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
