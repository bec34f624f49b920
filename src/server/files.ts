// Serving one file of a snapshot from its blob: GET and HEAD, single byte ranges,
// ETag (the sha256) and If-None-Match, content types, and caching headers chosen by
// the caller (immutable for snapshot paths, revalidated for tag paths).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { BlobDamagedError, type SnapshotFile, type Store } from '../store/index.ts';
import { contentTypeOf } from '../metadata/index.ts';
import { HttpError } from './http.ts';

/** The one range of a Range header we serve; undefined: the whole file. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: answer with the whole file, as RFC 9110 allows.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) throw new HttpError('range_not_satisfiable', `range ${header} is outside the file (${size} bytes)`, { 'content-range': `bytes */${size}` });
  return { start, end };
}

export interface ServeFileOptions {
  cacheControl: string;
  lastModified?: string;
  /**
   * Send clients of packages to the blob store's own URL for them (object storage's
   * presigned URL, valid this many seconds) rather than streaming them through txrepo.
   */
  redirectSeconds?: number;
}

/** HTTP dates of snapshot times, as served: a few snapshots answer most requests, and formatting a date costs more than a lookup. */
const httpDates = new Map<string, string>();
function httpDate(iso: string): string {
  let text = httpDates.get(iso);
  if (text === undefined) {
    if (httpDates.size >= 1024) httpDates.clear();
    text = new Date(iso).toUTCString();
    httpDates.set(iso, text);
  }
  return text;
}

/**
 * The headers of a file's answer, whichever way it goes out (serveFile here, or the
 * fast lane's whole-file answer, fast-lane.ts): its type, ETag (the sha256), caching.
 */
export function fileHeaders(file: SnapshotFile, opts: Pick<ServeFileOptions, 'cacheControl' | 'lastModified'>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(file.href),
    etag: `"${file.digest}"`,
    'cache-control': opts.cacheControl,
    'accept-ranges': 'bytes',
  };
  if (opts.lastModified) headers['last-modified'] = httpDate(opts.lastModified);
  // XML is the one type served here that a browser would render (an upstream's extra
  // metadata could be XHTML with a script in it): it is offered as a download.
  if (headers['content-type'] === 'application/xml') headers['content-disposition'] = 'attachment';
  return headers;
}

export async function serveFile(req: IncomingMessage, res: ServerResponse, store: Store, file: SnapshotFile, opts: ServeFileOptions): Promise<void> {
  const headers = fileHeaders(file, opts);
  const etag = headers.etag;
  // A missing blob: quarantined by fsck --repair (damaged), or removed by gc.
  const missing = async (): Promise<never> => {
    if (await store.blobs.quarantined(file.digest)) throw damaged(file, 'quarantined');
    throw new HttpError('gone', `${file.href} is gone from the store (removed by gc)`);
  };
  const gone = (e: NodeJS.ErrnoException): Promise<never> => (e.code === 'ENOENT' ? missing() : Promise.reject(e));
  if (opts.redirectSeconds && file.kind === 'package') {
    const url = await store.blobs.downloadUrl(file.digest, { expiresIn: opts.redirectSeconds });
    if (url !== undefined) {
      // The bucket would send whatever it holds: a missing or quarantined blob, or one
      // of another size, is answered here (one look at the object, no read of it).
      const stored = (await store.blobs.stat(file.digest)) ?? (await missing());
      if (stored.size !== file.size) throw damaged(file, stored.size);
      // Not cached: the URL it points at expires. A client re-sends its Range there.
      res.writeHead(302, { location: url, 'cache-control': 'no-store', 'content-length': '0' });
      res.end();
      return;
    }
  }
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? byteRange(req.headers.range, file.size) : undefined;
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
  headers['content-length'] = String(length);
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(range ? 206 : 200, headers);
    res.end();
    return;
  }
  const path = store.blobs.localPath(file.digest);
  if (path !== undefined) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      return gone(e as NodeJS.ErrnoException);
    }
    try {
      // The one check of the content that costs no read: a blob of another size than
      // the catalog's is damaged, and its bytes are not this file.
      const size = fstatSync(fd).size;
      if (size !== file.size) throw damaged(file, size);
      await sendRange(res, fd, start, length, () => res.writeHead(range ? 206 : 200, headers));
    } finally {
      closeSync(fd);
    }
    return;
  }
  const body = await store.blobs.open(file.digest, { start, end }, { size: file.size }).catch((e) => (e instanceof BlobDamagedError ? Promise.reject(damaged(file, e.stored)) : gone(e)));
  res.writeHead(range ? 206 : 200, headers);
  // A client that goes away ends the pipeline with an error: not ours to report.
  await pipeline(body, res).catch(() => {});
}

/** The largest file the fast lane sends (fast-lane.ts): read whole into its answer, sent in one write. */
export const WHOLE_FILE_MAX = 1 << 20;

/**
 * A small file's bytes, read from its local blob into one buffer after `room` bytes
 * left for the answer's head. Undefined wherever serveFile is to answer instead: a
 * file larger than WHOLE_FILE_MAX, a blob not on local disk, missing, or of another
 * size than the catalog's (damaged; serveFile says so).
 */
export function readWholeFile(store: Store, file: SnapshotFile, room: number): Buffer | undefined {
  if (file.size > WHOLE_FILE_MAX) return undefined;
  const path = store.blobs.localPath(file.digest);
  if (path === undefined) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    if (fstatSync(fd).size !== file.size) return undefined;
    const out = Buffer.allocUnsafe(room + file.size);
    for (let got = 0; got < file.size; ) {
      const n = readSync(fd, out, room + got, file.size - got, got);
      if (n === 0) return undefined; // shrank while read: never send unread bytes
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The answer for a file whose blob is damaged: an error that says so, never its bytes.
 * `stored`: the size of the blob stored, or 'quarantined' (by fsck --repair).
 */
function damaged(file: SnapshotFile, stored: number | undefined | 'quarantined'): HttpError {
  const why = stored === 'quarantined' ? 'its blob was found damaged and quarantined' : `its blob has ${stored ?? 'another number of'} bytes, not ${file.size}`;
  return new HttpError('damaged', `${file.href} (sha256 ${file.digest}) cannot be served: ${why}; the store's admin can run 'txrepo fsck --repair --from DIR|URL' with a good copy, or deploy the file again`);
}

