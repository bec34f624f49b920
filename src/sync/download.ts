// Downloads one upstream file into the blob store: into a partial file under
// STORE/tmp (named after the URL, so a later run resumes it), with retries that
// continue where the last attempt stopped, then verified against the checksum and size
// the upstream metadata gives before it becomes a blob.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobInfo, Store } from '../store/index.ts';
import { UpstreamError, type Upstream } from './source.ts';

export interface ExpectedFile {
  checksumType: string;
  checksum: string;
  /** Size in bytes when the metadata gives it. */
  size?: number;
  /** Refuse files larger than this (when no size is known). */
  maxSize: number;
}

export class ChecksumMismatchError extends Error {
  override name = 'ChecksumMismatchError';
}

const ATTEMPTS = 4;
const BACKOFF_MS = [0, 250, 1000, 3000];

async function hashFile(path: string, type: string): Promise<string> {
  const h = createHash(type);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function downloadToBlob(store: Store, upstream: Upstream, href: string, expect: ExpectedFile): Promise<BlobInfo> {
  const url = upstream.describe(href);
  const partial = join(store.dir, 'tmp', `download-${createHash('sha256').update(url).digest('hex').slice(0, 32)}.part`);
  const limit = expect.size ?? expect.maxSize;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await sleep(BACKOFF_MS[attempt]);
    const have = (await stat(partial).catch(() => undefined))?.size ?? 0;
    if (expect.size !== undefined && have === expect.size) break; // a previous run got it all
    let fh;
    try {
      const { body, resumed } = await upstream.open(href, have > 0 && have < limit ? have : 0);
      fh = await open(partial, resumed ? 'a' : 'w');
      let size = resumed ? have : 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new ChecksumMismatchError(`${url}: larger than the ${limit} bytes ${expect.size !== undefined ? 'the metadata lists' : 'allowed'}`);
        await fh.write(chunk as Buffer);
      }
      await fh.close();
      fh = undefined;
      if (expect.size !== undefined && size !== expect.size) throw new UpstreamError(`${url}: got ${size} bytes, the metadata lists ${expect.size}`);
      break;
    } catch (e) {
      await fh?.close().catch(() => {});
      if (e instanceof ChecksumMismatchError) {
        await rm(partial, { force: true });
        throw e;
      }
      lastError = e as Error;
      if (attempt === ATTEMPTS - 1) {
        throw new UpstreamError(`${lastError.message} (gave up after ${ATTEMPTS} attempts; the partial download is kept and resumed next time)`);
      }
    }
  }
  try {
    const actual = await hashFile(partial, expect.checksumType);
    if (actual !== expect.checksum.toLowerCase()) {
      throw new ChecksumMismatchError(`${url}: ${expect.checksumType} is ${actual}, the upstream metadata lists ${expect.checksum}; refusing it`);
    }
    return await store.blobs.putFile(partial, expect.checksumType === 'sha256' ? { digest: actual } : undefined);
  } finally {
    await rm(partial, { force: true });
  }
}
