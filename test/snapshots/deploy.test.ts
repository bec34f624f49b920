// needs: dnf rpmbuild createrepo_c root
// Repositories, deploy, snapshots, tags and export through the CLI, on a real store.

import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mustDnf, installedPackages } from '../helpers/dnf.ts';
import { serveDirectory } from '../helpers/http.ts';
import { copyTree, mdcompare, metadataText, removeDir, tempDir } from '../helpers/repo.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { inStore, mustRun, txrepo } from '../helpers/run.ts';
import { sample, SAMPLES } from '../helpers/samples.ts';

const rpm = sample;

let work: string;
let n = 0;
before(async () => {
  work = await tempDir('txrepo-deploy-');
});
after(() => removeDir(work));

async function freshStore() {
  const store = join(work, `store-${n++}`);
  const tx = inStore(store);
  await tx(['repo', 'create', 'el9']);
  return { store, tx };
}

/**
 * Exports REF and checks its repodata against createrepo_c's of the same tree (the
 * reference, not txrepo's own createrepo): mdcompare, and the uncompressed text of
 * primary, filelists and other.
 */
async function assertSameAsCreaterepo(tx: ReturnType<typeof inStore>, ref: string) {
  const exported = join(work, `export-${n++}`);
  await tx(['export', ref, exported]);
  const plain = join(work, `plain-${n++}`);
  await copyTree(exported, plain);
  await removeDir(join(plain, 'repodata'));
  await mustRun('createrepo_c', ['--quiet', '--no-database', plain]);
  const cmp = await mdcompare(exported, plain);
  assert.ok(cmp.same, cmp.output);
  for (const type of ['primary', 'filelists', 'other']) assert.equal(await metadataText(exported, type), await metadataText(plain, type), type);
}

