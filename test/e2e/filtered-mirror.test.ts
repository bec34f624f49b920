// needs: dnf rpm rpmbuild root
// A filtered mirror, end to end: an upstream on loopback with x86_64, i686 and noarch
// builds, updateinfo, comps and modules; a repo with a mirror filter synced from it and
// served by the real `txrepo serve`; the real dnf sees only what the filter kept, and
// its updateinfo, groups and modules (carried as the upstream has them) still work.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildRpm } from '../helpers/build.ts';
import { describe as described, dnf, installedPackages, mustDnf } from '../helpers/dnf.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { copyTree, removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let work: string;
let upstream: StaticServer;
let server: Served | undefined;

before(async () => {
  work = await tempDir('txrepo-filtered-mirror-');
  const up = join(work, 'upstream');
  await copyTree(SAMPLES, up);
  for (const [version, arch] of [['1.0', 'x86_64'], ['1.1', 'x86_64'], ['1.1', 'i686']] as const) await buildRpm(join(up, 'pump'), { name: 'pump', version, release: '1', arch });
  assert.equal((await txrepo(['createrepo', '-q', '-g', join(up, 'comps.xml'), up])).code, 0);
  assert.equal((await txrepo(['modifyrepo', join(up, 'updateinfo.xml'), join(up, 'repodata')])).code, 0);
  upstream = await serveDirectory(up);
});
after(async () => {
  await server?.stop();
  await upstream?.close();
  await removeDir(work);
});

/** What dnf offers from a repo, as NAME-VERSION-RELEASE.ARCH, sorted. */
async function available(root: string, url: string): Promise<string[]> {
  const r = await mustDnf(root, { r: url }, ['repoquery', '--available', '--qf', '%{name}-%{version}-%{release}.%{arch}']);
  return r.stdout.split('\n').filter((l) => /^\S+-\S+-\S+\.\S+$/.test(l)).sort();
}

test('dnf sees only what the filter kept; updateinfo, groups and modules still work', async () => {
  const store = join(work, 'store');
  const tx = inStore(store);
  await tx(['repo', 'create', 'mirror', '--upstream', upstream.url, '--arch', 'x86_64', '--exclude', 'walrus*', '--newest', '1']);
  const synced = JSON.parse((await tx(['sync', 'mirror', '--json'])).stdout);
  // Left out: walrus x2 (exclude), pump i686 (arch), pump 1.0, duck 0.6 and 0.7, kangaroo 0.2 (newest 1).
  assert.deepEqual(synced.filtered, { leftOut: 7, advisoriesLeftOut: [], requiresLeftOut: [{ package: 'chimpanzee-0.21-1.noarch', requires: ['walrus'] }] }, 'ZOO-2024:0001 keeps penguin and shark');
  server = await serve(store);
  const mirror = `${server.url}/repos/mirror/tags/latest/`;

  // What dnf offers: the upstream's packages less those the filter left out.
  const root = await tempDir('txrepo-dnfroot-');
  try {
    const offered = await available(root, upstream.url);
    // (duck 0.7 and 0.8 are the duck module's: dnf offers them only with it enabled; 0.6 is not.)
    const leftOut = ['duck-0.6-1.noarch', 'walrus-0.71-1.noarch', 'walrus-5.21-1.noarch', 'pump-1.1-1.i686', 'pump-1.0-1.x86_64', 'kangaroo-0.2-1.noarch'];
    for (const p of leftOut) assert.ok(offered.includes(p), `the upstream offers ${p}: ${offered.join(' ')}`);
    const seen = await available(root, mirror);
    assert.deepEqual(seen, offered.filter((p) => !leftOut.includes(p)));
    assert.ok(seen.includes('pump-1.1-1.x86_64') && seen.includes('kangaroo-0.3-1.noarch'), seen.join(' '));

    // What the sync said dnf cannot install from the mirror alone, it cannot.
    const chimpanzee = await dnf(root, { mirror }, ['install', 'chimpanzee']);
    assert.notEqual(chimpanzee.code, 0);
    assert.match(chimpanzee.stderr, /nothing provides walrus needed by chimpanzee-0\.21-1\.noarch/, described(chimpanzee));

    // Install and read the advisories: ZOO-2024:0003 is about kangaroo 0.3.
    await mustDnf(root, { mirror }, ['install', 'kangaroo', 'pump']);
    assert.deepEqual((await installedPackages(root)).filter((p) => /^(kangaroo|pump)-/.test(p)), ['kangaroo-0.3-1.noarch', 'pump-1.1-1.x86_64']);
    const advisories = await mustDnf(root, { mirror }, ['updateinfo', 'list', '--all']);
    assert.match(advisories.stdout, /ZOO-2024:0003\s+enhancement\s+kangaroo-0\.3-1\.noarch/, described(advisories));

    // Modules: duck's stream lists duck 0.7 and 0.8; the mirror carries 0.8, which it installs.
    await mustDnf(root, { mirror }, ['module', 'enable', 'duck:0']);
    await mustDnf(root, { mirror }, ['install', 'duck']);
    assert.ok((await installedPackages(root)).includes('duck-0.8-1.noarch'));

    // Groups: a group whose packages are all kept installs; one that names a package the
    // filter left out installs the rest, dnf saying what it did not find.
    await mustDnf(root, { mirror }, ['group', 'install', 'savanna']);
    for (const p of ['lion', 'zebra', 'giraffe', 'cheetah']) assert.ok((await installedPackages(root)).some((x) => x.startsWith(`${p}-`)), p);
    const sea = await dnf(root, { mirror }, ['group', 'install', 'sea']);
    assert.equal(sea.code, 0, described(sea));
    assert.match(sea.stderr, /No match for group package "walrus"/);
    for (const p of ['dolphin', 'shark', 'whale']) assert.ok((await installedPackages(root)).some((x) => x.startsWith(`${p}-`)), p);
  } finally {
    await removeDir(root);
  }
});

