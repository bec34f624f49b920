// The catalog: repositories, package records, snapshots and tags. Every method is
// async and every mutation is one transaction, so that a PostgreSQL implementation can
// replace the embedded SQLite one without touching its callers.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { PackageRecord } from '../rpm/index.ts';
import type { StorableRecord } from './rows.ts';
import { Failure } from '../common/index.ts';

export interface Repository {
  name: string;
  /** Yum repo URL or path this repo mirrors, if any. */
  upstream?: string;
  /** Keep the newest N builds per name.arch (undefined: keep all). */
  keep?: number;
  /** gc keeps the newest N snapshots (and any younger than retainDays); undefined: all. */
  retainLast?: number;
  /** gc keeps snapshots younger than this many days (and the newest retainLast). */
  retainDays?: number;
  /**
   * Deploy and sync take only packages signed by one of these keys (OpenPGP public
   * keys, armoured); absent: packages need no signature.
   */
  requireSigned?: PolicyKey[];
  /** Which of the upstream's packages a sync takes (src/sync/filter.ts); absent: all. */
  filter?: MirrorFilter;
  createdAt: string;
  createdBy: string;
}

/** A public key a repository's package policy allows. */
export interface PolicyKey {
  /** Of the primary key, lowercase hex. */
  fingerprint: string;
  /** The key, armoured, as given. */
  publicKey: string;
}

/**
 * A mirror's filter, as stored (the rule that applies it, and checks its values, is
 * src/sync/filter.ts): each field absent means no filtering by it.
 */
export interface MirrorFilter {
  /** Globs; a package is taken only if one matches it. */
  include?: string[];
  /** Globs; a package one matches is never taken. */
  exclude?: string[];
  /** Architectures taken (noarch always, src only if listed). */
  arches?: string[];
  /** Newest N builds per name.arch. */
  newest?: number;
  /** Also what the packages taken need, from the upstream packages the other rules allow (set only when true). */
  withDeps?: boolean;
}

/** What `repo update` changes of a filter: a field given is set; null clears it. */
export type MirrorFilterChange = { [F in keyof MirrorFilter]?: MirrorFilter[F] | null };

/** What `repo update` changes: a field given is set; null clears it. */
export interface RepoChange {
  upstream?: string | null;
  keep?: number | null;
  retainLast?: number | null;
  retainDays?: number | null;
  requireSigned?: PolicyKey[] | null;
  /** Fields given change the filter (null clears one); null clears the whole filter. */
  filter?: MirrorFilterChange | null;
}

/**
 * A key that signs the store's snapshots (repodata/repomd.xml.asc). The private key is
 * kept as it was imported: protected by its passphrase if it had one.
 */
export interface SigningKey {
  fingerprint: string;
  publicKey: string;
  privateKey: string;
  addedAt: string;
  addedBy: string;
}

export type FileKind = 'package' | 'metadata';

/** One file of a snapshot's tree: a package or a repodata file, stored as a blob. */
export interface SnapshotFile {
  href: string;
  digest: string;
  size: number;
  kind: FileKind;
}

export interface Snapshot {
  id: string;
  repo: string;
  parent?: string;
  createdAt: string;
  /** Who made it (the actor of the deploy or sync). */
  createdBy: string;
  message: string;
  packages: number;
  /** Blob digest of the snapshot's repodata/repomd.xml. */
  repomd: string;
}

export interface TagMove {
  repo: string;
  tag: string;
  from?: string;
  to: string;
  at: string;
  actor: string;
  reason: string;
  /** The set whose promotion made the move. */
  set?: string;
}

export interface Tag {
  repo: string;
  tag: string;
  snapshot: string;
  movedAt: string;
}

export interface SnapshotCommit {
  repo: string;
  /** The snapshot `latest` must still point at (undefined: the repo has none yet). */
  parent: string | undefined;
  /**
   * The packages, in pages (in order). A page the catalog may not have yet comes with
   * its packages; one without must already be stored (it was in an earlier snapshot).
   */
  pages: (PageRef | PackagePage)[];
  /** The other files: repodata. */
  files: SnapshotFile[];
  packages: number;
  repomd: string;
  actor: string;
  message: string;
  /** Tags moved to the new snapshot in the same transaction (deploy and sync: latest). */
  tags: string[];
}

/**
 * A run of a snapshot's packages, stored once and shared by every snapshot that has
 * the same run: a snapshot's package list is a sequence of pages, so committing a
 * snapshot writes only the pages that changed. The key is a hash of the entries
 * (computed by pages.ts; the catalog treats it as opaque).
 */