describe('deploy and snapshots', () => {
  test('each deploy is a snapshot on top of the last; redeploying is a no-op', async () => {
    const { tx } = await freshStore();
    const first = JSON.parse((await tx(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm'), rpm('duck-0.6-1.noarch.rpm'), '--json', '-m', 'build 1'])).stdout);
    assert.equal(first.packages, 2);
    assert.equal(first.unchanged, false);
    assert.match(first.path, /^\/repos\/el9\/snapshots\/\d{8}-\d{6}-\d{4}\/$/);
    const second = JSON.parse((await tx(['deploy', 'el9', SAMPLES, '--json'])).stdout);
    assert.equal(second.packages, 35);
    assert.equal(JSON.parse((await tx(['show', `el9@${second.snapshot}`, '--json'])).stdout).parent, first.snapshot);
    assert.equal(second.added.length, 33);
    const again = JSON.parse((await tx(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm'), '--json'])).stdout);
    assert.equal(again.unchanged, true);
    assert.equal(again.snapshot, second.snapshot);
    const list = JSON.parse((await tx(['snapshots', 'el9', '--json'])).stdout);
    assert.deepEqual(list.map((s: { id: string }) => s.id), [first.snapshot, second.snapshot]);
    assert.deepEqual(list[0].message, 'build 1');
  });

  test("a snapshot's repodata equals what createrepo_c writes for the same packages", async () => {
    const { tx } = await freshStore();
    await tx(['deploy', 'el9', SAMPLES]);
    await assertSameAsCreaterepo(tx, 'el9@latest');
  });

  test('small deploys into a repo of many pages still equal createrepo_c of the whole', async () => {
    // ~800 packages (the fixtures under 24 names) make about 25 pages, enough for the
    // renderer thread (RENDER_THREAD_FROM in src/snapshots/repodata.ts); the small
    // deploys after it touch only the pages they fall in, and reuse the others' cache.
    const { tx } = await freshStore();
    const assets = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm') && !f.endsWith('.src.rpm'));
    const batch = async (prefixes: string[], take: number) => {
      const dir = join(work, `batch-${n++}`);
      await mkdir(dir);
      for (const p of prefixes) for (const f of assets.slice(0, take)) await copyFile(join(SAMPLES, f), join(dir, `${p}${f}`));
      return dir;
    };
    const first = ['', 'a-', 'c-', 'd-', 'e-', 'f-', 'g-', 'h-', 'i-', 'j-', 'k-', 'm-', 'n-', 'o-', 'p-', 'q-', 'r-', 's-', 't-', 'u-', 'v-', 'w-', 'x-', 'zz-'];
    await tx(['deploy', 'el9', await batch(first, assets.length)]);
    for (const prefixes of [['b-'], ['l-', 'y-'], ['0-']]) await tx(['deploy', 'el9', await batch(prefixes, 3)]);
    const show = JSON.parse((await tx(['show', 'el9', '--json'])).stdout);
    assert.equal(show.packages, assets.length * first.length + 12);
    await assertSameAsCreaterepo(tx, 'el9@latest');
    const fsck = await tx(['fsck', '--json']);
    assert.deepEqual(JSON.parse(fsck.stdout).problems, []);
  });

  test('the --keep policy keeps the newest builds per name.arch', async () => {
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'keep1', '--keep', '1']);
    await tx(['deploy', 'keep1', rpm('duck-0.6-1.noarch.rpm'), rpm('walrus-0.71-1.noarch.rpm')]);
    const r = JSON.parse((await tx(['deploy', 'keep1', rpm('duck-0.8-1.noarch.rpm'), rpm('duck-0.7-1.noarch.rpm'), '--json'])).stdout);
    // 0.7 came and went in one deploy: never in the list, neither added nor removed.
    assert.deepEqual(r.added, ['Packages/d/duck-0.8-1.noarch.rpm']);
    assert.deepEqual(r.removed, ['Packages/d/duck-0.6-1.noarch.rpm']);
    assert.deepEqual(r.notKept, ['Packages/d/duck-0.7-1.noarch.rpm']);
    const show = JSON.parse((await tx(['show', 'keep1', '--files', '--json'])).stdout);
    assert.deepEqual(show.files.filter((f: { kind: string }) => f.kind === 'package').map((f: { href: string }) => f.href), ['Packages/d/duck-0.8-1.noarch.rpm', 'Packages/w/walrus-0.71-1.noarch.rpm']);
  });

  test('--keep: deploying only an older build than the one kept makes no snapshot, however often', async () => {
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'k', '--keep', '1']);
    await tx(['deploy', 'k', rpm('walrus-5.21-1.noarch.rpm')]);
    const before = (await tx(['snapshots', 'k', '--json'])).stdout;
    for (let i = 0; i < 2; i++) {
      const r = JSON.parse((await tx(['deploy', 'k', rpm('walrus-0.71-1.noarch.rpm'), '--json'])).stdout);
      assert.equal(r.unchanged, true);
      assert.deepEqual([r.added, r.removed, r.notKept], [[], [], ['Packages/w/walrus-0.71-1.noarch.rpm']]);
      assert.equal((await tx(['snapshots', 'k', '--json'])).stdout, before, 'no snapshot made, latest stays');
    }
    assert.match((await tx(['deploy', 'k', rpm('walrus-0.71-1.noarch.rpm')])).stdout, /nothing new: latest stays; not kept, older than the builds the repo keeps: walrus-0\.71-1\.noarch\.rpm/);
  });

  test('bad input commits nothing', async () => {
    const { tx } = await freshStore();
    await tx(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm')]);
    const before = (await tx(['snapshots', 'el9', '--json'])).stdout;
    const broken = join(work, `broken-${n++}`);
    await mkdir(broken);
    await copyFile(rpm('cat-1.0-1.noarch.rpm'), join(broken, 'cat-1.0-1.noarch.rpm'));
    await writeFile(join(broken, 'junk.rpm'), 'not a package');
    let r = await tx(['deploy', 'el9', broken], 1);
    assert.match(r.stderr, /junk.rpm: not a valid RPM package/);
    // Same file name, different content: a rebuild without a new release.
    const impostor = join(work, `impostor-${n++}`);
    await mkdir(impostor);
    await copyFile(rpm('cat-1.0-1.noarch.rpm'), join(impostor, 'bear-4.1-1.noarch.rpm'));
    r = await tx(['deploy', 'el9', join(impostor, 'bear-4.1-1.noarch.rpm')], 1);
    assert.match(r.stderr, /bear-4.1-1.noarch.rpm is already in el9 with different content .*a rebuild needs a new release number/);
    r = await tx(['deploy', 'nope', rpm('bear-4.1-1.noarch.rpm')], 1);
    assert.match(r.stderr, /no repository nope; create it with 'txrepo repo create nope'/);
    r = await tx(['deploy', 'el9', join(work, 'missing.rpm')], 1);
    assert.match(r.stderr, /missing.rpm: no such file or directory/);
    assert.equal((await tx(['snapshots', 'el9', '--json'])).stdout, before);
    for (const bad of ['../x', 'a/b', '.hidden', '..', 'x'.repeat(200)]) {
      r = await tx(['repo', 'create', bad], 1);
      assert.match(r.stderr, /repository name .* is not allowed/);
    }
  });

  test('a damaged package (one flipped bit, still well-formed) is refused, nothing committed', async () => {
    const { tx } = await freshStore();
    await tx(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm')]);
    const before = (await tx(['snapshots', 'el9', '--json'])).stdout;
    const damaged = join(work, `damaged-${n++}`);
    await mkdir(damaged);
    await copyFile(rpm('cat-1.0-1.noarch.rpm'), join(damaged, 'cat-1.0-1.noarch.rpm'));
    const duck = join(damaged, 'duck-0.6-1.noarch.rpm');
    const bytes = await readFile(rpm('duck-0.6-1.noarch.rpm'));
    bytes[bytes.length - 100] ^= 0x04;
    await writeFile(duck, bytes);
    const message = `${duck}: the payload's SHA256 digest does not match (the file is damaged); rebuild or re-download it\n`;
    let r = await tx(['deploy', 'el9', damaged], 1);
    assert.ok(r.stderr.endsWith(message), r.stderr);
    r = await tx(['deploy', 'el9', duck], 1);
    assert.ok(r.stderr.endsWith(message), r.stderr);
    // A new-format package: a bit of its main header (the summary's second letter).
    const complex = join(damaged, 'txfix-complex-2.3.4-5.el8.x86_64.rpm');
    const b = await readFile(await complexRpm());
    const summary = b.indexOf('Fixture with many features of package metadata at once');
    assert.ok(summary > 0);
    b[summary + 1] ^= 0x01;
    await writeFile(complex, b);
    r = await tx(['deploy', 'el9', complex], 1);
    assert.ok(r.stderr.endsWith(`${complex}: the header's SHA256 digest does not match (the file is damaged); rebuild or re-download it\n`), r.stderr);
    assert.equal((await tx(['snapshots', 'el9', '--json'])).stdout, before);
    await tx(['fsck']);
  });
});

describe('tags', () => {
  test('compare-and-swap, history and tag@TIME', async () => {
    const { tx } = await freshStore();
    const s1 = JSON.parse((await tx(['deploy', 'el9', rpm('bear-4.1-1.noarch.rpm'), '--json'])).stdout).snapshot;
    await tx(['tag', 'el9', 'tested', 'latest', '--expect', 'none', '-m', 'run 1 passed']);
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const s2 = JSON.parse((await tx(['deploy', 'el9', rpm('cat-1.0-1.noarch.rpm'), '--json'])).stdout).snapshot;
    let r = await tx(['tag', 'el9', 'tested', s2, '--expect', 'none'], 1);
    assert.match(r.stderr, /tag tested of el9 points at .*, not \(nothing\)/);
    await tx(['tag', 'el9', 'tested', s2, '--expect', s1, '-m', 'run 2 passed']);
    const history = JSON.parse((await tx(['tags', 'el9', '--history', '--tag', 'tested', '--json'])).stdout);
    assert.deepEqual(history.map((h: { from?: string; to: string; reason: string }) => [h.from, h.to, h.reason]), [[undefined, s1, 'run 1 passed'], [s1, s2, 'run 2 passed']]);
    const old = JSON.parse((await tx(['show', `el9@tested@${between}`, '--json'])).stdout);
    assert.equal(old.id, s1);
    r = await tx(['show', 'el9@nosuchtag'], 1);
    assert.match(r.stderr, /el9 has no tag nosuchtag/);
    r = await tx(['show', 'el9@tested@yesterday-ish'], 1);
    assert.match(r.stderr, /is not a time/);
  });
});

describe('concurrency', () => {
  test('parallel deploys into one repo: every package lands, each deploy is its own snapshot', async () => {
    const { tx } = await freshStore();
    // 16 deploys: on 2 busy cores 8 could all finish within one read's time.
    const names = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).slice(0, 16);
    // Readers run while the writers commit: never refused (tx checks the exit status),
    // and not held up until the writers are done: reads complete while deploys still run.
    let writing = true;
    const readsDone: number[] = [];
    const reader = (async () => {
      while (writing) {
        const r = await tx(['snapshots', 'el9', '--json']);
        assert.ok(Array.isArray(JSON.parse(r.stdout)));
        readsDone.push(performance.now());
      }
    })();
    const deploysDone: number[] = [];
    const results = await Promise.all(names.map((f) => tx(['deploy', 'el9', rpm(f), '--json']).then((r) => (deploysDone.push(performance.now()), r)))).finally(() => (writing = false));
    await reader;
    const lastDeploy = Math.max(...deploysDone);
    assert.ok(readsDone.filter((t) => t < lastDeploy).length >= 2, `reads completed while deploys ran: ${readsDone.filter((t) => t < lastDeploy).length}`);
    const ids = results.map((r) => JSON.parse(r.stdout).snapshot);
    assert.equal(new Set(ids).size, names.length, 'every deploy made its own snapshot');
    const latest = JSON.parse((await tx(['show', 'el9', '--files', '--json'])).stdout);
    assert.equal(latest.packages, names.length, 'no deploy was lost');
    const history = JSON.parse((await tx(['tags', 'el9', '--history', '--json'])).stdout);
    assert.equal(history.length, names.length);
    // Each snapshot builds on the previous one: the parents form one chain.
    const snaps = JSON.parse((await tx(['snapshots', 'el9', '--json'])).stdout);
    for (let i = 1; i < snaps.length; i++) assert.equal(snaps[i].parent, snaps[i - 1].id);
  });
});

describe('real clients', () => {
  test('dnf installs from an exported snapshot served on loopback', async () => {
    const { tx } = await freshStore();
    await tx(['deploy', 'el9', SAMPLES]);
    const exported = join(work, `serve-${n++}`);
    await tx(['export', 'el9@latest', exported]);
    const server = await serveDirectory(exported);
    const root = await tempDir('txrepo-dnfroot-');
    try {
      await mustDnf(root, { el9: server.url }, ['install', 'walrus-0.71']);
      const installed = await installedPackages(root);
      for (const name of ['walrus', 'whale', 'shark', 'stork']) assert.ok(installed.some((p) => p.startsWith(`${name}-`)), `${name} installed: ${installed}`);
    } finally {
      await server.close();
      await removeDir(root);
    }
  });
});
