// Sets and their leases, promotion, gc and the audit log, through the core and the CLI.

import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalTxrepo } from '../../src/core/index.ts';
import { gc, parseDuration } from '../../src/snapshots/index.ts';
import type { Store } from '../../src/store/index.ts';
import { openTestStore } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';

const rpm = sample;

let dir: string;
let n = 0;
before(async () => {
  dir = await tempDir('txrepo-sets-');
});
after(() => removeDir(dir));

async function withCore<T>(fn: (tx: LocalTxrepo, store: Store) => Promise<T>): Promise<T> {
  const store = await openTestStore(join(dir, `store-${n++}`));
  try {
    return await fn(new LocalTxrepo(store, 'tester'), store);
  } finally {
    await store.close();
  }
}

const old = new Date(Date.now() - 3 * 3600_000);

describe('sets', () => {
  test('durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('3d'), 3 * 86_400_000);
    assert.equal(parseDuration('1d12h'), 36 * 3_600_000);
    // Nothing is a duration too: gc --grace 0s.
    for (const zero of ['0s', '0m', '0h', '0d', '0w', '0h0m']) assert.equal(parseDuration(zero), 0, zero);
    for (const bad of ['', '0', '3', 'd', '-1d', '1.5h', '3 days']) assert.throws(() => parseDuration(bad), /not a duration/, bad);
  });

  test('pin one snapshot per repo by id, tag or tag@TIME; leases extend, keep and release; a released set stays released', async () => {
    await withCore(async (tx) => {
      await tx.createRepo({ name: 'a' });
      await tx.createRepo({ name: 'b' });
      const a1 = (await tx.deploy({ repo: 'a', sources: [rpm('bear-4.1-1.noarch.rpm')] })).snapshot;
      const b1 = (await tx.deploy({ repo: 'b', sources: [rpm('cat-1.0-1.noarch.rpm')] })).snapshot;
      await tx.tag({ repo: 'b', tag: 'tested', ref: b1 });
      const a2 = (await tx.deploy({ repo: 'a', sources: [rpm('camel-0.1-1.noarch.rpm')] })).snapshot;
      const s = await tx.createSet({ refs: [`a@${a1}`, 'b@tested'], label: 'run 1', ttl: '2h' });
      assert.deepEqual(s.members, [
        { repo: 'a', snapshot: a1 },
        { repo: 'b', snapshot: b1 },
      ]);
      assert.ok(Math.abs(Date.parse(s.expiresAt!) - Date.now() - 2 * 3_600_000) < 60_000);
      const latest = await tx.createSet({ refs: ['a'] });
      assert.deepEqual(latest.members, [{ repo: 'a', snapshot: a2 }]);
      assert.notEqual(latest.id, s.id);
      assert.ok(latest.id > s.id, 'set ids sort in creation order');
      await assert.rejects(tx.createSet({ refs: ['a', 'a@latest'] }), /given twice/);
      await assert.rejects(tx.createSet({ refs: ['a@nope'] }), /no tag nope/);
      await assert.rejects(tx.createSet({ refs: ['zzz'] }), /no repository zzz/);
      await assert.rejects(tx.createSet({ refs: [] }), /at least one/);
      await assert.rejects(tx.createSet({ refs: ['a'], ttl: 'tomorrow' }), /not a duration/);

      const manifest = await tx.showSet(s.id);
      assert.equal(manifest.live, true);
      assert.deepEqual(manifest.repos.map((r) => [r.repo, r.path]), [
        ['a', `/sets/${s.id}/a/`],
        ['b', `/sets/${s.id}/b/`],
      ]);
      const bear = manifest.repos[0].files.find((f) => f.href.endsWith('bear-4.1-1.noarch.rpm'))!;
      assert.match(bear.sha256, /^[0-9a-f]{64}$/);
      assert.equal(bear.path, `/sets/${s.id}/a/Packages/b/bear-4.1-1.noarch.rpm`);

      assert.equal((await tx.keepSet(s.id)).expiresAt, undefined);
      assert.ok((await tx.extendSet(s.id, '1d')).expiresAt);
      await assert.rejects(tx.deleteRepo('a'), /pinned by live sets/);
      const released = await tx.releaseSet(s.id);
      assert.ok(released.releasedAt);
      await assert.rejects(tx.extendSet(s.id, '1d'), /stays released/);
      assert.equal((await tx.showSet(s.id)).live, false);
      await tx.releaseSet(latest.id);
      await tx.deleteRepo('b');
    });
  });
});

