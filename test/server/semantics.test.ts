// What docs/http-api.md promises and no other test checked: Last-Modified and the
// Cache-Control of every kind of path, If-Range and several ranges, 410 for a set's
// snapshot gc removed and for a blob gone from the store, WWW-Authenticate on 401, 411
// for an upload without a length, a snapshot path gc removed (past the server's cache), the 503 of /api/v1/health, and set extend, keep,
// release and repo delete through the CLI and the API.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AWS_ENV, openTestStore, startS3Server, storeEnv } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { initStore, serve, type Served } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request; `chunked` sends the body without a Content-Length. */
function http(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string; chunked?: boolean } = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (opts.chunked) req.write(opts.body ?? '');
    req.end(opts.chunked ? undefined : opts.body);
  });
}

let dir: string;
let store: string;
let server: Served;
let token: string;
/** Snapshots of el9: S1 (bear), S2 (+ cat); and their creation times. */
let S1: string;
let S2: string;
let created: Record<string, string>;
const tx = () => inStore(store);
const json = (r: { stdout: string }) => JSON.parse(r.stdout);

before(async () => {
  dir = await tempDir('txrepo-semantics-');
  store = join(dir, 'store');
  await tx()(['repo', 'create', 'el9']);
  S1 = json(await tx()(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm'), '--json'])).snapshot;
  S2 = json(await tx()(['deploy', 'el9', sample('cat-1.0-1.noarch.rpm'), '--json'])).snapshot;
  created = Object.fromEntries(json(await tx()(['snapshots', 'el9', '--json'])).map((s: { id: string; createdAt: string }) => [s.id, s.createdAt]));
  token = (await tx()(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(store, ['--quiet']);
});
after(async () => {
  await server?.stop();
  await removeDir(dir);
});

const get = (path: string, headers: Record<string, string> = {}) => http(server.url, 'GET', path, { headers });
const api = (method: string, path: string, body?: unknown) =>
  http(server.url, method, path, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

describe('caching', () => {
  test('Last-Modified is the snapshot time; Cache-Control per kind of path', async () => {
    const repomd = await get(`/repos/el9/snapshots/${S1}/repodata/repomd.xml`);
    assert.equal(repomd.headers['last-modified'], new Date(created[S1]!).toUTCString());
    const primaryHref = /href="(repodata\/[^"]*-primary\.xml\.gz)"/.exec((await get(`/repos/el9/snapshots/${S2}/repodata/repomd.xml`)).body.toString())![1];
    const cases: [string, string][] = [
      [`/repos/el9/snapshots/${S1}/repodata/repomd.xml`, 'public, max-age=31536000, immutable'],
      ['/repos/el9/tags/latest/repodata/repomd.xml', 'no-cache'],
      [`/repos/el9/tags/latest/${primaryHref}`, 'public, max-age=60'],
      [`/repos/el9/tags/latest/Packages/c/cat-1.0-1.noarch.rpm`, 'public, max-age=60'],
      // at/ a past time names one snapshot for good; a future time follows latest.
      [`/repos/el9/at/${encodeURIComponent(created[S2]!)}/repodata/repomd.xml`, 'public, max-age=31536000, immutable'],
      [`/repos/el9/at/${encodeURIComponent(created[S2]!)}/${primaryHref}`, 'public, max-age=31536000, immutable'],
      ['/repos/el9/at/2999-01-01T00:00:00Z/repodata/repomd.xml', 'no-cache'],
      // Its links come from the Host header here (no --public-url): kept by no cache.
      ['/repos/all_latest.json', 'no-store'],
    ];
    for (const [path, cache] of cases) {
      const r = await get(path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['cache-control'], cache, path);
    }
    const tagged = await get('/repos/el9/tags/latest/repodata/repomd.xml');
    assert.equal(tagged.headers['last-modified'], new Date(created[S2]!).toUTCString());
  });
});

describe('ranges', () => {
  test('If-Range with the ETag gives the range, with another the whole file; several ranges, the whole file', async () => {
    const path = `/repos/el9/snapshots/${S1}/Packages/b/bear-4.1-1.noarch.rpm`;
    const whole = await get(path);
    assert.equal(whole.status, 200);
    const etag = String(whole.headers.etag);
    const same = await get(path, { range: 'bytes=10-19', 'if-range': etag });
    assert.equal(same.status, 206);
    assert.deepEqual(same.body, whole.body.subarray(10, 20));
    const changed = await get(path, { range: 'bytes=10-19', 'if-range': `"${'0'.repeat(64)}"` });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body, whole.body);
    assert.equal(changed.headers['content-range'], undefined);
    const several = await get(path, { range: 'bytes=0-4,10-19' });
    assert.equal(several.status, 200);
    assert.deepEqual(several.body, whole.body);
  });
});

describe('gone', () => {
  test("410 for a set's snapshot that gc removed after the lease ended", async () => {
    await tx()(['repo', 'create', 'short', '--retain-last', '1']);
    const old = json(await tx()(['deploy', 'short', sample('dog-4.23-1.noarch.rpm'), '--json'])).snapshot;
    const set = (await tx()(['set', 'create', `short@${old}`])).stdout.trim();
    await tx()(['deploy', 'short', sample('cow-2.2-3.noarch.rpm')]);
    assert.equal((await get(`/sets/${set}/short/repodata/repomd.xml`)).status, 200);
    await tx()(['set', 'release', set]);
    const gc = json(await tx()(['gc', '--grace', '0s', '--json']));
    assert.ok(gc.snapshots.some((s: { id: string }) => s.id === old), JSON.stringify(gc));
    const r = await get(`/sets/${set}/short/repodata/repomd.xml`);
    assert.equal(r.status, 410);
    assert.equal(JSON.parse(r.body.toString()).error.type, 'not_found');
    assert.match(JSON.parse(r.body.toString()).error.message, new RegExp(`snapshot ${old} of short is gone`));
  });

  test("a snapshot path of a snapshot gc removed is 404 once the server's cache of snapshots has let it go (1 s)", async () => {
    await tx()(['repo', 'create', 'brief', '--retain-last', '1']);
    const old = json(await tx()(['deploy', 'brief', sample('dog-4.23-1.noarch.rpm'), '--json'])).snapshot;
    const path = `/repos/brief/snapshots/${old}/repodata/repomd.xml`;
    // On connections of their own: every server process (--workers) resolves, and keeps, the snapshot.
    const fresh = { headers: { connection: 'close' } };
    for (let i = 0; i < 6; i++) assert.equal((await http(server.url, 'GET', path, fresh)).status, 200);
    await tx()(['deploy', 'brief', sample('cow-2.2-3.noarch.rpm')]);
    const gc = json(await tx()(['gc', '--grace', '0s', '--json']));
    assert.ok(gc.snapshots.some((s: { id: string }) => s.id === old), JSON.stringify(gc));
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 6; i++) {
      const r = await http(server.url, 'GET', path, fresh);
      assert.equal(r.status, 404, `request ${i + 1}: ${r.body}`);
      assert.match(JSON.parse(r.body.toString()).error.message, new RegExp(`brief has no snapshot ${old}`));
    }
  });

  test('410 for a file whose blob is gone from the store', async () => {
    // A package of its own, never read before (the server's cache of object storage
    // would still have it).
    const id = json(await tx()(['deploy', 'el9', sample('giraffe-0.67-2.noarch.rpm'), '--json'])).snapshot;
    const files = json(await tx()(['show', `el9@${id}`, '--files', '--json'])).files as { href: string; sha256: string }[];
    const giraffe = files.find((f) => f.href.endsWith('giraffe-0.67-2.noarch.rpm'))!;
    await removeBlob(giraffe.sha256);
    const r = await get(`/repos/el9/snapshots/${id}/${giraffe.href}`);
    assert.equal(r.status, 410);
    assert.match(JSON.parse(r.body.toString()).error.message, /giraffe-0\.67-2\.noarch\.rpm is gone from the store/);
  });
});

/** Deletes a blob behind txrepo's back: the file, or the object in the bucket. */
async function removeBlob(digest: string) {
  const s = await openTestStore(store);
  try {
    const path = s.blobs.localPath(digest);
    if (path) return await rm(path);
    const url = new URL(storeEnv(store).TXREPO_BLOBS!);
    const { S3Client, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint: url.searchParams.get('endpoint')!, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY } });
    await client.send(new DeleteObjectCommand({ Bucket: url.host, Key: `${url.pathname.slice(1)}/sha256/${digest.slice(0, 2)}/${digest}` }));
    client.destroy();
  } finally {
    await s.close();
  }
}

