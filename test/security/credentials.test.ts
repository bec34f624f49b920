// Credentials of an upstream (issue 15, point 3, finding 4): an upstream URL with
// USER:PASSWORD@ was shown to anyone by GET /api/v1/repos/<repo> and /api/v1/log. Now a
// URL's credentials serve its one fetch and are masked in the log and in every
// message; a stored upstream keeps none (they go in $TXREPO_NETRC); credentials go to
// the upstream's own origin only, never where a redirect leads.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { ON_SHARED_BACKENDS } from '../helpers/backends.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { copyTree, removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { FETCH_LOOPBACK, serve, type Served } from '../helpers/serve.ts';

const SECRET = 's3cr3t-p4ss';
let work: string;
let upstream: StaticServer;
let store: string;

before(async () => {
  work = await tempDir('txrepo-credentials-');
  const dir = join(work, 'upstream');
  await copyTree(SAMPLES, dir);
  assert.equal((await txrepo(['createrepo', '-q', dir])).code, 0);
  upstream = await serveDirectory(dir, { basicAuth: { user: 'mirror', password: SECRET } });
  store = join(work, 'store');
  await inStore(store)(['repo', 'create', 'm']);
});
after(async () => {
  await upstream?.close();
  await removeDir(work);
});

const withSecret = () => upstream.url.replace('http://', `http://mirror:${SECRET}@`);

test('sync --from a URL with credentials: fetched with them, and they appear nowhere after', async () => {
  const tx = inStore(store);
  await tx(['sync', 'm', '--from', withSecret()]);
  assert.equal(JSON.parse((await tx(['show', 'm', '--json'])).stdout).packages, 35);
  const shown = [(await tx(['log', '--json'])).stdout, (await tx(['log'])).stdout, (await tx(['repo', 'show', 'm', '--json'])).stdout].join('\n');
  assert.doesNotMatch(shown, new RegExp(SECRET));
  assert.match((await tx(['log', '--json'])).stdout, /http:\/\/\*\*\*@127\.0\.0\.1/);
  // Not only shown masked: never written. The audit rows as stored (the embedded catalog's file).
  if (!ON_SHARED_BACKENDS) {
    const db = new DatabaseSync(join(store, 'catalog.sqlite'), { readOnly: true });
    const rows = JSON.stringify(db.prepare('SELECT * FROM audit').all());
    db.close();
    assert.match(rows, /\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(rows, new RegExp(SECRET));
  }
  // Through a server: its API's log and the error of a failed fetch hold no secret either.
  const token = (await tx(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  const server: Served = await serve(store, ['--quiet', ...FETCH_LOOPBACK]);
  try {
    const failed = await txrepo(['sync', 'm', '--from', `${withSecret()}/no-such-dir/`, '--server', server.url, '--token', token, '--json']);
    assert.notEqual(failed.code, 0);
    assert.doesNotMatch(failed.stdout + failed.stderr, new RegExp(SECRET));
    assert.match(failed.stdout, /no-such-dir\/repodata\/repomd\.xml: not found \(404\)/);
    const log = await (await fetch(`${server.url}/api/v1/log`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.doesNotMatch(log, new RegExp(SECRET));
    const refused = await txrepo(['deploy', 'm', `ftp://mirror:${SECRET}@127.0.0.1/x/`, '--server', server.url, '--token', token]);
    assert.notEqual(refused.code, 0);
    assert.doesNotMatch(refused.stderr, new RegExp(SECRET));
  } finally {
    await server.stop();
  }
});

test('a stored upstream keeps no credentials: refused, named without them; $TXREPO_NETRC gives them instead', async () => {
  const tx = inStore(store);
  const r = await txrepo(['repo', 'create', 'n', '--upstream', withSecret(), '--store', store]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /upstream http:\/\/\*\*\*@127\.0\.0\.1:\d+: a stored upstream keeps no credentials .*\$TXREPO_NETRC/);
  assert.doesNotMatch(r.stderr, new RegExp(SECRET));
  await tx(['repo', 'create', 'n', '--upstream', upstream.url]);
  const without = await txrepo(['sync', 'n', '--store', store]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /HTTP 401/);
  const netrc = join(work, 'netrc');
  await writeFile(netrc, `# the mirror's account\nmachine 127.0.0.1\n  login mirror\n  password ${SECRET}\n`);
  const withNetrc = await txrepo(['sync', 'n', '--store', store], { env: { ...process.env, TXREPO_NETRC: netrc } });
  assert.equal(withNetrc.code, 0, withNetrc.stderr);
  assert.equal(JSON.parse((await tx(['show', 'n', '--json'])).stdout).packages, 35);
});

test('credentials go to the upstream only, not to a host its redirect leads to', async () => {
  const seen: (string | undefined)[] = [];
  const other: Server = createServer((req: IncomingMessage, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.2', () => r()));
  const redirecting: Server = createServer((req, res) => {
    seen.push(`first:${req.headers.authorization ?? ''}`);
    res.writeHead(302, { location: `http://127.0.0.2:${(other.address() as AddressInfo).port}${req.url}` }).end();
  });
  await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (redirecting.address() as AddressInfo).port;
    const r = await txrepo(['sync', 'm', '--from', `http://mirror:${SECRET}@127.0.0.1:${port}/`, '--store', store]);
    assert.equal(r.code, 1);
    assert.match(seen[0]!, /^first:Basic /, 'the upstream got the credentials');
    assert.deepEqual(seen.slice(1), [undefined], 'the host redirected to got none');
  } finally {
    await new Promise<void>((r) => redirecting.close(() => r()));
    await new Promise<void>((r) => other.close(() => r()));
  }
});
