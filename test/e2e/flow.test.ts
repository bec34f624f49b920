// needs: dnf rpmbuild root
// The user's whole CI flow with real rpmbuild, a real txrepo server and real dnf:
// two flows at once, each building packages, making the build job's mini repo,
// deploying through the server, pinning a set, injecting it into a reposync-style
// config and installing from it; then promotion, publication, and the guarantees
// outside consumers rely on (reproducible sets, metadata history, tag moves).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRpm } from '../helpers/build.ts';
import { dnfWithConfig, installedPackages, mustDnf } from '../helpers/dnf.ts';
import { serveDirectory } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { mustRun, txrepo } from '../helpers/run.ts';
import { FETCH_LOOPBACK, initStore, serve, type Served } from '../helpers/serve.ts';
import { ON_SHARED_BACKENDS, storeEnv } from '../helpers/backends.ts';

let dir: string;
let store: string;
let server: Served;
/** On PostgreSQL and S3, a second server on the same catalog and bucket: the second flow goes through it. */
let other: Served | undefined;
let token: string;

/** txrepo against a server (default: the first); fails the test unless it exits 0. */
async function remote(args: string[], via: Served = server): Promise<string> {
  return remoteVia(args, via);
}

async function remoteVia(args: string[], via: Served): Promise<string> {
  const r = await txrepo([...args, '--server', via.url, '--token', token]);
  assert.equal(r.code, 0, `txrepo ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function local(args: string[]): Promise<string> {
  const r = await txrepo([...args, '--store', store]);
  assert.equal(r.code, 0, `txrepo ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

const reposyncConf = (extra = '') => `[main]
reposdir=/etc/reposync.repos.d
max_connections=50

# the project's CI repository (txrepo)
[app]
name=app (CI)
mirrorlist=http://mirrors.example.invalid/?repo=app
gpgcheck=0
proxy=http://proxy.example.invalid:3128

# a third-party repository: must stay as it is
[centos-base-el7]
baseurl=http://mirror.centos.org/centos/7/os/x86_64/
includepkgs=gtk2 python2-pyasn1
exclude= *i686
${extra}`;

before(async () => {
  dir = await tempDir('txrepo-flow-');
  store = join(dir, 'store');
  await local(['repo', 'create', 'app']);
  token = (await local(['token', 'create', 'deployer', '--scope', 'admin'])).trim();
  server = await serve(store, FETCH_LOOPBACK);
  if (ON_SHARED_BACKENDS) {
    await initStore(join(dir, 'second-server'), { env: storeEnv(store) });
    other = await serve(join(dir, 'second-server'), FETCH_LOOPBACK, { env: storeEnv(store) });
  }
});
after(async () => {
  await server?.stop();
  await other?.stop();
  await removeDir(dir);
});

describe('the CI flow, end to end', () => {
  test('two flows in parallel: build, createrepo, deploy, set, inject, dnf install; then promote, publish, install from the published tree', async () => {
    const flow = async (i: number, viaUrl: boolean) => {
      const via = i === 2 && other ? other : server;
      const remote = (args: string[]) => remoteVia(args, via);
      const artifacts = join(dir, `artifacts-${i}`);
      const rpm = await buildRpm(artifacts, { name: `flow${i}-app`, version: '1.0', release: String(i) });
      await buildRpm(artifacts, { name: `flow${i}-lib`, version: '2.0', release: String(i) });
      // The build job's mini repo of its artifacts.
      assert.equal((await txrepo(['createrepo', '-q', artifacts])).code, 0);
      let deployed;
      if (viaUrl) {
        // The build job's exported artifacts, fetched (and verified) by the server.
        const web = await serveDirectory(artifacts);
        try {
          deployed = JSON.parse(await remote(['deploy', 'app', `${web.url}/`, '--json', '-m', `flow ${i}`]));
        } finally {
          await web.close();
        }
      } else {
        deployed = JSON.parse(await remote(['deploy', 'app', artifacts, '--json', '-m', `flow ${i}`]));
      }
      assert.deepEqual(deployed.added.sort(), [`Packages/f/flow${i}-app-1.0-${i}.noarch.rpm`, `Packages/f/flow${i}-lib-2.0-${i}.noarch.rpm`]);
      const set = JSON.parse(await remote(['set', 'create', `app@${deployed.snapshot}`, '--label', `flow-${i}`, '--json'])).id;
      const conf = join(dir, `reposync-${i}.conf`);
      await writeFile(conf, reposyncConf());
      await remote(['inject', conf, '--set', set]);
      const injected = await readFile(conf, 'utf8');
      assert.match(injected, new RegExp(`\\[app\\]\\nname=app \\(CI\\)\\nbaseurl=${via.url}/sets/${set}/app/\\nproxy=_none_\\ngpgcheck=0\\n`));
      assert.ok(injected.endsWith(reposyncConf().slice(reposyncConf().indexOf('# a third-party'))), 'third-party section kept');
      const root = join(dir, `root-${i}`);
      await dnfWithConfig(root, conf, ['app'], ['install', `flow${i}-app`, `flow${i}-lib`]);
      assert.deepEqual(await installedPackages(root), [`flow${i}-app-1.0-${i}.noarch`, `flow${i}-lib-2.0-${i}.noarch`]);
      return { set, snapshot: deployed.snapshot, rpm };
    };
    const [one, two] = await Promise.all([flow(1, false), flow(2, true)]);
    assert.notEqual(one.snapshot, two.snapshot);

    // Flow 1 passed: its set becomes latest.tested, atomically, recorded with the set.
    const moves = JSON.parse(await remote(['promote', one.set, '--tag', 'latest.tested', '--json']));
    assert.deepEqual(moves.map((m: { repo: string; to: string; set: string }) => [m.repo, m.to, m.set]), [['app', one.snapshot, one.set]]);
    const history = JSON.parse(await remote(['tags', 'app', '--history', '--tag', 'latest.tested', '--json']));
    assert.match(history.at(-1).reason, /promote set .* \(flow-1\)/);

    // Published from the server to a static tree, then installed from it.
    const pub = join(dir, 'public');
    const published = JSON.parse((await mustRun('bin/txrepo', ['publish', 'app@latest.tested', pub, '--from', server.url, '--json'], {})).stdout);
    assert.equal(published.snapshot, one.snapshot);
    const web = await serveDirectory(pub);
    try {
      const root = join(dir, 'root-public');
      await mustDnf(root, { public: `${web.url}/` }, ['install', 'flow1-app']);
      assert.deepEqual(await installedPackages(root), ['flow1-app-1.0-1.noarch']);
    } finally {
      await web.close();
    }
  });

  test("a set's manifest, replayed after later deploys and a gc, installs the very same package files", async () => {
    await local(['repo', 'create', 'repro', '--keep', '1', '--retain-last', '1']);
    const artifacts = join(dir, 'repro-1');
    await buildRpm(artifacts, { name: 'repro-tool', version: '1.0', release: '1' });
    const pinned = JSON.parse(await remote(['deploy', 'repro', artifacts, '--json'])).snapshot;
    const set = (await remote(['set', 'create', 'repro', '--label', 'run 42'])).trim();
    const manifest = JSON.parse(await remote(['set', 'show', set, '--json']));
    // Later builds replace the package (--keep 1) and gc runs with retention 1.
    for (const release of ['2', '3']) {
      const later = join(dir, `repro-${release}`);
      await buildRpm(later, { name: 'repro-tool', version: '1.0', release });
      await remote(['deploy', 'repro', later]);
    }
    // Past the grace window of the tag moves, only the set protects the first snapshot.
    await new Promise((r) => setTimeout(r, 1200));
    const gc = JSON.parse(await remote(['gc', '--json', '--grace', '1s']));
    assert.equal(gc.protectedBy.sets, 1, 'the live set kept its snapshot');
    assert.equal(gc.snapshots.length, 1, 'the unprotected middle snapshot went');
    assert.notEqual(gc.snapshots[0].id, pinned);
    assert.ok(gc.blobs >= 1, 'its package went with it');
    // The replay: the set's repo, from the manifest's paths.
    const m = manifest.repos[0];
    const root = join(dir, 'root-replay');
    const dest = join(dir, 'replay-downloads');
    await mustDnf(root, { replay: `${server.url}${m.path}` }, ['install', '--downloadonly', `--downloaddir=${dest}`, 'repro-tool']);
    const [file] = (await readdir(dest)).filter((f) => f.endsWith('.rpm'));
    assert.equal(file, 'repro-tool-1.0-1.noarch.rpm');
    assert.equal(await sha256(join(dest, file)), m.files.find((f: { href: string }) => f.href.endsWith(file)).sha256);
    // And the repo itself moved on: latest has only release 3.
    const latest = JSON.parse(await local(['show', 'repro', '--files', '--json']));
    assert.deepEqual(latest.files.filter((f: { kind: string }) => f.kind === 'package').map((f: { href: string }) => f.href), ['Packages/r/repro-tool-1.0-3.noarch.rpm']);
  });
});

describe('history for outside consumers', () => {
  test('a client whose metadata is several publishes old still installs from the published tree', async () => {
    await local(['repo', 'create', 'pub', '--keep', '1']);
    const pub = join(dir, 'pub-tree');
    await mkdir(pub);
    const web = await serveDirectory(pub, {});
    const root = join(dir, 'root-stale');
    const publishRelease = async (release: number) => {
      const a = join(dir, `pub-${release}`);
      await buildRpm(a, { name: 'pubtool', version: '1.0', release: String(release) });
      await local(['deploy', 'pub', a]);
      await local(['publish', 'pub@latest', pub, '--keep-md', '4']);
    };
    try {
      await publishRelease(1);
      // The client reads the metadata now, and keeps using it (never expires).
      await mustDnf(root, { pub: `${web.url}/` }, ['makecache'], { setopt: { metadata_expire: '-1' } });
      for (const release of [2, 3, 4]) await publishRelease(release);
      const stale = await mustDnf(root, { pub: `${web.url}/` }, ['install', 'pubtool'], { setopt: { metadata_expire: '-1' } });
      assert.match(stale.stdout, /pubtool.*1\.0-1/);
      assert.deepEqual(await installedPackages(root), ['pubtool-1.0-1.noarch']);
      // One more publish drops generation 1 (--keep-md 4): its package goes with it.
      await publishRelease(5);
      const files = await readdir(join(pub, 'Packages', 'p'));
      assert.deepEqual(files.sort(), ['pubtool-1.0-2.noarch.rpm', 'pubtool-1.0-3.noarch.rpm', 'pubtool-1.0-4.noarch.rpm', 'pubtool-1.0-5.noarch.rpm']);
      // Publishing the same snapshot again changes nothing.
      const again = JSON.parse(await local(['publish', 'pub@latest', pub, '--keep-md', '4', '--json']));
      assert.equal(again.changed, false);
      assert.equal(again.written + again.linked + again.removed, 0);
    } finally {
      await web.close();
    }
  });

  test('a client that read repomd.xml through a tag just before the tag moved still completes', async () => {
    await local(['repo', 'create', 'moving', '--keep', '1']);
    const a1 = join(dir, 'moving-1');
    await buildRpm(a1, { name: 'movetool', version: '1.0', release: '1' });
    const first = JSON.parse(await local(['deploy', 'moving', a1, '--json'])).snapshot;
    await local(['tag', 'moving', 'stable', first]);
    const root = join(dir, 'root-moving');
    const url = `${server.url}/repos/moving/tags/stable/`;
    await mustDnf(root, { moving: url }, ['makecache'], { setopt: { metadata_expire: '-1' } });
    // The tag moves to a snapshot without release 1 (keep 1): its files are only in
    // the snapshot the tag left.
    const a2 = join(dir, 'moving-2');
    await buildRpm(a2, { name: 'movetool', version: '1.0', release: '2' });
    const second = JSON.parse(await local(['deploy', 'moving', a2, '--json'])).snapshot;
    await local(['tag', 'moving', 'stable', second]);
    const r = await mustDnf(root, { moving: url }, ['install', 'movetool'], { setopt: { metadata_expire: '-1' } });
    assert.match(r.stdout, /movetool.*1\.0-1/);
    assert.deepEqual(await installedPackages(root), ['movetool-1.0-1.noarch']);
    // A fresh client sees the new snapshot.
    const fresh = join(dir, 'root-moving-fresh');
    await mustDnf(fresh, { moving: url }, ['install', 'movetool']);
    assert.deepEqual(await installedPackages(fresh), ['movetool-1.0-2.noarch']);
  });
});
