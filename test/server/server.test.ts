// txrepo serve: the read paths (HEAD, ranges, ETags, cache headers, tag grace), the
// API (tokens, bad requests), remote CLI use, and hostile paths.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { serve, type Served } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';

const rpm = sample;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP request: the path is sent exactly as given (no normalisation). */
function http(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let store: string;
let server: Served;
let token: string;
let A: string;
let B: string;
let between: string;
const tx = () => inStore(store);

before(async () => {
  dir = await tempDir('txrepo-serve-');
  store = join(dir, 'store');
  await tx()(['repo', 'create', 'el9']);
  A = JSON.parse((await tx()(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm'), rpm('camel-0.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
  await tx()(['tag', 'el9', 'tested', A]);
  await new Promise((r) => setTimeout(r, 20));
  between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  B = JSON.parse((await tx()(['deploy', 'el9', rpm('cat-1.0-1.noarch.rpm'), '--json'])).stdout).snapshot;
  token = (await tx()(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(store);
});
after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('read paths', () => {
  test('snapshot files: immutable, ETag and 304, HEAD, byte ranges, content types; packages verify against the manifest', async () => {
    const path = `/repos/el9/snapshots/${A}/repodata/repomd.xml`;
    const r = await http(server.url, 'GET', path);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(r.headers['content-type'], 'application/xml');
    assert.equal(r.headers.etag, `"${sha256(r.body)}"`);
    const head = await http(server.url, 'HEAD', path);
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(r.body.length));
    assert.equal((await http(server.url, 'GET', path, { headers: { 'if-none-match': String(r.headers.etag) } })).status, 304);
    const part = await http(server.url, 'GET', path, { headers: { range: 'bytes=5-14' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 5-14/${r.body.length}`);
    assert.deepEqual(part.body, r.body.subarray(5, 15));
    const suffix = await http(server.url, 'GET', path, { headers: { range: 'bytes=-7' } });
    assert.deepEqual(suffix.body, r.body.subarray(r.body.length - 7));
    const outside = await http(server.url, 'GET', path, { headers: { range: `bytes=${r.body.length}-` } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers['content-range'], `bytes */${r.body.length}`);

    const manifest = JSON.parse((await txrepo(['show', `el9@${A}`, '--files', '--json', '--server', server.url])).stdout);
    for (const f of manifest.files) {
      const got = await http(server.url, 'GET', `/repos/el9/snapshots/${A}/${f.href}`);
      assert.equal(got.status, 200, f.href);
      assert.equal(sha256(got.body), f.sha256, f.href);
      if (f.href.endsWith('.rpm')) assert.equal(got.headers['content-type'], 'application/x-rpm');
    }
  });

  test('tags, at/TIME and all_latest.json follow the tags; repomd.xml under a tag is revalidated', async () => {
    const viaTag = await http(server.url, 'GET', '/repos/el9/tags/latest/repodata/repomd.xml');
    assert.equal(viaTag.headers['cache-control'], 'no-cache');
    const latestRepomd = await http(server.url, 'GET', `/repos/el9/snapshots/${B}/repodata/repomd.xml`);
    assert.deepEqual(viaTag.body, latestRepomd.body);
    const tested = await http(server.url, 'GET', '/repos/el9/tags/tested/repodata/repomd.xml');
    assert.deepEqual(tested.body, (await http(server.url, 'GET', `/repos/el9/snapshots/${A}/repodata/repomd.xml`)).body);
    const at = await http(server.url, 'GET', `/repos/el9/at/${encodeURIComponent(between)}/repodata/repomd.xml`);
    assert.deepEqual(at.body, tested.body);
    assert.equal((await http(server.url, 'GET', '/repos/el9/at/1999-01-01T00:00:00Z/repodata/repomd.xml')).status, 404);
    const index = JSON.parse((await http(server.url, 'GET', '/repos/all_latest.json')).body.toString());
    assert.deepEqual(index, { latest_ci_repos: { el9: `${server.url.replace('127.0.0.1', '127.0.0.1')}/repos/el9/snapshots/${B}/` } });
  });

  test("a tag path still serves the files of the snapshots the tag left within the grace window, and only then", async () => {
    const primaryOf = async (id: string) => {
      const repomd = (await http(server.url, 'GET', `/repos/el9/snapshots/${id}/repodata/repomd.xml`)).body.toString();
      return /href="(repodata\/[^"]*-primary\.xml\.gz)"/.exec(repomd)![1];
    };
    const oldPrimary = await primaryOf(A);
    await tx()(['tag', 'el9', 'moving', A]);
    await tx()(['tag', 'el9', 'moving', B]);
    assert.equal((await http(server.url, 'GET', `/repos/el9/tags/moving/${oldPrimary}`)).status, 200, 'within the default 1h window');
    const short = await serve(store, ['--grace', '1s']);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const r = await http(short.url, 'GET', `/repos/el9/tags/moving/${oldPrimary}`);
      assert.equal(r.status, 404, 'after the window');
      assert.equal((await http(short.url, 'GET', `/repos/el9/tags/moving/${await primaryOf(B)}`)).status, 200);
    } finally {
      await short.stop();
    }
  });

  test('sets: pinned paths and a ready repos.repo', async () => {
    const set = (await txrepo(['set', 'create', `el9@${A}`, '--label', 'run 7', '--server', server.url, '--token', token])).stdout.trim();
    const repo = (await http(server.url, 'GET', `/sets/${set}/repos.repo`)).body.toString();
    assert.match(repo, new RegExp(`\\[el9\\]\\nname=el9 \\(snapshot ${A}, set ${set}\\)\\nbaseurl=${server.url}/sets/${set}/el9/\\n`));
    const r = await http(server.url, 'GET', `/sets/${set}/el9/repodata/repomd.xml`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await http(server.url, 'GET', `/sets/${set}/nope/repodata/repomd.xml`)).status, 404);
    assert.equal((await http(server.url, 'GET', '/sets/20000101-000000-0001/el9/repodata/repomd.xml')).status, 404);
  });
});

describe('hostile requests', () => {
  test('traversal, encoded dots and slashes, NUL, overlong paths and unknown names get 4xx, never a file', async () => {
    const passwd = await readFile('/etc/passwd');
    // The statuses docs/http-api.md promises: 400 for what no path may hold, 414 for an
    // overlong one, 404 for names that are not there.
    const paths: [string, number][] = [
      [`/repos/el9/snapshots/${A}/../../../../../../etc/passwd`, 400],
      [`/repos/el9/snapshots/${A}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, 400],
      [`/repos/el9/snapshots/${A}/..%2f..%2f..%2fetc%2fpasswd`, 400],
      [`/repos/el9/snapshots/${A}/Packages%5c..%5c..%5cetc%5cpasswd`, 400],
      [`/repos/el9/snapshots/${A}/repodata/repomd.xml%00.rpm`, 400],
      [`/repos/..%2F..%2Fetc/snapshots/${A}/passwd`, 400],
      ['/repos/%2e%2e/tags/latest/etc/passwd', 400],
      [`/repos/el9/snapshots/${A}//etc/passwd`, 400],
      ['/repos/el9/snapshots/not-an-id/repodata/repomd.xml', 404],
      ['/repos/no-such-repo/snapshots/20260101-000000-0001/repodata/repomd.xml', 404],
      ['/repos/el9/tags/no-such-tag/repodata/repomd.xml', 404],
      ['/repos/el9/snapshots/%ZZ/x', 400],
      [`/repos/el9/snapshots/${A}/${'a/'.repeat(3000)}x`, 414],
      ['/etc/passwd', 404],
      ['/api/v1/../../etc/passwd', 400],
    ];
    for (const [p, status] of paths) {
      const r = await http(server.url, 'GET', p);
      assert.equal(r.status, status, `${p}: ${r.body.toString().slice(0, 200)}`);
      assert.ok(!r.body.includes(passwd.subarray(0, 20)), p);
    }
    assert.equal((await http(server.url, 'POST', `/repos/el9/snapshots/${A}/repodata/repomd.xml`)).status, 405);
    // A tag path says which name is not there: the repository, or its tag.
    assert.match((await http(server.url, 'GET', '/repos/no-such-repo/tags/latest/repodata/repomd.xml')).body.toString(), /no repository no-such-repo/);
    assert.match((await http(server.url, 'GET', '/repos/el9/tags/no-such-tag/repodata/repomd.xml')).body.toString(), /el9 has no tag no-such-tag/);
  });

  test('writes need a valid token; reads are anonymous', async () => {
    const body = JSON.stringify({ name: 'el10' });
    const json = { 'content-type': 'application/json' };
    assert.equal((await http(server.url, 'POST', '/api/v1/repos', { headers: json, body })).status, 401);
    assert.equal((await http(server.url, 'POST', '/api/v1/repos', { headers: { ...json, authorization: 'Bearer txr_wrong' }, body })).status, 401);
    assert.equal((await http(server.url, 'POST', '/api/v1/repos', { headers: { ...json, authorization: 'Basic abc' }, body })).status, 401);
    assert.equal((await http(server.url, 'GET', '/api/v1/repos')).status, 200);
    const other = (await tx()(['token', 'create', 'short-lived', '--scope', 'admin'])).stdout.trim();
    assert.equal((await http(server.url, 'POST', '/api/v1/repos', { headers: { ...json, authorization: `Bearer ${other}` }, body })).status, 201);
    await tx()(['token', 'revoke', 'short-lived']);
    const revoked = await http(server.url, 'POST', '/api/v1/repos', { headers: { ...json, authorization: `Bearer ${other}` }, body: JSON.stringify({ name: 'el11' }) });
    assert.equal(revoked.status, 401);
    assert.equal(JSON.parse(revoked.body.toString()).error.type, 'auth');
    const cli = await txrepo(['repo', 'create', 'el12', '--server', server.url]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /give a token/);
  });

  test('bad JSON, huge bodies, bad fields, bad uploads: 4xx and nothing stored', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const state = async () => ({
      repos: JSON.parse((await tx()(['repo', 'list', '--json'])).stdout).map((r: { name: string }) => r.name),
      sets: JSON.parse((await tx()(['set', 'list', '--json'])).stdout).length,
      snapshots: JSON.parse((await tx()(['snapshots', 'el9', '--json'])).stdout).length,
      log: JSON.parse((await tx()(['log', '--json'])).stdout).filter((e: { result: string }) => e.result === 'ok').length,
    });
    const before = await state();
    const cases: [string, string, string | Buffer, number][] = [
      ['POST', '/api/v1/repos', '{"name": ', 400],
      ['POST', '/api/v1/repos', '[1,2]', 400],
      ['POST', '/api/v1/repos', JSON.stringify({ name: 42 }), 400],
      ['POST', '/api/v1/repos', JSON.stringify({ name: '../etc' }), 400],
      ['POST', '/api/v1/repos', JSON.stringify({ name: 'neg', keep: -5 }), 400],
      ['POST', '/api/v1/repos', JSON.stringify({ name: 'frac', retainDays: 0 }), 400],
      ['POST', '/api/v1/repos', JSON.stringify({ name: 'x', pad: 'y'.repeat(2 << 20) }), 413],
      ['POST', '/api/v1/repos/el9/deploy', JSON.stringify({ sources: ['/etc/passwd'] }), 400],
      ['POST', '/api/v1/repos/el9/deploy', JSON.stringify({ uploads: [{ sha256: 'a'.repeat(64), fileName: '../../x.rpm' }] }), 400],
      ['POST', '/api/v1/repos/el9/deploy', JSON.stringify({ uploads: [{ sha256: 'a'.repeat(64), fileName: 'x.rpm' }] }), 400],
      ['POST', '/api/v1/repos/el9/sync', JSON.stringify({ from: '/etc' }), 400],
      ['PUT', '/api/v1/repos/el9/tags/latest', JSON.stringify({ ref: 'no-such-tag' }), 404],
      ['POST', '/api/v1/sets', JSON.stringify({ refs: ['el9@nope'] }), 404],
      ['POST', '/api/v1/sets', JSON.stringify({ refs: ['el9'], ttl: 'soon' }), 400],
      ['POST', '/api/v1/nothing-here', '{}', 404],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await http(server.url, method, path, { headers: auth, body });
      assert.equal(r.status, status, `${method} ${path} ${String(body).slice(0, 80)}: ${r.body.toString().slice(0, 300)}`);
      assert.ok(JSON.parse(r.body.toString()).error.message.length > 10);
    }
    const data = Buffer.from('not the content that hashes to this name');
    const wrong = 'b'.repeat(64);
    const put = await http(server.url, 'PUT', `/api/v1/blobs/${wrong}`, { headers: { authorization: `Bearer ${token}`, 'content-length': String(data.length) }, body: data });
    assert.equal(put.status, 400);
    assert.equal((await http(server.url, 'HEAD', `/api/v1/blobs/${wrong}`)).status, 404);
    assert.equal((await http(server.url, 'PUT', '/api/v1/blobs/../../x', { headers: { authorization: `Bearer ${token}` }, body: data })).status, 400);
    // Nothing came of the bad requests: no repository, set, snapshot or change.
    assert.deepEqual(await state(), before);
    assert.equal((await tx()(['fsck'])).code, 0);
  });
});

describe('remote CLI', () => {
  test('deploy uploads local packages, every change is logged with the token and the client', async () => {
    const r = await txrepo(['deploy', 'el9', rpm('dog-4.23-1.noarch.rpm'), rpm('duck-0.6-1.noarch.rpm'), '--json', '--server', server.url, '--token', token]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.added.length, 2);
    assert.equal(JSON.parse((await txrepo(['show', `el9@${result.snapshot}`, '--json', '--server', server.url])).stdout).parent, B);
    const corrupt = join(dir, 'corrupt.rpm');
    await (await import('node:fs/promises')).writeFile(corrupt, 'not an rpm');
    const bad = await txrepo(['deploy', 'el9', corrupt, '--server', server.url, '--token', token]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /corrupt\.rpm/);
    const log = JSON.parse((await txrepo(['log', 'el9', '--json', '--server', server.url, '--token', token])).stdout);
    const deploys = log.filter((e: { command: string }) => e.command === 'deploy');
    assert.match(deploys.at(-2).actor, /^token:ci \(.+@.+\)$/);
    assert.equal(deploys.at(-2).result, 'ok');
    assert.match(deploys.at(-1).result, /^error: corrupt\.rpm/);
    // A damaged package (one flipped bit) is refused by the server that reads the upload.
    const damaged = join(dir, 'dog-4.23-1.noarch.rpm');
    const bytes = await readFile(rpm('dog-4.23-1.noarch.rpm'));
    bytes[bytes.length - 5] ^= 0x02;
    await (await import('node:fs/promises')).writeFile(damaged, bytes);
    const refused = await txrepo(['deploy', 'el9', damaged, '--server', server.url, '--token', token]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /dog-4\.23-1\.noarch\.rpm: the upload: the payload's SHA256 digest does not match \(the file is damaged\)/);
  });
});

describe('several server processes', () => {
  test('by default, one process per core (at most 8), serving', async () => {
    const served = await serve(store, ['--json', '--quiet']);
    try {
      const expected = Math.min(8, availableParallelism());
      assert.match(served.stderr(), new RegExp(expected > 1 ? `, ${expected} processes\\)` : '\\(store [^,)]*\\)'));
      for (let i = 0; i < 50 && served.log.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const start = JSON.parse(served.log[0]);
      assert.equal(start.processes, expected);
      // Connections of their own, which the processes take in turn.
      const replies = await Promise.all(Array.from({ length: 4 * expected }, () => http(served.url, 'GET', `/repos/el9/snapshots/${A}/repodata/repomd.xml`, { headers: { connection: 'close' } })));
      assert.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
    } finally {
      await served.stop();
    }
  });

  test('--workers 2 share the port, serve and take writes, and stop together', async () => {
    const two = await serve(store, ['--workers', '2']);
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, () => http(two.url, 'GET', `/repos/el9/snapshots/${A}/repodata/repomd.xml`)));
      assert.ok(replies.every((r) => r.status === 200));
      const made = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((name) => txrepo(['repo', 'create', name, '--server', two.url, '--token', token])));
      assert.deepEqual(made.map((r) => r.code), [0, 0, 0, 0]);
    } finally {
      await two.stop();
    }
    assert.equal(two.child.exitCode, 0);
  });
});

describe('serve usage', () => {
  test('a bad --listen or --grace is a usage error, not a crash', async () => {
    for (const args of [['--listen', 'garbage'], ['--listen', '127.0.0.1:99999'], ['--grace', 'soon'], ['--public-url', 'ftp://x']]) {
      const r = await txrepo(['serve', ...args, '--store', store]);
      assert.ok(r.code === 1 || r.code === 2, `${args.join(' ')}: exit ${r.code}`);
      assert.doesNotMatch(r.stderr, /bug in txrepo/, args.join(' '));
      assert.match(r.stderr, new RegExp(args[0].replace('--', '') === 'grace' ? 'not a duration' : args[0]));
    }
  });
});
