// needs: rpm rpmbuild
// Mirror filters in txrepo sync (docs/sync.md, "Mirror filters"), against an upstream
// on loopback: what the filter leaves out is never downloaded, the result and the
// snapshot's message say what it left out (and the advisories it emptied), a changed
// filter applies at the next sync (--mirror drops what it now leaves out), bad values
// are refused with nothing written, on the CLI, the API and from the catalog.

import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { buildRpm } from '../helpers/build.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { copyTree, removeDir, repomdRecords, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { openTestStore } from '../helpers/backends.ts';
import { SAMPLES } from '../helpers/samples.ts';
import { FETCH_LOOPBACK, initStore, serve } from '../helpers/serve.ts';

let work: string;
let up: string;
let upstream: StaticServer;
let n = 0;

/** The pump builds beside the zoo's 35 noarch packages: arches, an older build, a source package. */
const PUMPS = [
  { version: '1.0', arch: 'x86_64' },
  { version: '1.1', arch: 'x86_64' },
  { version: '1.1', arch: 'i686' },
  { version: '1.1', arch: 'aarch64' },
  { version: '1.1', arch: 'src' },
];

before(async () => {
  work = await tempDir('txrepo-filters-');
  up = join(work, 'upstream');
  await copyTree(SAMPLES, up);
  for (const p of PUMPS) await buildRpm(join(up, 'pump'), { name: 'pump', version: p.version, release: '1', arch: p.arch });
  assert.equal((await txrepo(['createrepo', '-q', '-g', join(up, 'comps.xml'), up])).code, 0);
  assert.equal((await txrepo(['modifyrepo', join(up, 'updateinfo.xml'), join(up, 'repodata')])).code, 0);
  upstream = await serveDirectory(up);
});
after(async () => {
  await upstream?.close();
  await removeDir(work);
});

const store = () => inStore(join(work, `store-${n++}`));
const json = async (r: Promise<{ stdout: string }>) => JSON.parse((await r).stdout);

/** The NAME-VERSION-RELEASE.ARCH of every package in a repo's latest snapshot. */
async function packagesOf(tx: ReturnType<typeof inStore>, repo: string): Promise<string[]> {
  const dir = join(work, `exported-${n++}`);
  await tx(['export', repo, dir]);
  const primary = (await repomdRecords(dir)).find((r) => r.type === 'primary')!;
  const xml = zlib.gunzipSync(await readFile(join(dir, primary.href))).toString();
  return [...xml.matchAll(/<name>([^<]+)<\/name>\s*<arch>([^<]+)<\/arch>\s*<version epoch="\d+" ver="([^"]+)" rel="([^"]+)"/g)].map((m) => `${m[1]}-${m[3]}-${m[4]}.${m[2]}`).sort();
}

/** The package files the upstream server was asked for since `from`. */
const fetchedRpms = (from: number) => upstream.requests.slice(from).filter((p) => p.endsWith('.rpm'));

