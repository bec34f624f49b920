// needs: rpmbuild
// The fast lane (src/server/fast-lane.ts): plain GETs of small local files answered on
// the socket, byte for byte as node:http answers them; everything else, and the rest of
// its connection, handed to node:http whole and in order; hostile requests (smuggling,
// bare line feeds, folded headers, a request in pieces) never read two ways; a client
// that asks and never reads is let go. Which lane answered is read from the server's
// own count, txrepo_http_fast_lane_requests_total.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, truncate } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBigRpm } from '../../reliability/lib/big-rpm.ts';
import { seeded } from '../../reliability/lib/harness.ts';
import { ON_SHARED_BACKENDS } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo, waitFor } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { heldConnections, serve, type Served } from '../helpers/serve.ts';

interface Answer {
  status: number;
  /** Header lines as sent, in order: [name, value]. */
  headers: [string, string][];
  body: Buffer;
}

/**
 * Requests the lane answers of one it may answer: none on the shared backends, where
 * the blobs are in object storage and the lane answers only files on local disk.
 */
const LANE = ON_SHARED_BACKENDS ? 0 : 1;

const header = (a: Answer, name: string) => a.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** Reads `count` answers off a socket (every answer here has a Content-Length); HEAD answers have no body. */
function readAnswers(socket: Socket, count: number, heads: Set<number> = new Set()): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const answers: Answer[] = [];
    const parse = () => {
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
        const headers = lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
        const length = heads.has(answers.length) ? 0 : Number(headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1] ?? 0);
        if (data.length < end + 4 + length) return;
        answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: data.subarray(end + 4, end + 4 + length) });
        data = data.subarray(end + 4 + length);
        if (answers.length === count) {
          socket.off('data', onData);
          return resolve(answers);
        }
      }
    };
    const onData = (d: Buffer) => {
      data = Buffer.concat([data, d]);
      parse();
    };
    socket.on('data', onData);
    // A request lost on the way is an answer that never comes: a failure, not a hang.
    setTimeout(() => reject(new Error(`${answers.length} of ${count} answers within 15 s: ${data.toString('latin1').slice(0, 300)}`)), 15_000).unref();
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`the connection closed after ${answers.length} of ${count} answers: ${data.toString('latin1').slice(0, 300)}`)));
  });
}

async function open(url: string): Promise<Socket> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

/** Sends `parts` (in separate writes, a pause between) on a new connection and reads `count` answers. */
async function exchange(url: string, parts: string[], count = 1, heads?: Set<number>): Promise<Answer[]> {
  const socket = await open(url);
  try {
    const answers = readAnswers(socket, count, heads);
    for (const [i, part] of parts.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      socket.write(part);
    }
    return await answers;
  } finally {
    socket.destroy();
  }
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: libdnf\r\nAccept: */*\r\n${extra}\r\n`;

let dir: string;
let store: string;
let server: Served;
let snapshot: string;
let bear: Buffer;
let camel: Buffer;
let bigPath: string;
const bearPath = () => `/repos/el9/snapshots/${snapshot}/Packages/b/bear-4.1-1.noarch.rpm`;
const camelPath = () => `/repos/el9/snapshots/${snapshot}/Packages/c/camel-0.1-1.noarch.rpm`;

/** The server process's resident memory now, in MiB (one process: --workers 1). */
const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) / 1024;

/** How many requests the fast lane has answered so far (from /metrics, through node:http). */
async function laneCount(): Promise<number> {
  const [m] = await exchange(server.url, [get('/metrics')]);
  return Number(/^txrepo_http_fast_lane_requests_total (\d+)$/m.exec(m.body.toString())![1]);
}

/** Runs `body` and returns how many requests the lane answered meanwhile. */
async function laneAnswers(body: () => Promise<void>): Promise<number> {
  const before = await laneCount();
  await body();
  return (await laneCount()) - before;
}

