// needs: createrepo_c
// Damaged blobs (issue 18, item 6): fsck names the snapshots, tags and files that use
// one; a redeploy of the same file repairs a blob of the wrong size; fsck --repair
// restores one from a good copy (--from DIR or URL, verified by its sha256) or else
// quarantines it; and the server answers an error for a damaged or quarantined blob,
// never its wrong bytes. On both backends (the blob directory and S3).

import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ON_SHARED_BACKENDS, openTestStore, overwriteBlob } from '../helpers/backends.ts';
import { serveDirectory } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve } from '../helpers/serve.ts';
import { fsck, repairBlobs } from '../../src/snapshots/index.ts';

let work: string;
let n = 0;
before(async () => {
  work = await tempDir('txrepo-fsck-repair-');
});
after(() => removeDir(work));

const BEAR = 'bear-4.1-1.noarch.rpm';
const CAT = 'cat-1.0-1.noarch.rpm';
const BEAR_HREF = `Packages/b/${BEAR}`;
const CAT_HREF = `Packages/c/${CAT}`;

interface Damaged {
  digest: string;
  damage: string;
  size?: number;
  storedSize?: number;
  users: { repo: string; snapshot: string; tags: string[]; hrefs: string[] }[];
}
interface Report {
  problems: string[];
  damaged: Damaged[];
  repairs?: { digest: string; outcome: string; from?: string }[];
}

/** A store with bear and cat in el9 (tagged tested) and bear in el8; the digests and snapshots. */
async function deployed() {
  const store = join(work, `store-${n++}`);
  const tx = inStore(store);
  await tx(['repo', 'create', 'el9']);
  await tx(['repo', 'create', 'el8']);
  const el9 = JSON.parse((await tx(['deploy', 'el9', sample(BEAR), sample(CAT), '--json'])).stdout).snapshot as string;
  const el8 = JSON.parse((await tx(['deploy', 'el8', sample(BEAR), '--json'])).stdout).snapshot as string;
  await tx(['tag', 'el9', 'tested', 'latest']);
  const files = JSON.parse((await tx(['show', 'el9', '--files', '--json'])).stdout).files as { href: string; sha256: string; size: number }[];
  const digest = (href: string) => files.find((f) => f.href === href)!.sha256;
  return { store, tx, el9, el8, files, bear: digest(BEAR_HREF), cat: digest(CAT_HREF) };
}

