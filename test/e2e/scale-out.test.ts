// needs: dnf root
// Several txrepo servers sharing one PostgreSQL catalog and one S3 bucket, as behind
// a load balancer: writes through both at once, one server killed in the middle of a
// deploy, gc run beside them, and dnf installing through either (through one of them
// by redirect to presigned URLs of the bucket).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { installedPackages, mustDnf } from '../helpers/dnf.ts';
import { NEEDS_PG, pgUrl, s3Url, startS3Server, type S3Server } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { initStore, serve, type Served } from '../helpers/serve.ts';
import { SAMPLES } from '../helpers/samples.ts';

const skip = NEEDS_PG.skip;

let dir: string;
let s3: S3Server | undefined;
let env: NodeJS.ProcessEnv;
let schema: string;
let token: string;
let a: Served;
let b: Served;
let rpms: string[];

/** txrepo on the shared backends, from a machine of its own (a local directory of its own). */
async function admin(args: string[], expectCode = 0): Promise<string> {
  const r = await txrepo([...args, '--store', join(dir, 'admin')], { env });
  assert.equal(r.code, expectCode, `txrepo ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function remote(server: Served, args: string[]): Promise<string> {
  const r = await txrepo([...args, '--server', server.url, '--token', token]);
  assert.equal(r.code, 0, `txrepo ${args.join(' ')} via ${server.url}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(async () => {
  if (skip) return;
  dir = await tempDir('txrepo-scale-out-');
  const s3Base = process.env.TXREPO_TEST_S3 ?? (s3 = await startS3Server()).url;
  schema = `scale_${process.pid}_${Date.now().toString(36)}`;
  env = { ...process.env, TXREPO_CATALOG: pgUrl(schema), TXREPO_BLOBS: s3Url(schema, s3Base) };
  await admin(['repo', 'create', 'app']);
  token = (await admin(['token', 'create', 'deployer', '--scope', 'admin'])).trim();
  // Two servers, each with a local directory of its own (for staging), on one catalog
  // and one bucket; the second sends package downloads to the bucket.
  for (const d of ['a', 'b', 'c']) await initStore(join(dir, d), { env });
  a = await serve(join(dir, 'a'), ['--quiet'], { env });
  b = await serve(join(dir, 'b'), ['--quiet', '--redirect-downloads', '10m'], { env });
  rpms = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).sort();
});

after(async () => {
  if (skip) return;
  await a?.stop();
  await b?.stop();
  await s3?.close();
  await removeDir(dir);
});

describe('two servers on one PostgreSQL catalog and one S3 bucket', { skip }, () => {
  test('writes through both at once: no lost update, no duplicate id, one unbroken history', async () => {
    const mine = rpms.slice(0, 16);
    const deployer = async (server: Served, files: string[]) => {
      for (const f of files) await remote(server, ['deploy', 'app', join(SAMPLES, f)]);
    };
    await Promise.all([deployer(a, mine.filter((_, i) => i % 2 === 0)), deployer(b, mine.filter((_, i) => i % 2 === 1))]);
    const snapshots = JSON.parse(await admin(['snapshots', 'app', '--json'])) as { id: string; parent?: string; packages: number }[];
    assert.equal(snapshots.length, 16);
    assert.equal(new Set(snapshots.map((s) => s.id)).size, 16);
    for (let i = 1; i < snapshots.length; i++) assert.equal(snapshots[i].parent, snapshots[i - 1].id);
    const latest = JSON.parse(await remote(a, ['show', 'app', '--files', '--json'])) as { files: { href: string }[] };
    for (const f of mine) assert.ok(latest.files.some((x) => x.href.endsWith(`/${f}`)), `${f} is in latest: no deploy lost another's`);
    await admin(['fsck', '--verify-blobs']);
  });

  test('a server killed in the middle of a deploy: nothing partial, the other serves and takes the deploy', async () => {
    const before = JSON.parse(await admin(['snapshots', 'app', '--json'])) as { id: string }[];
    // One process (--workers 1): the SIGKILL lands on the process holding the deploy.
    const c = await serve(join(dir, 'c'), ['--quiet', '--workers', '1'], { env });
    // Another writer holds the catalog's writer lock: c's deploy uploads its blobs,
    // then waits at its first catalog write, where it is killed.
    const lock = new pg.Client({ connectionString: process.env.TXREPO_TEST_PG });
    await lock.connect();
    const watcher = new pg.Client({ connectionString: process.env.TXREPO_TEST_PG });
    await watcher.connect();
    const key = createHash('sha256').update(`txrepo catalog writer ${schema}`).digest().readBigInt64BE(0).toString();
    await lock.query('BEGIN');
    await lock.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
    const batch = rpms.slice(16, 24).map((f) => join(SAMPLES, f));
    let settled: string | undefined;
    const deploy = txrepo(['deploy', 'app', ...batch, '--server', c.url, '--token', token]).then((r) => {
      settled = `exit ${r.code}: ${r.stdout}${r.stderr}`;
      return r;
    });
    try {
      // c has the deploy in hand once its writer waits for the lock.
      for (let i = 0; ; i++) {
        // (Asked on a connection of its own: within a transaction, pg_stat_activity is a snapshot.)
        const waiting = await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'txrepo' AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'");
        if (waiting.rows[0].n > 0) break;
        assert.ok(i < 600 && settled === undefined, `the deploy reached the catalog (it ended: ${settled}; server: ${c.stderr()})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // Meanwhile b answers readers: they take no lock.
      const read = await fetch(`${b.url}/repos/app/tags/latest/repodata/repomd.xml`);
      assert.equal(read.status, 200);
      const health = await fetch(`${b.url}/api/v1/health`);
      assert.deepEqual([health.status, await health.json()], [200, { catalog: 'ok', blobs: 'ok' }]);
      c.child.kill('SIGKILL');
    } finally {
      await c.stop();
      await lock.query('COMMIT');
      await lock.end();
      await watcher.end();
    }
    const failed = await deploy;
    assert.notEqual(failed.code, 0, 'the client learns that its deploy did not go through');
    const afterKill = JSON.parse(await admin(['snapshots', 'app', '--json'])) as { id: string }[];
    assert.deepEqual(afterKill.map((s) => s.id), before.map((s) => s.id), 'the killed deploy committed nothing');
    await admin(['fsck', '--verify-blobs']);
    // The client's retry, through the other server, goes through.
    await remote(b, ['deploy', 'app', ...batch]);
    const latest = JSON.parse(await remote(b, ['show', 'app', '--files', '--json'])) as { files: { href: string }[] };
    for (const f of batch) assert.ok(latest.files.some((x) => x.href.endsWith(`/${f.slice(f.lastIndexOf('/') + 1)}`)));
  });

  test('gc beside the servers; dnf installs through either, by redirect to the bucket through one', async () => {
    await admin(['repo', 'create', 'tools', '--retain-last', '1']);
    for (const f of rpms.slice(24, 28)) await remote(a, ['deploy', 'tools', join(SAMPLES, f)]);
    // Snapshots beyond the newest go; their packages are still in the newest. (The
    // packages installed below have no dependencies: shark from tools, bear from app.)
    await new Promise((r) => setTimeout(r, 1100));
    const report = JSON.parse(await admin(['gc', '--grace', '1s', '--json'])) as { snapshots: unknown[] };
    assert.equal(report.snapshots.length, 3);
    await admin(['fsck', '--verify-blobs']);
    const name = (f: string) => f.replace(/-[^-]+-[^-]+\.noarch\.rpm$/, '');
    for (const [server, via] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const root = join(dir, `root-${via}`);
      await mustDnf(root, { tools: `${server.url}/repos/tools/tags/latest/`, app: `${server.url}/repos/app/tags/latest/` }, ['install', '-y', name(rpms[25]), name(rpms[0])]);
      const installed = await installedPackages(root);
      assert.ok(installed.some((p) => p.startsWith(`${name(rpms[25])}-`)), installed.join(' '));
      assert.ok(installed.some((p) => p.startsWith(`${name(rpms[0])}-`)), installed.join(' '));
    }
    // b answered its package downloads with redirects to the bucket.
    const pkg = await fetch(`${b.url}/repos/tools/tags/latest/Packages/${rpms[25][0]}/${rpms[25]}`, { redirect: 'manual' });
    assert.equal(pkg.status, 302);
    assert.match(pkg.headers.get('location') ?? '', /X-Amz-Signature=/);
  });
});
