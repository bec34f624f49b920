// Serving one file of a snapshot from its blob: GET and HEAD, single byte ranges,
// ETag (the sha256) and If-None-Match, content types, and caching headers chosen by
// the caller (immutable for snapshot paths, revalidated for tag paths).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { SnapshotFile, Store } from '../store/index.ts';
import { HttpError } from './http.ts';

const TYPES: [RegExp, string][] = [
  [/\.rpm$/, 'application/x-rpm'],
  [/\.xml$/, 'application/xml'],
  [/\.gz$/, 'application/gzip'],
  [/\.xz$/, 'application/x-xz'],
  [/\.zst$/, 'application/zstd'],
  [/\.bz2$/, 'application/x-bzip2'],
  [/\.(yaml|yml)$/, 'application/yaml'],
  [/\.json$/, 'application/json'],
];

export function contentType(href: string): string {
  return TYPES.find(([re]) => re.test(href))?.[1] ?? 'application/octet-stream';
}

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
  if (start >= size || start > end) throw new HttpError(416, `range ${header} is outside the file (${size} bytes)`, { 'content-range': `bytes */${size}` });
  return { start, end };
}

export interface ServeFileOptions {
  cacheControl: string;
  lastModified?: string;
}

export async function serveFile(req: IncomingMessage, res: ServerResponse, store: Store, file: SnapshotFile, opts: ServeFileOptions): Promise<number> {
  const etag = `"${file.digest}"`;
  const headers: Record<string, string> = {
    'content-type': contentType(file.href),
    etag,
    'cache-control': opts.cacheControl,
    'accept-ranges': 'bytes',
  };
  if (opts.lastModified) headers['last-modified'] = new Date(opts.lastModified).toUTCString();
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return 0;
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
    return 0;
  }
  let body;
  try {
    body = await store.blobs.open(file.digest, { start, end });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(410, `${file.href} is gone from the store (removed by gc)`);
    throw e;
  }
  res.writeHead(range ? 206 : 200, headers);
  // A client that goes away ends the pipeline with an error: not ours to report.
  await pipeline(body, res).catch(() => {});
  return length;
}
