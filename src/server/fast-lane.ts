// The fast lane (issue 19): the first reader of every connection the server accepts.
//
// Most of a yum server's requests are of one kind: GET of a package by its path, with
// nothing conditional about it. node:http spends more CPU on such a request than the
// lookup and the read together (a request and a response object, header objects, a
// write per part): a bare node:http server reaches about half of nginx's throughput on
// small packages (docs/benchmarks.md). The lane reads such a request off the socket
// itself and writes its answer, head and body, in one write.
//
// It answers only what it reads in full by a strict grammar, and only when its
// Answerer says yes. Anything else (another method or version, a header it does not
// know, a body, a partial or pipelined-in-pieces request, a path it is not given an
// answer for) goes to node:http, with every byte the client sent that was not yet
// answered, and the connection stays there. So node:http decides everything the lane
// does not answer whole, and a request is never read two ways.

import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';

/** A request the lane may answer. */
export interface PlainRequest {
  method: 'GET';
  /** The request target, an origin-form path of printable ASCII, no query. */
  path: string;
  /** The client's address. */
  remote: string;
  /** performance.now() when the request was read. */
  started: number;
}

/** A whole answer: status line, headers and body, as sent. */
export interface PlainAnswer {
  bytes: Buffer;
}

/** The answer to a request, or undefined: node:http answers it. Must not throw. */
export type Answerer = (request: PlainRequest) => Promise<PlainAnswer | undefined>;

const HEAD_END = Buffer.from('\r\n\r\n');
/** A longer request head goes to node:http, which has its own limit. */
const MAX_HEAD = 8 << 10;
const REQUEST_LINE = /^(GET) (\/[!-~]*) HTTP\/1\.1$/;
/** A header field: a token name, a value of visible ASCII, spaces and tabs. */
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t -~]*)$/;
/**
 * The headers a plain download may carry: none of them changes the answer to a file
 * (the read paths read Range, If-Range, If-None-Match, Authorization, and Accept for a
 * folder; those requests go to node:http). A proxy's X- headers and Via are allowed.
 */
const HARMLESS = new Set(['user-agent', 'accept', 'accept-encoding', 'accept-language', 'cache-control', 'pragma', 'referer', 'via', 'forwarded']);

/** The request of a head (its bytes up to the blank line), if it is a plain one. */
export function plainRequest(head: string, remote: string): PlainRequest | undefined {
  const lines = head.split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]);
  if (!line || line[2].includes('?') || line[2].includes('#')) return undefined;
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const field = FIELD.exec(lines[i]);
    if (!field) return undefined;
    const name = field[1].toLowerCase();
    if (name === 'host') hosts++;
    else if (name === 'connection') {
      if (field[2].trim().toLowerCase() !== 'keep-alive') return undefined;
    } else if (!HARMLESS.has(name) && !name.startsWith('x-')) return undefined;
  }
  // Exactly one Host, as HTTP/1.1 requires (node:http refuses the others).
  if (hosts !== 1) return undefined;
  return { method: 'GET', path: line[2], remote, started: performance.now() };
}

export interface FastLane {
  /** The listening server: every connection starts here. */
  listener: NetServer;
  /** Closes the connections the lane holds (node:http closes its own). */
  closeAll(): void;
}

/**
 * A net server whose connections are read by the lane until it meets a request it does
 * not answer; then `http` gets the connection (its 'connection' event, which node:http
 * documents for injecting one). `keepAliveMs`: how long a connection may wait idle
 * between requests, as node:http's keepAliveTimeout.
 */
export function fastLane(http: HttpServer, answer: Answerer, opts: { keepAliveMs: number }): FastLane {
  const held = new Set<Socket>();
  // Half-open as node:http's own server: a client that sends its request and shuts its
  // side still gets the answer.
  const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    readRequests(socket, http, answer, opts.keepAliveMs, () => held.delete(socket));
  });
  // node:http starts tracking its connections (headers and request timeouts,
  // closeAllConnections) when it listens; it never does itself here.
  listener.once('listening', () => http.emit('listening'));
  listener.once('close', () => http.close());
  return {
    listener,
    closeAll: () => {
      for (const socket of held) socket.destroy();
    },
  };
}

function readRequests(socket: Socket, http: HttpServer, answer: Answerer, keepAliveMs: number, released: () => void): void {
  let pending: Buffer | undefined;
  let busy = false;
  const remote = socket.remoteAddress ?? '-';
  const onData = (chunk: Buffer) => {
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    if (!busy) void answerPending();
  };
  // The client is done asking (the socket is paused while answers are pending, so
  // every request it sent has been answered): the server is done too.
  const onEnd = () => socket.end();
  // A connection idle between requests is closed, as node:http closes its own; one
  // with an answer its client does not read is the idle watch's (server.ts).
  const onTimeout = () => {
    if (socket.writableLength === 0) socket.destroy();
  };
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.setTimeout(keepAliveMs, onTimeout);

  function handOff() {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
    released();
    if (pending) socket.unshift(pending);
    pending = undefined;
    http.emit('connection', socket);
    socket.resume();
  }

  /** Answers the complete requests read, one at a time, in order; reads no more meanwhile. */
  async function answerPending() {
    busy = true;
    socket.pause();
    while (pending) {
      const end = pending.indexOf(HEAD_END);
      const request = end >= 0 && end <= MAX_HEAD ? plainRequest(pending.toString('latin1', 0, end), remote) : undefined;
      const answered = request && (await answer(request).catch(() => undefined));
      if (socket.destroyed) return;
      if (!answered) return handOff();
      const rest = end + 4 === pending.length ? undefined : pending.subarray(end + 4);
      pending = rest;
      // A client that asks for more than it reads waits for its answers to drain.
      if (!socket.write(answered.bytes) && !(await drained(socket))) return;
    }
    busy = false;
    socket.resume();
  }
}

/** Whether the socket drained (false: it closed first). */
function drained(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
