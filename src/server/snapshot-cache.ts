// The snapshots the read paths name by id, kept for a moment: a download of a snapshot
// path is then a lookup and a send, without a catalog query per request.
//
// A snapshot never changes once made; the one change is gc removing it. So an entry
// may only be stale in that one way, and only for `ttlMs`: a snapshot gc removed is
// still resolved that long by a process that saw it just before (its files answer as
// before, or 410 once their blobs are gone: never other bytes). Nothing else is
// cached here: a tag's snapshot is read from the catalog on every request, so a moved
// tag is followed at once (yum.ts).

import type { Catalog, Snapshot } from '../store/index.ts';

/** How long a snapshot found is trusted without asking the catalog again. */
export const SNAPSHOT_TTL_MS = 1000;
/** Entries kept: the hot snapshots of a busy server, a few hundred bytes each. */
const LIMIT = 1024;

export class SnapshotCache {
  private readonly catalog: Catalog;
  private readonly ttlMs: number;
  /** repo + '\n' + id -> the snapshot and when it was read; in order of use (a Map keeps insertion order). */
  private readonly entries = new Map<string, { snapshot: Snapshot; read: number }>();

  constructor(catalog: Catalog, ttlMs = SNAPSHOT_TTL_MS) {
    this.catalog = catalog;
    this.ttlMs = ttlMs;
  }

  /** The snapshot `id` of `repo`, or undefined if the catalog has none (absence is not cached). */
  async get(repo: string, id: string): Promise<Snapshot | undefined> {
    const key = `${repo}\n${id}`;
    const now = performance.now();
    const hit = this.entries.get(key);
    this.entries.delete(key);
    if (hit && now - hit.read < this.ttlMs) {
      this.entries.set(key, hit);
      return hit.snapshot;
    }
    const snapshot = await this.catalog.getSnapshot(repo, id);
    if (snapshot) {
      this.entries.set(key, { snapshot, read: now });
      if (this.entries.size > LIMIT) this.entries.delete(this.entries.keys().next().value as string);
    }
    return snapshot;
  }
}
