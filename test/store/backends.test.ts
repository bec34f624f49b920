// The store's backends side by side: the same behaviour from the SQLite and the
// PostgreSQL catalog, and from the local and the S3 blob store, including what only
// shows with several writers (two catalog handles stand for two servers).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PgCatalog } from '../../src/store/pg-catalog.ts';
import { S3BlobStore } from '../../src/store/s3-blobs.ts';
import { SqliteCatalog } from '../../src/store/sqlite-catalog.ts';
import { LocalBlobStore } from '../../src/store/local-blobs.ts';
import { AlreadyExistsError, BlobMismatchError, ConflictError, NotFoundError, openStore, paginate, StoreError, type BlobStore, type Catalog } from '../../src/store/index.ts';
import { NEEDS_PG, pgUrl, s3Url, startS3Server, type S3Server } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { sample } from '../helpers/samples.ts';

let work: string;
let s3: S3Server;
let n = 0;
before(async () => {
  work = await tempDir('txrepo-backends-');
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
  await removeDir(work);
});

const unique = () => `b${process.pid}_${Date.now().toString(36)}_${n++}`;

interface CatalogKind {
  name: string;
  skip: string | false;
  /** Two handles on one new catalog: two servers' views of it. */
  open(): Promise<[Catalog, Catalog]>;
}

const catalogs: CatalogKind[] = [
  {
    name: 'SQLite',
    skip: false,
    open: async () => {
      const path = join(work, `${unique()}.sqlite`);
      return [new SqliteCatalog(path), new SqliteCatalog(path)];
    },
  },
  {
    name: 'PostgreSQL',
    skip: NEEDS_PG.skip,
    open: async () => {
      const url = pgUrl(unique());
      // Opened at once: the second waits for the first's migration, and finds it done.
      return Promise.all([PgCatalog.open(url), PgCatalog.open(url)]) as Promise<[Catalog, Catalog]>;
    },
  },
];

const digest = (s: string) => createHash('sha256').update(s).digest('hex');
const page = (i: number) => paginate([{ href: `Packages/p/p-${i}.rpm`, digest: digest(`p${i}`), size: 100 + i, kind: 'package' as const }]);

