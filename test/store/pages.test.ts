// Package pages: the incremental path (replacePages after pageIndexOf) must give
// exactly the pages a full paginate gives, or snapshots would differ by history.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { pageIndexOf, paginate, replacePages, type PackagePage, type PageRef, type SnapshotFile } from '../../src/store/index.ts';

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
