// needs: dnf rpm root
// publish to s3://BUCKET/PREFIX on an S3-compatible server (s3rver, the test's own):
// real dnf installs through a plain HTTP front of the bucket; generations are kept
// and pruned; a run that changes nothing sends no PUT and no DELETE; a kill during
// the upload leaves the previous tree whole (dnf and fsck --published say so) and the
// next run completes; bad URLs, a missing bucket, no credentials and a held lock are
// clear errors.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Server, type S3Server } from '../helpers/backends.ts';
import { hasDnf, DNF_MISSING, installedPackages, mustDnf } from '../helpers/dnf.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, TXREPO, txrepo } from '../helpers/run.ts';
import { storeEnv } from '../helpers/backends.ts';
import { sample } from '../helpers/samples.ts';
import { serve } from '../helpers/serve.ts';

const BUCKET = 'txrepo-publish';
let dir: string;
let store: string;
let local: ReturnType<typeof inStore>;
let s3: S3Server;
let front: Server;
/** http://127.0.0.1:PORT: the bucket's plain HTTP front, which also passes txrepo's S3 requests on, counting them. */
let frontUrl: string;
let client: S3Client;
const requests: string[] = [];
/** The front changes one byte of the body of a PUT whose path has this in it (a transfer that corrupts). */
let corrupt: string | undefined;
/** The front holds back the last byte of a PUT whose path has `path` in it, and says so (`held`); `release` ends the request. */
let stall: { path: string; held: () => void; release?: () => void } | undefined;

before(async () => {
  dir = await tempDir('txrepo-publish-s3-');
  store = join(dir, 'store');
  local = inStore(store);
  s3 = await startS3Server(BUCKET);
  const upstream = new URL(s3.url);
  // Passes every request on as it came (the Host header too: the signature covers it).
  front = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    const stalled = stall;
    if (stalled && req.method === 'PUT' && req.url!.includes(stalled.path)) {
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => {
        out.write(Buffer.concat(body).subarray(0, -1));
        stalled.release = () => out.destroy();
        stalled.held();
      });
    } else if (corrupt && req.method === 'PUT' && req.url!.includes(corrupt)) {
      let first = true;
      req.on('data', (chunk: Buffer) => {
        if (first) chunk[0] ^= 0xff;
        first = false;
        out.write(chunk);
      });
      req.on('end', () => out.end());
    } else {
      req.pipe(out);
    }
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontUrl = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
  client = new S3Client({ endpoint: frontUrl, forcePathStyle: true, region: 'us-east-1' });
  await local(['repo', 'create', 'r', '--keep', '1']);
});
after(async () => {
  client?.destroy();
  await new Promise((r) => front?.close(r));
  await s3?.close();
  await removeDir(dir);
});

const target = (prefix: string) => `s3://${BUCKET}/${prefix}?endpoint=${frontUrl}`;
const baseurl = (prefix: string) => `${frontUrl}/${BUCKET}/${prefix}/`;
const deploy = async (file: string) => JSON.parse((await local(['deploy', 'r', sample(file), '--json'])).stdout).snapshot as string;

