// Garbage collection: applies each repository's retention policy, then removes what no
// snapshot uses any more (pages, cached renderings, package records, blobs).
//
// Never removed: a snapshot a tag points at, one a tag pointed at within the grace
// window (a client that read repomd.xml through the tag just before it moved is still
// downloading), one a live set pins, and anything a write that has not committed yet
// may list: blobs and records written or reused within the grace window (see
// BlobStore.sweep for why a writer and gc cannot cross).

import type { Repository, Snapshot, Store } from '../store/index.ts';

export interface GcOptions {
  dryRun?: boolean;
  /** Grace window, in milliseconds, for tag moves and for unreferenced blobs and records. */
  graceMs: number;
  now?: Date;
}

export interface GcReport {
  dryRun: boolean;
  /** The snapshots removed (or that would be). */
  snapshots: { repo: string; id: string; createdAt: string }[];
  blobs: number;
  bytes: number;
  /** Staging files of killed runs. */
  staging: { files: number; bytes: number };
  /** How many snapshots beyond the policy each reason kept (one may have several). */
  protectedBy: { tags: number; tagGrace: number; sets: number };
}

/** The snapshots of `repo` its policy does not keep: beyond the newest N and older than D days. */
export function beyondRetention(repo: Repository, snapshots: Snapshot[], now: Date): Snapshot[] {
  if (repo.retainLast === undefined && repo.retainDays === undefined) return [];
  const newestFirst = [...snapshots].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const cutoff = repo.retainDays === undefined ? undefined : now.getTime() - repo.retainDays * 86_400_000;
  return newestFirst.filter((s, i) => {
    const keptByCount = repo.retainLast !== undefined && i < repo.retainLast;
    const keptByAge = cutoff !== undefined && Date.parse(s.createdAt) >= cutoff;
    return !keptByCount && !keptByAge;
  });
}

export async function gc(store: Store, opts: GcOptions): Promise<GcReport> {
  const { catalog, blobs } = store;
  const now = opts.now ?? new Date();
  const since = new Date(now.getTime() - opts.graceMs);
  const live = new Set((await catalog.listSets({ liveAt: now.toISOString() })).flatMap((s) => s.members.map((m) => m.snapshot)));
  const recentMoves = await catalog.tagMovesSince(since.toISOString());
  const inGrace = new Set(recentMoves.flatMap((m) => (m.from ? [m.from, m.to] : [m.to])));

  const protectedBy = { tags: 0, tagGrace: 0, sets: 0 };
  let doomed: { repo: string; id: string; createdAt: string }[] = [];
  for (const repo of await catalog.listRepos()) {
    const tagged = new Set((await catalog.listTags(repo.name)).map((t) => t.snapshot));
    for (const s of beyondRetention(repo, await catalog.listSnapshots(repo.name), now)) {
      // Counted under every reason that keeps it.
      if (tagged.has(s.id)) protectedBy.tags++;
      if (inGrace.has(s.id)) protectedBy.tagGrace++;
      if (live.has(s.id)) protectedBy.sets++;
      if (!tagged.has(s.id) && !inGrace.has(s.id) && !live.has(s.id)) doomed.push({ repo: repo.name, id: s.id, createdAt: s.createdAt });
    }
  }
  const ids = doomed.map((d) => d.id);

  let referenced: Set<string>;
  if (opts.dryRun) {
    referenced = await catalog.referencedBlobs(ids);
  } else {
    // Also when no snapshot goes: pages, cache rows and records left by earlier removals.
    const swept = await catalog.sweep({ snapshots: ids, keep: { liveAt: now.toISOString(), movedSince: since.toISOString() }, recordsBefore: since.toISOString() });
    // A tag or a set took these after the plan: they stay.
    doomed = doomed.filter((d) => !swept.kept.includes(d.id));
    referenced = await catalog.referencedBlobs();
  }

  let count = 0;
  let bytes = 0;
  for await (const b of blobs.list()) {
    if (referenced.has(b.digest) || b.usedAt >= since) continue;
    if (opts.dryRun || (await blobs.sweep(b.digest, since))) {
      count++;
      bytes += b.size;
    }
  }
  const staging = opts.dryRun ? { files: 0, bytes: 0 } : await blobs.sweepStaging(since);
  return { dryRun: Boolean(opts.dryRun), snapshots: doomed, blobs: count, bytes, staging, protectedBy };
}
