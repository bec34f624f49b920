// Catalog rows as domain objects: the same columns in every backend (SQLite and
// PostgreSQL share one schema; see docs/store.md).

import type { Repository, Snapshot, TagMove, TokenInfo } from './catalog.ts';

export type Row = Record<string, string | number | null>;

export function toRepo(r: Row): Repository {
  const repo: Repository = { name: String(r.name), createdAt: String(r.created_at), createdBy: String(r.created_by) };
  if (r.upstream !== null) repo.upstream = String(r.upstream);
  if (r.keep !== null) repo.keep = Number(r.keep);
  if (r.retain_last !== null) repo.retainLast = Number(r.retain_last);
  if (r.retain_days !== null) repo.retainDays = Number(r.retain_days);
  return repo;
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

export function toToken(r: Row): TokenInfo {
  const t: TokenInfo = { name: String(r.name), createdAt: String(r.created_at), createdBy: String(r.created_by) };
  if (r.revoked_at !== null) t.revokedAt = String(r.revoked_at);
  return t;
}

/** The move setTag() makes, as both catalogs report it. */
export function newMove(repo: string, tag: string, from: string | undefined, to: string, at: string, actor: string, reason: string, set?: string): TagMove {
  const move: TagMove = { repo, tag, to, at, actor, reason };
  if (from !== undefined) move.from = from;
  if (set) move.set = set;
  return move;
}
