// publish: history kept and pruned, files verified before the switch, bad sources and
// targets refused with the tree left as it was.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { LocalTxrepo } from '../../src/core/index.ts';
import { publish, storeSource, type PublishSource } from '../../src/publish/index.ts';
import type { Store } from '../../src/store/index.ts';
import { openTestStore } from '../helpers/backends.ts';
import { decompress, removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';

const rpm = sample;

let dir: string;
let store: Store;
let tx: LocalTxrepo;
before(async () => {
  dir = await tempDir('txrepo-publish-');
  store = await openTestStore(join(dir, 'store'));
  tx = new LocalTxrepo(store, 'tester');
  await tx.createRepo({ name: 'r', keep: 1 });
});
after(async () => {
  await store.close();
  await removeDir(dir);
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Whether `tree` holds every file snapshot `id`'s repomd.xml and primary list, intact. */
async function assertTreeServes(tree: string, id: string) {
  const repomd = (await store.blobs.read((await tx.showSnapshot('r', id)).repomd))!.toString('utf8');
  let primary: Buffer | undefined;
  for (const m of repomd.matchAll(/<data type="([^"]+)">([\s\S]*?)<\/data>/g)) {
    const href = /<location href="([^"]+)"/.exec(m[2])![1];
    const data = await readFile(join(tree, href)).catch(() => undefined);
    assert.ok(data, `${id}: ${href} is not in the tree`);
    assert.equal(sha256(data), /<checksum type="sha256">([0-9a-f]+)</.exec(m[2])![1], `${id}: ${href}`);
    if (m[1] === 'primary') primary = decompress(href, data);
  }
  assert.ok(primary, `${id}: no primary`);
  const packages = [...primary.toString('utf8').matchAll(/<checksum type="sha256" pkgid="YES">([0-9a-f]+)<\/checksum>[\s\S]*?<location href="([^"]+)"/g)];
  assert.ok(packages.length > 0, `${id}: no packages in primary`);
  for (const [, sum, href] of packages) assert.equal(sha256(await readFile(join(tree, href))), sum, `${id}: ${href}`);
}

describe('publish', () => {
  test('keeps the newest N generations and what they list; --keep-days keeps younger ones too; files it did not write stay', async () => {
    const tree = join(dir, 'tree');
    const ids: string[] = [];
    for (const f of ['duck-0.6-1.noarch.rpm', 'duck-0.7-1.noarch.rpm', 'duck-0.8-1.noarch.rpm']) {
      ids.push((await tx.deploy({ repo: 'r', sources: [rpm(f)] })).snapshot);
      const result = await publish(await storeSource(tx, store, 'r', 'latest'), tree, { keepMd: 2 });
      assert.equal(result.snapshot, ids.at(-1));
      if (ids.length === 1) await writeFile(join(tree, 'README'), 'placed by the admin\n');
    }
    assert.deepEqual((await readdir(join(tree, 'Packages', 'd'))).sort(), ['duck-0.7-1.noarch.rpm', 'duck-0.8-1.noarch.rpm']);
    const state = JSON.parse(await readFile(join(tree, '.txrepo-publish', 'state.json'), 'utf8'));
    assert.deepEqual(state.generations.map((g: { snapshot: string }) => g.snapshot), ids.slice(1));
    assert.equal(await readFile(join(tree, 'README'), 'utf8'), 'placed by the admin\n');
    // A client of any kept generation finds what its repomd.xml lists, and the packages
    // its primary lists, with their checksums: judged by the snapshots' own repomd.xml
    // (from the store) and primary, as yum reads them, not by publish's bookkeeping.
    for (const id of ids.slice(1)) await assertTreeServes(tree, id);
    // An older snapshot published again, keeping every generation of the last 30 days.
    const back = await publish(await storeSource(tx, store, 'r', ids[0]), tree, { keepMd: 1, keepDays: 30 });
    assert.equal(back.generations, 3);
    assert.deepEqual((await readdir(join(tree, 'Packages', 'd'))).sort(), ['duck-0.6-1.noarch.rpm', 'duck-0.7-1.noarch.rpm', 'duck-0.8-1.noarch.rpm']);
    assert.equal(await readFile(join(tree, 'repodata', 'repomd.xml'), 'utf8'), (await store.blobs.read((await tx.showSnapshot('r', ids[0])).repomd))!.toString());
  });

  test('a source whose file does not match its checksum switches nothing', async () => {
    const tree = join(dir, 'tampered');
    const good = await storeSource(tx, store, 'r', 'latest');
    await publish(good, tree);
    const before = await readFile(join(tree, 'repodata', 'repomd.xml'));
    await tx.deploy({ repo: 'r', sources: [rpm('bear-4.1-1.noarch.rpm')] });
    const next = await storeSource(tx, store, 'r', 'latest');
    // A server (or a man in the middle) that sends other bytes for the new package.
    const tampered: PublishSource = {
      ...next,
      localPath: () => undefined,
      open: async (f) => (f.href.includes('bear') ? Readable.from([Buffer.alloc(f.size, 0x41)]) : next.open(f)),
    };
    await assert.rejects(publish(tampered, tree), /bear-4\.1-1\.noarch\.rpm: got \d+ bytes with sha256 .*, the snapshot lists/);
    assert.deepEqual(await readFile(join(tree, 'repodata', 'repomd.xml')), before);
    assert.deepEqual(await readdir(join(tree, 'Packages')), ['d']);
    assert.ok(!(await readdir(tree)).includes('.repodata'), 'the lock is released');
  });

  test('bad targets and refs: clear errors', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    let r = await txrepo(['publish', 'r@latest', join(file, 'sub'), '--store', join(dir, 'store')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a-file\/sub: cannot create it/);
    r = await txrepo(['publish', 'r@no-such-tag', join(dir, 'x'), '--store', join(dir, 'store')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /r has no tag no-such-tag/);
    r = await txrepo(['publish', 'r@latest', join(dir, 'x'), '--from', 'http://127.0.0.1:9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /connection refused/);
    r = await txrepo(['publish', 'r@latest', join(dir, 'x'), '--keep-md', '0', '--store', join(dir, 'store')]);
    assert.equal(r.code, 2);
  });
});
