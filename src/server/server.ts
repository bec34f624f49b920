// txrepo serve: one HTTP server for yum/dnf clients (the read paths of yum.ts) and for
// scripts and remote CLIs (/api/v1, api.ts), over one store. Writes from any number of
// clients are serialised by the catalog's transactions; reads never wait for them.

import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { forTerminal } from '../common/index.ts';
import { SnapshotLookup } from '../snapshots/index.ts';
import type { Store } from '../store/index.ts';
import { createUi, isDirectoryRequest, isUiPath, wantsHtml } from '../ui/index.ts';
import { authenticate, needsToken, whyToken } from './access.ts';
import { fastLane, type PlainAnswer, type PlainRequest } from './fast-lane.ts';
import { fileHeaders, readWholeFile } from './files.ts';
import { failure, HttpError, pathSegments, sendJson, sendText, type Explain } from './http.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { currentFile, serveYum, treeDirectory } from './yum.ts';

export interface ServerOptions {
  store: Store;
  /** Grace window for tag paths, in ms. */
  graceMs: number;
  /** The URL clients reach this server at, for absolute links (default: from the Host header). */
  publicUrl?: string;
  /** Largest package upload (default 4 GiB). */
  maxUpload?: number;
  /** Called once per request, when it is answered (default: no log). */
  accessLog?: (entry: AccessLogEntry) => void;
  /** Redirect package downloads to presigned blob URLs valid this long (seconds; object storage only). */
  redirectSeconds?: number;
  /** The message of a failure as the client is to read it (the CLI's, with its advice); default: the error's own. */
  explain?: Explain;
  /** Every read needs a token, the yum paths' too (txrepo serve --private); default: reads are anonymous. */
  private?: boolean;
  /**
   * Hosts, addresses and ranges (CIDR) the server may fetch from for a client although
   * they are loopback, link-local or private (serve --fetch-allow); default: none.
   */
  fetchAllow?: string[];
  /** Bounds on connections (serve's --idle-timeout, --header-timeout, --max-connections, --max-connections-per-client); defaults: CONNECTION_LIMITS. */
  limits?: Partial<ConnectionLimits>;
}

/**
 * What one client, or all of them, may hold of the server: a connection that sends
 * nothing, or reads nothing of what it asked for, for `idleMs` is closed; headers
 * must arrive within `headersMs`; beyond `maxConnections`, and beyond `maxPerClient`
 * from one address, a new connection is closed at once. 200 connections that ask
 * for a large package and never read would otherwise hold its buffers forever.
 */
export interface ConnectionLimits {
  idleMs: number;
  headersMs: number;
  maxConnections: number;
  maxPerClient: number;
}

export const CONNECTION_LIMITS: ConnectionLimits = { idleMs: 60_000, headersMs: 20_000, maxConnections: 512, maxPerClient: 32 };

/** Answers on every path: no type sniffing, no framing, nothing active in what is served (a mirrored XHTML file is data). */
const SECURITY_HEADERS: [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'; sandbox"],
  ['referrer-policy', 'no-referrer'],
];

/** One request, as the access log records it. */
export interface AccessLogEntry {
  /** When it was answered (ISO 8601). */
  time: string;
  /** The client's address. */
  remote: string;
  method: string;
  /** The request's path and query, as sent (at most 512 characters). */
  path: string;
  status: number;
  /** Bytes of the response body sent (0 for HEAD, 304 and redirects). */
  bytes: number;
  /** Milliseconds from the request to its answer. */
  ms: number;
}

/** The access log's text line: time, client, request, status, bytes, milliseconds. */
export function accessLogLine(e: AccessLogEntry): string {
  // The method and path are the client's: a control character in them is shown, not written raw into the log.
  return `${e.time} ${e.remote} "${forTerminal(e.method)} ${forTerminal(e.path).replace(/"/g, '\\"')}" ${e.status} ${e.bytes} ${e.ms.toFixed(1)}ms`;
}

/**
 * A response that counts the body bytes it hands to its socket, whoever writes them
 * (files, JSON, text, errors): every answer is logged with its size. A class given to
 * createServer, not methods wrapped on each response: closures per request cost a
 * file download several microseconds (issue 19).
 */
class CountingResponse extends ServerResponse {
  private sent = 0;

  private count(chunk: unknown, encoding: unknown): void {
    if (typeof chunk === 'string') this.sent += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) this.sent += chunk.byteLength;
  }

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.count(chunk, encoding);
    return (super.write as (...a: unknown[]) => boolean)(chunk, encoding, cb);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    this.count(chunk, encoding);
    return (super.end as (...a: unknown[]) => this)(chunk, encoding, cb);
  }

  /** Body bytes sent: none for HEAD, whatever was written (Node sends no body for it). */
  get bodyBytes(): number {
    return this.req.method === 'HEAD' ? 0 : this.sent;
  }
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The server, not yet listening: its listener takes every connection (fast-lane.ts) and hands node:http what it does not answer. */
export interface TxrepoServer {
  listener: NetServer;
  http: Server;
  /** Closes every connection, the lane's and node:http's. */
  closeAllConnections(): void;
}

