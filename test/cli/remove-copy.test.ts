// needs: rpm rpmsign gpg rpmbuild
// `txrepo remove` and `txrepo copy` through the CLI, on a real store of this pass's
// backends (and through a server): the snapshot each makes, its dry run, its audit
// row, and its refusals (unknown repository, a pattern naming nothing, a bad REF, a
// package the destination's signature policy does not take), after which the
// repository is as it was. Patterns and resolution themselves: test/snapshots/patterns-deps.test.ts.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testRpmPaths } from '../helpers/fixtures.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { SAMPLES, sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';
import { Gpg } from '../helpers/signing.ts';

let dir: string;
let n = 0;

before(async () => {
  dir = await tempDir('txrepo-remove-copy-');
});
after(() => removeDir(dir));

/** A store with the zoo deployed into `zoo`, and an empty `dst`. */
async function zooStore() {
  const tx = inStore(join(dir, `store-${n++}`));
  await tx(['repo', 'create', 'zoo']);
  await tx(['repo', 'create', 'dst']);
  const deployed = JSON.parse((await tx(['deploy', 'zoo', SAMPLES, '--json', '-q'])).stdout);
  return { tx, first: deployed.snapshot as string };
}

const json = async (tx: ReturnType<typeof inStore>, args: string[]) => JSON.parse((await tx([...args, '--json'])).stdout);
const files = async (tx: ReturnType<typeof inStore>, ref: string) =>
  (await json(tx, ['show', ref, '--files'])).files.filter((f: { kind: string }) => f.kind === 'package').map((f: { href: string }) => basename(f.href)).sort();
const latestOf = async (tx: ReturnType<typeof inStore>, repo: string) => (await json(tx, ['show', `${repo}@latest`])).id;
const fileNames = (hrefs: string[]) => hrefs.map((h) => basename(h)).sort();

describe('remove', () => {
  test('makes a snapshot without every build each pattern names; the snapshot before keeps them', async () => {
    const { tx, first } = await zooStore();
    const r = await json(tx, ['remove', 'zoo', 'duck', 'walrus-0.71-1.noarch', '-m', 'pull bad builds']);
    assert.deepEqual(fileNames(r.removed), ['duck-0.6-1.noarch.rpm', 'duck-0.7-1.noarch.rpm', 'duck-0.8-1.noarch.rpm', 'walrus-0.71-1.noarch.rpm']);
    assert.equal(r.unchanged, false);
    assert.equal(r.dryRun, false);
    assert.equal(r.packages, 31);
    const now = await files(tx, 'zoo@latest');
    assert.ok(!now.some((f: string) => f.startsWith('duck-') || f === 'walrus-0.71-1.noarch.rpm'), now.join(' '));
    assert.ok(now.includes('walrus-5.21-1.noarch.rpm'));
    assert.equal((await files(tx, `zoo@${first}`)).length, 35);
    const shown = await json(tx, ['show', 'zoo@latest']);
    assert.equal(shown.parent, first);
    assert.equal(shown.message, 'pull bad builds');
    const log = await json(tx, ['log', 'zoo']);
    assert.equal(log.at(-1).command, 'remove');
    assert.deepEqual(log.at(-1).args.patterns, ['duck', 'walrus-0.71-1.noarch']);
  });

  test('--dry-run lists what would go and changes nothing', async () => {
    const { tx, first } = await zooStore();
    const r = await json(tx, ['remove', 'zoo', 'kangaroo*', '--dry-run']);
    assert.deepEqual(fileNames(r.removed), ['kangaroo-0.2-1.noarch.rpm', 'kangaroo-0.3-1.noarch.rpm']);
    assert.equal(r.dryRun, true);
    assert.equal(r.snapshot, first);
    assert.equal(await latestOf(tx, 'zoo'), first);
    const text = (await tx(['remove', 'zoo', 'kangaroo-0.2-1', '--dry-run'])).stdout;
    assert.match(text, /would remove kangaroo-0\.2-1\.noarch\.rpm/);
    assert.equal((await json(tx, ['log', 'zoo'])).at(-1).command, 'deploy', 'a dry run leaves no audit row');
  });

  test('a pattern that names nothing fails the whole remove, naming it; the repo is as it was', async () => {
    const { tx, first } = await zooStore();
    const r = await tx(['remove', 'zoo', 'duck', 'duk', '--json'], 1);
    const error = JSON.parse(r.stdout).error;
    assert.equal(error.type, 'not_found');
    assert.match(error.message, /no package in zoo@latest \(\S+\) matches "duk"/);
    assert.equal(await latestOf(tx, 'zoo'), first);
  });

  test('an unknown repository, a repository with no snapshot, no pattern: refused', async () => {
    const { tx } = await zooStore();
    assert.match((await tx(['remove', 'nosuch', 'duck'], 1)).stderr, /no repository nosuch/);
    assert.match((await tx(['remove', 'dst', 'duck'], 1)).stderr, /dst has no tag latest \(nothing was deployed yet\)/);
    assert.match((await tx(['remove', 'zoo'], 2)).stderr, /at least one package pattern/);
  });
});

