// txrepo serve's /metrics (src/server/metrics.ts): the Prometheus text format read
// back by a strict parser; counters that move by exactly what the test did; the read
// rules of a private server; label values that a flood of paths cannot grow; and
// counts added up across --workers.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, run, txrepo, waitFor } from '../helpers/run.ts';
import { FETCH_LOOPBACK, serve, type Served } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP request on a connection of its own (with --workers, the next one may reach another process). */
function http(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The samples of a scrape, by series: `name{label="value",...}` (labels sorted) → value. */
type Samples = Map<string, number>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/y;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** The sample names a family of each type may have. */
const SUFFIXES: Record<string, string[]> = { counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line a HELP, a TYPE or a
 * sample; a family's TYPE before its samples, once; a sample's name one its family's
 * type allows; labels well-formed and not repeated; values numbers; no series twice;
 * the text ends with a line feed. Throws, naming the line, on anything else.
 */
function parseExposition(text: string): Samples {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line feed');
  const types = new Map<string, string>();
  const samples: Samples = new Map();
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      assert.match(name, NAME, where);
      if (kind === 'TYPE') {
        assert.ok(TYPES.has(rest), `${where}: no such type`);
        assert.ok(!types.has(name), `${where}: a second TYPE`);
        types.set(name, rest);
      }
      continue;
    }
    assert.ok(!line.startsWith('#'), `${where}: a comment of no kind the format has`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `${where}: not a sample`);
    const [, name, labelText = '', value] = m;
    const family = [...types.keys()].find((f) => SUFFIXES[types.get(f)!].some((s) => name === f + s));
    assert.ok(family, `${where}: a sample of no family declared before it`);
    const labels: [string, string][] = [];
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const l = LABEL.exec(labelText);
      assert.ok(l, `${where}: bad labels`);
      assert.ok(!labels.some(([k]) => k === l[1]), `${where}: label ${l[1]} twice`);
      labels.push([l[1], l[2]]);
      if (LABEL.lastIndex < labelText.length) {
        assert.equal(labelText[LABEL.lastIndex], ',', `${where}: labels not separated by commas`);
        LABEL.lastIndex++;
      }
    }
    assert.match(value, VALUE, `${where}: not a number`);
    const key = series(name, Object.fromEntries(labels));
    assert.ok(!samples.has(key), `${where}: a series twice`);
    samples.set(key, Number(value));
  }
  return samples;
}

/** The key of a series in Samples. */
function series(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return pairs.length ? `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}` : name;
}

/** One scrape of /metrics, parsed. */
async function scrape(base: string, headers: Record<string, string> = {}): Promise<Samples> {
  const r = await http(base, 'GET', '/metrics', headers);
  assert.equal(r.status, 200, r.body.toString());
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parseExposition(r.body.toString('utf8'));
}

/** How much a series moved between two scrapes (absent: 0). */
const moved = (a: Samples, b: Samples, name: string, labels?: Record<string, string>) => (b.get(series(name, labels)) ?? 0) - (a.get(series(name, labels)) ?? 0);

const rpm = sample;
let dir: string;
let store: string;
let server: Served;
let admin: string;
let reader: string;
let A: string;
const tx = () => inStore(store);

