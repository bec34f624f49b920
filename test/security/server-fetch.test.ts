// What a server fetches for its clients (issue 15, finding 3): a deploy URL or a sync
// upstream on loopback, also written as 2130706433 or 0x7f000001, is refused with a
// 400 that names the address and the flag, and nothing reaches the service behind
// it, so neither its answer nor whether its port is open comes back. serve
// --fetch-allow opens it; a bad --fetch-allow stops serve at start-up.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { serve, type Served } from '../helpers/serve.ts';

let work: string;
let internal: Server;
let port: number;
let hits = 0;
let strict: Served;
let token: string;

before(async () => {
  work = await tempDir('txrepo-server-fetch-');
  // An internal service a client should not be able to probe through the server.
  internal = createServer((_, res) => {
    hits++;
    res.end('secret=hunter2');
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', () => r()));
  port = (internal.address() as AddressInfo).port;
  const store = join(work, 'store');
  await inStore(store)(['repo', 'create', 'el9']);
  token = (await inStore(store)(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  strict = await serve(store, ['--quiet']);
});
after(async () => {
  await strict?.stop();
  await new Promise<void>((r) => internal.close(() => r()));
  await removeDir(work);
});

const post = (path: string, body: unknown) =>
  fetch(`${strict.url}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('deploy URLs and sync upstreams on loopback, in any notation: 400 naming the address, nothing sent there', async () => {
  for (const host of ['127.0.0.1', '2130706433', '0x7f000001', 'localhost']) {
    for (const [path, body] of [
      ['/repos/el9/sync', { from: `http://${host}:${port}/` }],
      ['/repos/el9/deploy', { sources: [`http://${host}:${port}/`] }],
    ] as const) {
      const r = await post(path, body);
      const text = await r.text();
      assert.equal(r.status, 400, `${path} ${host}: ${text}`);
      const { error } = JSON.parse(text);
      assert.equal(error.type, 'invalid_input');
      assert.match(error.message, /the server does not fetch from .*a loopback address; its operator can allow it with 'txrepo serve --fetch-allow (127\.0\.0\.1|::1)'/);
      assert.doesNotMatch(text, /hunter2/);
    }
  }
  assert.equal(hits, 0, 'the internal service was reached');
  // A closed port answers the same: nothing tells it from an open one.
  const closed = await post('/repos/el9/sync', { from: 'http://127.0.0.1:1/' });
  assert.equal(closed.status, 400);
  assert.match(await closed.text(), /a loopback address/);
});

test('serve --fetch-allow opens it', async () => {
  const store = join(work, 'open-store');
  await inStore(store)(['repo', 'create', 'el9']);
  const t = (await inStore(store)(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  const open = await serve(store, ['--quiet', '--fetch-allow', '127.0.0.0/8']);
  try {
    const r = await txrepo(['sync', 'el9', '--from', `http://127.0.0.1:${port}/`, '--server', open.url, '--token', t]);
    // The request went through: the service answered (not a repo, so the sync fails on its metadata).
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, /does not fetch from/);
    assert.ok(hits > 0, 'the allowed upstream was fetched');
  } finally {
    await open.stop();
  }
});

test('a --fetch-allow that is neither a host nor a range stops serve at start-up, named', async () => {
  const r = await txrepo(['serve', '--store', join(work, 'store'), '--listen', '127.0.0.1:0', '--fetch-allow', '10.0.0.0/33']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--fetch-allow 10\.0\.0\.0\/33: not an address range/);
});
