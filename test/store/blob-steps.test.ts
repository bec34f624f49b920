// Parallel blob writes take the same protocol steps as one at a time: the power-loss
// trials count a clean run's steps and then stop a run before each of them, so a step
// count that depends on timing makes a trial miss its step (a CI run once did: two
// installs racing into one new fan-out directory each fsynced it).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
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
