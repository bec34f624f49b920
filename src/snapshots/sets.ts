// Sets: one snapshot per repository, pinned for a run ("flow") with a lease. While the
// lease holds, gc keeps the snapshots; any number of sets can be live at once.

import { NotFoundError, type SnapshotSet, type Store } from '../store/index.ts';
import { checkRepoName } from './names.ts';
import { parseRepoRef, RefError, resolveRef } from './refs.ts';
import { setMemberPath } from './paths.ts';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration: 90s, 30m, 12h, 3d, 2w (or a sum: 1d12h); 0 of any unit is none (0s). */
export function parseDuration(s: string): number {
  const parts = /^(?:\d+[smhdw])+$/.test(s) ? [...s.matchAll(/(\d+)([smhdw])/g)] : [];
  const ms = parts.reduce((n, [, count, unit]) => n + Number(count) * UNITS[unit], 0);
  if (!parts.length || !Number.isSafeInteger(ms)) throw new RefError(`${JSON.stringify(s)} is not a duration: use a number and a unit, s, m, h, d or w (90s, 12h, 3d, 1d12h, 0s)`);
  return ms;
}

export const DEFAULT_SET_TTL = '3d';

export interface SetRequest {
  /** REPO or REPO@REF (REF: snapshot id, tag, tag@TIME; default latest). */
  refs: string[];
  label?: string;
  /** Lease length (default 3d); 'forever' keeps the set until released. */
  ttl?: string;
  actor: string;
}

/** Whether the set's lease holds at `now`. */
export function isLive(set: SnapshotSet, now = new Date()): boolean {
  return !set.releasedAt && (set.expiresAt === undefined || Date.parse(set.expiresAt) > now.getTime());
}

/** How and when a set's lease ended. */
export interface LeaseEnded {
  how: 'released' | 'expired';
  at: string;
}

/** A set as both shells show it: whether its lease holds, and if not, how it ended. */
export interface SetView extends SnapshotSet {
  live: boolean;
  /** Absent while the lease holds. */
  ended?: LeaseEnded;
}

export function viewOfSet(set: SnapshotSet, now = new Date()): SetView {
  const live = isLive(set, now);
  if (live) return { ...set, live };
  const ended: LeaseEnded = set.releasedAt ? { how: 'released', at: set.releasedAt } : { how: 'expired', at: set.expiresAt! };
  return { ...set, live, ended };
}

export function leaseEnd(ttl: string, now = new Date()): string | undefined {
  if (ttl === 'forever') return undefined;
  const ms = parseDuration(ttl);
  // A lease of nothing would pin nothing: a mistake, not a request.
  if (ms === 0) throw new RefError(`lease ${JSON.stringify(ttl)}: give a duration above 0 (or 'forever'); to end a lease, release the set`);
  return new Date(now.getTime() + ms).toISOString();
}

export async function createSet(store: Store, req: SetRequest): Promise<SnapshotSet> {
  if (req.refs.length === 0) throw new RefError('give at least one REPO[@REF] to pin');
  const members: { repo: string; snapshot: string }[] = [];
  for (const ref of req.refs) {
    const { repo, ref: r } = parseRepoRef(ref);
    checkRepoName(repo);
    if (members.some((m) => m.repo === repo)) throw new RefError(`${repo} is given twice: a set pins one snapshot per repository`);
    members.push({ repo, snapshot: (await resolveRef(store.catalog, repo, r)).id });
  }
  const expiresAt = leaseEnd(req.ttl ?? DEFAULT_SET_TTL);
  return store.catalog.createSet({ label: req.label, expiresAt, members, actor: req.actor });
}

export interface SetManifestFile {
  href: string;
  sha256: string;
  size: number;
  /** Path on a txrepo server: /sets/<set>/<repo>/<href>. */
  path: string;
}

/** One pinned snapshot of a set's manifest. */
export interface SetManifestRepo {
  repo: string;
  snapshot: string;
  /** True once gc removed the snapshot (after the lease ended): no path, no files. */
  gone: boolean;
  /** Path on a txrepo server: /sets/<set>/<repo>/. */
  path?: string;
  files: SetManifestFile[];
  /** Fingerprints of the keys the repository requires its packages to be signed by (see client-config.ts). */
  packageKeys?: string[];
}

/** Everything needed to reproduce a run: every file of every pinned snapshot, with checksums. */
export interface SetManifest extends SetView {
  repos: SetManifestRepo[];
}

export async function setManifest(store: Store, id: string): Promise<SetManifest> {
  const set = await store.catalog.getSet(id);
  if (!set) throw new NotFoundError(`no set ${id}`, { list: 'sets' });
  const repos: SetManifestRepo[] = [];
  for (const m of set.members) {
    if (!(await store.catalog.getSnapshot(m.repo, m.snapshot))) {
      repos.push({ repo: m.repo, snapshot: m.snapshot, gone: true, files: [] });
      continue;
    }
    const base = setMemberPath(set.id, m.repo);
    const files = (await store.catalog.snapshotFiles(m.snapshot)).map((f) => ({ href: f.href, sha256: f.digest, size: f.size, path: base + f.href }));
    const packageKeys = (await store.catalog.getRepo(m.repo))?.requireSigned?.map((k) => k.fingerprint);
    repos.push({ repo: m.repo, snapshot: m.snapshot, gone: false, path: base, files, ...(packageKeys && { packageKeys }) });
  }
  return { ...viewOfSet(set), repos };
}
