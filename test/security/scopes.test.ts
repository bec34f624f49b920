// Every route of /api/v1 against every kind of credential, on a server with anonymous
// reads and on one run with --private: no token, a token the server does not know, an
// expired one, a revoked one, and a token of each scope kind (read; deploy and tag for
// the repository the request touches and for another; admin). What each should get is
// worked out here from the route table's declarations (scope, where the repositories
// are), by this test's own reading of docs/security.md, not by the server's code: a
// route added to the table is in the matrix at once, and one whose scope this test does
// not know fails it.
//
// "Allowed" is any status but 401 and 403. The requests are ones the routes take (a
// deploy of an uploaded package, a sync from a served yum repo, a tag move to latest, a
// repository made to be deleted...): with admin, every one succeeds, so that a refusal
// of another kind cannot hide where the scope check is.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROUTES, routeUrl, type Route, type RouteId } from '../../src/api/index.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, TXREPO } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { FETCH_LOOPBACK, serve, type Served } from '../helpers/serve.ts';

/** The repository the requests touch, and one they do not. */
const REPO = 'el9';
const OTHER = 'other';

/** A credential a request may carry: none, a bad token, or a token with these scopes. */
type Credential = { name: string } & ({ bad: 'none' | 'unknown' | 'expired' | 'revoked' } | { scopes: string[] });

const CREDENTIALS: Credential[] = [
  { name: 'no token', bad: 'none' },
  { name: 'a token the server does not know', bad: 'unknown' },
  { name: 'an expired token', bad: 'expired' },
  { name: 'a revoked token', bad: 'revoked' },
  { name: 'read', scopes: ['read'] },
  { name: 'deploy for the repository (deploy:el*)', scopes: ['deploy:el*'] },
  { name: 'deploy for another repository', scopes: [`deploy:${OTHER}`] },
  { name: 'tag for the repository (tag:el?)', scopes: ['tag:el?'] },
  { name: 'tag for another repository', scopes: [`tag:${OTHER}`, 'read'] },
  { name: 'admin', scopes: ['admin'] },
];

/**
 * What a request needs, by this test's reading of docs/security.md: the table's scope
 * (admin for a heavier query), and whether the scope kind must match the repository.
 */
function needOf(route: Route, heavier: boolean): { scope: Route['scope']; repoBound: boolean } {
  const scope = heavier ? route.heavier!.scope : route.scope;
  switch (scope) {
    case 'none':
    case 'public':
    case 'read':
    case 'admin':
      return { scope, repoBound: false };
    case 'deploy':
    case 'tag':
      // An upload names no repository: a deploy scope for any repository will do.
      return { scope, repoBound: route.repos !== 'any' };
    default:
      throw new Error(`${route.method} ${route.path}: scope ${JSON.stringify(scope)} is one this test does not know; teach it what the scope allows`);
  }
}

/** 'allowed', 401 or 403: what a request with `credential` gets on a server that is `isPrivate` or not. */
function expected(route: Route, heavier: boolean, credential: Credential, isPrivate: boolean): 'allowed' | 401 | 403 {
  const need = needOf(route, heavier);
  // A route that needs nothing never looks at a token.
  if (need.scope === 'none') return 'allowed';
  if ('bad' in credential) return credential.bad === 'none' && need.scope === 'public' && !isPrivate ? 'allowed' : 401;
  if (need.scope === 'public' || need.scope === 'read') return 'allowed';
  const scopes = credential.scopes;
  if (scopes.includes('admin')) return 'allowed';
  if (need.scope === 'admin') return 403;
  const covers = scopes.some((s) => s.startsWith(`${need.scope}:`) && (!need.repoBound || new RegExp(`^${s.slice(need.scope.length + 1).replaceAll('*', '.*').replaceAll('?', '.')}$`).test(REPO)));
  return covers ? 'allowed' : 403;
}

interface Request {
  path: string;
  /** Default: the route's. */
  method?: string;
  body?: unknown;
  /** A file to upload instead of JSON. */
  file?: Buffer;
}

