// needs: dnf rpm root
// Mirror indexes for pinned runs (issue 18, item 3): /sets/<set>/all_latest.json (the
// set's snapshots) and /repos/all_latest.json?tag=TAG (every repository's TAG), in
// exactly the shape of the CI mirror client's index, drive `txrepo inject --mirrors`;
// real dnf then installs from the injected config what the set or tag pins, not
// what latest has since.

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describe as describeRun, dnf, installedPackages } from '../helpers/dnf.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let dir: string;
let tx: ReturnType<typeof inStore>;
let served: Served;
let set: string;
let pinned: Record<string, string>;

const id = async (ref: string) => JSON.parse((await tx(['show', ref, '--json'])).stdout).id as string;

before(async () => {
  dir = await tempDir('txrepo-mirror-indexes-');
  tx = inStore(join(dir, 'store'));
  await tx(['repo', 'create', 'app', '--keep', '1']);
  await tx(['repo', 'create', 'tools']);
  await tx(['deploy', 'app', sample('kangaroo-0.2-1.noarch.rpm')]);
  await tx(['deploy', 'tools', sample('bear-4.1-1.noarch.rpm')]);
  await tx(['tag', 'app', 'latest.tested', 'latest']);
  set = JSON.parse((await tx(['set', 'create', 'app', 'tools', '--json'])).stdout).id;
  pinned = { app: await id('app@latest'), tools: await id('tools@latest') };
  // latest moves on: the set and the tested tag stay where they were.
  await tx(['deploy', 'app', sample('kangaroo-0.3-1.noarch.rpm')]);
  served = await serve(join(dir, 'store'));
});

after(async () => {
  await served?.stop();
  await removeDir(dir);
});

/** dnf with only the repos of `conf` (a reposdir of that one file): installs `pkg`. */
async function installWith(conf: string, name: string, pkg: string): Promise<string[]> {
  const reposdir = join(dir, `repos-${name}`);
  await mkdir(reposdir);
  await writeFile(join(reposdir, 'ci.repo'), await readFile(conf));
  const root = join(dir, `root-${name}`);
  const r = await dnf(root, {}, ['install', pkg], { setopt: { reposdir } });
  assert.equal(r.code, 0, describeRun(r));
  return installedPackages(root);
}

/** A CI job's config of `repos`, with a mirrorlist or an old baseurl the injection replaces. */
async function ciConfig(name: string, repos = ['app', 'tools']): Promise<string> {
  const conf = join(dir, `${name}.repo`);
  const sections: Record<string, string[]> = {
    app: ['[app]', 'name=app', 'mirrorlist=http://mirrors.example.org/?repo=app', 'gpgcheck=0', ''],
    tools: ['[tools]', 'name=tools', 'baseurl=http://old.example.org/tools/', 'gpgcheck=0', ''],
  };
  await writeFile(conf, repos.flatMap((r) => sections[r]).join('\n'));
  return conf;
}

describe('mirror indexes of a set and of a tag', () => {
  test("/sets/<set>/all_latest.json: the set's snapshots, in the mirror client's shape; inject and dnf use them", async () => {
    const r = await fetch(`${served.url}/sets/${set}/all_latest.json`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { latest_ci_repos: { app: `${served.url}/sets/${set}/app/`, tools: `${served.url}/sets/${set}/tools/` } });
    const conf = await ciConfig('set');
    const injected = await txrepo(['inject', conf, '--mirrors', `${served.url}/sets/${set}/all_latest.json`]);
    assert.equal(injected.code, 0, injected.stderr);
    assert.match(await readFile(conf, 'utf8'), new RegExp(`\\[app\\]\\nname=app\\nbaseurl=${served.url}/sets/${set}/app/\\nproxy=_none_\\ngpgcheck=0`));
    // The set pinned kangaroo 0.2; latest has 0.3 since.
    assert.deepEqual(await installWith(conf, 'set', 'kangaroo'), ['kangaroo-0.2-1.noarch']);
  });

  test('/repos/all_latest.json?tag=TAG: every repository that has TAG, at it', async () => {
    const r = await fetch(`${served.url}/repos/all_latest.json?tag=latest.tested`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { latest_ci_repos: { app: `${served.url}/repos/app/snapshots/${pinned.app}/` } }, 'tools has no latest.tested: left out');
    const latest = (await (await fetch(`${served.url}/repos/all_latest.json`)).json()) as { latest_ci_repos: Record<string, string> };
    assert.notEqual(latest.latest_ci_repos.app, `${served.url}/repos/app/snapshots/${pinned.app}/`, 'without ?tag: latest');
    const conf = await ciConfig('tag', ['app']);
    const injected = await txrepo(['inject', conf, '--mirrors', `${served.url}/repos/all_latest.json?tag=latest.tested`, '--json']);
    assert.deepEqual(JSON.parse(injected.stdout).map((x: { injected: string[] }) => x.injected), [['app']]);
    assert.deepEqual(await installWith(conf, 'tag', 'kangaroo'), ['kangaroo-0.2-1.noarch']);
  });

  test('a tag no repository has gives an empty index; a bad tag, an unknown set: 404; a set gc emptied: 410', async () => {
    assert.deepEqual(await (await fetch(`${served.url}/repos/all_latest.json?tag=nowhere`)).json(), { latest_ci_repos: {} });
    assert.equal((await fetch(`${served.url}/repos/all_latest.json?tag=${encodeURIComponent('../x')}`)).status, 404);
    assert.equal((await fetch(`${served.url}/sets/00000000-000000-0000/all_latest.json`)).status, 404);
    const short = JSON.parse((await tx(['set', 'create', 'app@latest', '--json'])).stdout).id as string;
    await tx(['deploy', 'app', sample('walrus-5.21-1.noarch.rpm')]);
    await tx(['set', 'release', short]);
    await tx(['repo', 'update', 'app', '--retain-last', '1']);
    await tx(['gc', '--grace', '0s']);
    const gone = await fetch(`${served.url}/sets/${short}/all_latest.json`);
    assert.equal(gone.status, 410);
    assert.match(((await gone.json()) as { error: { message: string } }).error.message, /gc has removed app@/);
  });
});
