// needs: rpmbuild createrepo_c modifyrepo_c
// fsck finds damage; diff reports upgrades with their changelog; a deploy killed at
// any instant leaves a store that fsck passes, and the retry succeeds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { protocolSteps, killAfterStep } from '../helpers/crash.ts';
import { finishesWithin, inStore, mustRun, srcUrl, TXREPO, txrepo } from '../helpers/run.ts';
import { FIRST_PASS_ONLY, LOCAL_ONLY, storeEnv } from '../helpers/backends.ts';
import { sample, SAMPLES } from '../helpers/samples.ts';


let work: string;
let n = 0;
before(async () => {
  work = await tempDir('txrepo-integrity-');
});
after(() => removeDir(work));

/** Builds one small package per [version, changelog entries] with rpmbuild. */
async function buildVersions(versions: [string, string[]][]): Promise<string[]> {
  const top = join(work, `rpmbuild-${n++}`);
  const out: string[] = [];
  for (const [version, entries] of versions) {
    const spec = join(top, `tool-${version}.spec`);
    await mkdir(top, { recursive: true });
    const dates: Record<string, string> = { '2.0-1': 'Mon Nov 23 2026', '1.0-1': 'Sat Nov 21 2026' };
    const changelog = entries.map((e) => `* ${dates[e]} Dev <dev@example.com> - ${e}\n- ${e} notes\n`).join('\n');
    await writeFile(
      spec,
      `Name: tool\nVersion: ${version}\nRelease: 1\nSummary: a tool\nLicense: MIT\nBuildArch: noarch\n%description\nA tool.\n%install\nmkdir -p \${RPM_BUILD_ROOT}/usr/share/tool\necho ${version} > \${RPM_BUILD_ROOT}/usr/share/tool/VERSION\n%files\n/usr/share/tool/VERSION\n%changelog\n${changelog}`,
    );
    await mustRun('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, spec]);
    out.push(join(top, 'RPMS/noarch', `tool-${version}-1.noarch.rpm`));
  }
  return out;
}

describe('diff', () => {
  test('added, removed, upgraded and downgraded, with the new changelog entries', async () => {
    const tx = inStore(join(work, `store-${n++}`));
    const [v1, v2] = await buildVersions([
      ['1.0', ['1.0-1']],
      ['2.0', ['2.0-1', '1.0-1']],
    ]);
    // --keep 1: the new build replaces the old one (without it both stay: see below).
    await tx(['repo', 'create', 'a', '--keep', '1']);
    const s1 = JSON.parse((await tx(['deploy', 'a', v1, join(SAMPLES, 'bear-4.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const s2 = JSON.parse((await tx(['deploy', 'a', v2, join(SAMPLES, 'cat-1.0-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const diff = JSON.parse((await tx(['diff', `a@${s1}`, `a@${s2}`, '--json'])).stdout);
    assert.deepEqual(diff.added.map((p: { name: string }) => p.name), ['cat']);
    assert.deepEqual(diff.removed, []);
    assert.equal(diff.upgraded.length, 1);
    assert.deepEqual([diff.upgraded[0].from, diff.upgraded[0].to], ['1.0-1', '2.0-1']);
    assert.deepEqual(diff.upgraded[0].changelog.map((c: { author: string }) => c.author), ['Dev <dev@example.com> - 2.0-1']);
    const back = JSON.parse((await tx(['diff', `a@${s2}`, `a@${s1}`, '--json'])).stdout);
    assert.deepEqual(back.removed.map((p: { name: string }) => p.name), ['cat']);
    assert.deepEqual(back.downgraded.map((p: { from: string; to: string }) => [p.from, p.to]), [['2.0-1', '1.0-1']]);
    const text = (await tx(['diff', `a@${s1}`, 'a@latest'])).stdout;
    assert.match(text, /upgraded {3}tool.noarch 1.0-1 -> 2.0-1\n.*Dev <dev@example.com> - 2.0-1\n {15}- 2.0-1 notes/);
  });

  test('the whole package sets: a build added beside an older one is an addition, not an upgrade', async () => {
    const tx = inStore(join(work, `store-${n++}`));
    await tx(['repo', 'create', 'w']);
    const s1 = JSON.parse((await tx(['deploy', 'w', sample('walrus-0.71-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const s2 = JSON.parse((await tx(['deploy', 'w', sample('walrus-5.21-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const diff = JSON.parse((await tx(['diff', `w@${s1}`, `w@${s2}`, '--json'])).stdout);
    assert.deepEqual([diff.added, diff.removed, diff.upgraded, diff.downgraded], [[{ name: 'walrus', arch: 'noarch', to: '5.21-1' }], [], [], []]);
    // Two builds of a name.arch for one: the newest pairs as the upgrade, the other goes.
    await tx(['repo', 'create', 'k', '--keep', '1']);
    const k1 = JSON.parse((await tx(['deploy', 'w', sample('duck-0.6-1.noarch.rpm'), sample('duck-0.7-1.noarch.rpm'), '--json'])).stdout).snapshot;
    await tx(['tag', 'w', 'two-ducks', k1]);
    const k2 = JSON.parse((await tx(['deploy', 'k', sample('duck-0.8-1.noarch.rpm'), '--json'])).stdout).snapshot;
    const across = JSON.parse((await tx(['diff', 'w@two-ducks', `k@${k2}`, '--json'])).stdout);
    assert.deepEqual(across.upgraded.map((p: { from: string; to: string }) => [p.from, p.to]), [['0.7-1', '0.8-1']]);
    assert.deepEqual(across.removed.map((p: { name: string; from: string }) => `${p.name}-${p.from}`), ['duck-0.6-1', 'walrus-0.71-1', 'walrus-5.21-1']);
  });

  test('thousands of builds of one name.arch (a CI repo) are compared in one pass, not each with each', FIRST_PASS_ONLY, () => {
    // 20,000 builds on each side, 10,000 of them shared: comparing every build with
    // every other took minutes; the child is killed after 20 s.
    finishesWithin(20_000, `import { diffPackages } from ${srcUrl('snapshots/index.ts')};
      const build = (i) => ({ name: 'app', arch: 'x86_64', epoch: '0', version: '1.' + i, release: '1', changelogs: [] });
      const before = Array.from({ length: 20_000 }, (_, i) => build(i));
      const after = Array.from({ length: 20_000 }, (_, i) => build(i + 10_000)).reverse();
      const d = diffPackages(before, after);
      assert.deepEqual([d.added.length, d.removed.length, d.upgraded.length, d.downgraded.length], [0, 0, 10_000, 0]);
      assert.deepEqual([d.upgraded[0].from, d.upgraded[0].to], ['1.0-1', '1.20000-1']);
      // 1.00 is 1.0 as rpm compares them: the same EVR on both sides, no change.
      assert.deepEqual(diffPackages([build('0')], [{ ...build('00') }]), { added: [], removed: [], upgraded: [], downgraded: [] });`);
  });

  test('metadata-only changes: updateinfo, comps and modules added, changed or removed, with no package change', async () => {
    const tx = inStore(join(work, `store-${n++}`));
    const up = join(work, `upstream-${n++}`);
    await mkdir(up);
    for (const f of ['bear-4.1-1.noarch.rpm', 'duck-0.7-1.noarch.rpm']) await copyFile(sample(f), join(up, f));
    await mustRun('createrepo_c', ['--no-database', '--quiet', up]);
    await tx(['repo', 'create', 'm', '--upstream', up]);
    const s1 = JSON.parse((await tx(['sync', 'm', '--json'])).stdout).snapshot;
    await mustRun('modifyrepo_c', ['--mdtype=updateinfo', sample('updateinfo.xml'), join(up, 'repodata')]);
    await mustRun('modifyrepo_c', ['--mdtype=group', sample('comps.xml'), join(up, 'repodata')]);
    const s2 = JSON.parse((await tx(['sync', 'm', '--json'])).stdout).snapshot;
    assert.notEqual(s2, s1, 'a metadata change alone makes a snapshot');
    const diff = JSON.parse((await tx(['diff', `m@${s1}`, `m@${s2}`, '--json'])).stdout);
    assert.deepEqual([diff.added, diff.removed, diff.upgraded, diff.downgraded], [[], [], [], []]);
    assert.deepEqual(diff.metadata.map((c: { type: string; from?: string; to?: string }) => [c.type, c.from !== undefined, c.to !== undefined]), [['group', false, true], ['updateinfo', false, true]]);
    const text = (await tx(['diff', `m@${s1}`, `m@${s2}`])).stdout;
    assert.match(text, /metadata {3}group added\n {2}metadata {3}updateinfo added/);
    const back = JSON.parse((await tx(['diff', `m@${s2}`, `m@${s1}`, '--json'])).stdout);
    assert.deepEqual(back.metadata.map((c: { type: string; to?: string }) => [c.type, c.to]), [['group', undefined], ['updateinfo', undefined]]);
    assert.match((await tx(['diff', `m@${s1}`, `m@${s1}`])).stdout, /no changes: the same packages and metadata/);
  });
});

describe('fsck', () => {
  test('a sound store passes; a missing, truncated or corrupted blob is reported', LOCAL_ONLY, async () => {
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'el9']);
    await tx(['deploy', 'el9', SAMPLES]);
    await tx(['fsck', '--verify-blobs']);
    const files = JSON.parse((await tx(['show', 'el9', '--files', '--json'])).stdout).files as { href: string; sha256: string }[];
    const bear = files.find((f) => f.href.endsWith('bear-4.1-1.noarch.rpm'))!;
    const blob = join(store, 'blobs/sha256', bear.sha256.slice(0, 2), bear.sha256);
    await chmod(blob, 0o644);
    await writeFile(blob, 'corrupted');
    let r = await tx(['fsck'], 1);
    const size = (await stat(sample('bear-4.1-1.noarch.rpm'))).size;
    assert.ok(r.stdout.includes(`Packages/b/bear-4.1-1.noarch.rpm: blob ${bear.sha256} has 9 bytes, the catalog says ${size}`), r.stdout);
    r = await tx(['fsck', '--verify-blobs'], 1);
    assert.match(r.stdout, /does not hash to its name \(corrupted\)/);
    const { rm } = await import('node:fs/promises');
    await rm(blob);
    r = await tx(['fsck'], 1);
    assert.match(r.stdout, /bear-4.1-1.noarch.rpm: blob [0-9a-f]+ is missing/);
  });
});

describe('crashes', () => {
  test('deploy killed with SIGKILL at random instants: fsck stays clean, the retry succeeds', async () => {
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'el9']);
    const rpms = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm'));
    // A first deploy of three new packages counts the steps of its commit protocol; each
    // trial deploys three others and is killed after a random one of the first half.
    const trace = join(work, `trace-${n++}`);
    const steps = (await protocolSteps(['deploy', 'el9', ...rpms.slice(-3).map((f) => join(SAMPLES, f)), '--store', store], trace, storeEnv(store))).length;
    assert.ok(steps > 10, `a deploy takes ${steps} protocol steps`);
    for (let trial = 0; trial < 10; trial++) {
      const batch = rpms.slice((trial * 3) % rpms.length, ((trial * 3) % rpms.length) + 3).map((f) => join(SAMPLES, f));
      const step = 1 + Math.floor(Math.random() * (steps / 2));
      const kill = await killAfterStep(['deploy', 'el9', ...batch, '--store', store], trace, step, { env: storeEnv(store) });
      assert.ok(kill.midProtocol, `trial ${trial}: the kill after step ${step} did not land inside the protocol (${kill.steps.length} steps)`);
      const check = await txrepo(['fsck', '--store', store]);
      assert.equal(check.code, 0, `fsck after kill ${trial}:\n${check.stdout}${check.stderr}`);
      // The retry of the same deploy succeeds and every package of it is in latest.
      await tx(['deploy', 'el9', ...batch]);
      const latest = JSON.parse((await tx(['show', 'el9', '--files', '--json'])).stdout);
      for (const f of batch) assert.ok(latest.files.some((x: { href: string }) => x.href.endsWith(f.slice(f.lastIndexOf('/') + 1))), `${f} in latest`);
    }
    await tx(['fsck', '--verify-blobs']);
  });
});
