// Progress of long remote work, as a user at a terminal sees it: a deploy through a
// server shows the bytes it uploads (size and rate), a remote sync the progress the
// server streams back, publish --from the bytes it downloads. None with --quiet or
// --json, and none when stderr is not a terminal. The terminal is a real
// pseudo-terminal (util-linux script); the network a slow link, so that each transfer
// lasts long enough for a bar (which shows once a stage has run half a second).

import assert from 'node:assert/strict';
import { cp, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, run, TXREPO, type RunResult } from '../helpers/run.ts';
import { sample, sampleRpms } from '../helpers/samples.ts';
import { FETCH_LOOPBACK, serve, type Served } from '../helpers/serve.ts';
import { slowLink, type SlowLink } from '../helpers/slow-link.ts';

let dir: string;
let server: Served;
let link: SlowLink;
let upstream: StaticServer;
let token: string;
/** Disjoint groups of sample packages: each run moves packages the server does not have yet. */
let groups: string[][];

/** About 2 s for a group's upload or a publication through the link. */
const LINK_BYTES_PER_SECOND = 6 * 1024;

/** A word for `sh -c`, quoted. */
const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * txrepo at a terminal: run under a pseudo-terminal by script(1), which gives back
 * what the terminal showed (stdout and stderr together) and txrepo's exit status.
 */
function atTerminal(args: string[]): Promise<RunResult> {
  return run('script', ['-qfec', [TXREPO, ...args].map(shellWord).join(' '), '/dev/null'], { env: { ...process.env, TXREPO_TOKEN: token }, timeout: 120_000 });
}

/** txrepo with plain pipes: stderr is no terminal. */
function throughPipes(args: string[]): Promise<RunResult> {
  return run(TXREPO, args, { env: { ...process.env, TXREPO_TOKEN: token }, timeout: 120_000 });
}

