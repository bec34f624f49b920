// Regressions found by the reliability suite's concurrency and readers scenarios
// (reliability/scenarios/concurrency.ts, readers.ts): each test replays the
// interleaving that broke an invariant, with real processes and a real store.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, utimes } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalTxrepo } from '../../src/core/index.ts';
import { gc } from '../../src/snapshots/index.ts';
import { LOCAL_ONLY, openTestStore } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { serve } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';

const rpm = sample;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
before(async () => {
  dir = await tempDir('txrepo-concurrency-');
});
after(async () => {
  await removeDir(dir);
});

/** Another process that takes the catalog's write lock and holds it for `ms`. */
/**
 * Another process holding the catalog's write lock (as a CLI deploy or a cron gc does)
 * until release() is called.
 */
async function holdWriteLock(store: string): Promise<{ release(): void; done: Promise<number | null> }> {
  const script = `
    import { DatabaseSync } from 'node:sqlite';
    const db = new DatabaseSync(${JSON.stringify(join(store, 'catalog.sqlite'))});
    db.exec('PRAGMA busy_timeout = 30000; BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => db.exec('COMMIT'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited ${code} before taking the lock`)));
  });
  const done = new Promise<number | null>((r) => child.once('exit', r));
  return { release: () => child.stdin.end('release\n'), done };
}

describe('txrepo serve while another process writes', () => {
  test("reads are answered while the server's own write waits for another process's write lock", LOCAL_ONLY, async () => {
    const store = join(dir, 'serve-lock');
    const tx = inStore(store);
    await tx(['repo', 'create', 'app']);
    const id = JSON.parse((await tx(['deploy', 'app', rpm('bear-4.1-1.noarch.rpm'), '--json'])).stdout).snapshot as string;
    const token = (await tx(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
    const server = await serve(store, ['--quiet']);
    try {
      // A cron gc or a CLI deploy on the store directory holds the write lock ...
      const holder = await holdWriteLock(store);
      // ... while a client moves a tag through the server: the server waits for the lock.
      let written = false;
      const write = fetch(`${server.url}/api/v1/repos/app/tags/stable`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ref: id }),
      }).finally(() => (written = true));
      try {
        await sleep(300); // the write reaches the server and waits for the lock
        // dnf clients' reads need no lock (WAL): they are answered while the lock is
        // still held and the server's own write still waits. A server whose thread
        // waited for the lock would answer none of them until release().
        for (let i = 0; i < 5; i++) {
          const read = await fetch(`${server.url}/repos/app/tags/latest/repodata/repomd.xml`, { signal: AbortSignal.timeout(20_000) });
          assert.equal(read.status, 200);
          await read.arrayBuffer();
        }
        assert.equal(written, false, 'the write did not wait for the lock: the test proved nothing');
      } finally {
        holder.release();
      }
      // The write goes through once the lock is free.
      const moved = await write;
      assert.equal(moved.status, 200, await moved.text());
      assert.equal(await holder.done, 0);
    } finally {
      await server.stop();
    }
  });
});

describe('gc racing tag moves and set creates', () => {
  test('a snapshot that a tag moves to, or a set pins, between gc planning and sweeping is kept', async () => {
    const store = join(dir, 'gc-race');
    const tx = inStore(store);
    await tx(['repo', 'create', 'app', '--retain-last', '1']);
    const ids: string[] = [];
    for (const f of ['bear-4.1-1.noarch.rpm', 'camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']) {
      ids.push(JSON.parse((await tx(['deploy', 'app', rpm(f), '--json'])).stdout).snapshot);
    }
    await sleep(50); // the moves of latest fall out of a 10 ms grace window
    const [old1, old2] = ids;

    const s = await openTestStore(store);
    const other = new LocalTxrepo(await openTestStore(store), 'another writer');
    try {
      // The interleaving: gc has planned (old1 and old2 are beyond the retention and
      // unprotected), then another writer commits before gc's sweep does.
      const sweep = s.catalog.sweep.bind(s.catalog);
      let planned: string[] = [];
      s.catalog.sweep = async (req) => {
        planned = req.snapshots;
        await other.tag({ repo: 'app', tag: 'stable', ref: old1 });
        await other.createSet({ refs: [`app@${old2}`], ttl: '1h' });
        return sweep(req);
      };
      const report = await gc(s, { graceMs: 10 });
      assert.deepEqual([...planned].sort(), [old1, old2].sort(), 'gc planned to remove both old snapshots');
      assert.ok(await s.catalog.getSnapshot('app', old1), 'gc removed the snapshot a tag had just moved to');
      assert.ok(await s.catalog.getSnapshot('app', old2), 'gc removed the snapshot a live set had just pinned');
      assert.deepEqual(report.snapshots, [], 'gc reports only what it removed');
      const fsck = await new LocalTxrepo(s, 'check').fsck({ verifyBlobs: true });
      assert.deepEqual(fsck.problems, []);
    } finally {
      await other.close();
      await s.close();
    }
  });
});

describe('remote deploy racing gc', () => {
  // On object storage the blob ledger decides the same race: test/store/backends.test.ts.
  test('a package the server had when asked, but gc took before the deploy, is uploaded after all', LOCAL_ONLY, async () => {
    const store = join(dir, 'remote-gc');
    const tx = inStore(store);
    await tx(['repo', 'create', 'app']);
    const token = (await tx(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
    const server = await serve(store, ['--quiet']);
    // The server has the package as a blob no snapshot lists, from an upload an hour
    // ago whose deploy never came (a job that failed after uploading).
    const file = rpm('bear-4.1-1.noarch.rpm');
    const data = await readFile(file);
    const sha = createHash('sha256').update(data).digest('hex');
    const put = await fetch(`${server.url}/api/v1/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-length': String(data.length) }, body: data });
    assert.equal(put.status, 201);
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(store, 'blobs/sha256', sha.slice(0, 2), sha), old, old);
    // Between the client's HEAD (the server has it: no upload) and its deploy, a gc
    // runs on the store and removes the blob (unused, and older than its grace).
    let gcRan = false;
    const target = new URL(server.url);
    const proxy = createServer((req, res) => {
      const forward = async () => {
        if (req.method === 'POST' && req.url?.endsWith('/deploy') && !gcRan) {
          gcRan = true;
          await tx(['gc', '--grace', '1h']);
        }
        const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        });
        req.pipe(out);
      };
      void forward();
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await txrepo(['deploy', 'app', file, '--server', url, '--token', token, '--json']);
      assert.ok(gcRan, 'the gc ran between the check and the deploy');
      assert.equal(r.code, 0, `the deploy failed: ${r.stderr}${r.stdout}`);
      assert.deepEqual(JSON.parse(r.stdout).added, ['Packages/b/bear-4.1-1.noarch.rpm']);
      const fsck = await tx(['fsck', '--verify-blobs', '--json']);
      assert.deepEqual(JSON.parse(fsck.stdout).problems, []);
    } finally {
      await new Promise((r) => proxy.close(r));
      await server.stop();
    }
  });
});