describe('promote', () => {
  test('moves the tag in every repo at once, never back in time unless forced, and records the set', async () => {
    await withCore(async (tx) => {
      await tx.createRepo({ name: 'a' });
      await tx.createRepo({ name: 'b' });
      const a1 = (await tx.deploy({ repo: 'a', sources: [rpm('bear-4.1-1.noarch.rpm')] })).snapshot;
      const b1 = (await tx.deploy({ repo: 'b', sources: [rpm('cat-1.0-1.noarch.rpm')] })).snapshot;
      const first = await tx.createSet({ refs: ['a', 'b'], label: 'flow 1' });
      const a2 = (await tx.deploy({ repo: 'a', sources: [rpm('camel-0.1-1.noarch.rpm')] })).snapshot;
      const second = await tx.createSet({ refs: ['a', 'b'], label: 'flow 2' });

      const moves = await tx.promote({ set: second.id, tag: 'latest.tested' });
      assert.deepEqual(moves.map((m) => [m.repo, m.to, m.set]), [
        ['a', a2, second.id],
        ['b', b1, second.id],
      ]);
      // The older set would move a back: refused, and b (which would not move back) did not move either.
      await tx.tag({ repo: 'b', tag: 'latest.tested', ref: b1 });
      await assert.rejects(tx.promote({ set: first.id, tag: 'latest.tested' }), /back in time.*a: latest.tested is at/);
      assert.equal((await tx.tags('a')).find((t) => t.tag === 'latest.tested')?.snapshot, a2);
      const forced = await tx.promote({ set: first.id, tag: 'latest.tested', force: true });
      assert.deepEqual(forced.map((m) => [m.repo, m.from, m.to]), [['a', a2, a1]], 'b was already there: no move recorded');
      const history = await tx.tagHistory('a', 'latest.tested');
      assert.deepEqual(history.map((h) => [h.to, h.set, h.reason]), [
        [a2, second.id, `promote set ${second.id} (flow 2)`],
        [a1, first.id, `promote set ${first.id} (flow 1)`],
      ]);
      await assert.rejects(tx.promote({ set: '20990101-000000-0001', tag: 'x' }), /no set/);
      await assert.rejects(tx.promote({ set: first.id, tag: '../x' }), /not allowed/);
    });
  });
});

/** Makes every blob look unused for hours, where the backend keeps use times in files. */
async function ageBlobs(store: Store): Promise<void> {
  for await (const b of store.blobs.list()) {
    const path = store.blobs.localPath(b.digest);
    if (path) await utimes(path, old, old);
  }
}