describe('sync with a mirror filter', () => {
  test('takes only what the filter lets through, downloads nothing else, and says what it left out', async () => {
    const tx = store();
    await tx(['repo', 'create', 'm', '--upstream', upstream.url, '--arch', 'x86_64', '--exclude', 'walrus*', '--exclude', 'penguin', '--exclude', 'shark.noarch', '--newest', '1']);
    const asked = upstream.requests.length;
    const r = await json(tx(['sync', 'm', '--json']));
    // 40 upstream packages: the i686, aarch64 and src pumps (arch), walrus x2, penguin,
    // shark (exclude), pump 1.0, duck 0.6 and 0.7, kangaroo 0.2 (newest 1) left out.
    assert.equal(r.packages, 29);
    assert.equal(r.downloaded, 29);
    assert.equal(r.filtered.leftOut, 11);
    assert.deepEqual(r.filtered.advisoriesLeftOut, ['ZOO-2024:0001'], 'ZOO-2024:0001 is walrus, penguin and shark; the others keep their packages');
    // What the kept packages need that the filter left out (rpm -qp --requires says so).
    assert.deepEqual(r.filtered.requiresLeftOut, [
      { package: 'chimpanzee-0.21-1.noarch', requires: ['walrus'] },
      { package: 'horse-0.22-2.noarch', requires: ['penguin'] },
      { package: 'whale-0.2-1.noarch', requires: ['shark'] },
    ]);
    const fetched = fetchedRpms(asked);
    assert.equal(fetched.length, 29);
    for (const gone of ['walrus', 'penguin', 'shark', 'pump-1.0-1', 'pump-1.1-1.i686', 'pump-1.1-1.aarch64', 'pump-1.1-1.src', 'duck-0.6', 'duck-0.7', 'kangaroo-0.2']) {
      assert.ok(!fetched.some((p) => p.includes(gone)), `${gone} was downloaded: ${fetched.join(' ')}`);
    }
    const kept = await packagesOf(tx, 'm');
    assert.equal(kept.length, 29);
    assert.ok(kept.includes('pump-1.1-1.x86_64') && kept.includes('duck-0.8-1.noarch') && kept.includes('kangaroo-0.3-1.noarch') && kept.includes('bear-4.1-1.noarch'), kept.join(' '));
    assert.ok(!kept.some((p) => /^(walrus|penguin|shark)-|pump-1\.0|\.i686$|\.src$|duck-0\.[67]/.test(p)), kept.join(' '));

    // The snapshot's message says it; the upstream's updateinfo and comps are carried as they are.
    const [snapshot] = await json(tx(['snapshots', 'm', '--json']));
    assert.match(snapshot.message, /^sync from .* \(the repo's filter left out 11 packages, and every package of 1 advisory \(ZOO-2024:0001\); 3 kept packages require what only those provide\)$/);
    const exported = join(work, `exported-${n++}`);
    await tx(['export', 'm', exported]);
    const href = async (root: string, type: string) => join(root, (await repomdRecords(root)).find((x) => x.type === type)!.href);
    for (const type of ['updateinfo', 'group']) assert.deepEqual(await readFile(await href(exported, type)), await readFile(await href(up, type)), type);

    // Nothing new upstream: no snapshot, and the text still says what the filter left out.
    const again = await tx(['sync', 'm']);
    assert.match(again.stdout, /upstream unchanged: no new snapshot; the filter left out 11 packages and every package of advisories ZOO-2024:0001/);
    assert.equal((await json(tx(['snapshots', 'm', '--json']))).length, 1);
  });

  test('a changed filter applies at the next sync: added without --mirror, exactly the filtered upstream with it', async () => {
    const tx = store();
    await tx(['repo', 'create', 'm', '--upstream', upstream.url, '--include', 'duck', '--include', 'pump', '--newest', '1']);
    assert.deepEqual((await json(tx(['sync', 'm', '--json']))).filtered, { leftOut: 35, advisoriesLeftOut: ['ZOO-2024:0001', 'ZOO-2024:0003'], requiresLeftOut: [] });
    assert.deepEqual(await packagesOf(tx, 'm'), ['duck-0.8-1.noarch', 'pump-1.1-1.aarch64', 'pump-1.1-1.i686', 'pump-1.1-1.src', 'pump-1.1-1.x86_64']);

    // update: an option replaces its setting, --no-* clears one; the rest stays.
    const updated = await json(tx(['repo', 'update', 'm', '--include', 'duck', '--no-newest', '--arch', 'noarch', '--json']));
    assert.deepEqual(updated.filter, { include: ['duck'], arches: ['noarch'] });
    assert.match((await tx(['repo', 'show', 'm'])).stdout, /filter {4}include duck; arch noarch$/m);
    const added = await json(tx(['sync', 'm', '--json']));
    assert.equal(added.downloaded, 2, 'duck 0.6 and 0.7');
    assert.deepEqual(added.filtered.requiresLeftOut, [{ package: 'duck-0.6-1.noarch', requires: ['cockateel', 'lion'] }]);
    assert.equal(added.packages, 7, 'without --mirror, the pumps stay');
    const mirrored = await json(tx(['sync', 'm', '--mirror', '--json']));
    assert.equal(mirrored.downloaded, 0);
    assert.deepEqual(await packagesOf(tx, 'm'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch', 'duck-0.8-1.noarch']);

    // --no-filter: every package again, and no `filtered` in the result.
    assert.equal((await json(tx(['repo', 'update', 'm', '--no-filter', '--json']))).filter, undefined);
    const all = await json(tx(['sync', 'm', '--mirror', '--json']));
    assert.equal(all.packages, 40);
    assert.equal(all.filtered, undefined);
    assert.doesNotMatch((await json(tx(['snapshots', 'm', '--json']))).at(-1).message, /filter/);
  });
});

describe('--newest holds for the repo, as retain_package_versions', () => {
  test('a sync without --mirror drops the builds beyond the newest N, and a lowered N takes effect at the next sync', async () => {
    // An older upstream: duck 0.6 and 0.7 only.
    const older = join(work, `older-${n++}`);
    await mkdir(older);
    for (const f of ['duck-0.6-1.noarch.rpm', 'duck-0.7-1.noarch.rpm']) await copyFile(join(SAMPLES, f), join(older, f));
    assert.equal((await txrepo(['createrepo', '-q', older])).code, 0);
    const tx = store();
    await tx(['repo', 'create', 'm', '--include', 'duck', '--newest', '2']);
    assert.equal((await json(tx(['sync', 'm', '--from', older, '--json']))).packages, 2);
    // The upstream moves on to duck 0.8: 0.6 goes, though this sync is no --mirror.
    const moved = await json(tx(['sync', 'm', '--from', upstream.url, '--json']));
    assert.deepEqual(await packagesOf(tx, 'm'), ['duck-0.7-1.noarch', 'duck-0.8-1.noarch']);
    assert.equal(moved.packages, 2);
    await tx(['repo', 'update', 'm', '--newest', '1']);
    const lowered = await json(tx(['sync', 'm', '--from', upstream.url, '--json']));
    assert.equal(lowered.unchanged, false, 'nothing new upstream, but the lowered N drops a build');
    assert.deepEqual(await packagesOf(tx, 'm'), ['duck-0.8-1.noarch']);
    // Going back to an older upstream brings no older build back.
    // (A snapshot all the same: that upstream has no updateinfo or comps.)
    assert.equal((await json(tx(['sync', 'm', '--from', older, '--json']))).packages, 1);
    assert.deepEqual(await packagesOf(tx, 'm'), ['duck-0.8-1.noarch']);
  });
});

describe('bad filter values: a clear error naming the value, nothing written', () => {
  test('on the command line', async () => {
    const tx = store();
    await tx(['repo', 'create', 'm', '--upstream', upstream.url, '--include', 'duck']);
    const refused: [string[], RegExp][] = [
      [['--include', 'duck pump'], /--include "duck pump": a glob has no spaces/],
      [['--include', 'duck,pump'], /one glob per --include/],
      [['--exclude', '[ab'], /--exclude "\[ab": the "\[" at 1 opens a set of characters that no "\]" closes/],
      [['--arch', 'x86 64'], /--arch "x86 64": an architecture is one word/],
      [['--newest', '0'], /--newest 0: give a number from 1/],
      [['--newest', 'two'], /--newest "two": give a whole number/],
      [['--include', 'a', '--no-include'], /give --no-include or --include, not both/],
      [['--no-filter', '--newest', '2'], /--no-filter clears the whole filter/],
    ];
    for (const [args, message] of refused) {
      const r = await txrepo(['repo', 'update', 'm', ...args, '--store', join(work, `store-${n - 1}`)]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    const created = await txrepo(['repo', 'create', 'other', '--arch', 'X86_64', '--store', join(work, `store-${n - 1}`)]);
    assert.notEqual(created.code, 0);
    assert.match(created.stderr, /--arch "X86_64": an architecture is one word of lower-case letters/);
    assert.match((await txrepo(['repo', 'show', 'other', '--store', join(work, `store-${n - 1}`)])).stderr, /no repository other/, 'no repo other was made');
    assert.deepEqual((await json(tx(['repo', 'show', 'm', '--json']))).filter, { include: ['duck'] });
  });

  test('through the API and a remote CLI: 400 naming the field, null clears, the sync reports', async () => {
    const dir = join(work, `store-${n++}`);
    await initStore(dir);
    const tx = inStore(dir);
    const token = (await tx(['token', 'create', 'admin', '--scope', 'admin'])).stdout.trim();
    const server = await serve(dir, FETCH_LOOPBACK);
    try {
      const call = (method: string, path: string, body: unknown) =>
        fetch(`${server.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const bad = [
        { filter: { newest: 0 } },
        { filter: { include: 'duck' } },
        { filter: { arches: ['x86 64'] } },
        { filter: { include: ['[z-a]'] } },
        { filter: { newst: 1 } },
      ];
      for (const body of bad) {
        const r = await call('POST', '/repos', { name: 'm', ...body });
        assert.equal(r.status, 400, JSON.stringify(body));
        const { error } = (await r.json()) as { error: { message: string } };
        assert.match(error.message, /newest|include|arch|newst/, JSON.stringify(body));
      }
      assert.equal((await tx(['repo', 'list', '--json'])).stdout.includes('"m"'), false, 'no repo made');
      const made = await call('POST', '/repos', { name: 'm', filter: { include: ['duck'], newest: 2 } });
      assert.equal(made.status, 201);
      assert.deepEqual(((await made.json()) as { filter: unknown }).filter, { include: ['duck'], newest: 2 });
      const changed = await call('PATCH', '/repos/m', { filter: { newest: null, exclude: ['duck-0.6'] } });
      assert.deepEqual(((await changed.json()) as { filter: unknown }).filter, { include: ['duck'], exclude: ['duck-0.6'] });
      const cleared = await call('PATCH', '/repos/m', { filter: null });
      assert.equal(((await cleared.json()) as { filter?: unknown }).filter, undefined);

      // The CLI through the server: the same checks, the same result.
      const remote = (args: string[]) => txrepo([...args, '--server', server.url, '--token', token]);
      const refused = await remote(['repo', 'update', 'm', '--exclude', 'a b']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /--exclude "a b": a glob has no spaces/);
      assert.equal((await remote(['repo', 'update', 'm', '--include', 'duck', '--newest', '1'])).code, 0);
      const synced = await remote(['sync', 'm', '--from', upstream.url, '--json']);
      assert.equal(synced.code, 0, synced.stderr);
      const result = JSON.parse(synced.stdout);
      assert.equal(result.packages, 1);
      assert.deepEqual(result.filtered, { leftOut: 39, advisoriesLeftOut: ['ZOO-2024:0001', 'ZOO-2024:0003'], requiresLeftOut: [] });
    } finally {
      await server.stop();
    }
  });

  test("a malformed updateinfo upstream stops a filtered sync (it is read to name the advisories), named, with nothing committed", async () => {
    const bad = join(work, `bad-updateinfo-${n++}`);
    await copyTree(up, bad);
    await writeFile(join(bad, 'updateinfo.xml'), '<updates><update><id>X</id></updates>');
    assert.equal((await txrepo(['modifyrepo', join(bad, 'updateinfo.xml'), join(bad, 'repodata')])).code, 0);
    const tx = store();
    await tx(['repo', 'create', 'm', '--include', 'duck']);
    const r = await txrepo(['sync', 'm', '--from', bad, '--json', '--store', join(work, `store-${n - 1}`)]);
    assert.notEqual(r.code, 0);
    assert.equal(JSON.parse(r.stdout || r.stderr).error.type, 'bad_metadata');
    assert.match(JSON.parse(r.stdout || r.stderr).error.message, /updateinfo\.xml.*malformed XML/);
    assert.deepEqual(await json(tx(['snapshots', 'm', '--json'])), []);
  });

  test('from the catalog: a damaged stored filter stops the sync, named, with nothing committed', async () => {
    const dir = join(work, `store-${n++}`);
    const tx = inStore(dir);
    await tx(['repo', 'create', 'm', '--upstream', upstream.url]);
    // Written past the core's checks, as a damaged or hand-edited catalog would have it.
    for (const [filter, message] of [
      [{ newest: -1 }, /repository m's stored --newest -1: give a whole number.*; set it again with 'txrepo repo update m' \(or clear it with --no-filter\)/],
      [{ include: 'duck' }, /repository m's stored --include: give a list/],
      [{ arches: ['x86 64'] }, /repository m's stored --arch "x86 64"/],
    ] as const) {
      const s = await openTestStore(dir);
      try {
        await s.catalog.updateRepo('m', { filter: null });
        await s.catalog.updateRepo('m', { filter: filter as never });
      } finally {
        await s.close();
      }
      const asked = upstream.requests.length;
      const r = await txrepo(['sync', 'm', '--store', dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.equal(upstream.requests.length, asked, 'nothing fetched');
      assert.deepEqual(await json(tx(['snapshots', 'm', '--json'])), []);
    }
    // The repo still reads, and --no-filter mends it.
    assert.match((await tx(['repo', 'show', 'm'])).stdout, /filter {4}arch x86 64/);
    await tx(['repo', 'update', 'm', '--no-filter']);
    assert.equal((await json(tx(['sync', 'm', '--json']))).packages, 40);
  });
});
