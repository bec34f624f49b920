// txrepo serve: one HTTP server for yum/dnf clients (the read paths of yum.ts) and for
// scripts and remote CLIs (/api/v1, api.ts), over one store. Writes from any number of
// clients are serialised by the catalog's transactions; reads never wait for them.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SnapshotLookup } from '../snapshots/index.ts';
import type { Store } from '../store/index.ts';
import { serveApi } from './api.ts';
import { failure, HttpError, pathSegments, sendJson, sendText } from './http.ts';
import { serveYum } from './yum.ts';

export interface ServerOptions {
  store: Store;
  /** Grace window for tag paths, in ms. */
  graceMs: number;
  /** The URL clients reach this server at, for absolute links (default: from the Host header). */
  publicUrl?: string;
  /** Largest package upload (default 4 GiB). */
  maxUpload?: number;
  /** One line per request (default: none). */
  accessLog?: (line: string) => void;
  /** Redirect package downloads to presigned blob URLs valid this long (seconds; object storage only). */
  redirectSeconds?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function createTxrepoServer(opts: ServerOptions): Server {
  const lookup = new SnapshotLookup(opts.store.catalog);
  const baseUrl = (req: IncomingMessage) => {
    if (opts.publicUrl) return opts.publicUrl.replace(/\/+$/, '');
    const host = String(req.headers.host ?? '');
    return `http://${HOST.test(host) ? host : 'localhost'}`;
  };
  const yumContext = { store: opts.store, lookup, graceMs: opts.graceMs, baseUrl, redirectSeconds: opts.redirectSeconds };
  const apiContext = { store: opts.store, maxUpload: opts.maxUpload ?? 4 * 2 ** 30 };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const segments = pathSegments(req.url ?? '/');
    if (segments[0] === 'api' && segments[1] === 'v1') {
      await serveApi(req, res, apiContext, segments.slice(2));
      return 0;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'the repository paths are read-only: GET or HEAD (changes go through /api/v1)', { allow: 'GET, HEAD' });
    if (segments.length === 0) {
      sendText(res, 200, 'txrepo: yum repositories under /repos/<repo>/snapshots/<id>/, /repos/<repo>/tags/<tag>/, /sets/<set>/<repo>/; the index at /repos/all_latest.json; the API under /api/v1/\n');
      return 0;
    }
    const served = await serveYum(req, res, yumContext, segments);
    if (served === false) throw new HttpError(404, 'no such path: see /repos/all_latest.json for the repositories');
    return served;
  }

  // Large socket buffers: a package goes out in a few big writes, not hundreds of
  // 16 KiB ones each waiting for 'drain'.
  return createServer({ highWaterMark: 1 << 20 }, (req, res) => {
    const started = performance.now();
    // Read now: once a request is destroyed (a body refused half-read, a client gone),
    // req.socket is null, and the log line must not throw and take the server down.
    const client = req.socket.remoteAddress ?? '-';
    handle(req, res)
      .then(
        (bytes) => bytes,
        (e: Error) => {
          // The client went away mid-request (an upload cut off): nobody is left to
          // answer, and it is no failure of the server's. Logged as nginx does, 499.
          if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed) {
            res.statusCode = 499;
            res.destroy();
            return 0;
          }
          const { status, body, headers } = failure(req, e);
          if (!res.headersSent) {
            sendJson(res, status, body, headers);
          } else {
            res.destroy();
          }
          return 0;
        },
      )
      .then((bytes) => {
        // The access log: time, client, request, status, bytes, milliseconds.
        opts.accessLog?.(`${new Date().toISOString()} ${client} "${req.method} ${(req.url ?? '').slice(0, 512)}" ${res.statusCode} ${bytes} ${(performance.now() - started).toFixed(1)}ms`);
      });
  });
}

/** Starts a server on HOST:PORT (port 0: any free port). */
export async function startServer(opts: ServerOptions & { listen: string }): Promise<RunningServer> {
  const m = /^(.*):(\d+)$/.exec(opts.listen);
  if (!m) throw new HttpError(400, `--listen ${JSON.stringify(opts.listen)}: give HOST:PORT, such as 127.0.0.1:8080`);
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  const server = createTxrepoServer(opts);
  // Keep-alive connections of dnf's parallel downloads are reused across requests.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