async function keys(prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  return (page.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort();
}

async function text(key: string): Promise<string> {
  return (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
}

/** fsck --published on the S3 tree: its exit status and report. */
async function fsck(prefix: string) {
  const r = await txrepo(['fsck', '--published', target(prefix), '--json']);
  return { code: r.code, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

/** What a fresh dnf client installs of `name` from the tree. */
async function installs(prefix: string, name: string, root: string): Promise<string[]> {
  await mustDnf(root, { pub: baseurl(prefix) }, ['install', name]);
  return installedPackages(root);
}

const dnf = { skip: hasDnf() ? false : DNF_MISSING };

describe('publish to S3', () => {
  const ids: string[] = [];

  test('dnf installs through a plain HTTP front; caches may keep packages and metadata, not repomd.xml', dnf, async () => {
    ids.push(await deploy('duck-0.7-1.noarch.rpm'));
    const r = await local(['publish', 'r@latest', target('pub'), '--json']);
    const result = JSON.parse(r.stdout);
    assert.equal(result.snapshot, ids[0]);
    assert.equal(result.changed, true);
    assert.ok((await keys('pub')).includes('Packages/d/duck-0.7-1.noarch.rpm'));
    assert.deepEqual(await installs('pub', 'duck', join(dir, 'root-1')), ['duck-0.7-1.noarch']);

    const head = (href: string) => client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `pub/${href}` }));
    const repomd = await head('repodata/repomd.xml');
    assert.equal(repomd.CacheControl, 'no-cache');
    assert.equal(repomd.ContentType, 'application/xml');
    const rpm = await head('Packages/d/duck-0.7-1.noarch.rpm');
    assert.match(rpm.CacheControl ?? '', /immutable/);
    assert.equal(rpm.ContentType, 'application/x-rpm');
    const primary = (await keys('pub')).find((k) => /^repodata\/[0-9a-f]+-primary\.xml/.test(k))!;
    assert.match((await head(primary)).CacheControl ?? '', /immutable/);

    const checked = await fsck('pub');
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.report.snapshot, `r@${ids[0]}`);
    assert.deepEqual(checked.report.problems, []);
  });

  test('a second identical run sends no PUT and no DELETE', dnf, async () => {
    requests.length = 0;
    const again = JSON.parse((await local(['publish', 'r@latest', target('pub'), '--json'])).stdout);
    assert.equal(again.changed, false);
    assert.equal(again.written + again.linked + again.removed, 0);
    // The lock object is the only thing a run writes then.
    const writes = requests.filter((q) => /^(PUT|DELETE|POST) /.test(q) && !q.includes('.txrepo-publish/lock'));
    assert.deepEqual(writes, []);
  });

  test('generations are kept and pruned per --keep-md; a client with old metadata still installs', dnf, async () => {
    const stale = join(dir, 'root-stale');
    await mustDnf(stale, { pub: baseurl('pub') }, ['makecache'], { setopt: { metadata_expire: '-1' } });
    // Generations: duck 0.7; duck 0.7 and bear; bear and duck 0.8.
    for (const f of ['bear-4.1-1.noarch.rpm', 'duck-0.8-1.noarch.rpm']) {
      ids.push(await deploy(f));
      await local(['publish', 'r@latest', target('pub'), '--keep-md', '3']);
    }
    const packages = async () => (await keys('pub')).filter((k) => k.startsWith('Packages/'));
    // Three generations: every package stays, and a client of the first finds its files.
    assert.deepEqual(await packages(), ['Packages/b/bear-4.1-1.noarch.rpm', 'Packages/d/duck-0.7-1.noarch.rpm', 'Packages/d/duck-0.8-1.noarch.rpm']);
    await mustDnf(stale, { pub: baseurl('pub') }, ['install', 'duck'], { setopt: { metadata_expire: '-1' } });
    assert.deepEqual(await installedPackages(stale), ['duck-0.7-1.noarch']);
    // --keep-md 2: the first generation goes, with its metadata files and its list;
    // its package stays, as the second generation lists it too.
    let pruned = JSON.parse((await local(['publish', 'r@latest', target('pub'), '--keep-md', '2', '--json'])).stdout);
    assert.equal(pruned.generations, 2);
    assert.equal(pruned.removed, 3); // primary, filelists, other
    assert.deepEqual(await packages(), ['Packages/b/bear-4.1-1.noarch.rpm', 'Packages/d/duck-0.7-1.noarch.rpm', 'Packages/d/duck-0.8-1.noarch.rpm']);
    let checked = await fsck('pub');
    assert.equal(checked.code, 0, `${checked.stderr}${JSON.stringify(checked.report?.problems)}`);
    // --keep-md 1: the second goes, and duck 0.7 with it.
    pruned = JSON.parse((await local(['publish', 'r@latest', target('pub'), '--keep-md', '1', '--json'])).stdout);
    assert.equal(pruned.removed, 1 + 3);
    const left = await keys('pub');
    assert.deepEqual(left.filter((k) => k.startsWith('Packages/')), ['Packages/b/bear-4.1-1.noarch.rpm', 'Packages/d/duck-0.8-1.noarch.rpm']);
    const state = JSON.parse(await text('pub/.txrepo-publish/state.json'));
    assert.deepEqual(state.generations.map((g: { snapshot: string }) => g.snapshot), ids.slice(2));
    assert.equal(left.filter((k) => /^\.txrepo-publish\/[0-9a-f]{64}\.json$/.test(k)).length, 1);
    assert.ok(!left.includes('.txrepo-publish/lock'), 'the lock is gone');
    checked = await fsck('pub');
    assert.equal(checked.code, 0, `${checked.stderr}${JSON.stringify(checked.report?.problems)}`);
    assert.deepEqual(await installs('pub', 'duck', join(dir, 'root-2')), ['duck-0.8-1.noarch']);
  });

  test('fsck --published finds a package changed in the bucket', dnf, async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'pub/Packages/d/duck-0.8-1.noarch.rpm', Body: await readFile(sample('duck-0.7-1.noarch.rpm')) }));
    const checked = await fsck('pub');
    assert.equal(checked.code, 1);
    assert.match(checked.report.problems.join('\n'), /duck-0\.8-1\.noarch\.rpm: .*published with/);
    // The next publish puts it back.
    await local(['publish', 'r@latest', target('pub'), '--keep-md', '1']);
    assert.equal((await fsck('pub')).code, 0);
  });
});