describe('gc', () => {
  test('retention removes old snapshots but never tagged, recently tagged or pinned ones; dry run lists the same; fsck stays clean', async () => {
    await withCore(async (tx, store) => {
      await tx.createRepo({ name: 'r', keep: 1, retainLast: 1 });
      await tx.createRepo({ name: 'forever' });
      // Not the same package sets as r's snapshots (whose metadata blobs it would share).
      await tx.deploy({ repo: 'forever', sources: [rpm('wolf-9.4-2.noarch.rpm')] });
      const ids: string[] = [];
      for (const f of ['bear-4.1-1.noarch.rpm', 'camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm', 'dog-4.23-1.noarch.rpm', 'duck-0.6-1.noarch.rpm']) {
        ids.push((await tx.deploy({ repo: 'r', sources: [rpm(f)] })).snapshot);
        await tx.deploy({ repo: 'forever', sources: [rpm(f)] });
      }
      await tx.tag({ repo: 'r', tag: 'stable', ref: ids[0] });
      const pin = await tx.createSet({ refs: [`r@${ids[1]}`] });
      await tx.tag({ repo: 'r', tag: 'moving', ref: ids[2] });
      // Past the grace window of latest's moves; then ids[2] is left by 'moving' within it.
      await new Promise((r) => setTimeout(r, 4100));
      await tx.tag({ repo: 'r', tag: 'moving', ref: ids[4] });
      // Every gc below runs as of this instant (gc's clock), so that however long the
      // rest takes on a busy machine, 'moving' left ids[2] within the window.
      const at = new Date();
      const gcAt = (dryRun = false) => gc(store, { dryRun, graceMs: 4000, now: at });
      // Blobs are only swept once unused for the grace window: age them (on object
      // storage, which has no mtimes to set, the wait above has).
      await ageBlobs(store);

      const dry = await gcAt(true);
      assert.deepEqual(dry.snapshots.map((s) => s.id), [ids[3]]);
      assert.deepEqual(dry.protectedBy, { tags: 1, tagGrace: 1, sets: 1 });
      assert.equal((await tx.snapshots('r')).length, 5, 'the dry run removed nothing');
      const real = await gcAt();
      assert.deepEqual(real.snapshots.map((s) => s.id), [ids[3]]);
      // The dry run counted what the real one removed.
      assert.deepEqual([dry.blobs, dry.bytes], [real.blobs, real.bytes]);
      assert.ok(real.blobs >= 3, `the snapshot's repodata files and package went (${real.blobs})`);
      assert.ok(real.bytes > 0);
      assert.deepEqual((await tx.snapshots('r')).map((s) => s.id), [ids[0], ids[1], ids[2], ids[4]]);
      assert.equal((await tx.snapshots('forever')).length, 6, 'no policy: all kept');
      const report = await tx.fsck({ verifyBlobs: true });
      assert.deepEqual(report.problems, []);
      // Released, the pinned snapshot goes at the next gc; a second gc finds nothing.
      await tx.releaseSet(pin.id);
      await ageBlobs(store);
      assert.deepEqual((await gcAt()).snapshots.map((s) => s.id), [ids[1]]);
      const again = await gcAt();
      assert.equal(again.snapshots.length + again.blobs, 0);
      assert.deepEqual((await tx.fsck({})).problems, []);
    });
  });

  test('blobs: unreferenced and old ones go; young, reused or concurrently re-stored ones stay', async () => {
    await withCore(async (_tx, store) => {
      const put = async (text: string) => (await store.blobs.putBytes(Buffer.from(text))).digest;
      const stale = await put('stale');
      const reused = await put('reused');
      const racing = [];
      for (let i = 0; i < 50; i++) racing.push(await put(`racing ${i}`));
      // gc's cutoff: everything above was stored before it (S3 times are in seconds).
      await new Promise((r) => setTimeout(r, 1100));
      const since = new Date();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await store.blobs.sweep(stale, since), true);
      assert.equal(await store.blobs.stat(stale), undefined);
      assert.equal(await store.blobs.touch(stale), false, 'a swept blob is not there to reuse');
      assert.equal(await store.blobs.touch(reused), true, 'a writer reusing it marks it as used');
      assert.equal(await store.blobs.sweep(reused, since), false);
      assert.ok(await store.blobs.stat(reused));
      // A writer storing the same content while gc sweeps it: the blob survives, every time.
      for (const [i, digest] of racing.entries()) {
        const [, written] = await Promise.all([store.blobs.sweep(digest, since), store.blobs.putBytes(Buffer.from(`racing ${i}`))]);
        assert.equal(written.digest, digest);
        assert.ok(await store.blobs.stat(digest), `round ${i}: the blob a writer stored is there`);
      }
    });
  });

  test('gc and log through the CLI', async () => {
    const store = join(dir, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'r', '--retain-last', '1', '--retain-days', '0.5']);
    await tx(['deploy', 'r', rpm('bear-4.1-1.noarch.rpm')]);
    await tx(['deploy', 'r', rpm('nope.rpm')], 1);
    const dry = await tx(['gc', '--dry-run']);
    assert.match(dry.stdout, /would remove 0 snapshots/);
    const log = JSON.parse((await tx(['log', 'r', '--json'])).stdout);
    assert.deepEqual(log.map((e: { command: string; result: string }) => [e.command, e.result.replace(/:.*/s, '')]), [
      ['repo create', 'ok'],
      ['deploy', 'ok'],
      ['deploy', 'error'],
    ]);
    assert.match(log[2].result, /nope\.rpm: no such file/);
    await tx(['gc']);
    const all = JSON.parse((await tx(['log', '--json'])).stdout);
    assert.equal(all.at(-1).command, 'gc');
    await tx(['repo', 'create', 'x', '--retain-days', 'soon'], 2);
  });
});
