// Sets: one snapshot per repository, pinned for a run ("flow") with a lease. While the
// lease holds, gc keeps the snapshots; any number of sets can be live at once.

import { NotFoundError, type SnapshotSet, type Store } from '../store/index.ts';
import { checkRepoName } from './names.ts';
import { parseRepoRef, RefError, resolveRef } from './refs.ts';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration: 90s, 30m, 12h, 3d, 2w (or a sum: 1d12h). */
export function parseDuration(s: string): number {
  const parts = /^(?:\d+[smhdw])+$/.test(s) ? [...s.matchAll(/(\d+)([smhdw])/g)] : [];
  const ms = parts.reduce((n, [, count, unit]) => n + Number(count) * UNITS[unit], 0);
  if (!parts.length || ms <= 0 || !Number.isSafeInteger(ms)) throw new RefError(`${JSON.stringify(s)} is not a duration: use a number and a unit, s, m, h, d or w (90s, 12h, 3d, 1d12h)`);
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

export function leaseEnd(ttl: string, now = new Date()): string | undefined {
  return ttl === 'forever' ? undefined : new Date(now.getTime() + parseDuration(ttl)).toISOString();
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

/** Everything needed to reproduce a run: every file of every pinned snapshot, with checksums. */
export interface SetManifest extends SnapshotSet {
  live: boolean;
  repos: { repo: string; snapshot: string; path: string; files: SetManifestFile[] }[];
}

export async function setManifest(store: Store, id: string): Promise<SetManifest> {
  const set = await store.catalog.getSet(id);
  if (!set) throw new NotFoundError(`no set ${id}; see 'txrepo set list'`);
  const repos = [];
  for (const m of set.members) {
    const base = `/sets/${set.id}/${m.repo}/`;
    const files = (await store.catalog.snapshotFiles(m.snapshot)).map((f) => ({ href: f.href, sha256: f.digest, size: f.size, path: base + f.href }));
    repos.push({ repo: m.repo, snapshot: m.snapshot, path: base, files });
  }
  return { ...set, live: isLive(set), repos };
}
