// Parallel blob writes take the same protocol steps as one at a time: the power-loss
// trials count a clean run's steps and then stop a run before each of them, so a step
// count that depends on timing makes a trial miss its step (a CI run once did: two
// installs racing into one new fan-out directory each fsynced it).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SYNCFS_FROM } from '../../src/store/local-blobs.ts';
import { readTrace } from '../helpers/crash.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';

const LOCAL_BLOBS = fileURLToPath(new URL('../../src/store/local-blobs.ts', import.meta.url));

let work: string;
before(async () => {
  work = await tempDir('txrepo-blob-steps-');
});
after(() => removeDir(work));

/** Puts `count` blobs sharing one fan-out directory into a new store, in parallel or in turn; its steps. */
async function putSteps(name: string, mode: 'parallel' | 'serial', count: number) {
  const store = join(work, name);
  const trace = join(work, `${name}.trace`);
  const script = `
    import { createHash } from 'node:crypto';
    import { LocalBlobStore } from ${JSON.stringify(LOCAL_BLOBS)};
    const blobs = new LocalBlobStore(${JSON.stringify(store)});
    await blobs.init();
    // Blobs whose digests share a fan-out directory: found by trying.
    const picked = [];
    let prefix;
    for (let i = 0; picked.length < ${count}; i++) {
      const data = Buffer.from('blob ' + i);
      const p = createHash('sha256').update(data).digest('hex').slice(0, 2);
      if (prefix === undefined) prefix = p;
      if (p === prefix) picked.push(data);
    }
    if (${JSON.stringify(mode)} === 'parallel') await Promise.all(picked.map((d) => blobs.putBytes(d)));
    else for (const d of picked) await blobs.putBytes(d);
  `;
  const code = await new Promise<number | null>((done) =>
    spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit', env: { ...process.env, TXREPO_CRASH_TRACE: trace } }).on('exit', done),
  );
  assert.equal(code, 0);
  return readTrace(trace);
}

test('blobs written in parallel into one new fan-out directory take the steps written in turn take', async () => {
  const serial = await putSteps('serial', 'serial', 6);
  const parallel = await putSteps('parallel', 'parallel', 6);
  const kinds = (steps: { kind: string }[]) => steps.map((s) => s.kind).sort().join(' ');
  assert.equal(kinds(parallel), kinds(serial));
  // Each blob: its file fsynced, linked, its directory fsynced; the new directory made
  // durable once (its parent fsynced), not again by each blob that finds it there.
  for (const steps of [serial, parallel]) {
    assert.equal(steps.filter((s) => s.kind === 'link').length, 6);
    assert.equal(steps.filter((s) => s.kind === 'fsync').length, 6);
    assert.equal(steps.filter((s) => s.kind === 'fsync-dir').length, 6 + 1);
  }
});

const DURABLE = fileURLToPath(new URL('../../src/common/durable.ts', import.meta.url));

/** How a batch takes a blob: a staged file (a large download), or bytes in memory (a small one). */
type Way = 'adopt' | 'putBytes';
const WAYS: Way[] = ['adopt', 'putBytes'];

/**
 * Adopts `count` staged files (or puts `count` byte strings) into a new store through one batch (as a sync stores its
 * downloads), flushing it unless `flush` is false, then exits under `env` (a power
 * loss at exit, or a trace). The store's blob directory.
 */
async function adoptBatch(name: string, count: number, env: Record<string, string>, flush = true, how: Way = 'adopt') {
  const store = join(work, name);
  const script = `
    import { createHash } from 'node:crypto';
    import { writeFileSync } from 'node:fs';
    import { LocalBlobStore } from ${JSON.stringify(LOCAL_BLOBS)};
    import { fileCreated } from ${JSON.stringify(DURABLE)};
    const blobs = new LocalBlobStore(${JSON.stringify(store)});
    await blobs.init();
    const batch = blobs.batch();
    await Promise.all(Array.from({ length: ${count} }, (_, i) => {
      const data = Buffer.from('batched blob ' + i);
      const expect = { digest: createHash('sha256').update(data).digest('hex'), size: data.length };
      if (${JSON.stringify(how)} === 'putBytes') return batch.putBytes(data, expect, { hashed: true });
      const path = blobs.stagingPath();
      writeFileSync(path, data, { mode: 0o444 });
      fileCreated(path);
      return batch.adopt(path, expect, { hashed: true });
    }));
    if (${flush}) await batch.flush();
  `;
  const code = await new Promise<number | null>((done) =>
    spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit', env: { ...process.env, ...env } }).on('exit', done),
  );
  return { code, blobs: join(store, 'blobs', 'sha256') };
}