describe('from a server', () => {
  test('publish --from URL to S3: the same tree as from the store', dnf, async () => {
    const server = await serve(store);
    try {
      const r = await txrepo(['publish', 'r@latest', target('from-server'), '--from', server.url, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).snapshot, JSON.parse((await local(['show', 'r@latest', '--json'])).stdout).id);
    } finally {
      await server.stop();
    }
    const fromStore = (await keys('pub')).filter((k) => !k.startsWith('.txrepo-publish/'));
    const fromServer = (await keys('from-server')).filter((k) => !k.startsWith('.txrepo-publish/'));
    assert.deepEqual(fromServer, fromStore);
    const checked = await fsck('from-server');
    assert.equal(checked.code, 0, checked.stderr);
  });
});

describe('a kill during the upload', () => {
  test('leaves the previous tree whole, for dnf and fsck; the next run completes', dnf, async () => {
    await local(['repo', 'create', 'k', '--keep', '1']);
    const first = JSON.parse((await local(['deploy', 'k', sample('cat-1.0-1.noarch.rpm'), '--json'])).stdout).snapshot;
    // Twin trees at the first snapshot: one to trace a publish of the second on, one
    // for each kill.
    const kills = ['first-file', 'halfway', 'before-switch'];
    for (const t of ['traced', ...kills]) await local(['publish', 'k@latest', target(t)]);
    const second = JSON.parse((await local(['deploy', 'k', sample('dog-4.23-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const trace = join(dir, 'trace');
    const traced = await txrepo(['publish', 'k@latest', target('traced'), '--store', store], { env: { ...process.env, TXREPO_CRASH_TRACE: trace } });
    assert.equal(traced.code, 0, traced.stderr);
    const steps = (await readFile(trace, 'utf8')).trim().split('\n').map((l) => l.split('\t'));
    const stepOf = (ok: (kind: string, path: string) => boolean) => Number(steps.find(([, kind, path]) => ok(kind, path))![0]);
    const switchAt = stepOf((kind, path) => kind === 'put' && path.endsWith('traced/repodata/repomd.xml'));
    const firstFile = stepOf((kind, path) => kind === 'put' && path.includes('traced/Packages/'));
    assert.ok(firstFile < switchAt - 1);
    const at = { 'first-file': firstFile, halfway: Math.floor((firstFile + switchAt) / 2), 'before-switch': switchAt };
    for (const t of kills) {
      const step = at[t as keyof typeof at];
      const killed = await txrepo(['publish', 'k@latest', target(t), '--store', store], { env: { ...process.env, TXREPO_CRASH_AT: String(step) } });
      assert.notEqual(killed.code, 0, `${t}: killed at step ${step}`);
      const checked = await fsck(t);
      assert.equal(checked.code, 0, `after a kill at step ${step}: ${checked.stderr}${JSON.stringify(checked.report?.problems)}`);
      assert.equal(checked.report.snapshot, `k@${first}`, `${t}: killed at step ${step}`);
    }
    assert.deepEqual(await installs('before-switch', 'cat', join(dir, 'root-killed')), ['cat-1.0-1.noarch']);

    // Killed from outside in the middle of a package's PUT (the server has all of it
    // but its last byte): no object, the previous tree whole.
    await local(['publish', 'k@' + first, target('mid-put')]);
    const held = new Promise<void>((resolve) => (stall = { path: 'mid-put/Packages/', held: resolve }));
    const child = spawn(TXREPO, ['publish', 'k@latest', target('mid-put'), '--store', store], { env: storeEnv(store), stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    try {
      await held;
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
    } finally {
      stall?.release?.();
      stall = undefined;
    }
    const afterKill = await fsck('mid-put');
    assert.equal(afterKill.code, 0, afterKill.stderr);
    assert.equal(afterKill.report.snapshot, `k@${first}`);
    // S3 makes no object of a PUT cut short; s3rver keeps what it got. Either way no
    // repomd.xml names it, and the next run (below) puts it whole: its size is wrong.
    const cut = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mid-put/Packages/d/dog-4.23-1.noarch.rpm' })).catch(() => undefined);
    if (cut) assert.notEqual(cut.ContentLength, (await readFile(sample('dog-4.23-1.noarch.rpm'))).length);
    kills.push('mid-put');
    // The killed runs' locks (their processes are gone) are taken over.
    for (const t of kills) {
      const done = JSON.parse((await local(['publish', 'k@latest', target(t), '--json'])).stdout);
      assert.equal(done.snapshot, second);
      const checked = await fsck(t);
      assert.equal(checked.code, 0, checked.stderr);
      assert.equal(checked.report.snapshot, `k@${second}`);
    }
    assert.deepEqual(await installs('before-switch', 'dog', join(dir, 'root-after')), ['dog-4.23-1.noarch']);
  });
});

describe('signed snapshots', () => {
  test('the key file, repomd.xml and its signature go up together; an unsigned generation takes them away', async () => {
    // A store of its own: once it has a signing key, every new snapshot is signed.
    const signedStore = join(dir, 'signed-store');
    const tx = inStore(signedStore);
    await tx(['repo', 'create', 'plain']);
    await tx(['deploy', 'plain', sample('bear-4.1-1.noarch.rpm')]);
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'publisher' }], format: 'armored' });
    await writeFile(join(dir, 'publisher.sec'), privateKey);
    await tx(['key', 'import', join(dir, 'publisher.sec')]);
    await tx(['repo', 'create', 'signed']);
    await tx(['deploy', 'signed', sample('dog-4.23-1.noarch.rpm')]);
    await tx(['publish', 'signed@latest', target('signed')]);
    const repodata = async () => (await keys('signed')).filter((k) => k.startsWith('repodata/repomd'));
    assert.deepEqual(await repodata(), ['repodata/repomd.xml', 'repodata/repomd.xml.asc', 'repodata/repomd.xml.key']);
    const asc = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'signed/repodata/repomd.xml.asc' }));
    assert.equal(asc.ContentType, 'application/pgp-signature');
    assert.equal(asc.CacheControl, 'no-cache');
    let checked = await fsck('signed');
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.report.signedBy.length, 1);
    await tx(['publish', 'plain@latest', target('signed')]);
    assert.deepEqual(await repodata(), ['repodata/repomd.xml']);
    checked = await fsck('signed');
    assert.equal(checked.code, 0, checked.stderr);
    assert.deepEqual(checked.report.signedBy, []);
  });
});