const fsckJson = async (store: string, args: string[] = []): Promise<{ code: number; report: Report }> => {
  const r = await txrepo(['fsck', '--store', store, '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `fsck exited ${r.code}: ${r.stdout}${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
};

/** The same bytes with one byte changed: damage only a re-hash finds. */
async function flipped(path: string): Promise<Buffer> {
  const data = await readFile(path);
  data[200] ^= 0xff;
  return data;
}

test('fsck names the snapshots, their tags and the files that use a damaged blob', async () => {
  const { store, el9, el8, files, bear, cat } = await deployed();
  const primary = files.find((f) => /^repodata\/.*primary\.xml/.test(f.href))!;
  await overwriteBlob(store, bear, Buffer.from('truncated'));
  await overwriteBlob(store, cat, await flipped(sample(CAT)));
  await overwriteBlob(store, primary.sha256, Buffer.from('short'));

  // Without --verify-blobs: the sizes. bear is used by both repos, under their tags.
  let { code, report } = await fsckJson(store);
  assert.equal(code, 1);
  const byDigest = new Map(report.damaged.map((d) => [d.digest, d]));
  assert.deepEqual(byDigest.get(bear), {
    digest: bear,
    damage: 'wrong-size',
    size: files.find((f) => f.href === BEAR_HREF)!.size,
    storedSize: 'truncated'.length,
    users: [
      { repo: 'el8', snapshot: el8, tags: ['latest'], hrefs: [BEAR_HREF] },
      { repo: 'el9', snapshot: el9, tags: ['latest', 'tested'], hrefs: [BEAR_HREF] },
    ],
  });
  assert.deepEqual(byDigest.get(primary.sha256)?.users.map((u) => [u.repo, u.hrefs]), [['el9', [primary.href]]], 'a metadata file is named too');
  assert.equal(byDigest.has(cat), false, 'damage of the same size is found only by a re-hash');

  ({ code, report } = await fsckJson(store, ['--verify-blobs']));
  const corrupted = report.damaged.find((d) => d.digest === cat);
  assert.equal(corrupted?.damage, 'corrupted');
  assert.deepEqual(corrupted?.users, [{ repo: 'el9', snapshot: el9, tags: ['latest', 'tested'], hrefs: [CAT_HREF] }]);

  // Through a server, the same (GET /api/v1/fsck).
  const token = (await inStore(store)(['token', 'create', 'ops', '--scope', 'admin'])).stdout.trim();
  const server = await serve(store);
  try {
    const remote = await txrepo(['fsck', '--verify-blobs', '--json', '--server', server.url, '--token', token]);
    assert.deepEqual((JSON.parse(remote.stdout) as Report).damaged, report.damaged);
  } finally {
    await server.stop();
  }

  const text = (await txrepo(['fsck', '--verify-blobs', '--store', store])).stdout;
  assert.ok(text.includes(`damaged: blob ${bear} (9 bytes, the catalog says`), text);
  assert.ok(text.includes(`used by el8@${el8} (latest): ${BEAR_HREF}; el9@${el9} (latest, tested): ${BEAR_HREF}`), text);
  assert.ok(text.includes(`damaged: blob ${cat} (corrupted: its content does not hash to its name), used by el9@${el9} (latest, tested): ${CAT_HREF}`), text);
});

test('the server answers 503 for a blob of the wrong size, and a redeploy of the same file repairs it', async () => {
  const { store, tx, el9, bear } = await deployed();
  const good = await readFile(sample(BEAR));
  await overwriteBlob(store, bear, good.subarray(0, 1000));
  const server = await serve(store);
  try {
    const url = `${server.url}/repos/el9/snapshots/${el9}/${BEAR_HREF}`;
    let r = await fetch(url);
    const body = await r.text();
    assert.equal(r.status, 503, 'a blob of another size than the catalog says is not served');
    assert.match(body, /cannot be served: its blob has 1000 bytes/);
    // A range inside the damaged blob's bytes is refused too.
    assert.equal((await fetch(url, { headers: { range: 'bytes=0-99' } })).status, 503);
    if (ON_SHARED_BACKENDS) {
      // Nor does a server that sends package downloads to the bucket send them there.
      const redirecting = await serve(store, ['--redirect-downloads', '10m']);
      try {
        const r = await fetch(`${redirecting.url}/repos/el9/snapshots/${el9}/${BEAR_HREF}`, { redirect: 'manual' });
        assert.equal(r.status, 503);
      } finally {
        await redirecting.stop();
      }
    }

    await tx(['deploy', 'el9', sample(BEAR)]);
    r = await fetch(url);
    assert.equal(r.status, 200);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(good), 'the redeploy put the good bytes back');
  } finally {
    await server.stop();
  }
  const { code, report } = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual([code, report.damaged], [0, []]);
});

test('a sync that finds a package blob of the wrong size downloads it again, and the good bytes replace it', async () => {
  const store = join(work, `store-${n++}`);
  const tx = inStore(store);
  const upstream = join(work, `upstream-${n++}`);
  await mkdir(upstream);
  for (const f of [BEAR, CAT]) await copyFile(sample(f), join(upstream, f));
  await mustRun('createrepo_c', ['--no-database', '--quiet', upstream]);
  await tx(['repo', 'create', 'm', '--upstream', upstream]);
  await tx(['sync', 'm']);
  const bear = (JSON.parse((await tx(['show', 'm', '--files', '--json'])).stdout).files as { href: string; sha256: string }[]).find((f) => f.href.endsWith(BEAR))!.sha256;
  await overwriteBlob(store, bear, Buffer.from('short'));
  assert.equal((await fsckJson(store)).report.damaged[0]?.digest, bear);
  await tx(['sync', 'm']);
  const { code, report } = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual([code, report.problems], [0, []]);
});

test('a redeploy through a server repairs a damaged blob of either kind: the one it cannot read is quarantined and uploaded again', async () => {
  const { store, tx, el9, bear, cat } = await deployed();
  await overwriteBlob(store, bear, Buffer.from('short'));
  await overwriteBlob(store, cat, await flipped(sample(CAT)));
  const token = (await tx(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  const server = await serve(store);
  try {
    const r = await txrepo(['deploy', 'el9', sample(BEAR), sample(CAT), '--json', '--server', server.url, '--token', token]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const [name, href] of [[BEAR, BEAR_HREF], [CAT, CAT_HREF]]) {
      const got = await fetch(`${server.url}/repos/el9/snapshots/${el9}/${href}`);
      assert.equal(got.status, 200, href);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(await readFile(sample(name))), `${href}: the good bytes`);
    }
  } finally {
    await server.stop();
  }
  const { code, report } = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual([code, report.problems], [0, []]);
});

test('fsck --repair --from DIR restores a corrupted blob from a file that hashes to it, whatever its name', async () => {
  const { store, bear, cat } = await deployed();
  await overwriteBlob(store, cat, await flipped(sample(CAT)));
  await overwriteBlob(store, bear, Buffer.from('gone bad'));
  const dir = join(work, `good-${n++}`);
  await mkdir(join(dir, 'sub'), { recursive: true });
  // A decoy under cat's own name (another package), and the good copy under another name.
  await copyFile(sample('walrus-0.71-1.noarch.rpm'), join(dir, CAT));
  await copyFile(sample(CAT), join(dir, 'sub', 'renamed.rpm'));
  await copyFile(sample(BEAR), join(dir, BEAR));

  const { code, report } = await fsckJson(store, ['--verify-blobs', '--repair', '--from', dir]);
  assert.equal(code, 1, 'the run that found damage says so');
  const outcomes = Object.fromEntries(report.repairs!.map((r) => [r.digest, [r.outcome, r.from]]));
  assert.deepEqual(outcomes[cat], ['restored', join(dir, 'sub', 'renamed.rpm')]);
  assert.deepEqual(outcomes[bear], ['restored', join(dir, BEAR)]);
  const after = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual([after.code, after.report.problems], [0, []]);
  const s = await openTestStore(store);
  try {
    assert.ok(await s.blobs.quarantined(cat), 'the damaged bytes are kept aside, for a look into the damage');
  } finally {
    await s.close();
  }
});

test('fsck --repair --from URL fetches the file by its href and verifies it before storing it', async () => {
  const { store, bear, cat } = await deployed();
  await overwriteBlob(store, bear, await flipped(sample(BEAR)));
  await overwriteBlob(store, cat, await flipped(sample(CAT)));
  // A yum tree with a good bear and a bad cat (another package under its name).
  const tree = join(work, `tree-${n++}`);
  await mkdir(join(tree, 'Packages/b'), { recursive: true });
  await mkdir(join(tree, 'Packages/c'), { recursive: true });
  await copyFile(sample(BEAR), join(tree, BEAR_HREF));
  await writeFile(join(tree, CAT_HREF), await flipped(sample(CAT)));
  const upstream = await serveDirectory(tree);
  try {
    const { report } = await fsckJson(store, ['--verify-blobs', '--repair', '--from', `${upstream.url}/`]);
    const outcomes = Object.fromEntries(report.repairs!.map((r) => [r.digest, [r.outcome, r.from]]));
    assert.deepEqual(outcomes[bear], ['restored', `${upstream.url}/${BEAR_HREF}`]);
    assert.deepEqual(outcomes[cat], ['quarantined', undefined], 'a copy that does not hash to the blob is not taken');
  } finally {
    await upstream.close();
  }
  const { report } = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual(report.damaged.map((d) => [d.digest, d.damage]), [[cat, 'missing']], 'bear is sound; cat is in quarantine');
});

test('without a good copy a damaged blob is quarantined: the server answers an error, never the damaged bytes, until a redeploy', async () => {
  const { store, tx, el9, cat } = await deployed();
  const bad = await flipped(sample(CAT));
  await overwriteBlob(store, cat, bad);
  const { report } = await fsckJson(store, ['--verify-blobs', '--repair']);
  assert.deepEqual(report.repairs, [{ digest: cat, outcome: 'quarantined' }]);
  const server = await serve(store);
  try {
    const paths = [`/repos/el9/snapshots/${el9}/${CAT_HREF}`, `/repos/el9/tags/tested/${CAT_HREF}`];
    for (const path of paths) {
      const r = await fetch(server.url + path);
      const body = Buffer.from(await r.arrayBuffer());
      assert.equal(r.status, 503, path);
      assert.ok(!body.includes(bad.subarray(0, 64)), 'none of the damaged bytes');
      assert.match(body.toString(), /found damaged and quarantined/);
    }
    await tx(['deploy', 'el9', sample(CAT)]);
    const r = await fetch(server.url + paths[0]);
    assert.equal(r.status, 200);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(await readFile(sample(CAT))));
  } finally {
    await server.stop();
  }
});

test('a blob stored anew between fsck and its repair is left alone, not quarantined', async () => {
  const { store, tx, bear } = await deployed();
  await overwriteBlob(store, bear, Buffer.from('short'));
  const s = await openTestStore(store);
  try {
    const report = await fsck(s);
    assert.deepEqual(report.damaged.map((d) => d.digest), [bear]);
    await tx(['deploy', 'el9', sample(BEAR)]);
    assert.deepEqual(await repairBlobs(s, report.damaged), [{ digest: bear, outcome: 'sound' }]);
    assert.equal(await s.blobs.quarantined(bear), false);
  } finally {
    await s.close();
  }
  const after = await fsckJson(store, ['--verify-blobs']);
  assert.deepEqual([after.code, after.report.problems], [0, []]);
});

test('fsck --repair refuses what it cannot use: --from without --repair, a --from that is not there, --repair through a server', async () => {
  const { store } = await deployed();
  let r = await txrepo(['fsck', '--from', work, '--store', store]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--from names where --repair finds good copies; give --repair too/);
  r = await txrepo(['fsck', '--repair', '--from', join(work, 'nowhere'), '--store', store]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--from ".*nowhere": no such directory/);
  r = await txrepo(['fsck', '--repair', '--from', 'ftp://example.com/x', '--store', store]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /only http\(s\) URLs and directories/);
  const server = await serve(store);
  try {
    r = await txrepo(['fsck', '--repair', '--server', server.url]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /runs on the store itself, not through a server/);
  } finally {
    await server.stop();
  }
});
