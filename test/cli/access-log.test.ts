// The server's access log counts the body bytes of every answer (JSON, text, errors
// and files alike; 0 for HEAD), in the text log and in serve --json's JSON lines.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { removeDir } from '../helpers/repo.ts';
import { serve, type Served } from '../helpers/serve.ts';
import { document, storeWithApp } from './cli.ts';

let dir: string;
let store: string;
let set: string;

/** One request on a fresh connection; the body's length as received. */
function fetchBytes(base: string, method: string, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits for the log line of the `count`-th request. */
async function logLines(served: Served, count: number): Promise<string[]> {
  for (let i = 0; i < 100 && served.log.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  return served.log;
}

// JSON (the API), text (repos.repo, the root), an error (JSON), a file, HEAD of a file.
const REQUESTS: [string, () => string][] = [
  ['GET', () => '/api/v1/repos'],
  ['GET', () => `/sets/${set}/repos.repo`],
  ['GET', () => '/'],
  ['GET', () => '/repos/nope/tags/latest/repodata/repomd.xml'],
  ['GET', () => '/repos/app/tags/latest/repodata/repomd.xml'],
  ['HEAD', () => '/repos/app/tags/latest/repodata/repomd.xml'],
  ['HEAD', () => '/api/v1/repos'],
];

before(async () => {
  let tx;
  ({ dir, store, tx } = await storeWithApp('txrepo-cli-log-'));
  set = document(await tx(['set', 'create', 'app', '--json'])).id;
});

after(() => removeDir(dir));

describe('access log', () => {
  test('text lines: the bytes of every answer, 0 for HEAD', async () => {
    // One process: the lines come in the order of the requests.
    const served = await serve(store, ['--workers', '1']);
    try {
      const sent = [];
      for (const [method, path] of REQUESTS) sent.push({ method, path: path(), ...(await fetchBytes(served.url, method, path())) });
      const lines = await logLines(served, sent.length);
      assert.equal(lines.length, sent.length, lines.join('\n'));
      for (const [i, s] of sent.entries()) {
        const m = /^\S+ 127\.0\.0\.1 "(\S+) (\S+)" (\d+) (\d+) [\d.]+ms$/.exec(lines[i]);
        assert.ok(m, lines[i]);
        assert.deepEqual([m[1], m[2], Number(m[3]), Number(m[4])], [s.method, s.path, s.status, s.bytes], lines[i]);
        if (s.method === 'GET') assert.ok(s.bytes > 0, `${s.path} has a body`);
        else assert.equal(s.bytes, 0);
      }
    } finally {
      await served.stop();
    }
  });

  test('serve --json: a start-up line, then one JSON object per request with the same counts', async () => {
    const served = await serve(store, ['--json', '--workers', '1']);
    try {
      const sent = [];
      for (const [method, path] of REQUESTS) sent.push({ method, path: path(), ...(await fetchBytes(served.url, method, path())) });
      const lines = await logLines(served, sent.length + 1);
      const [start, ...requests] = lines.map((l) => JSON.parse(l));
      assert.deepEqual(start, { event: 'listening', url: served.url, store, processes: 1 });
      assert.equal(requests.length, sent.length);
      for (const [i, s] of sent.entries()) {
        const e = requests[i];
        assert.deepEqual(Object.keys(e), ['event', 'time', 'remote', 'method', 'path', 'status', 'bytes', 'ms']);
        assert.deepEqual([e.event, e.method, e.path, e.status, e.bytes, e.remote], ['request', s.method, s.path, s.status, s.bytes, '127.0.0.1']);
        assert.ok(!Number.isNaN(Date.parse(e.time)) && typeof e.ms === 'number');
      }
    } finally {
      await served.stop();
    }
  });
});
