// What a change of the catalog may do, and what it says when it may not: written once,
// for every catalog. A catalog (sqlite-catalog.ts, pg-catalog.ts) only stores: it gives
// the rules the reads and writes of CatalogStorage inside its own write transaction,
// under its own lock, and the rules decide (docs/store.md: "Commit protocol", "Sets
// and promotion", "Tags", "Garbage collection", "The blob ledger").
//
// SQLite answers at once and must run a whole transaction in one synchronous stretch
// (nothing else may use its connection in between); PostgreSQL answers later. So a
// rule is a generator that yields each storage step: runNow() feeds SQLite's answers
// straight back, runAsync() awaits PostgreSQL's. Inside a rule, `yield* step(x)` is
// the value of the storage call x.

import {
  AlreadyExistsError,
  ConflictError,
  noRepo,
  NotFoundError,
  STALE_CLAIM_MS,
  type CatalogSweep,
  type CatalogSweepResult,
  type LeaseChange,
  type NewSet,
  type PackagePage,
  type PageRef,
  type Promotion,
  type MirrorFilter,
  type MirrorFilterChange,
  type Repository,
  type RepoChange,
  type SigningKey,
  type Snapshot,
  type SnapshotCommit,
  type SnapshotFile,
  type SnapshotSet,
  type TagMove,
  type TagUpdate,
  type NewToken,
  type TokenInfo,
} from './catalog.ts';
import { compareIds, nextSnapshotId } from './ids.ts';
import { checkScopes, ScopeError } from './token-scopes.ts';

/** What a storage call gives back: the value (SQLite), or a promise of it (PostgreSQL). */
export type Io<T> = T | Promise<T>;

/** A rule under way: it yields storage calls and is resumed with their values. */
export type Rule<T> = Generator<Io<unknown>, T, any>;

/** The value of one storage call, inside a rule. */
export function* step<T>(io: Io<T>): Generator<Io<T>, T, any> {
  return (yield io) as T;
}

/** Runs a rule on storage that answers at once, in one synchronous stretch. */
export function runNow<T>(rule: Rule<T>): T {
  for (let next = rule.next(); ; next = rule.next(next.value)) {
    if (next.done) return next.value;
    if (next.value instanceof Promise) throw new Error('a synchronous catalog storage answered with a promise');
  }
}

/** Runs a rule on storage that answers later; a failed call fails inside the rule. */
export async function runAsync<T>(rule: Rule<T>): Promise<T> {
  let next = rule.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value;
    } catch (e) {
      next = rule.throw(e);
      continue;
    }
    next = rule.next(value);
  }
  return next.value;
}

/**
 * The reads and writes a catalog gives the rules, inside one write transaction. They
 * store and read back rows: no checks, no messages (those are the rules'). Lists of
 * ids or digests may be long; a storage batches them as its database needs.
 */
export interface CatalogStorage {
  hasRepo(name: string): Io<boolean>;
  insertRepo(repo: Repository): Io<void>;
  deleteRepoRow(name: string): Io<void>;
  readRepo(name: string): Io<Repository | undefined>;
  /** Rewrites the repo's settings (all but name and creation). */
  writeRepoSettings(repo: Repository): Io<void>;

  readSigningKey(fingerprint: string): Io<SigningKey | undefined>;
  insertSigningKey(key: SigningKey): Io<void>;
  deleteSigningKey(fingerprint: string): Io<void>;

  hasSnapshot(repo: string, id: string): Io<boolean>;
  /** The greatest snapshot or set id ever issued (id_state). */
  lastId(): Io<string | undefined>;
  setLastId(id: string): Io<void>;
  insertSnapshot(snapshot: Snapshot): Io<void>;
  insertFiles(snapshot: string, files: SnapshotFile[]): Io<void>;
  /** Which of these package pages the catalog has. */
  storedPages(keys: string[]): Io<string[]>;
  insertPages(pages: PackagePage[]): Io<void>;
  /** A snapshot's package list: these pages, in this order. */
  listPages(snapshot: string, keys: string[]): Io<void>;
  /** Removes these snapshots' rows and lists (not their pages); resolves how many snapshots. */
  deleteSnapshots(ids: string[]): Io<number>;
  deleteSnapshotsOf(repo: string): Io<void>;
  /** Removes pages no snapshot lists; resolves how many. */
  dropUnlistedPages(): Io<number>;
  /** Removes cached renderings of pages that are gone; resolves how many. */
  dropUnlistedRenderings(): Io<number>;
  /** Removes package records in no page and last ingested before `before`; resolves how many. */
  dropUnlistedRecords(before: string): Io<number>;

