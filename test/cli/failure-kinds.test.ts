// One test per kind of failure: the same failure gives the same `type` and exit status
// through the CLI on a local store and with --server, and the same HTTP status through
// the API. The statuses and types expected are docs/cli.md's ("Error types"), written
// out here, not read from src/common/failures.ts: a kind mapped wrong there fails here.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { removeDir } from '../helpers/repo.ts';
import { run, TXREPO, txrepo, type RunResult } from '../helpers/run.ts';
import { LOCAL_ONLY } from '../helpers/backends.ts';
import { sample } from '../helpers/samples.ts';
import { FETCH_LOOPBACK, serve, type Served } from '../helpers/serve.ts';
import { document, storeWithApp } from './cli.ts';

/** docs/cli.md's table: each type's exit status and HTTP status. */
const EXPECTED = {
  usage: { exit: 2 },
  invalid_input: { exit: 1, http: 400 },
  not_found: { exit: 1, http: 404 },
  conflict: { exit: 1, http: 409 },
  already_exists: { exit: 1, http: 409 },
  bad_package: { exit: 1, http: 400 },
  bad_metadata: { exit: 1, http: 400 },
  locked: { exit: 1 },
  auth: { exit: 1, http: 401 },
  forbidden: { exit: 1, http: 403 },
  upstream: { exit: 1, http: 502 },
  unavailable: { exit: 1, http: 503 },
  io: { exit: 1 },
  internal: { exit: 70, http: 500 },
} as const;
type Type = keyof typeof EXPECTED;

let dir: string;
let store: string;
let snapshot: string;
let server: Served;
let token: string;
let upstream: StaticServer;

before(async () => {
  ({ dir, store, snapshot } = await storeWithApp('txrepo-kinds-'));
  token = (await txrepo(['token', 'create', 'ci', '--scope', 'admin', '--store', store])).stdout.trim().split(/\s/)[0]!;
  assert.equal((await txrepo(['repo', 'create', 'mirror', '--store', store])).code, 0);
  // An upstream whose repomd.xml is no XML; a missing one is another's.
  await mkdir(join(dir, 'up', 'broken', 'repodata'), { recursive: true });
  await writeFile(join(dir, 'up', 'broken', 'repodata', 'repomd.xml'), 'this is no repomd.xml\n');
  upstream = await serveDirectory(join(dir, 'up'));
  await writeFile(join(dir, 'broken-1.0-1.noarch.rpm'), 'not an rpm');
  server = await serve(store, FETCH_LOOPBACK);
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  await removeDir(dir);
});

/** The CLI with --json: its exit status and error document, checked against the type's row. */
function assertFailed(r: RunResult, type: Type, message?: RegExp): { type: string; message: string; kind?: string } {
  assert.equal(r.code, EXPECTED[type].exit, `${r.stdout}${r.stderr}`);
  const { error } = document(r);
  assert.equal(error.type, type, r.stdout);
  if (message) assert.match(error.message, message);
  return error;
}

const local = (args: string[]) => txrepo([...args, '--json', '--store', store]);
const remote = (args: string[], url = server.url, withToken = true) => txrepo([...args, '--json', '--server', url, ...(withToken ? ['--token', token] : [])]);

