// Package pages and the repodata made from them. The incremental path (replacePages
// after pageIndexOf) must give exactly the pages a full paginate gives, or snapshots
// would differ by history; the open-checksums must be right whichever thread hashes.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { parseRepomd } from '../../src/metadata/index.ts';
import { deploy, generateRepodata } from '../../src/snapshots/index.ts';
import { pageIndexOf, paginate, replacePages, type PackagePage, type PageRef, type SnapshotFile, type Store } from '../../src/store/index.ts';
import { LOCAL_ONLY, openTestStore } from '../helpers/backends.ts';
import { SAMPLES } from '../helpers/samples.ts';


/** A deterministic stream of pseudo-random package entries. */
function entries(seed: string, n: number): SnapshotFile[] {
  return Array.from({ length: n }, (_, i) => {
    const h = createHash('sha256').update(`${seed}-${i}`).digest('hex');
    const name = `${h.slice(0, 2 + (i % 5))}-${seed}.${i}-1.x86_64.rpm`; // hrefs are unique in a snapshot
    return { href: `Packages/${name[0]}/${name}`, digest: h, size: i, kind: 'package' as const };
  });
}

/** Adds packages the way deploy does: only the pages they fall in are touched. */
function addIncrementally(pages: PackagePage[], additions: SnapshotFile[]): (PageRef | PackagePage)[] {
  const changed = new Map<number, SnapshotFile[]>();
  for (const a of additions) {
    const i = pageIndexOf(pages, a.href);
    changed.set(i, [...(changed.get(i) ?? pages[i].packages), a]);
  }
  return replacePages(pages, changed);
}

describe('package pages', () => {
  test('about 32 packages a page, in createrepo_c order, each keyed by its entries', () => {
    const all = entries('a', 3000);
    const pages = paginate(all);
    assert.ok(pages.length > 50 && pages.length < 180, `${pages.length} pages`);
    const flat = pages.flatMap((p) => p.packages);
    assert.equal(flat.length, all.length);
    for (const p of pages) {
      assert.equal(p.count, p.packages.length);
      assert.equal(p.last, p.packages.at(-1)!.href);
    }
    assert.deepEqual(paginate([...all].reverse()).map((p) => p.key), pages.map((p) => p.key));
    const changedDigest = all.map((e, i) => (i === 1234 ? { ...e, digest: 'f'.repeat(64) } : e));
    const differing = paginate(changedDigest).filter((p, i) => p.key !== pages[i].key);
    assert.equal(differing.length, 1, 'one changed package changes one page key');
  });

  test('adding packages page by page equals paginating the whole list', () => {
    let list = entries('base', 2000);
    let pages = paginate(list);
    for (let round = 0; round < 20; round++) {
      const additions = entries(`round-${round}`, 1 + (round % 4) * 7);
      const incremental = addIncrementally(pages, additions);
      list = [...list, ...additions];
      const full = paginate(list);
      assert.deepEqual(incremental.map((p) => p.key), full.map((p) => p.key), `round ${round}`);
      pages = full;
    }
    // Past the last page and into an empty list.
    const tail = { href: 'Packages/z/zzzz-1-1.x86_64.rpm', digest: 'e'.repeat(64), size: 1, kind: 'package' as const };
    assert.deepEqual(addIncrementally(pages, [tail]).map((p) => p.key), paginate([...list, tail]).map((p) => p.key));
    assert.equal(pageIndexOf([], tail.href), 0);
  });
});

describe('repodata from pages', () => {
  test('the same files assembled from local blobs and streamed; open-checksums equal the real ones', LOCAL_ONLY, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'txrepo-pages-'));
    const store = await openTestStore(join(dir, 'store'));
    try {
      await store.catalog.createRepo({ name: 'r', createdBy: 't' });
      const r = await deploy(store, { repo: 'r', sources: [SAMPLES], actor: 't' });
      const pages = await store.catalog.snapshotPages(r.latest);
      const parse = async (digest: string) => parseRepomd((await store.blobs.read(digest))!.toString(), 'repomd.xml').records;
      const local = await parse((await generateRepodata(store, pages, { timestamp: 1 })).repomd);
      // A blob store without local files (object storage) gets the same files, streamed.
      const noLocalFiles = new Proxy(store.blobs, {
        get: (blobs, name) => (name === 'localPath' || name === 'stagingPath' ? () => undefined : Reflect.get(blobs, name).bind(blobs)),
      });
      const remote: Store = { ...store, blobs: noLocalFiles };
      assert.deepEqual(await parse((await generateRepodata(remote, pages, { timestamp: 1 })).repomd), local);
      // A cached page whose blob is gone (gc) or cut short (damage) is rendered again.
      const cachedRows = await store.catalog.getRepodataPages([...(await allRepodataKeys(store))]);
      const [first, second] = [...cachedRows.values()];
      assert.ok(second, 'the fixture makes at least two pages');
      for (const each of [store, remote]) {
        await rm(store.blobs.localPath(first.blob)!);
        await chmod(store.blobs.localPath(second.blob)!, 0o644);
        await truncate(store.blobs.localPath(second.blob)!, 10);
        const again = await parse((await generateRepodata(each, pages, { timestamp: 1 })).repomd);
        assert.deepEqual(again, local);
      }
      assert.equal((await store.blobs.stat(first.blob))?.size, first.primary.size + first.filelists.size + first.other.size + first.primary.openSize + first.filelists.openSize + first.other.openSize);
      for (const rec of local) {
        const blob = (await store.blobs.read(rec.checksum.value))!;
        const text = zlib.gunzipSync(blob);
        assert.equal(createHash('sha256').update(text).digest('hex'), rec.openChecksum?.value, rec.type);
        assert.equal(text.length, rec.openSize, rec.type);
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The repodata page keys in the catalog (test helper: straight from SQLite). */
async function allRepodataKeys(store: Store): Promise<string[]> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(store.dir, 'catalog.sqlite'), { readOnly: true });
  try {
    return (db.prepare('SELECT key FROM repodata_pages').all() as { key: string }[]).map((r) => r.key);
  } finally {
    db.close();
  }
}