  /** The snapshot a tag points at. */
  tagTarget(repo: string, tag: string): Io<string | undefined>;
  pointTag(repo: string, tag: string, to: string, at: string): Io<void>;
  appendTagMove(move: TagMove): Io<void>;
  /** Removes the repo's tags and their history. */
  deleteTagsOf(repo: string): Io<void>;
  /** Which of these snapshots a tag points at. */
  taggedAmong(ids: string[]): Io<string[]>;
  tagMovesSince(since: string): Io<TagMove[]>;

  readSet(id: string): Io<SnapshotSet | undefined>;
  /** The sets not released whose lease ends after `at`, or never; by id. */
  liveSets(at: string): Io<SnapshotSet[]>;
  insertSet(set: SnapshotSet): Io<void>;
  setLeaseEnd(id: string, expiresAt: string | null): Io<void>;
  setReleased(id: string, at: string): Io<void>;

  readToken(name: string): Io<TokenInfo | undefined>;
  insertToken(token: TokenInfo & { hash: string }): Io<void>;
  setRevoked(name: string, at: string): Io<void>;

  /** The blob ledger's rows: uses recorded, and gc's removal claims. */
  recordUses(digests: string[], at: string): Io<void>;
  usedAmong(digests: string[], since: string): Io<string[]>;
  claimedAmong(digests: string[], since: string): Io<string[]>;
  /** Which of these blobs a snapshot's files, a page or a cached rendering lists. */
  listedAmong(digests: string[]): Io<string[]>;
  claim(digests: string[], at: string): Io<void>;
  dropClaimsBefore(before: string): Io<void>;
  /** Removes the claims and use records of these blobs. */
  forgetBlobs(digests: string[]): Io<void>;
}

// Messages that reads and the schema give too.

export const noSet = (id: string) => `no set ${id}`;
export const newerSchema = (version: number, known: number) => `the catalog has schema version ${version}, newer than this txrepo (${known}); upgrade txrepo`;
export const pageWithoutInfo = (page: string, snapshot: string) =>
  `the catalog lists package page ${page} in snapshot ${snapshot} but has no page_info row for it; run 'txrepo fsck'`;

// Repositories

export function* createRepo(tx: CatalogStorage, repo: Repository): Rule<Repository> {
  if (yield* step(tx.hasRepo(repo.name))) throw new AlreadyExistsError(`repository ${repo.name} already exists`);
  yield* step(tx.insertRepo(repo));
  return repo;
}

/** A field of the change that is given replaces the repo's; null clears it. */
export function* updateRepo(tx: CatalogStorage, name: string, change: RepoChange): Rule<Repository> {
  const repo = yield* step(tx.readRepo(name));
  if (!repo) throw new NotFoundError(noRepo(name), { list: 'repos' });
  const next: Repository = { ...repo };
  for (const field of ['upstream', 'keep', 'retainLast', 'retainDays', 'requireSigned'] as const) {
    const value = change[field];
    if (value === null || (field === 'requireSigned' && Array.isArray(value) && value.length === 0)) delete next[field];
    else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
  }
  if (change.filter !== undefined) {
    const filter = changedFilter(repo.filter, change.filter);
    if (filter) next.filter = filter;
    else delete next.filter;
  }
  yield* step(tx.writeRepoSettings(next));
  return next;
}