/** An API request: its status and error document, checked against the type's row. */
async function api(type: Type, method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  const res = await fetch(`${server.url}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const doc = (await res.json()) as { error: { type: string; message: string; kind?: string } };
  assert.equal(res.status, (EXPECTED[type] as { http?: number }).http, JSON.stringify(doc));
  assert.equal(doc.error.type, type, JSON.stringify(doc));
  return doc.error;
}

/** The same failure locally, through --server and through the API: the same type, exit status and message. */
async function everywhere(type: Type, args: string[], call: [string, string, unknown?], message: RegExp) {
  const here = assertFailed(await local(args), type, message);
  const there = assertFailed(await remote(args), type, message);
  assert.equal(there.message, here.message);
  const byApi = await api(type, ...call);
  assert.equal(byApi.message, here.message);
}

/** A server that answers every request with one failure, as a newer or other server might. */
async function answering(status: number, body: unknown): Promise<{ url: string; server: Server }> {
  const s = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, server: s };
}

describe('each kind of failure, locally, with --server and through the API', () => {
  test('usage', async () => {
    assertFailed(await local(['tag', 'app', 'x']), 'usage', /give REPO, TAG and REF/);
    assertFailed(await remote(['tag', 'app', 'x']), 'usage', /give REPO, TAG and REF/);
  });

  test('invalid_input', () => everywhere('invalid_input', ['repo', 'create', '../etc'], ['POST', '/api/v1/repos', { name: '../etc' }], /\.\.\/etc/));

  test('not_found, with the same advice everywhere', () => everywhere('not_found', ['show', 'app@nope'], ['GET', `/api/v1/repos/app/snapshots/nope`], /^app has no tag nope; see 'txrepo tags app'$/));

  test('conflict', () => everywhere('conflict', ['tag', 'app', 'latest', snapshot, '--expect', 'none'], ['PUT', '/api/v1/repos/app/tags/latest', { ref: snapshot, expect: 'none' }], /points at/));

  test('already_exists', () => everywhere('already_exists', ['repo', 'create', 'app'], ['POST', '/api/v1/repos', { name: 'app' }], /app already exists/));

  test('bad_package: a file that is no RPM, deployed from here or uploaded', async () => {
    const broken = join(dir, 'broken-1.0-1.noarch.rpm');
    assertFailed(await local(['deploy', 'app', broken]), 'bad_package', /broken-1\.0-1\.noarch\.rpm/);
    assertFailed(await remote(['deploy', 'app', broken]), 'bad_package', /broken-1\.0-1\.noarch\.rpm/);
    const data = Buffer.from('not an rpm');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const put = await fetch(`${server.url}/api/v1/blobs/${sha256}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-length': String(data.length) }, body: data });
    assert.equal(put.status, 201);
    await api('bad_package', 'POST', '/api/v1/repos/app/deploy', { uploads: [{ sha256, fileName: 'broken-1.0-1.noarch.rpm' }] });
  });

  test('bad_metadata: an upstream whose repomd.xml is no XML', () =>
    everywhere('bad_metadata', ['sync', 'mirror', '--from', `${upstream.url}/broken/`], ['POST', '/api/v1/repos/mirror/sync', { from: `${upstream.url}/broken/` }], /repomd\.xml/));

  test('upstream: an upstream that has no repo there (its message reaches the client)', () =>
    everywhere('upstream', ['sync', 'mirror', '--from', `${upstream.url}/missing/`], ['POST', '/api/v1/repos/mirror/sync', { from: `${upstream.url}/missing/` }], /missing\/repodata\/repomd\.xml/));

  test('auth: a change through a server without a token', async () => {
    assertFailed(await remote(['repo', 'create', 'web'], server.url, false), 'auth', /give a token/);
    await api('auth', 'POST', '/api/v1/repos', { name: 'web' }, {});
  });

  test('forbidden and internal: what a server answers is what the CLI reports', async () => {
    for (const [type, status] of [['forbidden', 403], ['internal', 500]] as const) {
      const fake = await answering(status, { error: { type, message: `a ${type} failure` } });
      try {
        assertFailed(await remote(['repo', 'list'], fake.url), type, new RegExp(`a ${type} failure`));
      } finally {
        fake.server.close();
      }
    }
  });

  test('locked: createrepo on a directory another run holds', async () => {
    const repo = join(dir, 'held');
    // createrepo_c's lock: .repodata holding the files it is writing.
    await mkdir(join(repo, '.repodata'), { recursive: true });
    await writeFile(join(repo, '.repodata', 'primary.xml.gz'), '');
    assertFailed(await txrepo(['createrepo', repo, '--json']), 'locked', /is locked by another process/);
  });

  test('unavailable: a catalog or a server that does not answer', async () => {
    assertFailed(await txrepo(['repo', 'create', 'web', '--json', '--catalog', 'postgres://nobody@127.0.0.1:9/none', '--store', join(dir, 'elsewhere')]), 'unavailable', /cannot reach the PostgreSQL server/);
    assertFailed(await remote(['repo', 'list'], 'http://127.0.0.1:9'), 'unavailable', /connection refused/);
  });

  test('io: the file system refuses', async () => {
    assertFailed(await local(['publish', 'app', '/etc/hostname/public']), 'io', /\/etc\/hostname/);
  });

  // SQLite's own errors carry no errno: each of these was reported as a bug (exit 70, a stack).
  test('io: a catalog SQLite cannot open (a directory where the file should be), named, not a bug', LOCAL_ONLY, async () => {
    const odd = join(dir, 'catalog-is-a-directory');
    assert.equal((await txrepo(['repo', 'create', 'x', '--store', odd])).code, 0);
    await rm(join(odd, 'catalog.sqlite'));
    await mkdir(join(odd, 'catalog.sqlite'));
    const r = await txrepo(['repo', 'list', '--json', '--store', odd]);
    assertFailed(r, 'io', new RegExp(`^${join(odd, 'catalog.sqlite')}: SQLite: unable to open database file .*the catalog cannot be opened: check the disk`));
    assert.doesNotMatch(r.stderr, /this is a bug|\n\s+at /, r.stderr);
  });

  test("unavailable: a catalog the process's file size limit (ulimit -f) keeps from growing says so", LOCAL_ONLY, async () => {
    const small = join(dir, 'under-a-limit');
    assert.equal((await txrepo(['repo', 'create', 'x', '--store', small])).code, 0);
    // 8 blocks of 512 bytes (dash's unit): below the 32 KiB -shm file SQLite makes at open.
    const r = await run('sh', ['-c', 'trap "" XFSZ; ulimit -f 8; exec "$0" "$@"', TXREPO, 'repo', 'list', '--json', '--store', small]);
    const error = assertFailed(r, 'unavailable', /catalog\.sqlite: SQLite: disk I\/O error, most likely a write past this process's file size limit of 4096 bytes \(ulimit -f\); the catalog cannot be opened: raise the limit/);
    assert.equal(error.kind, 'storage_full');
    // Without the limit, the same store opens.
    assert.equal((await txrepo(['repo', 'list', '--store', small])).code, 0);
  });
});

