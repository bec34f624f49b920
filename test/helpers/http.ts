// A tiny static file server for tests (dnf, curl...): GET and HEAD on 127.0.0.1,
// ephemeral port, no dependencies. Records every request path it receives.

import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pipeline } from 'node:stream';

export interface StaticServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
  /** Decoded path of every request, in arrival order (also the refused ones). */
  requests: string[];
  /** The requests that asked for the rest of a file ("PATH from OFFSET"). */
  ranged: string[];
}

function contentType(file: string): string {
  if (file.endsWith('.xml')) return 'text/xml';
  if (file.endsWith('.rpm')) return 'application/x-rpm';
  return 'application/octet-stream';
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text + '\n');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export interface ServeOptions {
  /** Wait this long before answering each request for a file matching `slow`. */
  delayMs?: number;
  slow?: RegExp;
  /** The first GET of each path matching this gets half the body, then the connection drops. */
  cutFirst?: RegExp;
  /** Answer 401 unless the request has HTTP Basic with this user and password. */
  basicAuth?: { user: string; password: string };
}

export async function serveDirectory(root: string, opts: ServeOptions = {}): Promise<StaticServer> {
  const base = await realpath(root);
  const requests: string[] = [];
  const cut = new Set<string>();
  const ranged: string[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      requests.push(req.url ?? '');
      return reply(res, 400, 'bad request');
    }
    requests.push(rel);
    if (opts.basicAuth && req.headers.authorization !== `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}`) {
      res.setHeader('WWW-Authenticate', 'Basic realm="upstream"');
      return reply(res, 401, 'unauthorized');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'method not allowed');
    }
    if (rel.includes('\0')) return reply(res, 400, 'bad request');

    // Normalise as a URL path (so ".." cannot climb above "/"), then check the prefix
    // both lexically and after resolving symlinks.
    const file = path.join(base, path.posix.normalize('/' + rel));
    if (!within(base, file)) return reply(res, 403, 'forbidden');
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return reply(res, 404, 'not found');
    }
    if (!within(base, real)) return reply(res, 403, 'forbidden');
    const st = await stat(real).catch(() => undefined);
    if (!st || !st.isFile()) return reply(res, 404, 'not found');

    if (opts.delayMs && opts.slow?.test(rel)) await new Promise((r) => setTimeout(r, opts.delayMs));
    // Ranges of the form "bytes=N-" (what download resumption sends).
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const start = range && Number(range[1]) < st.size ? Number(range[1]) : 0;
    if (start) ranged.push(`${rel} from ${start}`);
    res.writeHead(start ? 206 : 200, {
      'Content-Type': contentType(real),
      'Content-Length': st.size - start,
      'Last-Modified': st.mtime.toUTCString(),
      'Accept-Ranges': 'bytes',
      ...(start ? { 'Content-Range': `bytes ${start}-${st.size - 1}/${st.size}` } : {}),
    });
    if (req.method === 'HEAD' || st.size === 0) {
      res.end();
      return;
    }
    if (opts.cutFirst?.test(rel) && !cut.has(rel) && st.size > 1) {
      cut.add(rel);
      const data = await readFile(real);
      // A FIN, not a reset: a reset can make the client's kernel drop the half it
      // has received but not yet read (seen under load), and the resume would then
      // start from 0.
      res.write(data.subarray(start, Math.max(start + 1, Math.floor(st.size / 2))), () => res.socket?.end());
      return;
    }
    // Read exactly the announced length (the file may grow meanwhile). pipeline()
    // destroys both sides on error (file vanished, client went away): the client then
    // sees an aborted response, and the server does not crash.
    pipeline(createReadStream(real, { start, end: st.size - 1 }), res, () => {});
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, 'internal error'));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    ranged,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