/** A filter with a change applied, field by field (null clears one); none left: no filter. */
function changedFilter(filter: MirrorFilter | undefined, change: MirrorFilterChange | null): MirrorFilter | undefined {
  if (change === null) return undefined;
  // A damaged stored filter (not an object) is replaced, not merged into.
  const next: Record<string, unknown> = typeof filter === 'object' && filter !== null && !Array.isArray(filter) ? { ...filter } : {};
  for (const [field, value] of Object.entries(change)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return Object.keys(next).length ? (next as MirrorFilter) : undefined;
}

// Signing keys

export function* addSigningKey(tx: CatalogStorage, key: Omit<SigningKey, 'addedAt'>): Rule<SigningKey> {
  if (yield* step(tx.readSigningKey(key.fingerprint))) throw new AlreadyExistsError(`signing key ${key.fingerprint} is already in the store`);
  const added: SigningKey = { ...key, addedAt: new Date().toISOString() };
  yield* step(tx.insertSigningKey(added));
  return added;
}

export function* removeSigningKey(tx: CatalogStorage, fingerprint: string): Rule<SigningKey> {
  const key = yield* step(tx.readSigningKey(fingerprint));
  if (!key) throw new NotFoundError(`no signing key ${fingerprint}`, { list: 'keys' });
  yield* step(tx.deleteSigningKey(fingerprint));
  return key;
}

/** A repo goes with its snapshots, tags and history, unless a live set still pins one. */
export function* deleteRepo(tx: CatalogStorage, name: string): Rule<void> {
  if (!(yield* step(tx.hasRepo(name)))) throw new NotFoundError(noRepo(name));
  const pinning = (yield* step(tx.liveSets(new Date().toISOString()))).filter((s) => s.members.some((m) => m.repo === name));
  if (pinning.length) {
    throw new ConflictError(`repository ${name} has snapshots pinned by live sets (${pinning.map((s) => s.id).join(', ')}); release them first ('txrepo set release ID')`);
  }
  yield* step(tx.deleteSnapshotsOf(name));
  yield* step(tx.dropUnlistedPages());
  yield* step(tx.deleteTagsOf(name));
  yield* step(tx.deleteRepoRow(name));
}

// Snapshots and tags

/** The next id of the sequence snapshots and sets share: never one issued before. */
function* nextId(tx: CatalogStorage, now: Date): Rule<string> {
  const id = nextSnapshotId(now, yield* step(tx.lastId()));
  yield* step(tx.setLastId(id));
  return id;
}

/**
 * A snapshot on `parent`, with its tags moved to it, only if `latest` still is the
 * parent (compare-and-swap: a writer that lost the race reads latest again).
 */
export function* commitSnapshot(tx: CatalogStorage, c: SnapshotCommit): Rule<Snapshot> {
  if (!(yield* step(tx.hasRepo(c.repo)))) throw new NotFoundError(noRepo(c.repo));
  const latest = yield* step(tx.tagTarget(c.repo, 'latest'));
  if (latest !== c.parent) {
    throw new ConflictError(`repository ${c.repo} moved on: latest is ${latest ?? '(none)'}, the new snapshot was based on ${c.parent ?? '(none)'}`);
  }
  const now = new Date();
  const id = yield* nextId(tx, now);
  const snapshot: Snapshot = { id, repo: c.repo, createdAt: now.toISOString(), createdBy: c.actor, message: c.message, packages: c.packages, repomd: c.repomd };
  if (c.parent) snapshot.parent = c.parent;
  yield* step(tx.insertSnapshot(snapshot));
  yield* step(tx.insertFiles(id, c.files));
  yield* listPages(tx, id, c.pages);
  for (const tag of c.tags) yield* setTag(tx, { repo: c.repo, tag, to: id, actor: c.actor, reason: c.message || 'commit', at: snapshot.createdAt });
  return snapshot;
}

/**
 * Lists a snapshot's pages, storing those the catalog does not have yet. A page is
 * content-addressed: one already stored has these very entries, so only a page the
 * catalog lacks must come with its packages.
 */
function* listPages(tx: CatalogStorage, snapshot: string, pages: (PageRef | PackagePage)[]): Rule<void> {
  const known = new Set(yield* step(tx.storedPages([...new Set(pages.map((p) => p.key))])));
  const fresh: PackagePage[] = [];
  for (const page of pages) {
    if (known.has(page.key)) continue;
    if (!('packages' in page)) throw new Error(`package page ${page.key} is not in the catalog and the commit does not give its packages`);
    fresh.push(page);
    known.add(page.key);
  }
  yield* step(tx.insertPages(fresh));
  yield* step(tx.listPages(snapshot, pages.map((p) => p.key)));
}

/** Points a tag at a snapshot and records the move in the tag's history. */
function* setTag(tx: CatalogStorage, m: Omit<TagMove, 'from'>): Rule<TagMove> {
  const from = yield* step(tx.tagTarget(m.repo, m.tag));
  yield* step(tx.pointTag(m.repo, m.tag, m.to, m.at));
  const move: TagMove = { repo: m.repo, tag: m.tag, to: m.to, at: m.at, actor: m.actor, reason: m.reason };
  if (from !== undefined) move.from = from;
  if (m.set) move.set = m.set;
  yield* step(tx.appendTagMove(move));
  return move;
}

/**
 * A tag goes only to a snapshot of its own repo (invariant 4); with `expect`, only if
 * it points there now (compare-and-swap; null: the tag does not exist).
 */
export function* moveTag(tx: CatalogStorage, u: TagUpdate): Rule<TagMove> {
  if (!(yield* step(tx.hasSnapshot(u.repo, u.to)))) throw new NotFoundError(`repository ${u.repo} has no snapshot ${u.to}`);
  if (u.expect !== undefined) {
    const current = (yield* step(tx.tagTarget(u.repo, u.tag))) ?? null;
    if (current !== u.expect) throw new ConflictError(`tag ${u.tag} of ${u.repo} points at ${current ?? '(nothing)'}, not ${u.expect ?? '(nothing)'}`);
  }
  return yield* setTag(tx, { repo: u.repo, tag: u.tag, to: u.to, actor: u.actor, reason: u.reason, at: new Date().toISOString() });
}

// Sets

/** A set pins snapshots that exist; its id comes from the snapshot id sequence. */
export function* createSet(tx: CatalogStorage, n: NewSet): Rule<SnapshotSet> {
  for (const m of n.members) {
    if (!(yield* step(tx.hasSnapshot(m.repo, m.snapshot)))) throw new NotFoundError(`repository ${m.repo} has no snapshot ${m.snapshot}`);
  }
  const now = new Date();
  const set: SnapshotSet = { id: yield* nextId(tx, now), createdAt: now.toISOString(), createdBy: n.actor, members: n.members };
  if (n.label !== undefined) set.label = n.label;
  if (n.expiresAt !== undefined) set.expiresAt = n.expiresAt;
  yield* step(tx.insertSet(set));
  return (yield* step(tx.readSet(set.id)))!;
}

/** A lease may be extended, kept or released until it is released: that is final. */
export function* updateSet(tx: CatalogStorage, id: string, change: LeaseChange): Rule<SnapshotSet> {
  const set = yield* step(tx.readSet(id));
  if (!set) throw new NotFoundError(noSet(id), { list: 'sets' });
  if (set.releasedAt) throw new ConflictError(`set ${id} was released at ${set.releasedAt}; a released set stays released (create a new one)`);
  if ('release' in change) yield* step(tx.setReleased(id, new Date().toISOString()));
  else yield* step(tx.setLeaseEnd(id, change.expiresAt));
  return (yield* step(tx.readSet(id)))!;
}

/**
 * Moves the tag in every repo of the set to the set's snapshot, or in none: every
 * member must still exist, and unless forced no tag goes to an older snapshot than the
 * one it points at. A tag already there does not move (no history row).
 */
export function* promoteSet(tx: CatalogStorage, p: Promotion): Rule<TagMove[]> {
  const set = yield* step(tx.readSet(p.set));
  if (!set) throw new NotFoundError(noSet(p.set), { list: 'sets' });
  const backwards: string[] = [];
  for (const m of set.members) {
    if (!(yield* step(tx.hasSnapshot(m.repo, m.snapshot)))) {
      throw new NotFoundError(`set ${p.set}: snapshot ${m.snapshot} of ${m.repo} is gone (removed by gc after the set's lease ended)`);
    }
    const current = yield* step(tx.tagTarget(m.repo, p.tag));
    if (current !== undefined && compareIds(m.snapshot, current) < 0) backwards.push(`${m.repo}: ${p.tag} is at ${current}, newer than ${m.snapshot}`);
  }
  if (backwards.length && !p.force) throw new ConflictError(`promoting set ${p.set} would move ${p.tag} back in time (${backwards.join('; ')}); use --force to do it anyway`);
  const at = new Date().toISOString();
  const moves: TagMove[] = [];
  for (const m of set.members) {
    if ((yield* step(tx.tagTarget(m.repo, p.tag))) === m.snapshot) continue;
    moves.push(yield* setTag(tx, { repo: m.repo, tag: p.tag, to: m.snapshot, actor: p.actor, reason: p.reason, at, set: p.set }));
  }
  return moves;
}

// Tokens

/**
 * A token has at least one valid scope (token-scopes.ts), and an expiry, if any, still
 * to come: a token dead on arrival is a mistake, not a request.
 */
export function* createToken(tx: CatalogStorage, t: NewToken): Rule<TokenInfo> {
  const scopes = checkScopes(t.scopes);
  const createdAt = new Date().toISOString();
  if (t.expiresAt !== undefined && !(Date.parse(t.expiresAt) > Date.parse(createdAt))) {
    throw new ScopeError(`token ${t.name} would expire at ${t.expiresAt}, which is not after now (${createdAt}): give an expiry to come, such as 90d`);
  }
  if (yield* step(tx.readToken(t.name))) throw new AlreadyExistsError(`a token named ${t.name} already exists; revoke it first or pick another name`);
  const token: TokenInfo = { name: t.name, scopes, createdAt, createdBy: t.createdBy };
  if (t.expiresAt !== undefined) token.expiresAt = t.expiresAt;
  yield* step(tx.insertToken({ ...token, hash: t.hash }));
  return token;
}

/**
 * Why a token may not be used at `now`, or undefined: it may. A revoked token stays
 * revoked; an expired one stays expired. The server asks this of every token a request
 * presents; `token list` shows it.
 */
export function tokenRefusal(token: TokenInfo, now = Date.now()): string | undefined {
  if (token.revokedAt !== undefined) return `token ${token.name} was revoked at ${token.revokedAt}`;
  if (token.expiresAt !== undefined && Date.parse(token.expiresAt) <= now) return `token ${token.name} expired at ${token.expiresAt}`;
  return undefined;
}

/** Revoking a revoked token changes nothing (it keeps its first revocation time). */
export function* revokeToken(tx: CatalogStorage, name: string): Rule<TokenInfo> {
  const token = yield* step(tx.readToken(name));
  if (!token) throw new NotFoundError(`no token named ${name}`, { list: 'tokens' });
  if (token.revokedAt !== undefined) return token;
  yield* step(tx.setRevoked(name, new Date().toISOString()));
  return (yield* step(tx.readToken(name)))!;
}

// Garbage collection

/**
 * gc planned outside this transaction: a snapshot a tag points at now, one a live set
 * pins, one a tag moved from or to lately stays. The rest go, then what only they used.
 */
export function* sweep(tx: CatalogStorage, s: CatalogSweep): Rule<CatalogSweepResult> {
  const kept = yield* keptAmong(tx, s.snapshots, s.keep);
  const snapshots = yield* step(tx.deleteSnapshots(s.snapshots.filter((id) => !kept.includes(id))));
  // A deploy on its way stores its records before it commits: young ones stay.
  const pages = yield* step(tx.dropUnlistedPages());
  const cacheRows = yield* step(tx.dropUnlistedRenderings());
  const records = yield* step(tx.dropUnlistedRecords(s.recordsBefore));
  return { snapshots, kept, pages, records, cacheRows };
}

function* keptAmong(tx: CatalogStorage, ids: string[], keep: CatalogSweep['keep']): Rule<string[]> {
  const tagged = new Set(yield* step(tx.taggedAmong(ids)));
  const pinned = new Set((yield* step(tx.liveSets(keep.liveAt))).flatMap((s) => s.members.map((m) => m.snapshot)));
  const moved = new Set((yield* step(tx.tagMovesSince(keep.movedSince))).flatMap((m) => (m.from === undefined ? [m.to] : [m.to, m.from])));
  return ids.filter((id) => tagged.has(id) || pinned.has(id) || moved.has(id));
}

// The blob ledger (catalog.ts, BlobLedger)

/** A removal claim made before this belongs to a gc that died. */
export const liveClaimsSince = (now = Date.now()) => new Date(now - STALE_CLAIM_MS).toISOString();

/** A writer records its uses first, then learns which of the blobs gc is removing. */
export function* recordBlobUses(tx: CatalogStorage, digests: string[]): Rule<string[]> {
  const unique = [...new Set(digests)];
  const now = new Date();
  yield* step(tx.dropClaimsBefore(liveClaimsSince(now.getTime())));
  yield* step(tx.recordUses(unique, now.toISOString()));
  return yield* step(tx.claimedAmong(unique, liveClaimsSince(now.getTime())));
}

/**
 * gc may claim a blob no snapshot, page or cached rendering lists, that no writer used
 * at or after `unusedSince`, and that no other gc has a live claim on (one at a time).
 */
export function* claimBlobRemovals(tx: CatalogStorage, digests: string[], unusedSince: string): Rule<string[]> {
  const unique = [...new Set(digests)];
  const held = new Set([
    ...(yield* step(tx.listedAmong(unique))),
    ...(yield* step(tx.usedAmong(unique, unusedSince))),
    ...(yield* step(tx.claimedAmong(unique, liveClaimsSince()))),
  ]);
  const claimed = unique.filter((d) => !held.has(d));
  yield* step(tx.claim(claimed, new Date().toISOString()));
  return claimed;
}

/** The claimed blobs are gone: their claims and use records go. */
export function* finishBlobRemovals(tx: CatalogStorage, digests: string[]): Rule<void> {
  yield* step(tx.forgetBlobs(digests));
}