describe('a deploy that names an upload the server no longer has', () => {
  test('is invalid_input of kind upload_missing (400), and a remote CLI uploads it again', async () => {
    const error = await api('invalid_input', 'POST', '/api/v1/repos/app/deploy', { uploads: [{ sha256: 'a'.repeat(64), fileName: 'x.rpm' }] });
    assert.equal(error.kind, 'upload_missing');
    // A proxy that says the server has every blob the first time it is asked (as when
    // gc removes one between the client's question and its deploy): the client sends
    // nothing, the deploy is refused, and the client uploads what is missing and
    // deploys again, once.
    const asked = new Set<string>();
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'HEAD' && req.url?.startsWith('/api/v1/blobs/') && !asked.has(req.url)) {
        asked.add(req.url);
        return void res.writeHead(200).end();
      }
      const target = new URL(req.url ?? '/', server.url);
      const forward = request(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await remote(['deploy', 'app', sample('duck-0.6-1.noarch.rpm')], url);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(document(r).added, ['Packages/d/duck-0.6-1.noarch.rpm']);
      assert.equal(seen.filter((s) => s.startsWith('POST /api/v1/repos/app/deploy')).length, 2, seen.join('\n'));
      assert.equal(seen.filter((s) => s.startsWith('PUT /api/v1/blobs/')).length, 1, seen.join('\n'));
    } finally {
      proxy.close();
      proxy.closeAllConnections();
    }
  });
});
