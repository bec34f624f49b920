// Small HTTP helpers for the server: safe path parsing, JSON in and out, errors as
// statuses.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request to answer with a status and a message (never a stack). */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
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

/** HTTP status for a failure of the core, by its type. */
export function statusOf(e: Error): number {
  if (e instanceof HttpError) return e.status;
  const storage = storageStatus(e);
  if (storage) return storage;
  switch (e.name) {
    case 'NotFoundError':
      return 404;
    case 'ConflictError':
    case 'AlreadyExistsError':
      return 409;
    case 'UpstreamError':
      return 502;
    case 'InvalidNameError':
    case 'RequestError':
    case 'RefError':
    case 'DeployInputError':
    case 'BlobMismatchError':
    case 'ChecksumMismatchError':
    case 'UnsafeHrefError':
    case 'RpmFormatError':
    case 'PackageFileError':
    case 'MetadataParseError':
    case 'DecompressionLimitError':
    case 'RepomdError':
    case 'ExportError':
      return 400;
    default:
      return 500;
  }
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
export function failure(req: IncomingMessage, e: Error): { status: number; body: { error: { type: string; message: string } }; headers: Record<string, string> } {
  const status = statusOf(e);
  if (status >= 500) process.stderr.write(`txrepo serve: ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
  const message = status >= 500 && !(e instanceof HttpError) && !storageStatus(e) ? 'internal error (see the server log)' : shorten(e.message);
  // HttpError is the server's own: clients get what kind of refusal it is.
  const type = e instanceof HttpError ? (status === 401 ? 'AuthError' : 'RequestError') : e.name;
  return { status, body: { error: { type, message } }, headers: e instanceof HttpError ? e.headers : {} };
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
