// openStore's rule of where a store is made, at the store layer: typed refusals that
// name the directory (the CLI adds what to do), nothing written when refused.

import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NoStoreError, NotAStoreError, openStore } from '../../src/store/index.ts';
import { backendsFor } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';

let dir: string;
before(async () => {
  dir = await tempDir('txrepo-open-');
});
after(() => removeDir(dir));

describe('openStore: where a store is made', () => {
  test('without create: NoStoreError for a missing, an empty and a foreign directory, each left as it was', async () => {
    const missing = join(dir, 'missing');
    await assert.rejects(openStore(missing, backendsFor(missing), { create: false }), (e: Error) => e instanceof NoStoreError && e.dir === missing && e.message === `no txrepo store at ${missing}: no such directory`);
    await assert.rejects(readdir(missing), { code: 'ENOENT' });
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await assert.rejects(openStore(empty, backendsFor(empty), { create: false }), NoStoreError);
    assert.deepEqual(await readdir(empty), []);
    const foreign = join(dir, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'a.rpm'), 'x');
    await assert.rejects(openStore(foreign, backendsFor(foreign), { create: false }), /no txrepo store at .*foreign: the directory holds "a\.rpm", and no txrepo-store\.json/);
    assert.deepEqual(await readdir(foreign), ['a.rpm']);
  });

  test('with create (the default): a new or empty directory becomes a store; a foreign one is a NotAStoreError', async () => {
    const fresh = join(dir, 'fresh');
    let store = await openStore(fresh, backendsFor(fresh));
    assert.equal(store.created, true);
    await store.close();
    store = await openStore(fresh, backendsFor(fresh), { create: false });
    assert.equal(store.created, false, 'opened, not made');
    await store.close();
    const foreign = join(dir, 'foreign');
    await assert.rejects(openStore(foreign, backendsFor(foreign)), (e: Error) => e instanceof NotAStoreError && e.dir === foreign);
    assert.deepEqual(await readdir(foreign), ['a.rpm']);
  });
});
