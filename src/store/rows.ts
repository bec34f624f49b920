// Catalog rows as domain objects: the same columns in every backend (SQLite and
// PostgreSQL share one schema; see docs/store.md).

import type { AuditEntry, MirrorFilter, PolicyKey, Repository, SigningKey, Snapshot, SnapshotSet, Tag, TagMove, TokenInfo, CatalogCounts } from './catalog.ts';
import type { PackageRecord } from '../rpm/index.ts';
import { scopesOfText } from './token-scopes.ts';

export type Row = Record<string, string | number | null>;

export function toRepo(r: Row): Repository {
  const repo: Repository = { name: String(r.name), createdAt: String(r.created_at), createdBy: String(r.created_by) };
  if (r.upstream !== null) repo.upstream = String(r.upstream);
  if (r.keep !== null) repo.keep = Number(r.keep);
  if (r.retain_last !== null) repo.retainLast = Number(r.retain_last);
  if (r.retain_days !== null) repo.retainDays = Number(r.retain_days);
  if (r.require_signed != null) repo.requireSigned = JSON.parse(String(r.require_signed)) as PolicyKey[];
  if (r.mirror_filter != null) repo.filter = storedFilter(String(r.mirror_filter));
  return repo;
}

/**
 * A repo's stored filter. Not checked here: a damaged one must not stop the repo from
 * being read (and its filter cleared, 'repo update --no-filter'); the sync that would
 * apply it checks it and names what is wrong (src/sync/filter.ts).
 */
function storedFilter(text: string): MirrorFilter {
  try {
    return JSON.parse(text) as MirrorFilter;
  } catch {
    return text as unknown as MirrorFilter;
  }
}

/** The settings columns of a repo's row, in REPO_SETTINGS order. */
export const REPO_SETTINGS = ['upstream', 'keep', 'retain_last', 'retain_days', 'require_signed', 'mirror_filter'] as const;
export function repoSettings(r: Repository): (string | number | null)[] {
  return [r.upstream ?? null, r.keep ?? null, r.retainLast ?? null, r.retainDays ?? null, r.requireSigned ? JSON.stringify(r.requireSigned) : null, r.filter ? JSON.stringify(r.filter) : null];
}

export function toSigningKey(r: Row): SigningKey {
  return { fingerprint: String(r.fingerprint), publicKey: String(r.public_key), privateKey: String(r.private_key), addedAt: String(r.added_at), addedBy: String(r.added_by) };
}

export function toSnapshot(r: Row): Snapshot {
  const s: Snapshot = {
    id: String(r.id),
    repo: String(r.repo),
    createdAt: String(r.created_at),
    createdBy: String(r.actor),
    message: String(r.message),
    packages: Number(r.packages),
    repomd: String(r.repomd),
  };
  if (r.parent !== null) s.parent = String(r.parent);
  return s;
}

export function toMove(r: Row): TagMove {
  const m: TagMove = { repo: String(r.repo), tag: String(r.tag), to: String(r.to_snapshot), at: String(r.at), actor: String(r.actor), reason: String(r.reason) };
  if (r.from_snapshot !== null) m.from = String(r.from_snapshot);
  if (r.set_id !== null && r.set_id !== undefined) m.set = String(r.set_id);
  return m;
}

/** A token row; one without scopes (none is written so) gets none: only what every token may, read. */
export function toToken(r: Row): TokenInfo {
  const t: TokenInfo = { name: String(r.name), scopes: scopesOfText(r.scopes === null ? null : String(r.scopes)), createdAt: String(r.created_at), createdBy: String(r.created_by) };
  if (r.expires_at !== null) t.expiresAt = String(r.expires_at);
  if (r.revoked_at !== null) t.revokedAt = String(r.revoked_at);
  return t;
}

export function toTag(r: Row): Tag {
  return { repo: String(r.repo), tag: String(r.tag), snapshot: String(r.snapshot), movedAt: String(r.moved_at) };
}

/** A set's row with its members (ordered by repo). */
export function toSet(r: Row, members: { repo: string; snapshot: string }[]): SnapshotSet {
  const set: SnapshotSet = { id: String(r.id), createdAt: String(r.created_at), createdBy: String(r.created_by), members };
  if (r.label !== null) set.label = String(r.label);
  if (r.expires_at !== null) set.expiresAt = String(r.expires_at);
  if (r.released_at !== null) set.releasedAt = String(r.released_at);
  return set;
}

export function toAudit(r: Row): AuditEntry {
  const e: AuditEntry = { seq: Number(r.seq), at: String(r.at), actor: String(r.actor), command: String(r.command), args: String(r.args), result: String(r.result) };
  if (r.repo !== null) e.repo = String(r.repo);
  return e;
}

// The monitoring reads (Catalog.counts, Catalog.storedPackages): one query each, the
// same SQL in both backends. COUNT and SUM come back as text from PostgreSQL (bigint,
// numeric): Number() is exact up to 2^53.

/** Catalog.counts: a few counts, each an index scan at most. */
export const COUNTS_QUERY =
  "SELECT (SELECT COUNT(*) FROM repos) AS repos, (SELECT COUNT(*) FROM snapshots) AS snapshots, (SELECT COUNT(*) FROM sets) AS sets, (SELECT COALESCE(SUM(s.packages), 0) FROM tags t JOIN snapshots s ON s.id = t.snapshot WHERE t.tag = 'latest') AS packages_in_latest";

export function toCounts(r: Row): CatalogCounts {
  return { repos: Number(r.repos), snapshots: Number(r.snapshots), sets: Number(r.sets), packagesInLatest: Number(r.packages_in_latest) };
}

/** Catalog.storedPackages: every page entry read once, grouped by package. */
export const STORED_PACKAGES_QUERY = 'SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM (SELECT digest, MAX(size) AS size FROM package_pages GROUP BY digest) AS stored';

export function toStoredPackages(r: Row): { count: number; bytes: number } {
  return { count: Number(r.count), bytes: Number(r.bytes) };
}

/**
 * A package record as the catalog stores it: its identity in columns, the rest as JSON
 * (the location belongs to a snapshot, not to the package). One rule for both catalogs.
 * The JSON as UTF-8 bytes: records wait in their thousands for their batch (a sync's,
 * a deploy's), and bytes wait outside the JavaScript heap, where strings of a few KB
 * each were copied by every collection of the young generation and then promoted (the
 * collector was a seventh of a sync's main thread); from a worker they come by
 * transfer, not copy.
 */
export interface SerializedRecord {
  pkgid: string;
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  json: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function serializeRecord(r: PackageRecord): SerializedRecord {
  const { locationHref: _href, locationBase: _base, ...stored } = r;
  return { pkgid: r.pkgid, name: r.name, arch: r.arch, epoch: r.epoch, version: r.version, release: r.release, json: utf8.encode(JSON.stringify(stored)) };
}

/** A serialized record's JSON as text (a catalog that takes it as a string parameter). */
export function recordJsonText(r: SerializedRecord): string {
  return fromUtf8.decode(r.json);
}

/**
 * What Catalog.putPackages takes: a record, or one serialized already (a sync's
 * inspector thread does it, off the thread that runs the downloads).
 */
export type StorableRecord = PackageRecord | SerializedRecord;

export const rowOf = (r: StorableRecord): SerializedRecord => ('json' in r ? r : serializeRecord(r));

/** A stored record read back; its location is the snapshot's to give. */
export function toPackageRecord(json: string): PackageRecord {
  return { ...(JSON.parse(json) as PackageRecord), locationHref: '' };
}