before(async () => {
  dir = await tempDir('txrepo-metrics-');
  store = join(dir, 'store');
  await tx()(['repo', 'create', 'el9']);
  A = JSON.parse((await tx()(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
  admin = (await tx()(['token', 'create', 'ops', '--scope', 'admin'])).stdout.trim();
  reader = (await tx()(['token', 'create', 'prometheus', '--scope', 'read'])).stdout.trim();
  // One process: a change made through it shows at the next scrape (with several, a
  // scrape may take another's figures, read up to their cache's time before).
  server = await serve(store, ['--quiet', '--workers', '1']);
});
after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('/metrics', () => {
  test('parses strictly, and the request counters, bytes and latencies move by exactly the requests made', async () => {
    const repomd = `/repos/el9/snapshots/${A}/repodata/repomd.xml`;
    const before = await scrape(server.url);
    let yumBytes = 0;
    for (let i = 0; i < 3; i++) yumBytes += (await http(server.url, 'GET', repomd)).body.length;
    assert.equal((await http(server.url, 'HEAD', repomd)).status, 200);
    for (let i = 0; i < 2; i++) yumBytes += (await http(server.url, 'GET', '/repos/el9/snapshots/nope/repodata/repomd.xml')).body.length;
    const api = await http(server.url, 'GET', '/api/v1/repos');
    assert.equal(api.status, 200);
    const after = await scrape(server.url);

    const requests = (route: string, method: string, status: string) => moved(before, after, 'txrepo_http_requests_total', { route, method, status });
    assert.equal(requests('yum', 'GET', '200'), 3);
    assert.equal(requests('yum', 'HEAD', '200'), 1);
    assert.equal(requests('yum', 'GET', '404'), 2);
    assert.equal(requests('api', 'GET', '200'), 1);
    assert.equal(requests('metrics', 'GET', '200'), 1, 'the first scrape, counted once answered');
    assert.equal(moved(before, after, 'txrepo_http_response_bytes_total', { route: 'yum' }), yumBytes, 'HEAD sends no body');
    assert.equal(moved(before, after, 'txrepo_http_response_bytes_total', { route: 'api' }), api.body.length);
    assert.equal(moved(before, after, 'txrepo_http_request_duration_seconds_count', { route: 'yum' }), 6);
    assert.equal(moved(before, after, 'txrepo_http_request_duration_seconds_bucket', { route: 'yum', le: '+Inf' }), 6);
    assert.ok(moved(before, after, 'txrepo_http_request_duration_seconds_sum', { route: 'yum' }) > 0);
    // The process's own metrics are there too.
    assert.ok((after.get('process_resident_memory_bytes') ?? 0) > 0);
    assert.ok([...after.keys()].some((k) => k.startsWith('nodejs_version_info{')));
  });

  test('deploy, promote and gc through the server are counted by outcome; the catalog gauges and the last gc follow', async () => {
    const before = await scrape(server.url);
    assert.equal(before.get('txrepo_repos'), 1);
    assert.equal(before.get('txrepo_snapshots'), 1);
    assert.equal(before.get('txrepo_latest_packages'), 1);
    const size = async (name: string) => (await stat(rpm(name))).size;
    assert.equal(before.get('txrepo_store_packages'), 1);
    assert.equal(before.get('txrepo_store_package_bytes'), await size('bear-4.1-1.noarch.rpm'));
    const remote = ['--server', server.url, '--token', admin];
    for (const p of ['camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']) assert.equal((await txrepo(['deploy', 'el9', rpm(p), ...remote])).code, 0);
    // Three snapshots list bear, two camel, one cat: the store holds each once.
    const deployed = await scrape(server.url);
    assert.equal(deployed.get('txrepo_snapshots'), 3);
    assert.equal(deployed.get('txrepo_store_packages'), 3);
    // A deploy the core refuses (no package it can read) is counted with its failure's type.
    const bad = join(dir, 'not-an.rpm');
    await (await import('node:fs/promises')).writeFile(bad, 'not an rpm');
    assert.notEqual((await txrepo(['deploy', 'el9', bad, ...remote])).code, 0);
    assert.notEqual((await txrepo(['promote', '999999', '--tag', 'tested', ...remote])).code, 0);
    assert.equal((await txrepo(['repo', 'update', 'el9', '--retain-last', '1', ...remote])).code, 0);
    const dry = await txrepo(['gc', '--dry-run', '--grace', '0s', '--json', ...remote]);
    assert.equal(dry.code, 0, dry.stderr);
    const startedGc = Date.now() / 1000;
    const gc = await txrepo(['gc', '--grace', '0s', '--json', ...remote]);
    assert.equal(gc.code, 0, gc.stderr);
    const report = JSON.parse(gc.stdout) as { snapshots: unknown[]; blobs: number; bytes: number };
    assert.equal(report.snapshots.length, 2, 'retain-last 1 leaves latest alone');
    assert.ok(report.blobs > 0 && report.bytes > 0);
    const after = await scrape(server.url);

    const operations = (operation: string, outcome: string) => moved(before, after, 'txrepo_operations_total', { operation, outcome });
    assert.equal(operations('deploy', 'ok'), 2);
    assert.equal(operations('deploy', 'bad_package'), 1);
    assert.equal(operations('promote', 'not_found'), 1);
    assert.equal(operations('gc', 'ok'), 1, 'the dry run is no gc');
    assert.equal(moved(before, after, 'txrepo_operation_duration_seconds_count', { operation: 'deploy', outcome: 'ok' }), 2);
    assert.equal(moved(before, after, 'txrepo_gc_removed_total', { what: 'snapshots' }), 2);
    assert.equal(moved(before, after, 'txrepo_gc_removed_total', { what: 'blobs' }), report.blobs);
    assert.equal(moved(before, after, 'txrepo_gc_removed_total', { what: 'bytes' }), report.bytes);
    assert.equal(after.get(series('txrepo_gc_last_removed', { what: 'bytes' })), report.bytes);
    const at = after.get('txrepo_gc_last_run_timestamp_seconds')!;
    assert.ok(at >= startedGc - 1 && at <= Date.now() / 1000 + 1, `last gc at ${at}`);
    // Three snapshots made, two removed: the gauges read the catalog at the scrape.
    assert.equal(after.get('txrepo_snapshots'), 1);
    assert.equal(after.get('txrepo_latest_packages'), 3);
    assert.equal(after.get('txrepo_store_packages'), 3, 'latest keeps every package');
    assert.equal(after.get('txrepo_store_package_bytes'), (await size('bear-4.1-1.noarch.rpm')) + (await size('camel-0.1-1.noarch.rpm')) + (await size('cat-1.0-1.noarch.rpm')));
    assert.equal(after.get('txrepo_catalog_up'), 1);
  });

  test('sets: a live one counts until released', async () => {
    const set = (await txrepo(['set', 'create', 'el9@latest', '--server', server.url, '--token', admin])).stdout.trim();
    const live = await scrape(server.url);
    assert.equal(live.get('txrepo_sets_live'), 1);
    assert.equal((await txrepo(['set', 'release', set, '--server', server.url, '--token', admin])).code, 0);
    const released = await scrape(server.url);
    assert.equal(released.get('txrepo_sets_live'), 0);
    assert.equal(released.get('txrepo_sets'), 1);
  });

  test('a flood of paths of its own choosing adds no label values: routes are classes, never paths', async () => {
    const shapes = (r: string) => [`/${r}`, `/repos/${r}/tags/latest/repodata/repomd.xml`, `/sets/${r}/x/`, `/keys/${r}.asc`, `/api/v1/${r}`, `/ui/${r}`, `/${r}/%00`, `/metrics/${r}`];
    const methods = ['GET', 'PROPFIND'];
    // One of each first (and a scrape): the series a random path may land in exist before the flood.
    for (const method of methods) for (const path of shapes('first')) await http(server.url, method, path);
    await scrape(server.url);
    const before = await scrape(server.url);
    const random = Array.from({ length: 40 }, (_, i) => `r${i}x${Math.random().toString(36).slice(2)}`);
    for (const [i, r] of random.entries()) for (const path of shapes(r)) await http(server.url, methods[i % 2], path);
    const after = await scrape(server.url);
    const requestSeries = (s: Samples) => [...s.keys()].filter((k) => k.startsWith('txrepo_http_'));
    assert.deepEqual(requestSeries(after).filter((k) => !requestSeries(before).includes(k)), [], 'no new series');
    for (const key of after.keys()) for (const r of random) assert.ok(!key.includes(r), `a path made it into a label: ${key}`);
    const total = (s: Samples) => [...s].filter(([k]) => k.startsWith('txrepo_http_requests_total{')).reduce((sum, [, v]) => sum + v, 0);
    assert.equal(total(after) - total(before), 40 * shapes('x').length + 1, 'every request counted (and the scrape before)');
    assert.equal(moved(before, after, 'txrepo_http_requests_total', { route: 'invalid', method: 'GET', status: '400' }), 20, 'the %00 paths');
    assert.equal(moved(before, after, 'txrepo_http_requests_total', { route: 'other', method: 'other', status: '405' }) + moved(before, after, 'txrepo_http_requests_total', { route: 'other', method: 'other', status: '404' }), 40, 'PROPFIND is no method of ours');
  });

  test('/metrics is read-only: HEAD answers no body, other methods are refused; a token given is checked', async () => {
    const head = await http(server.url, 'HEAD', '/metrics');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const r = await http(server.url, 'POST', '/metrics');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
    // As on the yum paths: anonymous is fine, a bad token is not.
    assert.equal((await http(server.url, 'GET', '/metrics', { authorization: 'Bearer not-a-token' })).status, 401);
    await scrape(server.url, { authorization: `Bearer ${reader}` });
  });
});

describe('/metrics on a private server', () => {
  let closed: Served;
  before(async () => {
    closed = await serve(store, ['--quiet', '--private']);
  });
  after(async () => {
    await closed?.stop();
  });

  test('refuses a scrape without a valid token (401), serves one with a read token', async () => {
    const anonymous = await http(closed.url, 'GET', '/metrics');
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer realm="txrepo"/);
    assert.match(anonymous.body.toString(), /this server is private: give a token/);
    assert.doesNotMatch(anonymous.body.toString(), /txrepo_/);
    assert.equal((await http(closed.url, 'GET', '/metrics', { authorization: 'Bearer not-a-token' })).status, 401);
    const read = await scrape(closed.url, { authorization: `Bearer ${reader}` });
    assert.equal(read.get(series('txrepo_http_requests_total', { route: 'metrics', method: 'GET', status: '401' })), 2);
    // Prometheus's basic_auth works too: the token is the password.
    await scrape(closed.url, { authorization: `Basic ${Buffer.from(`prometheus:${reader}`).toString('base64')}` });
  });
});

describe('/metrics with --workers 2', () => {
  test("a scrape, whichever process takes it, adds up every worker's counts", { timeout: 120_000 }, async () => {
    const two = await serve(store, ['--quiet', '--workers', '2', ...FETCH_LOOPBACK]);
    try {
      const repomd = `/repos/el9/tags/latest/repodata/repomd.xml`;
      // Each request on a connection of its own: the workers take turns.
      const count = (s: Samples) => s.get(series('txrepo_http_requests_total', { route: 'yum', method: 'GET', status: '200' })) ?? 0;
      const first = await scrape(two.url);
      const replies = await Promise.all(Array.from({ length: 30 }, () => http(two.url, 'GET', repomd)));
      assert.ok(replies.every((r) => r.status === 200));
      // Several scrapes, which land on both workers: each sees all 30.
      for (let i = 0; i < 4; i++) {
        const s = await scrape(two.url);
        assert.equal(count(s) - count(first), 30, `scrape ${i + 1}`);
        assert.equal(moved(first, s, 'txrepo_http_requests_total', { route: 'metrics', method: 'GET', status: '200' }), i + 1);
        // The catalog's gauges, the same in each worker, are taken once, not added up.
        assert.equal(s.get('txrepo_snapshots'), 1);
        assert.equal(s.get('txrepo_repos'), 1);
      }
      // One worker runs a gc; whichever takes the scrape, its last gc is the one shown, not the other's "never".
      const gc = await txrepo(['gc', '--grace', '0s', '--server', two.url, '--token', admin]);
      assert.equal(gc.code, 0, gc.stderr);
      for (let i = 0; i < 4; i++) {
        const s = await scrape(two.url);
        assert.ok(s.get('txrepo_gc_last_run_timestamp_seconds')! > 0, `scrape ${i + 1}`);
        assert.equal(moved(first, s, 'txrepo_operations_total', { operation: 'gc', outcome: 'ok' }), 1);
      }
      // A sync, from the server itself, and one from nowhere: counted by outcome like the rest.
      const remote = ['--server', two.url, '--token', admin];
      assert.equal((await txrepo(['repo', 'create', 'mirror', ...remote])).code, 0);
      const synced = await txrepo(['sync', 'mirror', '--from', `${two.url}/repos/el9/tags/latest/`, ...remote]);
      assert.equal(synced.code, 0, synced.stderr);
      assert.notEqual((await txrepo(['sync', 'mirror', '--from', `${two.url}/repos/nowhere/tags/latest/`, ...remote])).code, 0);
      const s = await scrape(two.url);
      assert.equal(moved(first, s, 'txrepo_operations_total', { operation: 'sync', outcome: 'ok' }), 1);
      assert.equal(moved(first, s, 'txrepo_operations_total', { operation: 'sync', outcome: 'upstream' }), 1, [...s.keys()].filter((k) => k.includes('sync')).join('\n'));
      assert.equal(moved(first, s, 'txrepo_operation_duration_seconds_count', { operation: 'sync', outcome: 'ok' }), 1);

      // A worker dies and is replaced: scrapes while its successor starts do not wait for it.
      const workers = async () => (await run('ps', ['-o', 'pid=', '--ppid', String(two.child.pid)])).stdout.split('\n').map(Number).filter(Boolean);
      const [killed, survivor] = await workers();
      assert.ok(killed && survivor, 'two worker processes');
      process.kill(killed, 'SIGKILL');
      // Only once the supervisor has forked the successor: a connection node:cluster hands
      // to a worker in the instant it dies is lost (the client waits forever), whatever the server.
      await waitFor('the successor', async () => (await workers()).some((pid) => pid !== killed && pid !== survivor), 20_000);
      for (let i = 0; i < 5; i++) await scrape(two.url);
    } finally {
      await two.stop();
    }
  });
});