let dir: string;
let store: string;
let upstream: StaticServer;
let servers: { name: string; isPrivate: boolean; served: Served }[] = [];
const tokens = new Map<string, string>();
let adminToken: string;
let pinned: string;
let rpm: Buffer;
let rpmSha: string;
let made = 0;
const unique = (what: string) => `${what}-${++made}`;

async function call(url: string, r: Request, token?: string): Promise<{ status: number; headers: Headers; body: string }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let body: Buffer | string | undefined;
  if (r.file) {
    body = r.file;
    headers['content-type'] = 'application/x-rpm';
  } else if (r.body !== undefined) {
    body = JSON.stringify(r.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url + r.path, { method: r.method ?? 'GET', headers, body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A new repository, made with the admin token: for a request that deletes it. */
async function freshRepo(url: string): Promise<string> {
  const name = unique('doomed');
  const r = await call(url, { path: routeUrl(ROUTES.createRepo), method: 'POST', body: { name } }, adminToken);
  assert.equal(r.status, 201, r.body);
  return name;
}

/** A set pinning REPO, made with the admin token: for a request that ends it. */
async function freshSet(url: string): Promise<string> {
  const r = await call(url, { path: routeUrl(ROUTES.createSet), method: 'POST', body: { refs: [REPO], ttl: '1h' } }, adminToken);
  assert.equal(r.status, 201, r.body);
  return JSON.parse(r.body).id;
}

/**
 * A request for each route that passes its checks (given the scope), touching REPO.
 * Typed by RouteId: a route added to the table without one here does not type-check,
 * and the test below fails on it too.
 */
const REQUESTS: Record<RouteId, (url: string, heavier: boolean) => Promise<Request> | Request> = {
  health: () => ({ path: routeUrl(ROUTES.health) }),
  openapi: () => ({ path: routeUrl(ROUTES.openapi) }),
  listRepos: () => ({ path: routeUrl(ROUTES.listRepos) }),
  createRepo: () => ({ path: routeUrl(ROUTES.createRepo), body: { name: unique('made') } }),
  updateRepo: () => ({ path: routeUrl(ROUTES.updateRepo, { repo: REPO }), method: 'PATCH', body: { retainDays: null } }),
  showRepo: () => ({ path: routeUrl(ROUTES.showRepo, { repo: REPO }) }),
  // Not REPO, which the requests after this one need: one made for it.
  deleteRepo: async (url) => ({ path: routeUrl(ROUTES.deleteRepo, { repo: await freshRepo(url) }) }),
  deploy: () => ({ path: routeUrl(ROUTES.deploy, { repo: REPO }), body: { uploads: [{ sha256: rpmSha, fileName: 'bear-4.1-1.noarch.rpm' }], message: 'scopes test' } }),
  sync: () => ({ path: routeUrl(ROUTES.sync, { repo: REPO }), body: { from: `${upstream.url}/` } }),
  remove: () => ({ path: routeUrl(ROUTES.remove, { repo: REPO }), body: { patterns: ['cat'], dryRun: true } }),
  copy: () => ({ path: routeUrl(ROUTES.copy, { repo: REPO }), body: { from: REPO, patterns: ['cat'], dryRun: true } }),
  snapshots: () => ({ path: routeUrl(ROUTES.snapshots, { repo: REPO }) }),
  showSnapshot: () => ({ path: routeUrl(ROUTES.showSnapshot, { repo: REPO, ref: 'latest' }, { files: '1' }) }),
  tags: () => ({ path: routeUrl(ROUTES.tags, { repo: REPO }) }),
  tag: () => ({ path: routeUrl(ROUTES.tag, { repo: REPO, tag: unique('tag') }), body: { ref: 'latest' } }),
  history: () => ({ path: routeUrl(ROUTES.history, { repo: REPO }) }),
  diff: () => ({ path: routeUrl(ROUTES.diff, {}, { a: `${REPO}@latest`, b: `${REPO}@latest` }) }),
  listSets: () => ({ path: routeUrl(ROUTES.listSets) }),
  createSet: () => ({ path: routeUrl(ROUTES.createSet), body: { refs: [REPO], label: 'scopes', ttl: '1h' } }),
  showSet: () => ({ path: routeUrl(ROUTES.showSet, { set: pinned }) }),
  extendSet: () => ({ path: routeUrl(ROUTES.extendSet, { set: pinned }), body: { ttl: '2h' } }),
  keepSet: () => ({ path: routeUrl(ROUTES.keepSet, { set: pinned }), body: {} }),
  releaseSet: async (url) => ({ path: routeUrl(ROUTES.releaseSet, { set: await freshSet(url) }), body: {} }),
  promote: () => ({ path: routeUrl(ROUTES.promote, { set: pinned }), body: { tag: 'promoted' } }),
  hasBlob: () => ({ path: routeUrl(ROUTES.hasBlob, { sha256: rpmSha }) }),
  upload: () => ({ path: routeUrl(ROUTES.upload, { sha256: rpmSha }), file: rpm }),
  gc: () => ({ path: routeUrl(ROUTES.gc), body: { dryRun: true } }),
  fsck: (_url, heavier) => ({ path: routeUrl(ROUTES.fsck, {}, heavier ? { verifyBlobs: '1' } : {}) }),
  log: () => ({ path: routeUrl(ROUTES.log, {}, { repo: REPO, limit: '5' }) }),
};

before(async () => {
  dir = await tempDir('txrepo-scopes-');
  store = join(dir, 'store');
  const tx = inStore(store);
  await tx(['repo', 'create', REPO]);
  await tx(['repo', 'create', OTHER]);
  await tx(['deploy', REPO, sample('cat-1.0-1.noarch.rpm')]);
  await tx(['deploy', OTHER, sample('cat-1.0-1.noarch.rpm')]);
  pinned = (await tx(['set', 'create', REPO, '--ttl', '1d'])).stdout.trim();
  // A yum repo to sync from: one package the deploys do not bring.
  const yum = join(dir, 'upstream');
  await mkdir(yum);
  await copyFile(sample('camel-0.1-1.noarch.rpm'), join(yum, 'camel-0.1-1.noarch.rpm'));
  await mustRun(TXREPO, ['createrepo', yum]);
  upstream = await serveDirectory(yum);
  rpm = await readFile(sample('bear-4.1-1.noarch.rpm'));
  rpmSha = createHash('sha256').update(rpm).digest('hex');
  for (const c of CREDENTIALS) {
    if ('scopes' in c) tokens.set(c.name, (await tx(['token', 'create', `t${tokens.size}`, ...c.scopes.flatMap((s) => ['--scope', s])])).stdout.trim());
  }
  adminToken = tokens.get('admin')!;
  tokens.set('a token the server does not know', `txr_${randomBytes(32).toString('base64url')}`);
  tokens.set('a revoked token', (await tx(['token', 'create', 'revoked', '--scope', 'admin'])).stdout.trim());
  await tx(['token', 'revoke', 'revoked']);
  tokens.set('an expired token', (await tx(['token', 'create', 'expired', '--scope', 'admin', '--expires', '1s'])).stdout.trim());
  servers = [
    { name: 'anonymous reads', isPrivate: false, served: await serve(store, ['--quiet', ...FETCH_LOOPBACK]) },
    { name: '--private', isPrivate: true, served: await serve(store, ['--quiet', '--private', ...FETCH_LOOPBACK]) },
  ];
  // The blob the deploys name, uploaded once; and the expired token well past its second.
  const up = await call(servers[0].served.url, { method: 'PUT', path: routeUrl(ROUTES.upload, { sha256: rpmSha }), file: rpm }, adminToken);
  assert.equal(up.status, 201, up.body);
  await new Promise((r) => setTimeout(r, 1200));
});

after(async () => {
  for (const s of servers) await s.served.stop();
  await upstream?.close();
  await removeDir(dir);
});

describe('every API route, every credential', () => {
  for (const isPrivate of [false, true]) {
    test(`on a server with ${isPrivate ? '--private' : 'anonymous reads'}: 401, 403 or allowed, as the route table says`, async () => {
      const url = servers.find((s) => s.isPrivate === isPrivate)!.served.url;
      const wrong: string[] = [];
      let requests = 0;
      for (const [id, route] of Object.entries(ROUTES) as [RouteId, Route][]) {
        const build = REQUESTS[id];
        if (!build) {
          wrong.push(`${id}: no request in this test's REQUESTS; add one`);
          continue;
        }
        for (const heavier of route.heavier ? [false, true] : [false]) {
          const label = `${route.method} ${route.path}${heavier ? ` ?${route.heavier!.query}=${route.heavier!.value}` : ''}`;
          for (const credential of CREDENTIALS) {
            const want = expected(route, heavier, credential, isPrivate);
            const r = await call(url, { method: route.method, ...(await build(url, heavier)) }, tokens.get(credential.name));
            requests++;
            // The requests are ones the routes take: admin's all succeed.
            if (credential.name === 'admin' && r.status >= 300) wrong.push(`${label} with admin: ${r.status}, expected success: the test's request is not one the route takes: ${r.body.slice(0, 300)}`);
            const got = r.status === 401 || r.status === 403 ? r.status : 'allowed';
            if (got !== want) {
              wrong.push(`${label} with ${credential.name}: ${r.status}, expected ${want === 'allowed' ? 'neither 401 nor 403' : want}: ${r.body.slice(0, 300)}`);
              continue;
            }
            if (got === 401) {
              if (!/^Bearer realm="txrepo"/.test(r.headers.get('www-authenticate') ?? '')) wrong.push(`${label} with ${credential.name}: 401 without a Bearer challenge`);
              if (JSON.parse(r.body).error.type !== 'auth') wrong.push(`${label} with ${credential.name}: 401 of type ${JSON.parse(r.body).error.type}`);
            }
            if (got === 403) {
              const need = needOf(route, heavier);
              const lacks = need.repoBound ? `lacks ${need.scope}:${REPO}` : `lacks ${need.scope}`;
              const error = JSON.parse(r.body).error;
              if (error.type !== 'forbidden' || !error.message.includes(lacks)) wrong.push(`${label} with ${credential.name}: a 403 that does not say it ${lacks}: ${r.body}`);
            }
          }
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${requests} requests:\n${wrong.join('\n')}`);
    });
  }
});

describe('scopes in detail', () => {
  test('a request touching several repositories needs the scope in each: sets of two, promote, and refs', async () => {
    const url = servers[0].served.url;
    const tagEl = tokens.get('tag for the repository (tag:el?)')!;
    const both = (await inStore(store)(['set', 'create', REPO, OTHER, '--ttl', '1h'])).stdout.trim();
    const promote = await call(url, { path: routeUrl(ROUTES.promote, { set: both }), method: 'POST', body: { tag: 'two' } }, tagEl);
    assert.equal(promote.status, 403);
    assert.match(JSON.parse(promote.body).error.message, /lacks tag:other/);
    const create = await call(url, { path: routeUrl(ROUTES.createSet), method: 'POST', body: { refs: [`${REPO}@latest`, OTHER] } }, tagEl);
    assert.equal(create.status, 403);
    assert.match(JSON.parse(create.body).error.message, /lacks tag:other/);
    // With tag scopes for both, one each: allowed.
    const two = (await inStore(store)(['token', 'create', 'two-tags', '--scope', 'tag:el9', '--scope', 'tag:oth*'])).stdout.trim();
    assert.equal((await call(url, { path: routeUrl(ROUTES.promote, { set: both }), method: 'POST', body: { tag: 'two' } }, two)).status, 200);
    // Nothing moved by the refused promotion: only the allowed one is in the history.
    const history = JSON.parse((await inStore(store)(['tags', OTHER, '--history', '--json'])).stdout);
    assert.equal(history.filter((m: { tag: string }) => m.tag === 'two').length, 1);
  });

  test('a glob is the whole name: deploy:el* is not deploy:xel9; ? is one character', async () => {
    const url = servers[0].served.url;
    await inStore(store)(['repo', 'create', 'xel9']);
    await inStore(store)(['repo', 'create', 'el10']);
    const deploy = { method: 'POST', body: { uploads: [{ sha256: rpmSha, fileName: 'bear-4.1-1.noarch.rpm' }] } };
    assert.equal((await call(url, { path: routeUrl(ROUTES.deploy, { repo: 'xel9' }), ...deploy }, tokens.get('deploy for the repository (deploy:el*)'))).status, 403);
    assert.equal((await call(url, { path: routeUrl(ROUTES.deploy, { repo: 'el10' }), ...deploy }, tokens.get('deploy for the repository (deploy:el*)'))).status, 201);
    const tag = { method: 'PUT', body: { ref: 'latest' } };
    assert.equal((await call(url, { path: routeUrl(ROUTES.tag, { repo: 'el10', tag: 'x' }), ...tag }, tokens.get('tag for the repository (tag:el?)'))).status, 403);
  });

  test('HTTP Basic with the token as password works like Bearer; a malformed header is a 401', async () => {
    const url = servers[1].served.url;
    const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
    const get = (authorization: string) => fetch(`${url}${routeUrl(ROUTES.listRepos)}`, { headers: { authorization } });
    assert.equal((await get(basic('anyone', tokens.get('read')!))).status, 200);
    assert.equal((await get(basic('', tokens.get('read')!))).status, 200);
    assert.equal((await get(basic(tokens.get('read')!, ''))).status, 401, 'the token is the password, not the username');
    assert.equal((await get(basic('x', tokens.get('a revoked token')!))).status, 401);
    const malformed = await get('Token abc');
    assert.equal(malformed.status, 401);
    assert.match(((await malformed.json()) as { error: { message: string } }).error.message, /Bearer TOKEN/);
  });

  test('the yum paths: anonymous unless --private; then a token (Basic or Bearer) and a Basic challenge without one', async () => {
    const path = '/repos/all_latest.json';
    assert.equal((await fetch(servers[0].served.url + path)).status, 200);
    const refused = await fetch(servers[1].served.url + path);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="txrepo", charset="UTF-8"');
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /private.*password/);
    const read = tokens.get('read')!;
    assert.equal((await fetch(servers[1].served.url + path, { headers: { authorization: `Basic ${Buffer.from(`dnf:${read}`).toString('base64')}` } })).status, 200);
    assert.equal((await fetch(servers[1].served.url + path, { headers: { authorization: `Bearer ${read}` } })).status, 200);
    // Any valid token reads, whatever its scopes; a bad one is refused, also where none is needed.
    assert.equal((await fetch(servers[1].served.url + path, { headers: { authorization: `Bearer ${tokens.get('deploy for another repository')}` } })).status, 200);
    for (const bad of ['an expired token', 'a revoked token', 'a token the server does not know']) {
      for (const s of servers) assert.equal((await fetch(s.served.url + path, { headers: { authorization: `Bearer ${tokens.get(bad)}` } })).status, 401, `${s.name}: ${bad}`);
    }
  });

  test('fsck?verifyBlobs=1 re-hashes the store only for admin (finding 8); 401 and 403 come before any work', async () => {
    const url = servers[0].served.url;
    const verify = routeUrl(ROUTES.fsck, {}, { verifyBlobs: '1' });
    assert.equal((await fetch(url + verify)).status, 401);
    const read = await fetch(url + verify, { headers: { authorization: `Bearer ${tokens.get('read')}` } });
    assert.equal(read.status, 403);
    assert.match(((await read.json()) as { error: { message: string } }).error.message, /lacks admin/);
    const admin = await fetch(url + verify, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(admin.status, 200);
    assert.ok(((await admin.json()) as { blobsVerified: number }).blobsVerified > 0);
  });
});