describe('API refusals', () => {
  test('401 says how to authenticate (WWW-Authenticate)', async () => {
    const none = await http(server.url, 'POST', '/api/v1/repos', { headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="txrepo"');
    const wrong = await http(server.url, 'POST', '/api/v1/repos', { headers: { authorization: 'Bearer txr_nope', 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="txrepo", error="invalid_token"');
  });

  test('411 for an upload without a Content-Length', async () => {
    const r = await http(server.url, 'PUT', `/api/v1/blobs/${'ab'.repeat(32)}`, { headers: { authorization: `Bearer ${token}` }, body: 'data', chunked: true });
    assert.equal(r.status, 411);
    assert.match(JSON.parse(r.body.toString()).error.message, /Content-Length/);
  });
});

describe('health', () => {
  test('200 while the catalog and blobs answer; 503 naming what failed when the blob store is gone', async () => {
    assert.deepEqual(JSON.parse((await get('/api/v1/health')).body.toString()), { catalog: 'ok', blobs: 'ok' });
    // A store of its own whose blobs are on an S3 server the test then stops.
    const s3 = await startS3Server('health');
    const own = join(dir, 'health-store');
    const env = { ...AWS_ENV, TXREPO_BLOBS: `s3://health/h?endpoint=${new URL(s3.url).origin}` };
    let served: Served | undefined;
    try {
      await initStore(own, { env });
      served = await serve(own, ['--quiet'], { env });
      assert.equal((await http(served.url, 'GET', '/api/v1/health')).status, 200);
      await s3.close();
      const r = await http(served.url, 'GET', '/api/v1/health');
      assert.equal(r.status, 503);
      const body = JSON.parse(r.body.toString());
      assert.equal(body.catalog, 'ok');
      assert.match(body.blobs, /^blobs: /);
    } finally {
      await served?.stop();
      await s3.close();
    }
  });
});

describe('leases and repository deletion, through the CLI and the API', () => {
  test('set extend, keep and release', async () => {
    // CLI on the store.
    const set = (await tx()(['set', 'create', 'el9', '--ttl', '1h'])).stdout.trim();
    const hour = Date.parse(json(await tx()(['set', 'show', set, '--json'])).expiresAt) - Date.now();
    assert.ok(hour > 3_500_000 && hour <= 3_600_000, `${hour}`);
    const extended = json(await tx()(['set', 'extend', set, '--ttl', '2d', '--json']));
    assert.ok(Math.abs(Date.parse(extended.expiresAt) - Date.now() - 2 * 86_400_000) < 60_000, extended.expiresAt);
    const kept = json(await tx()(['set', 'keep', set, '--json']));
    assert.equal(kept.expiresAt ?? null, null);
    assert.equal(kept.live, true);
    const released = json(await tx()(['set', 'release', set, '--json']));
    assert.equal(released.live, false);
    assert.equal(released.ended.how, 'released');
    // The same through the API.
    const id = JSON.parse((await api('POST', '/api/v1/sets', { refs: ['el9'], ttl: '1h' })).body.toString()).id;
    let r = await api('POST', `/api/v1/sets/${id}/extend`, { ttl: '3d' });
    assert.equal(r.status, 200, r.body.toString());
    assert.ok(Math.abs(Date.parse(JSON.parse(r.body.toString()).expiresAt) - Date.now() - 3 * 86_400_000) < 60_000);
    r = await api('POST', `/api/v1/sets/${id}/keep`);
    assert.equal(JSON.parse(r.body.toString()).expiresAt ?? null, null);
    r = await api('POST', `/api/v1/sets/${id}/release`);
    assert.equal(JSON.parse(r.body.toString()).ended.how, 'released');
    // A released set's lease is over for good.
    r = await api('POST', `/api/v1/sets/${id}/extend`, { ttl: '1d' });
    assert.equal(r.status, 409);
    assert.equal(JSON.parse(r.body.toString()).error.type, 'conflict');
    assert.equal((await txrepo(['set', 'keep', set, '--store', store])).code, 1);
  });

  test('repo delete: refused while a live set pins it, then gone', async () => {
    for (const via of ['cli', 'api'] as const) {
      const name = `gone-${via}`;
      await tx()(['repo', 'create', name]);
      await tx()(['deploy', name, sample('fox-1.1-2.noarch.rpm')]);
      const set = (await tx()(['set', 'create', name])).stdout.trim();
      const refused = via === 'cli' ? await txrepo(['repo', 'delete', name, '--json', '--store', store]) : undefined;
      const refusedApi = via === 'api' ? await api('DELETE', `/api/v1/repos/${name}`) : undefined;
      if (refused) assert.equal(JSON.parse(refused.stdout).error.type, 'conflict', refused.stdout);
      if (refusedApi) assert.equal(refusedApi.status, 409, refusedApi.body.toString());
      await tx()(['set', 'release', set]);
      if (via === 'cli') assert.deepEqual(json(await tx()(['repo', 'delete', name, '--json'])), { deleted: name });
      else assert.equal((await api('DELETE', `/api/v1/repos/${name}`)).status, 200);
      assert.equal((await get(`/api/v1/repos/${name}`)).status, 404);
      assert.equal((await get(`/repos/${name}/tags/latest/repodata/repomd.xml`)).status, 404);
      assert.ok(!json(await tx()(['repo', 'list', '--json'])).some((r: { name: string }) => r.name === name));
    }
  });
});
