// Small HTTP helpers for the server: safe path parsing, JSON out, the answer to a
// failure (its status follows from its kind: src/common/failures.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorDocument, Failure, httpStatusOf, isWithheld, kindOf, typeOf, type ErrorDocument, type FailureKind } from '../common/index.ts';

/** A request refused by the HTTP layer itself, with its kind and the headers that go with it. */
export class HttpError extends Failure {
  override name = 'HttpError';
  readonly kind: FailureKind;
  readonly headers: Record<string, string>;
  constructor(kind: FailureKind, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.kind = kind;
    this.headers = headers;
  }
}

export const MAX_PATH = 4096;

/** A path of printable ASCII but '%' and '\\': nothing to decode, nothing pathSegments refuses but empty and dot segments. */
const PLAIN_PATH = /^[!-$&-[\]-~]*$/;

/**
 * The decoded segments of a URL path. Refuses what no txrepo path has and what could
 * mean something else to another layer: empty, '.' or '..' segments (also encoded),
 * NUL, backslashes, control characters, and overlong paths.
 */
export function pathSegments(rawUrl: string): string[] {
  if (rawUrl.length > MAX_PATH) throw new HttpError('path_too_long', `the path is longer than ${MAX_PATH} characters`);
  const pathname = rawUrl.split('?')[0];
  if (!pathname.startsWith('/')) throw new HttpError('invalid_input', 'the path must start with /');
  if (pathname === '/') return [];
  // The common path (a package's) has no percent-encoding and no character the rules
  // below refuse: its segments are those of the split, checked for '', '.' and '..'.
  if (PLAIN_PATH.test(pathname)) {
    const plain = pathname.slice(1).split('/');
    if (plain.length > 1 && plain[plain.length - 1] === '') plain.pop();
    if (!plain.some((d) => d === '' || d === '.' || d === '..')) return plain;
  }
  const raw = pathname.slice(1).split('/');
  const trailing = raw.length > 1 && raw[raw.length - 1] === '';
  if (trailing) raw.pop();
  return raw.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError('invalid_input', `bad percent-encoding in ${JSON.stringify(s)}`);
    }
    if (d === '' && raw.length > 1) throw new HttpError('invalid_input', 'empty path segment');
    if (d === '.' || d === '..') throw new HttpError('invalid_input', "'.' and '..' are not allowed in paths");
    if (/[\0-\x1f\x7f\\/]/.test(d)) throw new HttpError('invalid_input', 'control characters, backslashes and encoded slashes are not allowed in paths');
    return d;
  });
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
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError('too_large', `the request body is ${declared} bytes; at most ${limit} are accepted`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new HttpError('too_large', `the request body is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError('invalid_input', `the request body is not JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpError('invalid_input', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Refusals quote the input they refuse, and a request body may hold a megabyte in one
 * field: the client gets the start of such a message, not its input echoed whole.
 */
function shorten(message: string): string {
  return message.length > 4096 ? `${message.slice(0, 4000)}… (${message.length} characters)` : message;
}

/** How the server words a failure for its client: the message as the CLI would show it (with its advice). */
export type Explain = (e: Error) => string;

/** What a client hears of a failure the server keeps to its log (see isWithheld). */
const WITHHELD: Partial<Record<string, string>> = {
  unavailable: 'the store cannot be used now (see the server log); try again later',
};

/**
 * The answer to a failed request: its status and JSON body, from its kind. The
 * server's own failures (5xx) go to its log; one whose message may name the server's
 * insides (a bug, the file system, the catalog's connection) reaches the client only
 * as its type, while a full or read-only store or a failed upstream is for the client
 * to know.
 */
export function failure(req: IncomingMessage, e: Error, explain: Explain = (x) => x.message): { status: number; body: ErrorDocument; headers: Record<string, string> } {
  const kind = kindOf(e);
  const status = httpStatusOf(kind);
  const withheld = isWithheld(kind);
  if (status >= 500) process.stderr.write(`txrepo serve: ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
  const message = withheld ? (WITHHELD[typeOf(kind)] ?? 'internal error (see the server log)') : shorten(explain(e));
  return { status, body: errorDocument(kind, message), headers: e instanceof HttpError ? e.headers : {} };
}