describe('what goes wrong on the way', () => {
  test('a package the server receives damaged is refused, and nothing is switched', dnf, async () => {
    await local(['repo', 'create', 'c', '--keep', '1']);
    await local(['deploy', 'c', sample('cat-1.0-1.noarch.rpm')]);
    const first = JSON.parse((await local(['publish', 'c@latest', target('damaged'), '--json'])).stdout).snapshot;
    await local(['deploy', 'c', sample('cow-2.2-3.noarch.rpm')]);
    corrupt = 'Packages/c/cow-';
    try {
      const r = await local(['publish', 'c@latest', target('damaged')], 1);
      // s3rver does not check Content-MD5 (AWS answers BadDigest): the ETag check does.
      assert.match(r.stderr, /damaged.*: (cannot put )?Packages\/c\/cow-2\.2-3\.noarch\.rpm(: .*BadDigest| was stored with ETag [0-9a-f]+, not the MD5)/);
    } finally {
      corrupt = undefined;
    }
    const checked = await fsck('damaged');
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.report.snapshot, `c@${first}`);
    assert.ok(!(await keys('damaged')).includes('Packages/c/cow-2.2-3.noarch.rpm'));
    await local(['publish', 'c@latest', target('damaged')]);
    assert.ok((await keys('damaged')).includes('Packages/c/cow-2.2-3.noarch.rpm'));
  });

  test('two publishes to one prefix at once: one at a time, the other is locked out, the tree whole', dnf, async () => {
    await local(['repo', 'create', 'two', '--keep', '1']);
    await local(['deploy', 'two', sample('camel-0.1-1.noarch.rpm')]);
    const runs = await Promise.all([0, 1].map(() => txrepo(['publish', 'two@latest', target('two'), '--store', store, '--json'])));
    assert.ok(runs.some((r) => r.code === 0), runs.map((r) => r.stderr).join('\n'));
    for (const r of runs) if (r.code !== 0) assert.equal(JSON.parse(r.stdout).error.type, 'locked', r.stderr);
    const checked = await fsck('two');
    assert.equal(checked.code, 0, checked.stderr);
    assert.ok(!(await keys('two')).includes('.txrepo-publish/lock'), 'the lock is gone');
  });
});