describe('copy', () => {
  test('copies the named packages from a snapshot, by REF, into the destination', async () => {
    const { tx, first } = await zooStore();
    await tx(['remove', 'zoo', 'bear']);
    const r = await json(tx, ['copy', `zoo@${first}`, 'dst', 'bear', 'cat.noarch']);
    assert.deepEqual(fileNames(r.added), ['bear-4.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']);
    assert.deepEqual(r.from, { repo: 'zoo', snapshot: first });
    assert.deepEqual(r.dependencies, []);
    assert.deepEqual(await files(tx, 'dst@latest'), ['bear-4.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']);
    assert.match((await json(tx, ['show', 'dst@latest'])).message, /^copy bear-4\.1-1\.noarch, cat-1\.0-1\.noarch from zoo@/);
    assert.equal((await json(tx, ['log', 'dst'])).at(-1).command, 'copy');
    // Again: nothing new, no snapshot.
    const again = await json(tx, ['copy', `zoo@${first}`, 'dst', 'bear']);
    assert.equal(again.unchanged, true);
    assert.equal(again.snapshot, r.snapshot);
  });

  test('--with-deps brings what the packages need, transitively, and skips what the destination has', async () => {
    const { tx } = await zooStore();
    await tx(['copy', 'zoo', 'dst', 'bear']);
    const r = await json(tx, ['copy', 'zoo', 'dst', 'zebra', '--with-deps']);
    // zebra -> dolphin, gorilla, pike; dolphin -> bear (in dst already), lion, tiger;
    // lion -> wolf; pike -> crow, elephant; elephant -> kangaroo (the newest, 0.3).
    const deps = ['crow-0.8-1.noarch.rpm', 'dolphin-3.10.232-1.noarch.rpm', 'elephant-8.3-1.noarch.rpm', 'gorilla-0.62-1.noarch.rpm', 'kangaroo-0.3-1.noarch.rpm', 'lion-0.4-1.noarch.rpm', 'pike-2.2-1.noarch.rpm', 'tiger-1.0-4.noarch.rpm', 'wolf-9.4-2.noarch.rpm'];
    assert.deepEqual(fileNames(r.dependencies), deps);
    assert.deepEqual(fileNames(r.added), [...deps, 'zebra-0.1-2.noarch.rpm'].sort());
    assert.deepEqual(r.unresolved, []);
    assert.equal(r.packages, 11);
  });

  test('--dry-run lists what would come and changes nothing', async () => {
    const { tx } = await zooStore();
    const r = await json(tx, ['copy', 'zoo', 'dst', 'lion', '--with-deps', '--dry-run']);
    assert.deepEqual(fileNames(r.added), ['lion-0.4-1.noarch.rpm', 'wolf-9.4-2.noarch.rpm']);
    assert.equal(r.dryRun, true);
    assert.deepEqual(await json(tx, ['snapshots', 'dst']), []);
    assert.match((await tx(['copy', 'zoo', 'dst', 'lion', '--with-deps', '--dry-run'])).stdout, /would copy wolf-9\.4-2\.noarch\.rpm \(dependency\)/);
  });

  test('refusals name what is wrong, and leave the destination as it was', async () => {
    const { tx } = await zooStore();
    await tx(['copy', 'zoo', 'dst', 'cat']);
    const before = await latestOf(tx, 'dst');
    const refused = async (args: string[], type: string, message: RegExp) => {
      const error = JSON.parse((await tx([...args, '--json'], 1)).stdout).error;
      assert.equal(error.type, type, args.join(' '));
      assert.match(error.message, message);
    };
    await refused(['copy', 'nosuch', 'dst', 'cat'], 'not_found', /no repository nosuch/);
    await refused(['copy', 'zoo', 'nosuch', 'cat'], 'not_found', /no repository nosuch/);
    await refused(['copy', 'zoo@nosuchtag', 'dst', 'cat'], 'not_found', /zoo has no tag nosuchtag/);
    await refused(['copy', 'zoo@latest@notatime', 'dst', 'cat'], 'invalid_input', /"notatime" is not a time/);
    await refused(['copy', 'zoo', 'dst', 'cat', 'caat'], 'not_found', /matches "caat"/);
    assert.equal(await latestOf(tx, 'dst'), before);
  });

  test('--with-deps follows the rich dependencies of real packages, and says which it cannot meet', async () => {
    // The rpmbuild fixtures: txfix-weakdeps requires (txfix-files or txfix-text),
    // (txfix-versions >= 1.0 if txfix-tilde), and rich ones nothing provides.
    const tx = inStore(join(dir, `store-${n++}`));
    await tx(['repo', 'create', 'fixtures']);
    await tx(['repo', 'create', 'dst']);
    await tx(['deploy', 'fixtures', ...(await testRpmPaths()).filter((p) => !p.endsWith('.src.rpm')), '-q']);
    const alone = await json(tx, ['copy', 'fixtures', 'dst', 'txfix-weakdeps', '--with-deps', '--dry-run']);
    assert.deepEqual(fileNames(alone.dependencies), ['txfix-files-0.9-2.x86_64.rpm'], 'the first alternative of an or; no txfix-versions without txfix-tilde');
    const unmet = (r: { unresolved: { package: string; requires: string }[] }) => r.unresolved.filter((u) => u.package.startsWith('txfix-weakdeps-')).map((u) => u.requires).sort();
    assert.deepEqual(unmet(alone), ['((txfix-rich-a and txfix-rich-b) or txfix-rich-c)', '(txfix-rich-m if txfix-rich-n else txfix-rich-o)', '(txfix-rich-p without txfix-rich-q)', '(txfix-rich-x with txfix-rich-y)']);
    const withTilde = await json(tx, ['copy', 'fixtures', 'dst', 'txfix-weakdeps', 'txfix-tilde', '--with-deps', '--dry-run']);
    assert.ok(fileNames(withTilde.dependencies).includes('txfix-versions-1.0-1.noarch.rpm'), 'the condition holds once txfix-tilde comes too');
    assert.ok(!fileNames(withTilde.dependencies).includes('txfix-text-4.5.6-7.noarch.rpm'));
  });

  test("the destination's keep policy applies to what is copied", async () => {
    const { tx } = await zooStore();
    await tx(['repo', 'create', 'kept', '--keep', '1']);
    const first = await json(tx, ['copy', 'zoo', 'kept', 'duck-0.8*']);
    assert.deepEqual(fileNames(first.added), ['duck-0.8-1.noarch.rpm']);
    const older = await json(tx, ['copy', 'zoo', 'kept', 'duck-0.6*', 'cat']);
    assert.deepEqual(fileNames(older.added), ['cat-1.0-1.noarch.rpm']);
    assert.deepEqual(fileNames(older.notKept), ['duck-0.6-1.noarch.rpm']);
    assert.deepEqual(await files(tx, 'kept@latest'), ['cat-1.0-1.noarch.rpm', 'duck-0.8-1.noarch.rpm']);
  });

  test("the destination's signature policy takes a signed package and refuses an unsigned one", async () => {
    const { tx } = await zooStore();
    const gpg = await Gpg.create(join(dir, `gnupg-${n++}`));
    try {
      const key = await gpg.generateKey('copy@example.org', 'ed25519');
      await writeFile(join(dir, 'copy.pub'), key.armored);
      await mkdir(join(dir, 'signed'), { recursive: true });
      const signed = await gpg.signPackage(sample('cow-2.2-3.noarch.rpm'), join(dir, 'signed', 'cow-2.2-3.noarch.rpm'), key.email);
      await tx(['repo', 'create', 'staging']);
      await tx(['deploy', 'staging', signed]);
      await tx(['repo', 'create', 'signed', '--require-signed', join(dir, 'copy.pub')]);
      const error = JSON.parse((await tx(['copy', 'zoo', 'signed', 'cat', '--json'], 1)).stdout).error;
      assert.match(error.message, /cat-1\.0-1\.noarch\.rpm.*is not signed/);
      assert.deepEqual(await json(tx, ['snapshots', 'signed']), []);
      const dry = await tx(['copy', 'zoo', 'signed', 'cat', '--dry-run', '--json'], 1);
      assert.match(JSON.parse(dry.stdout).error.message, /is not signed/, 'a dry run says what the policy would refuse');
      const r = await json(tx, ['copy', 'staging', 'signed', 'cow']);
      assert.deepEqual(fileNames(r.added), ['cow-2.2-3.noarch.rpm']);
    } finally {
      await gpg.close();
    }
  });
});

