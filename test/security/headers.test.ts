// What every answer says about itself (issue 15, findings 10 and 11): security
// headers on files, API answers and errors alike; XML offered as a download; links
// built from the client's Host header never kept by a cache; with --public-url, they
// are the operator's and cached as before.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let work: string;
let store: string;
let plain: Served;
let pinned: Served;
let setId: string;

before(async () => {
  work = await tempDir('txrepo-headers-');
  store = join(work, 'store');
  const tx = inStore(store);
  await tx(['repo', 'create', 'el9']);
  await tx(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm')]);
  setId = JSON.parse((await tx(['set', 'create', 'el9', '--json'])).stdout).id;
  plain = await serve(store, ['--quiet']);
  pinned = await serve(store, ['--quiet', '--public-url', 'https://repo.example.org']);
});
after(async () => {
  await plain?.stop();
  await pinned?.stop();
  await removeDir(work);
});

/** GET with a Host header of the caller's choosing. */
function get(base: string, path: string, host = 'attacker.example'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

test('every answer carries the security headers: files, metadata, the API, errors', async () => {
  for (const path of ['/repos/el9/tags/latest/repodata/repomd.xml', '/repos/el9/tags/latest/Packages/b/bear-4.1-1.noarch.rpm', '/api/v1/repos', '/api/v1/nothing', '/repos/nope/tags/latest/', '/repos/all_latest.json', '/']) {
    const r = await get(plain.url, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'; sandbox", path);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
    assert.equal(r.headers['access-control-allow-origin'], undefined, path);
  }
});

test('XML is offered as a download, not rendered', async () => {
  const r = await get(plain.url, '/repos/el9/tags/latest/repodata/repomd.xml');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-disposition'], 'attachment');
});

test("links built from the client's Host header are never cached; --public-url's are", async () => {
  for (const path of ['/repos/all_latest.json', `/sets/${setId}/repos.repo`]) {
    const fromHost = await get(plain.url, path);
    assert.equal(fromHost.status, 200, fromHost.body);
    assert.match(fromHost.body, /attacker\.example/, 'the Host header is what the links say');
    assert.equal(fromHost.headers['cache-control'], 'no-store', path);
    assert.equal(fromHost.headers.vary, 'host', path);
    const fromFlag = await get(pinned.url, path);
    assert.doesNotMatch(fromFlag.body, /attacker\.example/);
    assert.match(fromFlag.body, /https:\/\/repo\.example\.org\//);
    assert.notEqual(fromFlag.headers['cache-control'], 'no-store', path);
  }
  assert.match((await get(pinned.url, `/sets/${setId}/repos.repo`)).headers['cache-control'] as string, /immutable/);
});