function drainedOrClosed(res: ServerResponse): Promise<'drained' | 'closed'> {
  return new Promise((resolve) => {
    const settle = (how: 'drained' | 'closed') => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(how);
    };
    const onDrain = settle('drained');
    const onClose = settle('closed');
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Chunks of a local file sent in one write each: few round trips, little garbage (and the socket's high-water mark, server.ts). */
const CHUNK = 512 << 10;

/**
 * Read buffers, reused once the socket has taken their bytes: fresh memory for every
 * chunk would cost page faults and garbage collection on every request, more than
 * the reads themselves.
 */
const pool: Buffer[] = [];
const POOL_MAX = 64;
const take = () => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const give = (b: Buffer) => {
  if (pool.length < POOL_MAX) pool.push(b);
};

/**
 * Sends `length` bytes of the local file `fd` from `start`: a small file in one write,
 * a large one chunk by chunk, waiting for the socket to drain. The reads are
 * synchronous: a blob is read from the page cache in microseconds, where a round trip
 * through the thread pool (open, read, close) costs more than the read, and a server
 * under load spends its time on them (like nginx, which reads in its event loop too).
 * `begin` writes the headers once the first chunk is read (a failing read still gets
 * an error status).
 */
async function sendRange(res: ServerResponse, fd: number, start: number, length: number, begin: () => void): Promise<void> {
  const readChunk = (at: number): Buffer => {
    const buf = take();
    const view = buf.subarray(0, Math.min(CHUNK, length - at));
    try {
      for (let got = 0; got < view.length; ) {
        const n = readSync(fd, view, got, view.length - got, start + at + got);
        if (n === 0) throw new Error(`blob shorter than the catalog says (${start + at + got} bytes)`);
        got += n;
      }
    } catch (e) {
      give(buf);
      throw e;
    }
    return view;
  };
  // The buffer goes back to the pool when the socket is done with its bytes.
  const release = (view: Buffer) => () => give(Buffer.from(view.buffer, view.byteOffset, CHUNK));
  let chunk = readChunk(0);
  begin();
  for (let at = chunk.length; ; ) {
    if (at === length) {
      res.end(chunk, release(chunk));
      return;
    }
    if (!res.write(chunk, release(chunk)) && (await drainedOrClosed(res)) === 'closed') return;
    chunk = readChunk(at);
    at += chunk.length;
  }
}