for (const kind of catalogs) {
  describe(`${kind.name} catalog`, { skip: kind.skip }, () => {
    test('two writers committing at once: no lost update, no duplicate id, an unbroken parent chain', async () => {
      const [a, b] = await kind.open();
      try {
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const commits = async (c: Catalog, who: string) => {
          for (let i = 0; i < 15; i++) {
            // The usual writer's loop: read latest, commit on it, again if someone else won.
            for (;;) {
              const parent = (await c.getTag('el9', 'latest'))?.snapshot;
              try {
                await c.commitSnapshot({ repo: 'el9', parent, pages: page(i), files: [], packages: 1, repomd: digest(`${who}${i}`), actor: who, message: `${who} ${i}`, tags: ['latest'] });
                break;
              } catch (e) {
                if (!(e instanceof ConflictError)) throw e;
              }
            }
          }
        };
        await Promise.all([commits(a, 'a'), commits(b, 'b')]);
        const snapshots = await a.listSnapshots('el9');
        assert.equal(snapshots.length, 30);
        assert.equal(new Set(snapshots.map((s) => s.id)).size, 30);
        for (let i = 1; i < snapshots.length; i++) assert.equal(snapshots[i].parent, snapshots[i - 1].id, 'each commit is on the one before it');
        const history = await b.tagHistory('el9', 'latest');
        assert.equal(history.length, 30);
        assert.equal((await b.getTag('el9', 'latest'))?.snapshot, snapshots[29].id);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('tag compare-and-swap across writers: one move wins each round', async () => {
      const [a, b] = await kind.open();
      try {
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const s1 = await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: page(1), files: [], packages: 1, repomd: digest('1'), actor: 't', message: '1', tags: ['latest'] });
        const s2 = await a.commitSnapshot({ repo: 'el9', parent: s1.id, pages: page(2), files: [], packages: 1, repomd: digest('2'), actor: 't', message: '2', tags: ['latest'] });
        let expect: string | null = null;
        for (let round = 0; round < 10; round++) {
          const to = round % 2 ? s1.id : s2.id;
          const results = await Promise.allSettled([a, b].map((c, i) => c.moveTag({ repo: 'el9', tag: 'tested', to, expect, actor: `w${i}`, reason: `round ${round}` })));
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: exactly one wins`);
          for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
          expect = to;
        }
        assert.equal((await b.tagHistory('el9', 'tested')).length, 10);
        // A tag names a snapshot of its own repository (store.md, invariant 4).
        await a.createRepo({ name: 'other', createdBy: 't' });
        const foreign = await a.commitSnapshot({ repo: 'other', parent: undefined, pages: page(3), files: [], packages: 1, repomd: digest('3'), actor: 't', message: '3', tags: ['latest'] });
        await assert.rejects(a.moveTag({ repo: 'el9', tag: 'tested', to: foreign.id, actor: 't', reason: 'x' }), NotFoundError);
        await assert.rejects(b.commitSnapshot({ repo: 'el9', parent: foreign.id, pages: page(4), files: [], packages: 1, repomd: digest('4'), actor: 't', message: '4', tags: ['latest'] }), ConflictError);
        assert.equal((await b.getTag('el9', 'tested'))?.snapshot, expect);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('sets: a lease, a promotion refused backwards, the sweep keeps what a set pins', async () => {
      const [a, b] = await kind.open();
      try {
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const s1 = await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: page(1), files: [], packages: 1, repomd: digest('1'), actor: 't', message: '1', tags: ['latest'] });
        const s2 = await a.commitSnapshot({ repo: 'el9', parent: s1.id, pages: page(2), files: [], packages: 1, repomd: digest('2'), actor: 't', message: '2', tags: ['latest'] });
        const set = await b.createSet({ members: [{ repo: 'el9', snapshot: s1.id }], actor: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
        assert.ok(set.id > s2.id, 'sets take ids from the snapshot sequence');
        await a.moveTag({ repo: 'el9', tag: 'tested', to: s2.id, actor: 't', reason: 'x' });
        await assert.rejects(b.promoteSet({ set: set.id, tag: 'tested', actor: 't', reason: 'y' }), ConflictError);
        const now = new Date().toISOString();
        const swept = await a.sweep({ snapshots: [s1.id], keep: { liveAt: now, movedSince: now }, recordsBefore: '2000-01-01T00:00:00.000Z' });
        assert.deepEqual(swept.kept, [s1.id]);
        await b.updateSet(set.id, { release: true });
        const again = await a.sweep({ snapshots: [s1.id], keep: { liveAt: new Date().toISOString(), movedSince: new Date().toISOString() }, recordsBefore: '2000-01-01T00:00:00.000Z' });
        assert.equal(again.snapshots, 1);
        assert.deepEqual((await b.listSnapshots('el9')).map((s) => s.id), [s2.id]);
        assert.ok(!(await a.referencedBlobs()).has(page(1)[0].packages[0].digest), 'the swept snapshot\'s page is gone');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test("the monitoring reads: counts, and the stored packages each counted once however many pages list them", async () => {
      const [a, b] = await kind.open();
      try {
        assert.deepEqual(await b.counts(), { repos: 0, snapshots: 0, sets: 0, packagesInLatest: 0 });
        assert.deepEqual(await b.storedPackages(), { count: 0, bytes: 0 });
        const entry = (i: number) => ({ href: `Packages/p/p-${i}.rpm`, digest: digest(`p${i}`), size: 100 + i, kind: 'package' as const });
        const pagesOf = (...ids: number[]) => paginate(ids.map(entry));
        await a.createRepo({ name: 'el9', createdBy: 't' });
        await a.createRepo({ name: 'el8', createdBy: 't' });
        const s1 = await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: pagesOf(1), files: [], packages: 1, repomd: digest('1'), actor: 't', message: '1', tags: ['latest'] });
        await a.commitSnapshot({ repo: 'el9', parent: s1.id, pages: pagesOf(1, 2), files: [], packages: 2, repomd: digest('2'), actor: 't', message: '2', tags: ['latest'] });
        await a.commitSnapshot({ repo: 'el8', parent: undefined, pages: pagesOf(2, 3), files: [], packages: 2, repomd: digest('3'), actor: 't', message: '3', tags: ['latest'] });
        // A tag other than latest adds nothing to latest's packages.
        await a.moveTag({ repo: 'el9', tag: 'tested', to: s1.id, actor: 't', reason: 'x' });
        await a.createSet({ members: [{ repo: 'el9', snapshot: s1.id }], actor: 't' });
        assert.deepEqual(await b.counts(), { repos: 2, snapshots: 3, sets: 1, packagesInLatest: 4 });
        assert.deepEqual(await b.storedPackages(), { count: 3, bytes: 101 + 102 + 103 });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('a released set stays released; a repo a live set pins is not deleted; a promotion needs every member', async () => {
      const [a, b] = await kind.open();
      try {
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const s1 = await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: page(1), files: [], packages: 1, repomd: digest('1'), actor: 't', message: '1', tags: ['latest'] });
        const set = await b.createSet({ members: [{ repo: 'el9', snapshot: s1.id }], actor: 't' });
        await assert.rejects(a.deleteRepo('el9'), (e: Error) => e instanceof ConflictError && e.message.includes(set.id));
        assert.ok(await b.getRepo('el9'), 'the pinned repo stays');
        const released = await b.updateSet(set.id, { release: true });
        assert.ok(released.releasedAt);
        await assert.rejects(a.updateSet(set.id, { expiresAt: new Date(Date.now() + 3600_000).toISOString() }), ConflictError);
        await assert.rejects(a.updateSet(set.id, { release: true }), ConflictError);
        assert.deepEqual(await b.getSet(set.id), released, 'the refused changes changed nothing');
        await a.deleteRepo('el9');
        assert.equal(await b.getRepo('el9'), undefined);
        await assert.rejects(b.promoteSet({ set: set.id, tag: 'tested', actor: 't', reason: 'x' }), NotFoundError);
        await assert.rejects(b.updateSet('20990101-000000-0001', { release: true }), NotFoundError);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('the sweep keeps a snapshot a tag moved from lately', async () => {
      const [a, b] = await kind.open();
      try {
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const s1 = await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: page(1), files: [], packages: 1, repomd: digest('1'), actor: 't', message: '1', tags: ['latest'] });
        const before = new Date(Date.now() - 60_000).toISOString();
        await a.commitSnapshot({ repo: 'el9', parent: s1.id, pages: page(2), files: [], packages: 1, repomd: digest('2'), actor: 't', message: '2', tags: ['latest'] });
        // latest moved from s1 a moment ago: a client may still be reading s1 through it.
        const now = new Date().toISOString();
        const swept = await b.sweep({ snapshots: [s1.id], keep: { liveAt: now, movedSince: before }, recordsBefore: before });
        assert.deepEqual([swept.snapshots, swept.kept], [0, [s1.id]]);
        const later = new Date(Date.now() + 1000).toISOString();
        assert.equal((await b.sweep({ snapshots: [s1.id], keep: { liveAt: later, movedSince: later }, recordsBefore: before })).snapshots, 1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('the blob ledger: a claimed blob is reported to writers, a used one is not claimed', async () => {
      const [a, b] = await kind.open();
      try {
        const [x, y, z] = ['x', 'y', 'z'].map(digest);
        const past = new Date(Date.now() - 60_000).toISOString();
        // y is used now: gc, which looks for blobs unused since a minute ago, leaves it.
        assert.deepEqual(await a.recordBlobUses([y]), []);
        assert.deepEqual((await b.claimBlobRemovals([x, y], past)).sort(), [x]);
        // A writer reusing x now learns that gc is removing it, and waits it out.
        assert.deepEqual(await a.recordBlobUses([x, z]), [x]);
        assert.deepEqual(await a.blobRemovalsPending([x, y, z]), [x]);
        await b.finishBlobRemovals([x]);
        assert.deepEqual(await a.blobRemovalsPending([x]), []);
        // A blob a snapshot lists is never claimed, used or not.
        await a.createRepo({ name: 'el9', createdBy: 't' });
        const listed = page(7)[0].packages[0].digest;
        await a.commitSnapshot({ repo: 'el9', parent: undefined, pages: page(7), files: [], packages: 1, repomd: digest('r'), actor: 't', message: '', tags: ['latest'] });
        assert.deepEqual(await b.claimBlobRemovals([listed], new Date(Date.now() + 60_000).toISOString()), []);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test('signing keys and repository settings: stored once, seen by every handle, removed', async () => {
      const [a, b] = await kind.open();
      try {
        const key = { fingerprint: 'f'.repeat(40), publicKey: 'PUBLIC', privateKey: 'PRIVATE', addedBy: 't' };
        const added = await a.addSigningKey(key);
        assert.ok(added.addedAt);
        await assert.rejects(b.addSigningKey(key), AlreadyExistsError);
        assert.deepEqual(await b.listSigningKeys(), [added]);
        assert.deepEqual(await b.removeSigningKey(key.fingerprint), added);
        assert.deepEqual(await a.listSigningKeys(), []);
        await assert.rejects(a.removeSigningKey(key.fingerprint), NotFoundError);

        await a.createRepo({ name: 'el9', keep: 3, createdBy: 't' });
        const policy = [{ fingerprint: 'a'.repeat(40), publicKey: 'KEY A' }];
        const updated = await b.updateRepo('el9', { requireSigned: policy, retainDays: 2.5, keep: null });
        assert.deepEqual({ ...updated, createdAt: '' }, { name: 'el9', retainDays: 2.5, requireSigned: policy, createdAt: '', createdBy: 't' });
        assert.deepEqual(await a.getRepo('el9'), updated);
        // Given fields change, others stay; null (or no keys) clears.
        assert.deepEqual((await a.updateRepo('el9', { upstream: 'https://example.org/r/' })).requireSigned, policy);
        const cleared = await a.updateRepo('el9', { requireSigned: null, retainDays: null, upstream: null });
        assert.deepEqual({ ...cleared, createdAt: '' }, { name: 'el9', createdAt: '', createdBy: 't' });
        await assert.rejects(a.updateRepo('nope', { keep: 1 }), NotFoundError);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
}

describe('PostgreSQL catalog: bad settings', { skip: NEEDS_PG.skip }, () => {
  test('a clear error naming the URL, without its password', async () => {
    const refused = await PgCatalog.open('postgres://u:secret@127.0.0.1:1/db').then(
      () => assert.fail('opened'),
      (e: Error) => e,
    );
    assert.ok(refused instanceof StoreError, String(refused));
    assert.match(refused.message, /cannot reach the PostgreSQL server/);
    assert.doesNotMatch(refused.message, /secret/);
    const u = new URL(pgUrl('x'));
    u.password = 'wrong-password';
    await assert.rejects(PgCatalog.open(u.toString()), (e: Error) => e instanceof StoreError && /refused the login/.test(e.message) && !e.message.includes('wrong-password'));
    await assert.rejects(PgCatalog.open(pgUrl('Bad-Name')), (e: Error) => e instanceof StoreError && /schema/.test(e.message));
    await assert.rejects(PgCatalog.open('mysql://h/db'), (e: Error) => e instanceof StoreError && /not a PostgreSQL URL/.test(e.message));
  });
});

interface BlobKind {
  name: string;
  open(): Promise<{ blobs: BlobStore; close(): Promise<void> }>;
}

const blobKinds: BlobKind[] = [
  {
    name: 'local',
    open: async () => {
      const blobs = new LocalBlobStore(join(work, unique()));
      await blobs.init();
      return { blobs, close: async () => {} };
    },
  },
  {
    name: 'S3',
    open: async () => {
      const ledger = new SqliteCatalog(join(work, `${unique()}.sqlite`));
      const blobs = await S3BlobStore.open(s3Url(unique(), s3.url), join(work, unique()), ledger);
      return { blobs, close: async () => (blobs.close(), ledger.close()) };
    },
  },
];

for (const kind of blobKinds) {
  describe(`${kind.name} blobs`, () => {
    test('content-addressed, idempotent, verified; a mismatch stores nothing', async () => {
      const { blobs, close } = await kind.open();
      try {
        const a = await blobs.putBytes(Buffer.from('hello'));
        assert.equal(a.digest, digest('hello'));
        assert.deepEqual(await blobs.putBytes(Buffer.from('hello')), a);
        assert.equal((await blobs.read(a.digest))?.toString(), 'hello');
        assert.equal((await blobs.read(a.digest, { start: 1, end: 3 }))?.toString(), 'el');
        const wrong = Buffer.from('not what was announced');
        await assert.rejects(blobs.putBytes(wrong, { digest: 'ab'.repeat(32) }), BlobMismatchError);
        await assert.rejects(blobs.putStream(Readable.from([Buffer.from('0123456789')]), { size: 4 }), BlobMismatchError);
        assert.equal(await blobs.stat(digest('not what was announced')), undefined);
        assert.equal(await blobs.stat(digest('0123456789')), undefined);
        // A stream that fails midway leaves nothing.
        const failing = Readable.from(
          (async function* () {
            yield Buffer.from('first half ');
            throw new Error('connection reset');
          })(),
        );
        await assert.rejects(blobs.putStream(failing), /connection reset/);
        assert.equal(await blobs.stat(digest('first half ')), undefined);
        const listed = [];
        for await (const b of blobs.list()) listed.push(b.digest);
        assert.deepEqual(listed, [a.digest]);
      } finally {
        await close();
      }
    });

    test('a blob written piece by piece, streamed or staged is verified before it is stored', async () => {
      const { blobs, close } = await kind.open();
      try {
        const text = 'piece by piece';
        const wrong = await blobs.create();
        await wrong.write(Buffer.from('piece '));
        await wrong.write(Buffer.from('by piece'));
        await assert.rejects(wrong.commit({ digest: digest('something else') }), BlobMismatchError);
        await wrong.abort();
        assert.equal(await blobs.stat(digest(text)), undefined);
        const right = await blobs.create();
        await right.write(Buffer.from(text));
        assert.deepEqual(await right.commit({ digest: digest(text), size: text.length }), { digest: digest(text), size: text.length });
        // A stream that ends before the size announced.
        await assert.rejects(blobs.putStream(Readable.from([Buffer.from('short')]), { size: 10 }), BlobMismatchError);
        assert.equal(await blobs.stat(digest('short')), undefined);
        // A staged file is hashed (the caller did not vouch for it), and consumed either way.
        const staged = blobs.stagingPath()!;
        await writeFile(staged, 'staged');
        await assert.rejects(blobs.adopt(staged, { digest: digest('other'), size: 6 }), BlobMismatchError);
        assert.equal(await stat(staged).catch(() => undefined), undefined);
        assert.equal(await blobs.stat(digest('staged')), undefined);
        const again = blobs.stagingPath()!;
        await writeFile(again, 'staged');
        assert.deepEqual(await blobs.adopt(again, { size: 6 }), { digest: digest('staged'), size: 6 });
      } finally {
        await close();
      }
    });

    test('a large blob (in parts, on S3) reads back whole and by range', async () => {
      const { blobs, close } = await kind.open();
      try {
        const big = randomBytes(40 << 20);
        const file = join(work, `${unique()}.bin`);
        await writeFile(file, big);
        const info = await blobs.putFile(file, { size: big.length });
        assert.equal(info.digest, createHash('sha256').update(big).digest('hex'));
        assert.equal((await blobs.stat(info.digest))?.size, big.length);
        const chunks: Buffer[] = [];
        for await (const c of await blobs.open(info.digest)) chunks.push(c as Buffer);
        assert.ok(Buffer.concat(chunks).equals(big));
        const mid = (await blobs.read(info.digest, { start: (16 << 20) - 5, end: (16 << 20) + 5 }))!;
        assert.ok(mid.equals(big.subarray((16 << 20) - 5, (16 << 20) + 5)), 'a range across a part boundary');
        const copy = (await blobs.localCopy(info.digest))!;
        assert.ok((await readFile(copy.path)).equals(big));
        await copy.release();
      } finally {
        await close();
      }
    });
  });
}

describe('S3 blobs: gc and writers', () => {
  test('a writer reusing a blob gc has claimed waits for the removal, then stores it again', async () => {
    const ledger = new SqliteCatalog(join(work, `${unique()}.sqlite`));
    const prefix = unique();
    const blobs = await S3BlobStore.open(s3Url(prefix, s3.url), join(work, unique()), ledger);
    try {
      const b = await blobs.putBytes(Buffer.from('reused'));
      // gc plans with "unused since" in the future: everything unlisted is old to it.
      const future = new Date(Date.now() + 60_000);
      const [claimed] = await ledger.claimBlobRemovals([b.digest], future.toISOString());
      assert.equal(claimed, b.digest);
      // The writer's put must not count on the blob gc is about to delete: it waits.
      let settled = false;
      const put = blobs.putBytes(Buffer.from('reused')).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false, 'the writer waits while the claim stands');
      // gc removes it and finishes its claim; the writer then uploads it anew.
      const { DeleteObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
      const where = new URL(s3.url);
      const client = new S3Client({ endpoint: where.origin, forcePathStyle: true, region: 'us-east-1' });
      await client.send(new DeleteObjectCommand({ Bucket: where.pathname.slice(1), Key: `${prefix}/sha256/${b.digest.slice(0, 2)}/${b.digest}` }));
      client.destroy();
      assert.equal(await blobs.stat(b.digest), undefined);
      await ledger.finishBlobRemovals([b.digest]);
      await put;
      assert.equal((await blobs.read(b.digest))?.toString(), 'reused', 'the writer stored it again');
    } finally {
      blobs.close();
      await ledger.close();
    }
  });

  test('a blob a writer reused within the grace window is not swept', async () => {
    const ledger = new SqliteCatalog(join(work, `${unique()}.sqlite`));
    const blobs = await S3BlobStore.open(s3Url(unique(), s3.url), join(work, unique()), ledger);
    try {
      const b = await blobs.putBytes(Buffer.from('young'));
      assert.equal(await blobs.touch(b.digest), true);
      assert.equal(await blobs.sweep(b.digest, new Date(Date.now() - 60_000)), false);
      assert.ok(await blobs.stat(b.digest));
      // Unused since long ago (as gc sees it once the grace window has passed): swept.
      assert.equal(await blobs.sweep(b.digest, new Date(Date.now() + 60_000)), true);
      assert.equal(await blobs.stat(b.digest), undefined);
      assert.equal(await blobs.touch(b.digest), false);
    } finally {
      blobs.close();
      await ledger.close();
    }
  });

  test('presigned download URLs serve the blob', async () => {
    const ledger = new SqliteCatalog(join(work, `${unique()}.sqlite`));
    const blobs = await S3BlobStore.open(s3Url(unique(), s3.url), join(work, unique()), ledger);
    try {
      const b = await blobs.putBytes(Buffer.from('package bytes'));
      const url = (await blobs.downloadUrl(b.digest, { expiresIn: 60, fileName: 'bear-4.1-1.noarch.rpm' }))!;
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'package bytes');
    } finally {
      blobs.close();
      await ledger.close();
    }
  });

  test('bad settings: a clear error, and no store left behind', async () => {
    const dir = join(work, unique());
    await assert.rejects(openStore(dir, { blobs: 's3://no-such-bucket/p?endpoint=' + new URL(s3.url).origin }), (e: Error) => e instanceof StoreError && /no bucket no-such-bucket; create it first/.test(e.message));
    await assert.rejects(openStore(dir, { blobs: 's3://bucket-x/p?endpoint=http://127.0.0.1:1' }), (e: Error) => e instanceof StoreError && /cannot reach the S3 endpoint/.test(e.message));
    await assert.rejects(openStore(dir, { blobs: 'https://bucket/p' }), (e: Error) => e instanceof StoreError && /not an s3:\/\/ URL/.test(e.message));
    await assert.rejects(openStore(dir, { blobs: 's3://bucket/../x' }), StoreError);
    await assert.rejects(openStore(dir, { blobs: 's3://bucket/p?endpoint=http://x&colour=red' }), /unknown parameter "colour"/);
    await assert.rejects(readFile(join(dir, 'txrepo-store.json')), { code: 'ENOENT' });
    await assert.rejects(readdir(dir), { code: 'ENOENT' }, 'a store that could not be created leaves no directory');
    // Nor files in a directory that was there (an embedded catalog opened before the bucket failed).
    await mkdir(dir);
    await assert.rejects(openStore(dir, { blobs: 's3://bucket-x/p?endpoint=http://127.0.0.1:1' }), StoreError);
    assert.deepEqual(await readdir(dir), []);
    // A store made on its own blob directory refuses to be opened on S3 later, and back.
    const local = await openStore(dir);
    await local.close();
    await assert.rejects(openStore(dir, { blobs: s3Url('p', s3.url) }), (e: Error) => e instanceof StoreError && /uses its own blob directory/.test(e.message));
  });

  test('fsck on object storage: a damaged or missing object is reported', async () => {
    const dir = join(work, unique());
    const prefix = unique();
    const store = await openStore(dir, { blobs: s3Url(prefix, s3.url) });
    const { LocalTxrepo } = await import('../../src/core/index.ts');
    const tx = new LocalTxrepo(store, 'test');
    const { DeleteObjectCommand, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const where = new URL(s3.url);
    const client = new S3Client({ endpoint: where.origin, forcePathStyle: true, region: 'us-east-1' });
    try {
      await tx.createRepo({ name: 'el9' });
      await tx.deploy({ repo: 'el9', sources: [sample('bear-4.1-1.noarch.rpm')] });
      assert.deepEqual((await tx.fsck({ verifyBlobs: true })).problems, []);
      const bear = (await tx.showSnapshot('el9', 'latest', { files: true })).files!.find((f) => f.href.endsWith('bear-4.1-1.noarch.rpm'))!;
      const Key = `${prefix}/sha256/${bear.sha256.slice(0, 2)}/${bear.sha256}`;
      const Bucket = where.pathname.slice(1);
      await client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('corrupted') }));
      const size = (await stat(sample('bear-4.1-1.noarch.rpm'))).size;
      assert.ok((await tx.fsck({})).problems.join('\n').includes(`bear-4.1-1.noarch.rpm: blob ${bear.sha256} has 9 bytes, the catalog says ${size}`));
      assert.match((await tx.fsck({ verifyBlobs: true })).problems.join('\n'), /does not hash to its name \(corrupted\)/);
      await client.send(new DeleteObjectCommand({ Bucket, Key }));
      assert.match((await tx.fsck({})).problems.join('\n'), /bear-4.1-1.noarch.rpm: blob [0-9a-f]+ is missing/);
    } finally {
      client.destroy();
      await tx.close();
    }
  });

  test('blobs read whole are cached locally; a damaged object reads as absent', async () => {
    const ledger = new SqliteCatalog(join(work, `${unique()}.sqlite`));
    const prefix = unique();
    const dir = join(work, unique());
    const blobs = await S3BlobStore.open(s3Url(prefix, s3.url), join(dir, 'tmp'), ledger);
    const { DeleteObjectCommand, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const where = new URL(s3.url);
    const client = new S3Client({ endpoint: where.origin, forcePathStyle: true, region: 'us-east-1' });
    const Bucket = where.pathname.slice(1);
    const keyOf = (d: string) => `${prefix}/sha256/${d.slice(0, 2)}/${d}`;
    try {
      const page = await blobs.putBytes(Buffer.from('a rendered page'));
      assert.equal((await blobs.read(page.digest))?.toString(), 'a rendered page');
      assert.ok((await readdir(join(dir, 'cache', page.digest.slice(0, 2)))).includes(page.digest));
      // Read again with the object gone: from the cache, which holds what the name says.
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(page.digest) }));
      assert.equal((await blobs.read(page.digest))?.toString(), 'a rendered page');
      // An object that does not hash to its name is not cached and reads as absent.
      const other = await blobs.putBytes(Buffer.from('another page'));
      await client.send(new PutObjectCommand({ Bucket, Key: keyOf(other.digest), Body: Buffer.from('damaged') }));
      assert.equal(await blobs.read(other.digest), undefined);
      assert.ok(!(await readdir(join(dir, 'cache', other.digest.slice(0, 2))).catch(() => [] as string[])).includes(other.digest));
      // gc's staging sweep drops cached blobs not read since its cutoff.
      await blobs.sweepStaging(new Date(Date.now() + 1000));
      assert.deepEqual(await readdir(join(dir, 'cache', page.digest.slice(0, 2))), []);
    } finally {
      client.destroy();
      blobs.close();
      await ledger.close();
    }
  });
});