/** A bar's line: LABEL [####....] COUNTS. */
const bar = (label: string, counts: string) => new RegExp(`${label} \\[[#.]{30}\\] ${counts}`);
const SIZE = String.raw`\d+(\.\d)? (B|KiB|MiB)`;
/** A bar in bytes: done/total sizes and a rate. */
const bytesBar = (label: string) => bar(label, `${SIZE}/${SIZE} \\(${SIZE}/s\\)`);
const ANY_BAR = /\[[#.]{30}\]/;

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}

before(async () => {
  dir = await tempDir('txrepo-progress-');
  const store = join(dir, 'store');
  const rpms = await sampleRpms();
  groups = Array.from({ length: 7 }, (_, i) => rpms.slice(i * 5, i * 5 + 5).map(sample));
  const local = inStore(store);
  for (const repo of ['app', 'm-terminal', 'm-quiet', 'm-pipes']) await local(['repo', 'create', repo]);
  token = (await local(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(store, ['--quiet', ...FETCH_LOOPBACK]);
  link = await slowLink(server.url, LINK_BYTES_PER_SECOND);
  // Upstreams for sync, one per run, each with its own packages; every package answer
  // waits, so that a sync takes a few seconds on the server.
  for (const [i, name] of ['terminal', 'quiet', 'pipes'].entries()) {
    const up = join(dir, 'upstreams', name);
    await mkdir(up, { recursive: true });
    for (const f of groups[4 + i]) await cp(f, join(up, f.slice(f.lastIndexOf('/') + 1)));
    await mustRun(TXREPO, ['createrepo', up]);
  }
  upstream = await serveDirectory(join(dir, 'upstreams'), { delayMs: 400, slow: /\.rpm$/ });
});

after(async () => {
  await link?.close();
  await upstream?.close();
  await server?.stop();
  await removeDir(dir);
});

describe('remote deploy', () => {
  test('at a terminal: the upload in bytes, with sizes and a rate', async () => {
    const r = await atTerminal(['deploy', 'app', ...groups[0], '--server', link.url]);
    ok(r, 'deploy');
    assert.match(r.stdout, bytesBar('uploading packages'));
    const kib = ((await Promise.all(groups[0].map(async (f) => (await stat(f)).size))).reduce((a, b) => a + b, 0) / 1024).toFixed(1);
    assert.match(r.stdout, new RegExp(`uploading packages \\[#{30}\\] ${kib} KiB/${kib} KiB`), `the bar ends full, at the ${kib} KiB of the five packages`);
    assert.match(r.stdout, /\(\+5 packages, 5 in all\)/);
  });

  test('--quiet, --json, or stderr not a terminal: no progress', async () => {
    let r = await atTerminal(['deploy', 'app', ...groups[1], '--server', link.url, '--quiet']);
    ok(r, 'deploy --quiet');
    assert.doesNotMatch(r.stdout, ANY_BAR);
    assert.match(r.stdout, /\(\+5 packages, 10 in all\)/);
    r = await atTerminal(['deploy', 'app', ...groups[2], '--server', link.url, '--json']);
    ok(r, 'deploy --json');
    assert.doesNotMatch(r.stdout, ANY_BAR);
    assert.equal(JSON.parse(r.stdout).added.length, 5);
    r = await throughPipes(['deploy', 'app', ...groups[3], '--server', link.url]);
    ok(r, 'deploy through pipes');
    assert.equal(r.stderr, '');
  });
});

describe('remote sync', () => {
  test("at a terminal: the server's progress, streamed to the client", async () => {
    const r = await atTerminal(['sync', 'm-terminal', '--from', `${upstream.url}/terminal`, '--parallel', '1', '--server', server.url]);
    ok(r, 'sync');
    assert.match(r.stdout, bar('syncing packages', String.raw`\d/5 \(\d+/s\)`));
    assert.match(r.stdout, bar('syncing packages', String.raw`5/5`), 'the last report too');
    assert.match(r.stdout, /\(5 packages, 5 downloaded\)/);
  });

  test('--quiet, or stderr not a terminal: no progress', async () => {
    let r = await atTerminal(['sync', 'm-quiet', '--from', `${upstream.url}/quiet`, '--parallel', '1', '--server', server.url, '-q']);
    ok(r, 'sync -q');
    assert.doesNotMatch(r.stdout, ANY_BAR);
    r = await throughPipes(['sync', 'm-pipes', '--from', `${upstream.url}/pipes`, '--parallel', '1', '--server', server.url]);
    ok(r, 'sync through pipes');
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /\(5 packages, 5 downloaded\)/);
  });

  test('an API client that does not ask for progress gets plain JSON', async () => {
    const res = await fetch(`${server.url}/api/v1/repos/m-terminal/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: `${upstream.url}/terminal` }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await res.json()) as { unchanged: boolean }).unchanged, true);
  });

  test('one that asks gets NDJSON: reports, then the outcome with its status (a refusal too)', async () => {
    const ask = (repo: string) =>
      fetch(`${server.url}/api/v1/repos/${repo}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify({ from: `${upstream.url}/terminal` }),
      });
    let res = await ask('m-terminal');
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    let lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.at(-1).status, 200);
    assert.equal(lines.at(-1).result.unchanged, true);
    assert.ok(lines.slice(0, -1).every((l) => l.progress?.stage === 'sync' && l.progress.unit === 'packages'));
    res = await ask('no-such-repo');
    lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).status, 404);
    assert.equal(lines.at(-1).error.type, 'not_found');
  });
});

describe('publish --from', () => {
  test('at a terminal: the download in bytes, with sizes and a rate', async () => {
    const r = await atTerminal(['publish', 'm-terminal@latest', join(dir, 'published-terminal'), '--from', link.url]);
    ok(r, 'publish');
    assert.match(r.stdout, bytesBar('downloading files'));
    assert.match(r.stdout, /published m-terminal@/);
  });

  test('--quiet, --json, or stderr not a terminal: no progress', async () => {
    let r = await atTerminal(['publish', 'm-terminal@latest', join(dir, 'published-quiet'), '--from', link.url, '--quiet']);
    ok(r, 'publish --quiet');
    assert.doesNotMatch(r.stdout, ANY_BAR);
    r = await atTerminal(['publish', 'm-terminal@latest', join(dir, 'published-json'), '--from', link.url, '--json']);
    ok(r, 'publish --json');
    assert.doesNotMatch(r.stdout, ANY_BAR);
    assert.equal(JSON.parse(r.stdout).changed, true);
    r = await throughPipes(['publish', 'm-terminal@latest', join(dir, 'published-pipes'), '--from', link.url]);
    ok(r, 'publish through pipes');
    assert.equal(r.stderr, '');
  });
});