before(async () => {
  dir = await tempDir('txrepo-fast-lane-');
  store = join(dir, 'store');
  await inStore(store)(['repo', 'create', 'el9']);
  snapshot = JSON.parse((await inStore(store)(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm'), sample('camel-0.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
  // A package just under the size the lane sends whole (files.ts, WHOLE_FILE_MAX).
  const big = await buildBigRpm(dir, { name: 'big', version: '1', release: '1', bytes: 900_000, random: seeded(3) });
  await inStore(store)(['deploy', 'el9', big]);
  bigPath = '/repos/el9/tags/latest/Packages/b/big-1-1.noarch.rpm';
  bear = await readFile(sample('bear-4.1-1.noarch.rpm'));
  camel = await readFile(sample('camel-0.1-1.noarch.rpm'));
  server = await serve(store, ['--workers', '1', '--idle-timeout', '1s', '--header-timeout', '1s']);
});

after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('the fast lane', () => {
  test('answers a plain download, byte for byte as node:http answers it, and logs it', async () => {
    for (const path of [bearPath(), '/repos/el9/tags/latest/repodata/repomd.xml']) {
      let fast: Answer | undefined;
      let full: Answer | undefined;
      // If-None-Match of another ETag changes nothing in the answer, but is node:http's.
      assert.equal(await laneAnswers(async () => void ([fast] = await exchange(server.url, [get(path)]))), LANE, `the lane answered ${path}`);
      assert.equal(await laneAnswers(async () => void ([full] = await exchange(server.url, [get(path, 'If-None-Match: "another"\r\n')]))), 0);
      assert.equal(fast!.status, 200);
      const withoutDate = (a: Answer) => a.headers.filter(([n]) => n !== 'Date');
      assert.deepEqual(withoutDate(fast!), withoutDate(full!));
      assert.deepEqual(fast!.body, full!.body);
      assert.match(header(fast!, 'date') ?? '', /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    }
    const [a] = await exchange(server.url, [get(bearPath())]);
    assert.deepEqual(a.body, bear);
    assert.equal(header(a, 'cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(header(a, 'etag'), `"${JSON.parse((await inStore(store)(['show', `el9@${snapshot}`, '--files', '--json'])).stdout).files.find((f: { href: string }) => f.href === 'Packages/b/bear-4.1-1.noarch.rpm').sha256}"`);
    const [repomd] = await exchange(server.url, [get('/repos/el9/tags/latest/repodata/repomd.xml')]);
    assert.equal(header(repomd, 'cache-control'), 'no-cache');
    assert.equal(header(repomd, 'content-disposition'), 'attachment');
    await waitFor('the log line', () => server.log.some((l) => l.includes(`"GET ${bearPath()}" 200 ${bear.length} `)));
  });

  test('hands node:http every request it does not answer in full, and node:http answers it', async () => {
    const file = bearPath();
    const cases: { what: string; parts: string[]; status: number; head?: boolean; check?: (a: Answer) => void }[] = [
      { what: 'HEAD', parts: [`HEAD ${file} HTTP/1.1\r\nHost: x\r\n\r\n`], status: 200, head: true },
      { what: 'a range', parts: [get(file, 'Range: bytes=0-9\r\n')], status: 206, check: (a) => assert.deepEqual(a.body, bear.subarray(0, 10)) },
      { what: 'an ETag', parts: [get(file, 'If-None-Match: "x"\r\n')], status: 200 },
      { what: 'a bad token', parts: [get(file, 'Authorization: Bearer nonsense\r\n')], status: 401 },
      { what: 'HTTP/1.0', parts: [`GET ${file} HTTP/1.0\r\nHost: x\r\n\r\n`], status: 200, check: (a) => assert.deepEqual(a.body, bear) },
      { what: 'a query', parts: [get(`${file}?x=1`)], status: 200, check: (a) => assert.deepEqual(a.body, bear) },
      { what: 'a missing file', parts: [get(`/repos/el9/snapshots/${snapshot}/nothing.rpm`)], status: 404 },
      { what: 'no Host', parts: [`GET ${file} HTTP/1.1\r\n\r\n`], status: 400 },
      { what: 'two Hosts', parts: [`GET ${file} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`], status: 200 },
      { what: 'bare line feeds', parts: [`GET ${file} HTTP/1.1\nHost: x\n\n`], status: 400 },
      { what: 'a folded header', parts: [`GET ${file} HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n b\r\n\r\n`], status: 400 },
      { what: 'a control character in a value', parts: [`GET ${file} HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x01b\r\n\r\n`], status: 400 },
      { what: 'a head in two pieces', parts: [`GET ${file} HTTP/1.1\r\nHo`, 'st: x\r\n\r\n'], status: 200, check: (a) => assert.deepEqual(a.body, bear) },
      { what: 'a head of 12 KiB', parts: [get(file, `X-Padding: ${'p'.repeat(12 << 10)}\r\n`)], status: 200, check: (a) => assert.deepEqual(a.body, bear) },
      { what: 'a body', parts: [`GET ${file} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`], status: 200, check: (a) => assert.deepEqual(a.body, bear) },
      { what: 'Connection: close', parts: [get(file, 'Connection: close\r\n')], status: 200, check: (a) => assert.equal(header(a, 'connection'), 'close') },
    ];
    for (const c of cases) {
      let answer: Answer | undefined;
      const n = await laneAnswers(async () => void ([answer] = await exchange(server.url, c.parts, 1, c.head ? new Set([0]) : undefined)));
      assert.equal(n, 0, `${c.what}: not the lane's`);
      assert.equal(answer!.status, c.status, `${c.what}: ${answer!.body.toString().slice(0, 200)}`);
      c.check?.(answer!);
    }
  });

  test('a request smuggled behind a body is read once, as node:http reads it', async () => {
    for (const framing of ['Content-Length: 40', 'Transfer-Encoding: chunked']) {
      const smuggled = get(camelPath());
      const body = framing.startsWith('Content') ? smuggled.padEnd(40, ' ').slice(0, 40) : `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const socket = await open(server.url);
      const answers = readAnswers(socket, 2);
      // The smuggled request is the body of the first: one answer for it, then the next request's.
      socket.write(`GET ${bearPath()} HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n${body}${get(bearPath())}`);
      const [first, second] = await answers;
      socket.destroy();
      assert.deepEqual(first.body, bear, framing);
      assert.deepEqual(second.body, bear, `${framing}: the second answer is the next request's, not the smuggled one's`);
    }
  });

  test('a connection changes lanes once, in order: pipelined requests keep their order across the handing over', async () => {
    const socket = await open(server.url);
    let answers: Answer[] = [];
    const n = await laneAnswers(async () => {
      const read = readAnswers(socket, 5);
      // Two plain ones (the lane's), a range (node:http's from then on), a plain one and an API call with a body.
      const api = 'POST /api/v1/repos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"name":"el10"}';
      socket.write(get(bearPath()) + get(camelPath()) + get(camelPath(), 'Range: bytes=5-9\r\n') + get(bearPath()) + api);
      answers = await read;
    });
    socket.destroy();
    assert.equal(n, 2 * LANE);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 206, 200, 401]);
    assert.deepEqual(answers[0].body, bear);
    assert.deepEqual(answers[1].body, camel);
    assert.deepEqual(answers[2].body, camel.subarray(5, 10));
    assert.deepEqual(answers[3].body, bear);
    assert.match(answers[4].body.toString(), /token/);
  });

  test('keeps a connection for many plain requests, all answered by the lane', async () => {
    const socket = await open(server.url);
    let answers: Answer[] = [];
    const n = await laneAnswers(async () => {
      const read = readAnswers(socket, 200);
      for (let i = 0; i < 100; i++) socket.write(get(bearPath()) + get(camelPath()));
      answers = await read;
    });
    socket.destroy();
    assert.equal(n, 200 * LANE);
    assert.ok(answers.every((a, i) => a.body.equals(i % 2 ? camel : bear)));
  });

  for (const [lane, extra] of [
    ['the lane', ''],
    ['node:http', 'Range: bytes=0-\r\n'],
  ]) {
    test(`lets go of a client that asks for many answers and reads none, its memory bounded (${lane})`, async () => {
      const before = heldConnections(server.url);
      const socket = await open(server.url);
      socket.on('error', () => {});
      socket.pause();
      // 300 answers of 900 KB in one write: far more than the socket buffers of both ends hold (32 + 4 MiB here).
      socket.write(get(bigPath, extra).repeat(300));
      const started = Date.now();
      const base = rssMiB();
      let peak = base;
      await waitFor('the server to close the connection (the idle watch)', () => {
        peak = Math.max(peak, rssMiB());
        return Date.now() - started > 500 && heldConnections(server.url) <= before;
      }, 20_000);
      socket.destroy();
      // Each request is begun once the answer before it is sent: the 260 MB of answers
      // are never all held (node:http alone reads every request of a segment at once).
      assert.ok(peak - base < 64, `the server's memory grew by ${(peak - base).toFixed(0)} MiB`);
      // Served others meanwhile, and after.
      const [a] = await exchange(server.url, [get(camelPath())]);
      assert.deepEqual(a.body, camel);
    });
  }

  test('a head sent a byte at a time is handed to node:http, whose header timeout closes it', async () => {
    const socket = await open(server.url);
    socket.on('error', () => {});
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    const started = Date.now();
    const head = `GET ${bearPath()} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    let at = 0;
    // A byte every 100 ms: the connection is never idle, and its head never complete.
    const trickle = setInterval(() => socket.destroyed || socket.write(head[at++ % head.length]), 100);
    const timeout = new Promise<string>((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref());
    const end = await Promise.race([closed, timeout]);
    clearInterval(trickle);
    socket.destroy();
    assert.equal(typeof end, 'number', String(end));
    // --header-timeout 1s, checked every quarter of it.
    assert.ok((end as number) - started < 5000, `closed after ${(end as number) - started} ms`);
    for (const value of ['0.5s', '2h', 'soon']) {
      const r = await txrepo(['serve', '--store', store, '--listen', '127.0.0.1:0', '--header-timeout', value]);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, /--header-timeout|duration/);
    }
  });

  test('leaves a missing or damaged blob to node:http, which says so', { skip: ON_SHARED_BACKENDS && 'the blobs are in object storage here' }, async () => {
    const work = await tempDir('txrepo-fast-lane-blob-');
    try {
      const own = join(work, 'store');
      await inStore(own)(['repo', 'create', 'el9']);
      const id = JSON.parse((await inStore(own)(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm'), sample('camel-0.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
      const files = JSON.parse((await inStore(own)(['show', `el9@${id}`, '--files', '--json'])).stdout).files as { href: string; sha256: string }[];
      const blob = (href: string) => {
        const sha = files.find((f) => f.href === href)!.sha256;
        return join(own, 'blobs', 'sha256', sha.slice(0, 2), sha);
      };
      await truncate(blob('Packages/b/bear-4.1-1.noarch.rpm'), 100);
      await import('node:fs/promises').then((fs) => fs.rm(blob('Packages/c/camel-0.1-1.noarch.rpm')));
      const other = await serve(own, ['--workers', '1']);
      try {
        const [damaged] = await exchange(other.url, [get(`/repos/el9/snapshots/${id}/Packages/b/bear-4.1-1.noarch.rpm`)]);
        assert.equal(damaged.status, 503);
        assert.match(damaged.body.toString(), /damaged|bytes, not/);
        const [gone] = await exchange(other.url, [get(`/repos/el9/snapshots/${id}/Packages/c/camel-0.1-1.noarch.rpm`)]);
        assert.equal(gone.status, 410);
      } finally {
        await other.stop();
      }
    } finally {
      await removeDir(work);
    }
  });

  test('is closed to a private server: every read there needs its token checked', async () => {
    const other = await serve(store, ['--workers', '1', '--private']);
    try {
      const [a] = await exchange(other.url, [get(bearPath())]);
      assert.equal(a.status, 401);
    } finally {
      await other.stop();
    }
  });
});