export interface PageRef {
  key: string;
  count: number;
  /** The href of the page's last package: where the page ends in package order. */
  last: string;
}

export interface PackagePage extends PageRef {
  packages: SnapshotFile[];
}

/** Sizes of one metadata type's chunk in a rendered repodata page. */
export interface PagePart {
  /** Size of the gzip member. */
  size: number;
  /** Size of the uncompressed text. */
  openSize: number;
}

/**
 * The rendered repodata of one package page, cached: one blob holding the primary,
 * filelists and other chunks as gzip members, then the same three uncompressed
 * (see docs/store.md for the layout).
 */
export interface RepodataPage {
  key: string;
  /** The package page it renders. */
  page: string;
  blob: string;
  primary: PagePart;
  filelists: PagePart;
  other: PagePart;
}

export interface PackageIdentity {
  digest: string;
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
}

export interface TagUpdate {
  repo: string;
  tag: string;
  to: string;
  /** Compare-and-swap: the snapshot the tag must point at now, null for "no such tag". */
  expect?: string | null;
  actor: string;
  reason: string;
}

/** One snapshot per repo, pinned for a run; its snapshots are kept while it is live. */
export interface SnapshotSet {
  id: string;
  label?: string;
  createdAt: string;
  createdBy: string;
  /** End of the lease; undefined: kept until released. */
  expiresAt?: string;
  releasedAt?: string;
  members: { repo: string; snapshot: string }[];
}

export interface NewSet {
  label?: string;
  expiresAt?: string;
  members: { repo: string; snapshot: string }[];
  actor: string;
}

/** A change of a set's lease: a new end (null: kept, no end), or its release. */
export type LeaseChange = { expiresAt: string | null } | { release: true };

export interface Promotion {
  set: string;
  tag: string;
  /** Move the tag even to a snapshot older than the one it points at. */
  force?: boolean;
  actor: string;
  reason: string;
}

export interface TokenInfo {
  name: string;
  /** What it may do (token-scopes.ts): read, deploy:GLOB, tag:GLOB, admin. */
  scopes: string[];
  createdAt: string;
  createdBy: string;
  /** When it stops working (undefined: never). */
  expiresAt?: string;
  revokedAt?: string;
}

/** A token to store: its hash (never the token), its scopes and when it expires. */
export interface NewToken {
  name: string;
  hash: string;
  scopes: string[];
  expiresAt?: string;
  createdBy: string;
}

/** One mutation, as the audit log records it. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  command: string;
  repo?: string;
  /** The request, as JSON. */
  args: string;
  /** 'ok', or the error message. */
  result: string;
}

/** What `Catalog.counts` answers. */
export interface CatalogCounts {
  repos: number;
  snapshots: number;
  /** Sets, live or not (a released or expired set stays until gc removes what it pinned). */
  sets: number;
  /** The packages of every repository's `latest` snapshot, added up. */
  packagesInLatest: number;
}

/** What gc removes from the catalog in one transaction. */
export interface CatalogSweep {
  /** The snapshots gc planned to remove. */
  snapshots: string[];
  /**
   * gc plans outside the sweep's transaction, so the sweep checks again what keeps a
   * snapshot: a tag may have moved to or from a planned one since, or a set pinned it.
   * Kept: a snapshot a tag points at, one a set live at `liveAt` pins, one a tag moved
   * from or to at or after `movedSince`.
   */
  keep: { liveAt: string; movedSince: string };
  /** Package records not in any page and last ingested before this time are dropped. */
  recordsBefore: string;
}

export interface CatalogSweepResult {
  snapshots: number;
  /** Planned snapshots that were protected by then, and stay. */
  kept: string[];
  pages: number;
  records: number;
  cacheRows: number;
}

/** A compare-and-swap failed: someone else changed the state first. */
export class ConflictError extends Failure {
  override name = 'ConflictError';
  readonly kind = 'conflict';
}

/**
 * Where a user may look for what exists instead, or what would make it: the CLI turns
 * it into advice in its own words ("see 'txrepo repo list'"); this layer has none.
 */
export type Remedy = { list: 'repos' | 'sets' | 'tokens' | 'keys' } | { list: 'tags' | 'snapshots'; repo: string } | { createRepo: string; upstream?: boolean };

export class NotFoundError extends Failure {
  override name = 'NotFoundError';
  readonly kind = 'not_found';
  readonly remedy?: Remedy;
  constructor(message: string, remedy?: Remedy) {
    super(message);
    this.remedy = remedy;
  }
}

