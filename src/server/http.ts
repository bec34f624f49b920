// Small HTTP helpers for the server: safe path parsing, JSON in and out, errors as
// statuses.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorDocument, HTTP_STATUS, kindOf, kindOfStatus, type FailureKind } from '../common/index.ts';

/** A request to answer with a status and a message (never a stack). */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly headers: Record<string, string>;
  /** What kind of refusal it is, for the error body (src/common/failures.ts). */
  readonly kind: FailureKind;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.kind = kindOfStatus(status);
  }
}

export const MAX_PATH = 4096;

/**
 * The decoded segments of a URL path. Refuses what no txrepo path has and what could
 * mean something else to another layer: empty, '.' or '..' segments (also encoded),
 * NUL, backslashes, control characters, and overlong paths.
 */
export function pathSegments(rawUrl: string): string[] {
  if (rawUrl.length > MAX_PATH) throw new HttpError(414, `the path is longer than ${MAX_PATH} characters`);
  const pathname = rawUrl.split('?')[0];
  if (!pathname.startsWith('/')) throw new HttpError(400, 'the path must start with /');
  if (pathname === '/') return [];
  const raw = pathname.slice(1).split('/');
  const trailing = raw.length > 1 && raw[raw.length - 1] === '';
  if (trailing) raw.pop();
  return raw.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `bad percent-encoding in ${JSON.stringify(s)}`);
    }
    if (d === '' && raw.length > 1) throw new HttpError(400, 'empty path segment');
    if (d === '.' || d === '..') throw new HttpError(400, "'.' and '..' are not allowed in paths");
    if (/[\0-\x1f\x7f\\/]/.test(d)) throw new HttpError(400, 'control characters, backslashes and encoded slashes are not allowed in paths');
    return d;
  });
}

export function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://x').searchParams;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Reads a JSON request body of at most `limit` bytes (empty: {}). */
export async function readJson(req: IncomingMessage, limit = 1 << 20): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `the request body is ${declared} bytes; at most ${limit} are accepted`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the request body is not JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The store's disk is full (507 Insufficient Storage) or read-only (503): the server
 * is fine, the request may succeed later, and the client should be told why.
 */
export function storageStatus(e: Error): 507 | 503 | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || (e.name === 'StoreError' && /no space left/.test(e.message))) return 507;
  if (code === 'EROFS' || (e.name === 'StoreError' && /read-only file system/.test(e.message))) return 503;
  return undefined;
}

/** HTTP status for a failure: its own (HttpError), the store's disk, else its kind's. */
export function statusOf(e: Error): number {
  if (e instanceof HttpError) return e.status;
  return storageStatus(e) ?? HTTP_STATUS[kindOf(e)];
}

/**
 * Refusals quote the input they refuse, and a request body may hold a megabyte in one
 * field: the client gets the start of such a message, not its input echoed whole.
 */
function shorten(message: string): string {
  return message.length > 4096 ? `${message.slice(0, 4000)}… (${message.length} characters)` : message;
}

/**
 * The answer to a failed request: its status and JSON body. A server's own failure (a
 * bug) is logged to stderr, and the client only hears that there was one; a full or
 * read-only store is not a bug, and the client gets the reason.
 */
export function failure(req: IncomingMessage, e: Error): { status: number; body: ReturnType<typeof errorDocument>; headers: Record<string, string> } {
  const status = statusOf(e);
  if (status >= 500) process.stderr.write(`txrepo serve: ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
  // A full or read-only store is not a bug: the client gets the reason. Other failures
  // of the server's own may name its insides: the log has them.
  const kind = kindOf(e);
  const hidden = status >= 500 && !(e instanceof HttpError) && !storageStatus(e);
  const message = !hidden ? shorten(e.message) : kind === 'unavailable' ? 'the store cannot be used now (see the server log); try again later' : 'internal error (see the server log)';
  return { status, body: errorDocument(kind, message), headers: e instanceof HttpError ? e.headers : {} };
}

/** Field checks for API bodies: a clear 400 that names the field. */
export const field = {
  string(body: Record<string, unknown>, name: string, required = false): string | undefined {
    const v = body[name];
    if (v === undefined || v === null) {
      if (required) throw new HttpError(400, `give "${name}" (a string)`);
      return undefined;
    }
    if (typeof v !== 'string') throw new HttpError(400, `"${name}" must be a string`);
    return v;
  },
  number(body: Record<string, unknown>, name: string): number | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `"${name}" must be a number`);
    return v;
  },
  boolean(body: Record<string, unknown>, name: string): boolean | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new HttpError(400, `"${name}" must be true or false`);
    return v;
  },
  strings(body: Record<string, unknown>, name: string): string[] {
    const v = body[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new HttpError(400, `"${name}" must be a list of strings`);
    return v as string[];
  },
};