/** How long a connection may wait idle between requests. */
const KEEP_ALIVE_MS = 30_000;

/** The Date header's text, formatted once a second (as node:http does). */
let dateSecond = -1;
let dateText = '';
function httpNow(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** Whether a path is the API's: /api/v1 or under it. */
const isApi = (segments: string[]) => segments[0] === 'api' && segments[1] === 'v1';

/**
 * The server: the fast lane (fast-lane.ts) reads every connection first and answers
 * plain downloads of small files (plainAnswer below); node:http gets the rest. There
 * every request's path is checked first (pathSegments: 400, 414), then the API's go to
 * Fastify (api.ts) and the rest to the hand-tuned yum paths (yum.ts, files.ts), which
 * serve packages without a framework's cost per request. Every answer, either lane's,
 * gets its access log line, with the bytes of its body.
 */
export async function createTxrepoServer(opts: ServerOptions): Promise<TxrepoServer> {
  const lookup = new SnapshotLookup(opts.store.catalog);
  const baseUrl = (req: IncomingMessage) => {
    if (opts.publicUrl) return opts.publicUrl.replace(/\/+$/, '');
    const host = String(req.headers.host ?? '');
    return `http://${HOST.test(host) ? host : 'localhost'}`;
  };
  const snapshots = new SnapshotCache(opts.store.catalog);
  const yumContext = { store: opts.store, lookup, snapshots, graceMs: opts.graceMs, baseUrl, hostDerived: !opts.publicUrl, redirectSeconds: opts.redirectSeconds };
  // Loaded here, not at import: commands that only hash a token need no HTTP framework.
  const { createApi } = await import('./api.ts');
  const { fetchPolicy } = await import('../sync/index.ts');
  const { isMetricsPath, routeClass, ServerMetrics } = await import('./metrics.ts');
  const metrics = new ServerMetrics(opts.store.catalog);
  const api = await createApi({ store: opts.store, maxUpload: opts.maxUpload ?? 4 * 2 ** 30, explain: opts.explain, private: opts.private, fetchPolicy: fetchPolicy(opts.fetchAllow), metrics });
  const isPrivate = opts.private === true;
  const ui = createUi(opts.store, lookup);

  /**
   * A page of the web UI (src/ui): the same reading rights as the API route that gives
   * the same data, asked of a browser by HTTP Basic (a token is the password). Its
   * failures are HTML pages with the API's status.
   */
  async function serveUi(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    return asHtml(req, res, async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError('method_not_allowed', 'the web UI is read-only: GET or HEAD', { allow: 'GET, HEAD' });
      // The stylesheet and script hold no data: an error page of a private server needs them too.
      if (segments[1] !== 'assets') {
        const route = ui.routeOf(segments);
        const scope = route?.scope ?? 'public';
        await authenticate(req, opts.store.catalog, { required: needsToken(scope, isPrivate), why: whyToken(scope, 'GET'), challenge: 'Basic' });
      }
      await ui.serve(req, res, segments);
    });
  }

  /** Runs `answer`; its failure is an HTML error page with the status the API would give. */
  async function asHtml(req: IncomingMessage, res: ServerResponse, answer: () => Promise<void>): Promise<void> {
    try {
      await answer();
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      const { status, body, headers } = failure(req, e as Error, opts.explain);
      ui.sendError(res, status, body.error.message, headers);
    }
  }

  /**
   * A browser opening a folder of a tree (a path ending in / under a snapshot, tag, time
   * or set member) gets its index page; true if answered. dnf and curl never send
   * Accept: text/html, so what they get is unchanged.
   */
  async function servedListing(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<boolean> {
    if (!wantsHtml(req) || !isDirectoryRequest(req) || (segments[0] !== 'repos' && segments[0] !== 'sets')) return false;
    let answered = false;
    await asHtml(req, res, async () => {
      const tree = await treeDirectory(yumContext, segments);
      if (!tree) return;
      answered = true;
      await ui.serveListing(req, res, { ...tree, path: '/' + segments.join('/') + '/' });
    });
    return answered || res.headersSent;
  }

  /** /metrics (metrics.ts): read as the yum paths are, anonymously unless the server is private. */
  async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError('method_not_allowed', '/metrics is read-only: GET or HEAD', { allow: 'GET, HEAD' });
    await authenticate(req, opts.store.catalog, { required: needsToken('public', isPrivate), why: whyToken('public', 'GET'), challenge: 'Bearer' });
    const { contentType, text } = await metrics.scrape();
    sendText(res, 200, text, { 'content-type': contentType, 'cache-control': 'no-store' });
  }

  async function serveRead(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    if (isMetricsPath(segments)) return serveMetrics(req, res);
    if (isUiPath(segments) || (segments.length === 0 && wantsHtml(req))) return serveUi(req, res, segments);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError('method_not_allowed', 'the repository paths are read-only: GET or HEAD (changes go through /api/v1)', { allow: 'GET, HEAD' });
    // Anonymous reads, the common case, cost nothing here; a token given is checked (access.ts).
    if (isPrivate || req.headers.authorization !== undefined) {
      await authenticate(req, opts.store.catalog, { required: isPrivate, why: 'this server is private', challenge: 'Basic' });
    }
    if (segments.length === 0) {
      sendText(res, 200, 'txrepo: yum repositories under /repos/<repo>/snapshots/<id>/, /repos/<repo>/tags/<tag>/, /sets/<set>/<repo>/; the index at /repos/all_latest.json; the API under /api/v1/\n');
      return;
    }
    if (await servedListing(req, res, segments)) return;
    if (!(await serveYum(req, res, yumContext, segments))) throw new HttpError('not_found', 'no such path: see /repos/all_latest.json for the repositories');
  }

  /** The answer to a failure of the read paths (the API answers its own). */
  function refuse(req: IncomingMessage, res: ServerResponse, e: Error): void {
    // The client went away mid-request: nobody is left to answer. Logged as nginx does, 499.
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed) {
      res.statusCode = 499;
      res.destroy();
      return;
    }
    const { status, body, headers } = failure(req, e, opts.explain);
    if (!res.headersSent) sendJson(res, status, body, headers);
    else res.destroy();
  }

  /** Every answer, the lane's too, is logged and counted once, when it is done. */
  function answered(a: { started: number; segments: string[] | undefined; remote: string; method: string; url: string; status: number; bytes: number; fastLane?: boolean }): void {
    const ms = performance.now() - a.started;
    metrics.request({ route: routeClass(a.segments), method: a.method, status: a.status, bytes: a.bytes, seconds: ms / 1000, fastLane: a.fastLane });
    opts.accessLog?.({ time: new Date().toISOString(), remote: a.remote, method: a.method, path: a.url.slice(0, 512), status: a.status, bytes: a.bytes, ms: Math.round(ms * 10) / 10 });
  }

  /**
   * The fast lane's answer to a plain GET (fast-lane.ts): a whole small file of a
   * snapshot, or of a tag's current snapshot (currentFile), read from local disk, with
   * the headers serveFile gives it. Undefined for everything else, which the handler
   * below answers in full: a private server's reads, other paths, missing or damaged
   * blobs, large files, blobs in object storage.
   */
  async function plainAnswer(request: PlainRequest): Promise<PlainAnswer | undefined> {
    if (isPrivate) return undefined;
    let segments: string[];
    try {
      segments = pathSegments(request.path);
    } catch {
      return undefined;
    }
    const found = await currentFile(yumContext, segments);
    if (!found) return undefined;
    const headers: Record<string, string> = { ...fileHeaders(found.file, { cacheControl: found.cacheControl, lastModified: found.snapshot.createdAt }), 'content-length': String(found.file.size) };
    let head = 'HTTP/1.1 200 OK\r\n';
    for (const [name, value] of SECURITY_HEADERS) head += `${name}: ${value}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    head += `Date: ${httpNow()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_MS / 1000}\r\n\r\n`;
    const room = Buffer.byteLength(head, 'latin1');
    const bytes = readWholeFile(opts.store, found.file, room);
    if (!bytes) return undefined;
    bytes.write(head, 0, room, 'latin1');
    answered({ started: request.started, segments, remote: request.remote, method: 'GET', url: request.path, status: 200, bytes: found.file.size, fastLane: true });
    return { bytes };
  }

  /**
   * Each connection's answer being sent. node:http reads a whole segment of pipelined
   * requests at once and starts every one of them: each would read its file into
   * memory before the client took any (600 GETs of a package in one write, never
   * read, held 600 answers). A connection's requests are answered one at a time, each
   * once the one before is sent, as the fast lane answers them.
   */
  const sending = new WeakMap<Socket, Promise<unknown>>();
  function inTurn(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
    const before = sending.get(req.socket);
    sending.set(req.socket, finished(res).catch(() => {}));
    if (before) void before.then(answer);
    else answer();
  }

  // Large socket buffers: a package goes out in a few big writes, not hundreds of
  // 16 KiB ones each waiting for 'drain'. Not larger: it is also what a client that
  // stops reading holds of the server's memory (32 of them, 16 MiB).
  const limits = { ...CONNECTION_LIMITS, ...opts.limits };
  // node:http checks its header timeout every connectionsCheckingInterval (30 s by
  // default): often enough that a head late by the timeout is closed within a quarter of it.
  const checkEvery = Math.max(250, Math.min(30_000, limits.headersMs / 4));
  const server: Server = createServer({ highWaterMark: 512 << 10, ServerResponse: CountingResponse as typeof ServerResponse, connectionsCheckingInterval: checkEvery }, (req, res) => {
    const started = performance.now();
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    // Read now: once a request is destroyed (a body refused half-read, a client gone),
    // req.socket is null, and the log line must not throw and take the server down.
    const remote = req.socket.remoteAddress ?? '-';
    let segments: string[] | undefined;
    const log = (status = res.statusCode) => answered({ started, segments, remote, method: req.method ?? '-', url: req.url ?? '', status, bytes: (res as CountingResponse).bodyBytes });
    inTurn(req, res, () => {
      // The client left while an earlier answer on its connection was sent: logged as nginx does, 499.
      if (res.destroyed) return log(499);
      try {
        segments = pathSegments(req.url ?? '/');
      } catch (e) {
        refuse(req, res, e as Error);
        return log();
      }
      if (isApi(segments)) {
        // Fastify answers in its own time: the line is written when the answer is done,
        // or the connection is gone; a client that left mid-request is a 499, as in nginx.
        res.once('close', () => log(!req.complete && !res.writableFinished ? 499 : res.statusCode));
        return api.routing(req, res);
      }
      serveRead(req, res, segments)
        .catch((e: Error) => refuse(req, res, e))
        .then(() => log());
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const lane = fastLane(server, plainAnswer, { keepAliveMs: KEEP_ALIVE_MS });
  limitConnections(lane.listener, server, limits);
  return {
    listener: lane.listener,
    http: server,
    closeAllConnections() {
      lane.closeAll();
      server.closeAllConnections();
    },
  };
}

/**
 * Applies the limits: to every connection `listener` accepts, our idle watch and the
 * counts of connections, all and per client address; to the requests node:http reads
 * (`http`), its header timeout.
 */
function limitConnections(listener: NetServer, http: Server, limits: ConnectionLimits): void {
  http.headersTimeout = limits.headersMs;
  http.requestTimeout = 0; // a long upload is not a slow one: the idle watch decides
  listener.maxConnections = limits.maxConnections;
  watchIdle(listener, http, limits.idleMs);
  const perClient = new Map<string, number>();
  listener.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '-';
    const held = (perClient.get(client) ?? 0) + 1;
    if (held > limits.maxPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(client, held);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
}

/**
 * Closes a connection that has waited on its client for `idleMs`: an answer the client
 * does not read (bytes queued, none taken), or a request it does not finish sending.
 * A client waiting on the server (a long sync answered at its end) is not idle. Node's
 * own socket timeout is not used: it fired only after twice its time in our tests, and
 * would close the long operations too.
 */
function watchIdle(listener: NetServer, http: Server, idleMs: number): void {
  const watched = new Map<Socket, { read: number; written: number; since: number; request?: IncomingMessage }>();
  listener.on('connection', (socket: Socket) => {
    watched.set(socket, { read: 0, written: 0, since: Date.now() });
    socket.once('close', () => watched.delete(socket));
  });
  http.on('request', (req: IncomingMessage) => {
    const w = watched.get(req.socket);
    if (w) w.request = req;
  });
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, w] of watched) {
        if (socket.bytesRead !== w.read || socket.bytesWritten !== w.written) {
          Object.assign(w, { read: socket.bytesRead, written: socket.bytesWritten, since: now });
          continue;
        }
        const onClient = socket.writableLength > 0 || (w.request !== undefined && !w.request.complete);
        if (onClient && now - w.since >= idleMs) socket.destroy();
      }
    },
    Math.max(100, Math.min(1000, idleMs / 4)),
  );
  timer.unref();
  listener.once('close', () => clearInterval(timer));
}

/** Starts a server on HOST:PORT (port 0: any free port). */
export async function startServer(opts: ServerOptions & { listen: string }): Promise<RunningServer> {
  const m = /^(.*):(\d+)$/.exec(opts.listen);
  if (!m) throw new HttpError('invalid_input', `--listen ${JSON.stringify(opts.listen)}: give HOST:PORT, such as 127.0.0.1:8080`);
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  const server = await createTxrepoServer(opts);
  const { listener } = server;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(Number(m[2]), host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const { port, address } = listener.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