describe('remove and copy through a server', () => {
  let server: Served;
  let tx: ReturnType<typeof inStore>;
  let remote: (args: string[], code?: number) => ReturnType<ReturnType<typeof inStore>>;
  let token: string;
  before(async () => {
    const store = join(dir, `store-${n++}`);
    tx = inStore(store);
    await tx(['repo', 'create', 'zoo']);
    await tx(['repo', 'create', 'dst']);
    await tx(['deploy', 'zoo', SAMPLES, '-q']);
    token = (await tx(['token', 'create', 'ci', '--scope', 'deploy:*'])).stdout.trim();
    server = await serve(store);
    remote = async (args, code = 0) => {
      const r = await txrepo([...args, '--server', server.url, '--token', token]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r;
    };
  });
  after(() => server?.stop());

  test('do what they do locally, and refuse the same way', async () => {
    const removed = JSON.parse((await remote(['remove', 'zoo', 'tiger', '--json'])).stdout);
    assert.deepEqual(fileNames(removed.removed), ['tiger-1.0-4.noarch.rpm']);
    const copied = JSON.parse((await remote(['copy', 'zoo', 'dst', 'dolphin', '--with-deps', '--json'])).stdout);
    // tiger is gone from zoo's latest: dolphin's need of it is unresolved.
    assert.deepEqual(fileNames(copied.added), ['bear-4.1-1.noarch.rpm', 'dolphin-3.10.232-1.noarch.rpm', 'lion-0.4-1.noarch.rpm', 'wolf-9.4-2.noarch.rpm']);
    assert.deepEqual(copied.unresolved, [{ package: 'dolphin-3.10.232-1.noarch', requires: 'tiger', why: 'nothing in the source or the destination provides it' }]);
    const dry = JSON.parse((await remote(['remove', 'dst', 'bear', '--dry-run', '--json'])).stdout);
    assert.equal(dry.dryRun, true);
    assert.equal(dry.snapshot, copied.snapshot);
    const error = JSON.parse((await remote(['copy', 'zoo', 'dst', 'nothing-*', '--json'], 1)).stdout).error;
    assert.equal(error.type, 'not_found');
    assert.match(error.message, /matches "nothing-\*"/);
    assert.match((await tx(['log', 'dst'])).stdout, /copy dst/);
  });

  test('the API refuses a body without patterns, naming the field', async () => {
    const post = async (route: string, body: unknown) => {
      const res = await fetch(`${server.url}/api/v1/repos/dst/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      return { status: res.status, error: ((await res.json()) as { error: { type: string; message: string } }).error };
    };
    for (const [route, body] of [
      ['remove', {}],
      ['remove', { patterns: [] }],
      ['remove', { patterns: 'bear' }],
      ['copy', { patterns: ['bear'] }],
      ['copy', { from: 'zoo', patterns: [] }],
    ] as const) {
      const r = await post(route, body);
      assert.equal(r.status, 400, `${route} ${JSON.stringify(body)}`);
      assert.equal(r.error.type, 'invalid_input');
      assert.match(r.error.message, /patterns|from/, r.error.message);
    }
    const blank = await post('remove', { patterns: [' '] });
    assert.equal(blank.status, 400);
    assert.match(blank.error.message, /pattern " "/);
  });
});