export const noRepo = (name: string) => `no repository ${name}`;

/**
 * The repository NAME, or the not-found failure every operation gives for it, with
 * the remedy the caller's context suggests (default: list the repositories).
 */
export async function repoOrFail(catalog: Pick<Catalog, 'getRepo'>, name: string, remedy: Remedy = { list: 'repos' }): Promise<Repository> {
  const repo = await catalog.getRepo(name);
  if (!repo) throw new NotFoundError(noRepo(name), remedy);
  return repo;
}

export class AlreadyExistsError extends Failure {
  override name = 'AlreadyExistsError';
  readonly kind = 'already_exists';
}

/**
 * The audit row of the mutation running, which the catalog writes in the transaction
 * that makes the change (see auditScope): a change and its row commit together, so a
 * full disk cannot let one through without the other, and a command never reports as
 * failed a change it made.
 */
export interface AuditScope {
  entry(result: string): Omit<AuditEntry, 'seq'>;
  /** Set once the change's transaction, with the row, has committed. */
  written: boolean;
}

/**
 * Set by whoever runs a mutation (core/local.ts) around it. The methods that make a
 * mutation's change (createRepo, deleteRepo, commitSnapshot, moveTag, createSet,
 * updateSet, promoteSet, createToken, revokeToken, updateRepo, addSigningKey,
 * removeSigningKey, sweep) write the scope's row in
 * their transaction, once.
 */
export const auditScope = new AsyncLocalStorage<AuditScope>();

/** The store cannot be used as it is (not a store, a full or read-only disk): the message says what to do. */
export class StoreError extends Failure {
  override name = 'StoreError';
  readonly kind: 'unavailable' | 'storage_full' | 'storage_read_only' | 'not_found' | 'invalid_input' | 'io';
  constructor(message: string, kind: StoreError['kind'] = 'unavailable') {
    super(message);
    this.kind = kind;
  }
}

/**
 * The blob ledger. A local blob directory makes gc's removal of a blob and a writer's
 * reuse of it exclusive by itself (rename, then mtime: see LocalBlobStore.sweep); an
 * object store cannot, so the catalog does it for one, under its writer lock: a writer
 * records the blobs it reuses before it relies on them, and gc claims a blob before it
 * removes it, only if no snapshot lists it and no writer recorded a use within the
 * grace window (docs/store.md, "Blobs in object storage").
 */
export interface BlobLedger {
  /**
   * Records that these blobs are used now. Resolves those gc has claimed for removal:
   * the writer may not rely on them, and stores them again once the claim is over
   * (see blobRemovalsPending). A claim older than STALE_CLAIM_MS (its gc died) is
   * dropped instead.
   */
  recordBlobUses(digests: string[]): Promise<string[]>;
  /** Which of these blobs gc still has claimed (a claim older than STALE_CLAIM_MS is over). */
  blobRemovalsPending(digests: string[]): Promise<string[]>;
  /**
   * Claims for removal those of `digests` that no snapshot, page or cached rendering
   * lists, that no writer recorded a use of at or after `unusedSince`, and that no
   * other gc has claimed (one at a time: a second gc that listed the blob before the
   * first removed it must not remove the copy a writer stored since); resolves them.
   */
  claimBlobRemovals(digests: string[], unusedSince: string): Promise<string[]>;
  /** The claimed blobs are gone: their claims and use records go. */
  finishBlobRemovals(digests: string[]): Promise<void>;
}

/** A removal claim this old belongs to a gc that died: writers no longer wait for it. */
export const STALE_CLAIM_MS = 15 * 60_000;

export interface Catalog extends BlobLedger {
  createRepo(repo: Omit<Repository, 'createdAt'>): Promise<Repository>;
  getRepo(name: string): Promise<Repository | undefined>;
  listRepos(): Promise<Repository[]>;
  /** Changes a repository's settings; NotFoundError if there is none. */
  updateRepo(name: string, change: RepoChange): Promise<Repository>;
  /** Removes the repo, its tags and its snapshots' records (blobs are left to gc). */
  deleteRepo(name: string): Promise<void>;

  /** Stores records by package digest (sha256 of the file); known ones are kept. */
  putPackages(records: readonly StorableRecord[]): Promise<void>;
  getPackages(digests: string[]): Promise<Map<string, PackageRecord>>;
  /**
   * The same records as stored (JSON, for toPackageRecord): for a thread that parses
   * them itself (the repodata renderer), so that the caller's does not.
   */
  getPackageTexts(digests: string[]): Promise<Map<string, string>>;
  /** Name, arch and EVR only: cheap, for policies over a whole repo. */
  getPackageIdentities(digests: string[]): Promise<Map<string, PackageIdentity>>;

