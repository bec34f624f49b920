// Hashes the uncompressed texts of a snapshot's metadata files (their open-checksums)
// on a thread of its own, while the main thread assembles the compressed files. The
// texts lie side by side in local page blobs; nothing here imports the rest of txrepo,
// so the thread starts fast.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/**
 * One digest per stream: its head, then, page by page, its text in the page, then its
 * tail. A page's texts (one per stream, in stream order) start at `offset` in `path`.
 */
export interface TextHashJob {
  heads: Uint8Array[];
  tails: Uint8Array[];
  pages: { path: string; offset: number; lengths: number[] }[];
}

export interface TextHashReply {
  digests?: string[];
  error?: string;
}

export function hashTexts(job: TextHashJob): string[] {
  const hashes = job.heads.map((head) => createHash('sha256').update(head));
  let buf = Buffer.allocUnsafe(1 << 20);
  for (const page of job.pages) {
    const total = page.lengths.reduce((a, b) => a + b, 0);
    if (buf.length < total) buf = Buffer.allocUnsafe(total);
    const fd = openSync(page.path, 'r');
    try {
      for (let got = 0; got < total; ) {
        const n = readSync(fd, buf, got, total - got, page.offset + got);
        if (n === 0) throw new Error(`${page.path}: shorter than the catalog says`);
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    let at = 0;
    for (const [i, length] of page.lengths.entries()) hashes[i].update(buf.subarray(at, (at += length)));
  }
  return hashes.map((h, i) => h.update(job.tails[i]).digest('hex'));
}

parentPort?.on('message', (job: TextHashJob) => {
  let reply: TextHashReply;
  try {
    reply = { digests: hashTexts(job) };
  } catch (e) {
    reply = { error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
