// needs: rpmbuild
// A power loss right after a command returned loses nothing it committed: the blobs
// and directories it made are durable before its commit point. The power loss is the
// reliability suite's simulation (src/common/crash.ts): every directory entry whose
// directory was not fsynced since, and the data of every file not fsynced before it
// got its name, are undone. Regressions of what the suite's power-loss scenario found:
// new blob prefix directories and publish's new directories were not made durable.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LOCAL_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, run, TXREPO } from '../helpers/run.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { buildRpm } from '../helpers/build.ts';

let work: string;
before(async () => {
  work = await tempDir('txrepo-durability-');
});
after(() => removeDir(work));

/**
 * Runs txrepo once to see that its last step is the exit, then again on `prepare()`d
 * state with a power loss at its exit. The exit is asked for by name, not by number:
 * two runs can differ by a step (two new blobs that share a fan-out directory, by
 * chance of time-stamped metadata), and a number past the end kills nothing.
 */
async function powerLossAtExit(args: string[], prepare: () => Promise<void>): Promise<void> {
  await prepare();
  const trace = join(work, `trace-${Math.random()}`);
  const clean = await run(TXREPO, args, { env: { ...process.env, TXREPO_CRASH_TRACE: trace } });
  assert.equal(clean.code, 0, clean.stderr);
  const steps = (await readFile(trace, 'utf8')).trim().split('\n');
  assert.match(steps.at(-1)!, /\texit$/);
  await prepare();
  const lost = await run(TXREPO, args, { env: { ...process.env, TXREPO_CRASH_AT: 'exit', TXREPO_CRASH_MODE: 'power' } });
  assert.notEqual(lost.code, 0, 'the process was killed at its exit');
}

test('a deploy into a new store survives a power loss right after it returned', LOCAL_ONLY, async () => {
  const store = join(work, 'store');
  // Small packages (stored through a blob batch) and one over 1 MiB (copied in on its own):
  // both ways make their fan-out directories durable.
  const big = await buildRpm(join(work, 'big'), { name: 'big', version: '1', release: '1', content: randomBytes(2 << 20).toString('base64') });
  assert.ok((await stat(big)).size > 1 << 20, 'the big package is over 1 MiB');
  const rpms = [...(await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).slice(0, 5).map((f) => join(SAMPLES, f)), big];
  await powerLossAtExit(['deploy', 'el9', ...rpms, '--store', store], async () => {
    await removeDir(store);
    await inStore(store)(['repo', 'create', 'el9']);
  });
  const tx = inStore(store);
  const latest = JSON.parse((await tx(['show', 'el9', '--json'])).stdout);
  assert.equal(latest.packages, 6);
  await tx(['fsck', '--verify-blobs']);
});

test('a publish into a new directory survives a power loss right after it returned', LOCAL_ONLY, async () => {
  const store = join(work, 'pstore');
  const tx = inStore(store);
  await tx(['repo', 'create', 'el9']);
  await tx(['deploy', 'el9', ...(await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).slice(0, 8).map((f) => join(SAMPLES, f))]);
  const pub = join(work, 'public');
  await powerLossAtExit(['publish', 'el9', pub, '--store', store], () => removeDir(pub));
  // Every file of the snapshot is in place with its checksum, and a second publish
  // finds nothing to do (the history survived too).
  const files = JSON.parse((await tx(['show', 'el9', '--files', '--json'])).stdout).files as { href: string; sha256: string }[];
  for (const f of files) {
    const data = await readFile(join(pub, f.href)).catch(() => undefined);
    assert.ok(data, `${f.href} survived`);
    assert.equal((await import('node:crypto')).createHash('sha256').update(data).digest('hex'), f.sha256, f.href);
  }
  const again = JSON.parse((await tx(['publish', 'el9', pub, '--json'])).stdout);
  assert.equal(again.changed, false);
});