  getRepodataPages(keys: string[]): Promise<Map<string, RepodataPage>>;
  putRepodataPages(pages: RepodataPage[]): Promise<void>;

  /** Adds a snapshot and moves its tags atomically; ConflictError if `parent` is stale. */
  commitSnapshot(commit: SnapshotCommit): Promise<Snapshot>;
  getSnapshot(repo: string, id: string): Promise<Snapshot | undefined>;
  listSnapshots(repo: string): Promise<Snapshot[]>;
  /** Every file of a snapshot (packages and repodata), by href. */
  snapshotFiles(id: string): Promise<SnapshotFile[]>;
  /** A snapshot's files other than packages (repodata): cheap. */
  snapshotMetadata(id: string): Promise<SnapshotFile[]>;
  /** A snapshot's package pages, in order (without their packages: cheap). */
  snapshotPages(id: string): Promise<PageRef[]>;
  /** The packages of stored pages, by key. */
  getPages(keys: string[]): Promise<Map<string, SnapshotFile[]>>;

  moveTag(update: TagUpdate): Promise<TagMove>;
  getTag(repo: string, tag: string): Promise<Tag | undefined>;
  listTags(repo: string): Promise<Tag[]>;
  tagHistory(repo: string, tag?: string): Promise<TagMove[]>;
  /** Where `tag` pointed at `time` (ISO 8601), from its history. */
  tagAt(repo: string, tag: string, time: string): Promise<string | undefined>;

  /** Creates a set (its id comes from the snapshot id sequence). */
  createSet(set: NewSet): Promise<SnapshotSet>;
  getSet(id: string): Promise<SnapshotSet | undefined>;
  /** Every set, or (with `liveAt`) those whose lease holds at that time. */
  listSets(opts?: { liveAt?: string }): Promise<SnapshotSet[]>;
  updateSet(id: string, change: LeaseChange): Promise<SnapshotSet>;
  /**
   * Moves `tag` in every repo of the set to the set's snapshot, in one transaction;
   * ConflictError (and no move) if one would go to an older snapshot without `force`.
   */
  promoteSet(p: Promotion): Promise<TagMove[]>;
  /** Tag moves (of every repo) at or after `since`. */
  tagMovesSince(since: string): Promise<TagMove[]>;

  /** Stores a token's hash under a name, with its scopes; the token itself is never stored. */
  createToken(t: NewToken): Promise<TokenInfo>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(name: string): Promise<TokenInfo>;
  /**
   * The token with this hash, revoked and expired ones too: whoever accepts a token
   * asks tokenRefusal (catalog-rules.ts) whether it may be used now.
   */
  findToken(hash: string): Promise<TokenInfo | undefined>;

  /** Adds a snapshot signing key; AlreadyExistsError if its fingerprint is there. */
  addSigningKey(key: Omit<SigningKey, 'addedAt'>): Promise<SigningKey>;
  /** The signing keys, oldest first. */
  listSigningKeys(): Promise<SigningKey[]>;
  /** Removes a signing key (snapshots it signed keep their signatures); NotFoundError if there is none. */
  removeSigningKey(fingerprint: string): Promise<SigningKey>;

  appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<void>;
  listAudit(opts: { repo?: string; limit?: number }): Promise<AuditEntry[]>;

  /** Removes snapshots and what only they used (pages, cache rows, old records). */
  sweep(s: CatalogSweep): Promise<CatalogSweepResult>;
  /** Every blob digest the catalog refers to, leaving out the snapshots in `without`. */
  referencedBlobs(without?: string[]): Promise<Set<string>>;
  /** A few counts, for monitoring: cheap (no list of anything is read). */
  counts(): Promise<CatalogCounts>;
  /**
   * The packages the stored pages list, each counted once, and their bytes: the bulk of
   * the store's blobs, known without listing them (a scan of the page entries: callers
   * that ask often keep the answer a while).
   */
  storedPackages(): Promise<{ count: number; bytes: number }>;

  /**
   * Runs `fn` with every read this catalog makes for it seeing one state of the catalog
   * (a read transaction of its own: writers go on, and `fn` sees none of their commits).
   * For checks that compare many rows (fsck): separate reads would see a commit land
   * between them. `fn` must only read.
   */
  consistentRead<T>(fn: () => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
