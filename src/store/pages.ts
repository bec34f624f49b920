// A snapshot's package list in pages. Packages are kept in createrepo_c's order (by
// file name, then path) and cut after every package whose href hashes to 0 mod 32:
// about 32 packages a page, and since a boundary depends only on the href that ends the
// page, adding or removing a package changes only the page it falls in. A page's key is
// a hash of its entries, so equal runs of packages in any two snapshots share one page
// in the catalog and one rendered repodata page.

import { createHash } from 'node:crypto';
import type { PackagePage, PageRef, SnapshotFile } from './catalog.ts';

const PAGE_FORMAT = 'txrepo-package-page-v1';

const baseName = (href: string) => href.slice(href.lastIndexOf('/') + 1);

/** createrepo_c's package order: by file name, then by path. */
export function byFileNameThenPath(a: { href: string }, b: { href: string }): number {
  const na = baseName(a.href);
  const nb = baseName(b.href);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.href < b.href ? -1 : a.href > b.href ? 1 : 0;
}

/** FNV-1a of the href: stable across versions of txrepo, cheap. */
function endsPage(href: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < href.length; i++) {
    h ^= href.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h & 31) === 0;
}

export function pageKey(packages: SnapshotFile[]): string {
  const h = createHash('sha256').update(`${PAGE_FORMAT}\n`);
  for (const p of packages) h.update(`${p.href}\0${p.digest}\0${p.size}\n`);
  return h.digest('hex');
}

function makePage(packages: SnapshotFile[]): PackagePage {
  return { key: pageKey(packages), count: packages.length, last: packages[packages.length - 1].href, packages };
}

/** Sorts packages into createrepo_c's order and cuts them into keyed pages. */
export function paginate(packages: SnapshotFile[]): PackagePage[] {
  const sorted = [...packages].sort(byFileNameThenPath);
  const out: PackagePage[] = [];
  let page: SnapshotFile[] = [];
  for (const p of sorted) {
    page.push(p);
    if (endsPage(p.href)) {
      out.push(makePage(page));
      page = [];
    }
  }
  if (page.length) out.push(makePage(page));
  return out;
}

/**
 * Where packages would go in a list of pages: for each href, the index of the page
 * that holds it or would hold it (the first page ending at or after it; past the end,
 * the last page). Pages are in order, so this is a binary search per href.
 */
export function pageIndexOf(pages: PageRef[], href: string): number {
  let lo = 0;
  let hi = pages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byFileNameThenPath({ href: pages[mid].last }, { href }) >= 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The pages of `pages` with `changed` (page index -> that page's new package list)
 * cut again. Boundaries depend only on hrefs, so cutting one page's changed list gives
 * exactly the pages a full paginate would, as long as the list still ends where the
 * page ended; the rest are kept. A page that lost its last package no longer ends
 * there: give the run of it and the pages after it up to a boundary as one list, under
 * its first page, and the others of the run as empty lists.
 */
export function replacePages(pages: PageRef[], changed: Map<number, SnapshotFile[]>): (PageRef | PackagePage)[] {
  const out: (PageRef | PackagePage)[] = [];
  for (const [i, page] of pages.entries()) {
    const list = changed.get(i);
    if (list === undefined) out.push(page);
    else out.push(...paginate(list));
  }
  return out;
}