/** Every blob under a blob directory whose content hashes to its name. */
async function soundBlobs(dir: string): Promise<number> {
  let sound = 0;
  for (const fan of await readdir(dir).catch(() => [] as string[])) {
    for (const name of await readdir(join(dir, fan))) {
      if (createHash('sha256').update(await readFile(join(dir, fan, name))).digest('hex') === name) sound++;
    }
  }
  return sound;
}

/** The steps of a batch of `count` blobs taken `how`, flushed. */
async function batchSteps(how: Way, count: number) {
  const trace = join(work, `batch-${how}-${count}.trace`);
  const { code, blobs } = await adoptBatch(`batch-steps-${how}-${count}`, count, { TXREPO_CRASH_TRACE: trace }, true, how);
  assert.equal(code, 0);
  const steps = await readTrace(trace);
  const of = (kind: string) => steps.filter((s) => s.kind === kind);
  assert.equal(of('link').length, count);
  return { steps, of, fanOuts: (await readdir(blobs)).length, lastLink: Math.max(...of('link').map((s) => s.n)) };
}

// A few files, adopted (written by the caller, as a sync's downloads are) or put: each file fsynced before its link, each directory once, at the flush.
for (const how of WAYS) {
  const count = SYNCFS_FROM - 1;
  test(`through ${how}(), ${count} blobs: a batch fsyncs each file before its link, and each directory once, at its flush`, async () => {
    const { of, fanOuts, lastLink } = await batchSteps(how, count);
    assert.equal(of('fsync').length, count);
    assert.equal(of('syncfs').length, 0);
    // The fan-out directories and the blob root, each once: not a directory fsync per blob.
    const dirSyncs = of('fsync-dir');
    assert.equal(dirSyncs.length, fanOuts + 1);
    assert.equal(new Set(dirSyncs.map((s) => s.path)).size, dirSyncs.length);
    // A blob's data is durable before its name appears; the names, before flush() returns.
    // (The trace names a link by its target, an fsync by the staged file: counted, not matched.)
    for (const [k, link] of of('link').entries()) {
      assert.ok(of('fsync').filter((s) => s.n < link.n).length > k, `link ${link.path} comes before its file's fsync`);
    }
    assert.ok(dirSyncs.every((s) => s.n > lastLink), 'directories are fsynced once the batch is flushed, not per blob');
  });
}

for (const how of WAYS) test(`through ${how}(), ${SYNCFS_FROM} blobs and more: one syncfs makes the files durable before the first link, one more the names after the last`, async () => {
  const { of, lastLink } = await batchSteps(how, 40);
  assert.equal(of('fsync').length, 0);
  assert.equal(of('fsync-dir').length, 0);
  const [files, names, ...more] = of('syncfs');
  assert.deepEqual(more, []);
  assert.ok(files && files.n < Math.min(...of('link').map((s) => s.n)), 'the files are durable before any is linked');
  assert.ok(names && names.n > lastLink, 'the names are durable once the batch is flushed');
});

test('a batch of more files than a chunk installs them a chunk at a time, each after a syncfs made it durable, and syncs the names once at its flush', async () => {
  // 1,100 files: a chunk of 1,024, installed while the rest are written, then the rest at the flush.
  const { steps, of, lastLink } = await batchSteps('putBytes', 1100);
  assert.equal(of('fsync').length, 0);
  assert.equal(of('fsync-dir').length, 0);
  const syncs = of('syncfs');
  assert.equal(syncs.length, 3, 'a syncfs for each chunk of files, one for the names');
  const links = of('link').map((s) => s.n);
  // Each chunk's links come after its own syncfs: 1,024 after the first, the rest after the second.
  assert.equal(links.filter((n) => n > syncs[0]!.n && n < syncs[1]!.n).length, 1024);
  assert.equal(links.filter((n) => n > syncs[1]!.n && n < syncs[2]!.n).length, 1100 - 1024);
  assert.ok(syncs[2]!.n > lastLink && steps.at(-1)!.n >= syncs[2]!.n);
});

