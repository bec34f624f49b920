// Finds one file of a snapshot by its href, for a server answering many requests: the
// snapshot's page list is read once and searched (pages are in package order), then
// only the one page that can hold the href is read. Both are cached: snapshots and
// pages never change (a snapshot gc removed is no longer resolved by its callers).

import { pageIndexOf, type Catalog, type PageRef, type SnapshotFile } from '../store/index.ts';

/** A small least-recently-used map. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as K);
  }
}

export class SnapshotLookup {
  private readonly catalog: Catalog;
  private readonly metadata = new Lru<string, Map<string, SnapshotFile>>(256);
  private readonly pageLists = new Lru<string, PageRef[]>(64);
  private readonly pages = new Lru<string, SnapshotFile[]>(4096);

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  async find(snapshot: string, href: string): Promise<SnapshotFile | undefined> {
    let meta = this.metadata.get(snapshot);
    if (!meta) this.metadata.set(snapshot, (meta = new Map((await this.catalog.snapshotMetadata(snapshot)).map((f) => [f.href, f]))));
    const m = meta.get(href);
    if (m) return m;
    let list = this.pageLists.get(snapshot);
    if (!list) this.pageLists.set(snapshot, (list = await this.catalog.snapshotPages(snapshot)));
    if (list.length === 0) return undefined;
    const key = list[pageIndexOf(list, href)].key;
    let entries = this.pages.get(key);
    if (!entries) {
      entries = (await this.catalog.getPages([key])).get(key) ?? [];
      this.pages.set(key, entries);
    }
    return entries.find((f) => f.href === href);
  }
}