test('--with-deps: the mirror holds what dnf needs to install the packages it takes, but what an exclude names', async () => {
  const store = join(work, 'store-deps');
  const tx = inStore(store);
  await tx(['repo', 'create', 'apes', '--upstream', upstream.url, '--include', 'chimpanzee', '--arch', 'x86_64', '--with-deps']);
  assert.match((await tx(['repo', 'show', 'apes'])).stdout, /include chimpanzee; arch x86_64 \(and noarch\); with what they need/);
  const synced = JSON.parse((await tx(['sync', 'apes', '--json'])).stdout);
  assert.deepEqual(synced.filtered.requiresLeftOut, []);
  assert.equal(synced.filtered.dependencies, 4);
  assert.match(JSON.parse((await tx(['show', 'apes', '--json'])).stdout).message, /the repo's filter left out \d+ packages.*; it took 4 as what the others need\)$/);
  const files = JSON.parse((await tx(['show', 'apes', '--files', '--json'])).stdout).files as { href: string; kind: string }[];
  // chimpanzee requires squirrel and walrus (the newest, as dnf picks), squirrel camel and fox.
  assert.deepEqual(files.filter((f) => f.kind === 'package').map((f) => f.href).sort(), ['camel-0.1-1.noarch.rpm', 'chimpanzee-0.21-1.noarch.rpm', 'fox-1.1-2.noarch.rpm', 'squirrel-0.1-1.noarch.rpm', 'walrus-5.21-1.noarch.rpm']);
  const served = await serve(store);
  const root = await tempDir('txrepo-dnfroot-');
  try {
    await mustDnf(root, { apes: `${served.url}/repos/apes/tags/latest/` }, ['install', 'chimpanzee']);
    assert.ok((await installedPackages(root)).includes('chimpanzee-0.21-1.noarch'));
  } finally {
    await served.stop();
    await removeDir(root);
  }
  // An exclude wins: the need is reported, as without --with-deps.
  await tx(['repo', 'update', 'apes', '--exclude', 'walrus*']);
  const excluded = JSON.parse((await tx(['sync', 'apes', '--mirror', '--json'])).stdout);
  assert.deepEqual(excluded.filtered.requiresLeftOut, [{ package: 'chimpanzee-0.21-1.noarch', requires: ['walrus'] }]);
  await tx(['repo', 'update', 'apes', '--no-with-deps', '--no-exclude']);
  assert.doesNotMatch((await tx(['repo', 'show', 'apes'])).stdout, /with what they need/);
});