for (const how of WAYS) test(`the blobs of a flushed batch (${how}) survive a power loss, whole; an unflushed batch may lose them, never leave one damaged`, async () => {
  const power = { TXREPO_CRASH_MODE: 'power', TXREPO_CRASH_AT: 'exit' };
  const flushed = await adoptBatch(`batch-power-${how}`, 40, power, true, how);
  assert.equal(flushed.code, null); // killed at exit, as a power loss
  assert.equal(await soundBlobs(flushed.blobs), 40);
  // Without the flush the names are not durable: a power loss takes them (which the
  // check above would not notice if flush() did nothing); what stays is whole.
  const unflushed = await adoptBatch(`batch-power-unflushed-${how}`, 40, power, false, how);
  assert.equal(unflushed.code, null);
  assert.ok((await soundBlobs(unflushed.blobs)) < 40);
  const left = await readdir(unflushed.blobs).catch(() => [] as string[]);
  let names = 0;
  for (const fan of left) names += (await readdir(join(unflushed.blobs, fan))).length;
  assert.equal(names, await soundBlobs(unflushed.blobs));
});

test("a writer that reuses another batch's blob makes its directory durable itself: at once, or at its own batch's flush", async () => {
  const store = join(work, 'reuse');
  const trace = join(work, 'reuse.trace');
  // A batch links a blob and is never flushed (its writer is slow, or died); then a
  // deploy (putBytes) and a second sync's batch (touch, flush) find the blob and reuse it.
  const script = `
    import { createHash } from 'node:crypto';
    import { writeFile } from 'node:fs/promises';
    import { join } from 'node:path';
    import { crashPoint } from ${JSON.stringify(fileURLToPath(new URL('../../src/common/crash.ts', import.meta.url)))};
    import { LocalBlobStore } from ${JSON.stringify(LOCAL_BLOBS)};
    const blobs = new LocalBlobStore(${JSON.stringify(store)});
    await blobs.init();
    const data = Buffer.from('a blob two writers want');
    const digest = createHash('sha256').update(data).digest('hex');
    const path = join(${JSON.stringify(store)}, 'tmp', 'staged');
    await writeFile(path, data, { mode: 0o444 });
    await blobs.batch().adopt(path, { digest, size: data.length }, { hashed: true });
    crashPoint('mark', 'deploy reuses');
    await blobs.putBytes(data);
    crashPoint('mark', 'sync reuses');
    const second = blobs.batch();
    if (!(await second.touch(digest, data.length))) throw new Error('touch did not find the blob');
    crashPoint('mark', 'second batch flushes');
    await second.flush();
  `;
  const code = await new Promise<number | null>((done) =>
    spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit', env: { ...process.env, TXREPO_CRASH_TRACE: trace } }).on('exit', done),
  );
  assert.equal(code, 0);
  const steps = await readTrace(trace);
  const mark = (name: string) => steps.find((s) => s.kind === 'mark' && s.path === name)!.n;
  const dirSyncs = steps.filter((s) => s.kind === 'fsync-dir' && /\/blobs\/.*\/[0-9a-f]{2}$/.test(s.path));
  assert.equal(dirSyncs.filter((s) => s.n < mark('deploy reuses')).length, 0, 'the first batch, never flushed, fsynced no directory');
  assert.equal(dirSyncs.filter((s) => s.n > mark('deploy reuses') && s.n < mark('sync reuses')).length, 1, 'the deploy that reused the blob fsynced its directory');
  assert.equal(dirSyncs.filter((s) => s.n > mark('sync reuses') && s.n < mark('second batch flushes')).length, 0, 'the batch that reused it leaves the fsync to its flush');
  assert.equal(dirSyncs.filter((s) => s.n > mark('second batch flushes')).length, 1, "the second batch's flush fsynced the blob's directory");
});