describe('bad targets', () => {
  test('a bad URL, a missing bucket, no credentials, a held lock: clear errors, nothing written', async () => {
    await local(['repo', 'create', 'bad']);
    await local(['deploy', 'bad', sample('cat-1.0-1.noarch.rpm')]);
    let r = await local(['publish', 'bad@latest', `s3://Bad_Bucket/x?endpoint=${frontUrl}`], 1);
    assert.match(r.stderr, /"Bad_Bucket" is not an S3 bucket name/);
    r = await local(['publish', 'bad@latest', `s3://${BUCKET}/x?endpoint=${frontUrl}&color=red`], 1);
    assert.match(r.stderr, /unknown parameter "color"/);
    r = await local(['publish', 'bad@latest', 'https://example.com/repo'], 1);
    assert.match(r.stderr, /publish writes to a directory or to s3:\/\/BUCKET\/PREFIX, not to a https: URL/);
    r = await local(['publish', 'bad@latest', `s3://no-such-bucket/x?endpoint=${frontUrl}`], 1);
    assert.match(r.stderr, /no bucket no-such-bucket; create it first/);
    const noCredentials = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'].includes(k)));
    Object.assign(noCredentials, { AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
    // No --store: the target is opened first, and the store's own settings (on the
    // shared pass, S3 credentials of its own) stay out of it.
    r = await txrepo(['publish', 'bad@latest', target('x')], { env: noCredentials });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no AWS credentials/);
    r = await local(['publish', 'bad@latest', `s3://${BUCKET}/x?endpoint=http://127.0.0.1:9`], 1);
    assert.match(r.stderr, /cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9/);
    assert.deepEqual(await keys('x'), [], 'nothing was written');
    r = await txrepo(['fsck', '--published', target('x')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a tree txrepo publishes \(no \.txrepo-publish\/state\.json\)/);

    // A lock a live process holds (pid 1 on this host), its lease running.
    const lease = { token: 'other', pid: 1, host: (await import('node:os')).hostname(), started: new Date().toISOString(), expires: new Date(Date.now() + 60_000).toISOString() };
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'held/.txrepo-publish/lock', Body: JSON.stringify(lease) }));
    r = await local(['publish', 'bad@latest', target('held'), '--json'], 1);
    assert.equal(JSON.parse(r.stdout).error.type, 'locked');
    assert.match(JSON.parse(r.stdout).error.message, /is being published by txrepo \(pid 1 on .*its lease runs until/);
    assert.deepEqual(await keys('held'), ['.txrepo-publish/lock']);
    // Its lease run out: taken over.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'held/.txrepo-publish/lock', Body: JSON.stringify({ ...lease, expires: new Date(Date.now() - 1000).toISOString() }) }));
    await local(['publish', 'bad@latest', target('held')]);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'held/.txrepo-publish/lock' })).catch(() => {});
  });
});
