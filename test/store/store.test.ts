import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { readPackage } from '../../src/rpm/index.ts';
import { AlreadyExistsError, BlobMismatchError, ConflictError, nextSnapshotId, openStore, paginate, type Store } from '../../src/store/index.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { run, TXREPO } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';

const BEAR = sample('bear-4.1-1.noarch.rpm');

let dir: string;
let store: Store;
before(async () => {
  dir = await tempDir('txrepo-store-');
  store = await openStore(join(dir, 'store'));
});
after(async () => {
  await store.close();
  await removeDir(dir);
});

describe('snapshot ids', () => {
  test('sortable, unique within a second, never going back', () => {
    const t = new Date('2026-11-24T13:23:20.500Z');
    const a = nextSnapshotId(t, undefined);
    assert.equal(a, '20261124-132320-0001');
    const b = nextSnapshotId(t, a);
    assert.equal(b, '20261124-132320-0002');
    // A clock that went back still yields a greater id.
    assert.equal(nextSnapshotId(new Date('2026-11-24T13:00:00Z'), b), '20261124-132320-0003');
    assert.equal(nextSnapshotId(new Date('2026-11-24T13:23:21Z'), b), '20261124-132321-0001');
  });
});

describe('blobs', () => {
  test('content-addressed, idempotent, verified', async () => {
    const a = await store.blobs.putBytes(Buffer.from('hello'));
    assert.equal(a.digest, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.deepEqual(await store.blobs.putBytes(Buffer.from('hello')), a);
    assert.equal((await store.blobs.stat(a.digest))?.size, 5);
    await assert.rejects(store.blobs.putBytes(Buffer.from('hello'), { digest: 'ab'.repeat(32) }), BlobMismatchError);
    await assert.rejects(store.blobs.putStream(Readable.from([Buffer.from('0123456789')]), { size: 4 }), BlobMismatchError);
    const fromFile = await store.blobs.putFile(BEAR);
    assert.equal(fromFile.size, (await stat(BEAR)).size);
    assert.deepEqual(await readFile(store.blobs.localPath(fromFile.digest)!), await readFile(BEAR));
  });

  test('a blob does not share its inode with the source file', async () => {
    const src = join(dir, 'src.bin');
    await writeFile(src, 'version one');
    const b = await store.blobs.putFile(src);
    await writeFile(src, 'version two, overwritten in place');
    assert.equal(await readFile(store.blobs.localPath(b.digest)!, 'utf8'), 'version one');
  });
});

describe('catalog', () => {
  test('repos, packages, snapshots and tags', async () => {
    const { catalog } = store;
    await catalog.createRepo({ name: 'el9', createdBy: 'tester' });
    await assert.rejects(catalog.createRepo({ name: 'el9', createdBy: 'tester' }), AlreadyExistsError);
    const record = await readPackage(BEAR, { locationHref: 'bear.rpm' });
    await catalog.putPackages([record, record]);
    const back = await catalog.getPackages([record.pkgid]);
    assert.equal(back.get(record.pkgid)?.name, 'bear');

    const commit = (parent: string | undefined, message: string) =>
      catalog.commitSnapshot({ repo: 'el9', parent, pages: paginate([{ href: 'Packages/b/bear.rpm', digest: record.pkgid, size: 1846, kind: 'package' }]), files: [], packages: 1, repomd: 'ab'.repeat(32), actor: 'tester', message, tags: ['latest'] });
    const s1 = await commit(undefined, 'first');
    const s2 = await commit(s1.id, 'second');
    assert.ok(s2.id > s1.id);
    assert.equal(s2.parent, s1.id);
    await assert.rejects(commit(s1.id, 'stale parent'), ConflictError);
    assert.equal((await catalog.getTag('el9', 'latest'))?.snapshot, s2.id);

    await catalog.moveTag({ repo: 'el9', tag: 'tested', to: s1.id, expect: null, actor: 'ci', reason: 'run 1 passed' });
    // tag@TIME resolves by time: leave a gap so that a time between the moves exists.
    await new Promise((r) => setTimeout(r, 5));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await assert.rejects(catalog.moveTag({ repo: 'el9', tag: 'tested', to: s2.id, expect: null, actor: 'ci', reason: 'x' }), ConflictError);
    const move = await catalog.moveTag({ repo: 'el9', tag: 'tested', to: s2.id, expect: s1.id, actor: 'ci', reason: 'run 2 passed' });
    assert.equal(move.from, s1.id);
    const history = await catalog.tagHistory('el9', 'tested');
    assert.deepEqual(history.map((h) => [h.from, h.to, h.reason]), [[undefined, s1.id, 'run 1 passed'], [s1.id, s2.id, 'run 2 passed']]);
    assert.equal(await catalog.tagAt('el9', 'tested', between), s1.id);
    assert.equal(await catalog.tagAt('el9', 'tested', history[1].at), s2.id);
    assert.equal(await catalog.tagAt('el9', 'tested', '2000-01-01T00:00:00.000Z'), undefined);
    assert.deepEqual((await catalog.snapshotFiles(s2.id)).map((f) => f.href), ['Packages/b/bear.rpm']);
  });

  test('a second process sees committed state (WAL) and reopening keeps the schema', async () => {
    // A real second process, while this one holds the catalog open (its WAL not
    // checkpointed): it sees the repository and the tag moves committed above.
    // (run, not txrepo(): this store is the embedded one on every pass.)
    const other = await run(TXREPO, ['tags', 'el9', '--history', '--json', '--store', join(dir, 'store')]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /run 2 passed/);
    const again = await openStore(join(dir, 'store'));
    assert.deepEqual((await again.catalog.listRepos()).map((r) => r.name), ['el9']);
    await again.close();
  });
});

describe('catalog migrations', () => {
  test('version 3 up: page counts and last hrefs move to page_info, the same page lists come out', async () => {
    const d = await tempDir('txrepo-migrate-');
    try {
      const s = await openStore(join(d, 'store'));
      await s.catalog.createRepo({ name: 'm', createdBy: 't' });
      const files = Array.from({ length: 200 }, (_, i) => ({ href: `Packages/p/p${String(i).padStart(3, '0')}.rpm`, digest: 'a'.repeat(64), size: i, kind: 'package' as const }));
      const snap = await s.catalog.commitSnapshot({ repo: 'm', parent: undefined, pages: paginate(files), files: [], packages: 200, repomd: 'b'.repeat(64), actor: 't', message: 'm', tags: ['latest'] });
      const before = await s.catalog.snapshotPages(snap.id);
      assert.ok(before.length > 2);
      await s.close();
      // Back to version 3 as it was: no page_info, an index from page to snapshots (and
      // none of version 5).
      const { DatabaseSync } = await import('node:sqlite');
      const db = new DatabaseSync(join(d, 'store', 'catalog.sqlite'));
      db.exec(`ALTER TABLE repos DROP COLUMN mirror_filter; DROP TABLE signing_keys; ALTER TABLE repos DROP COLUMN require_signed;
        DROP TABLE blob_uses; DROP TABLE blob_removals; DROP INDEX repodata_pages_blob;
        DROP TABLE sets; DROP TABLE set_members; DROP TABLE tokens; DROP TABLE audit;
        ALTER TABLE repos DROP COLUMN retain_last; ALTER TABLE repos DROP COLUMN retain_days;
        ALTER TABLE packages DROP COLUMN added_at; ALTER TABLE repodata_pages DROP COLUMN page;
        ALTER TABLE tag_history DROP COLUMN set_id;
        DROP TABLE page_info; CREATE INDEX snapshot_pages_page ON snapshot_pages(page); PRAGMA user_version = 3;`);
      db.close();
      const again = await openStore(join(d, 'store'));
      assert.deepEqual(await again.catalog.snapshotPages(snap.id), before);
      await again.close();
    } finally {
      await removeDir(d);
    }
  });
});
