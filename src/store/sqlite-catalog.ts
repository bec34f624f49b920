// The catalog on embedded SQLite (node:sqlite) in WAL mode: readers never wait for
// writers, and writers from several processes serialise on BEGIN IMMEDIATE. The
// methods are synchronous underneath and async on the outside (see catalog.ts).

import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { PackageRecord } from '../rpm/index.ts';
import { crashPoint, fileSizeLimit } from '../common/index.ts';
import {
  type Catalog,
  type PackageIdentity,
  type PackagePage,
  type PageRef,
  type RepodataPage,
  type Repository,
  type Snapshot,
  type SnapshotCommit,
  type SnapshotFile,
  type Tag,
  type TagMove,
  type TagUpdate,
  type SnapshotSet,
  type NewSet,
  type LeaseChange,
  type Promotion,
  type NewToken,
  type RepoChange,
  type SigningKey,
  type TokenInfo,
  type AuditEntry,
  type CatalogSweep,
  type CatalogSweepResult,
  type CatalogCounts,
  auditScope,
  StoreError,
} from './catalog.ts';
import * as rules from './catalog-rules.ts';
import { runNow, type CatalogStorage, type Rule } from './catalog-rules.ts';
import { MIGRATIONS } from './sqlite-schema.ts';
import { scopesText } from './token-scopes.ts';
import { REPO_SETTINGS, repoSettings, toAudit, toMove, toRepo, toSet, toSigningKey, toSnapshot, toTag, toToken, COUNTS_QUERY, STORED_PACKAGES_QUERY, toCounts, toStoredPackages, rowOf, toPackageRecord, type Row, type StorableRecord } from './rows.ts';

// SQLite's primary result codes (the low byte of an extended one) that blame the disk.
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_BUSY = 5;

/** How long a writer waits for another connection's write lock (SQLite's busy_timeout too). */
const BUSY_TIMEOUT_MS = 30_000;

/** Why `dir` cannot take writes, if it is for a reason the user can fix: read-only or (nearly) full. */
function diskProblem(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'read-only file system';
    if (code === 'EACCES') return 'permission denied';
  }
  try {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (free < 1 << 20) return `no space left on the device, ${Math.floor(free / 1024)} KiB free`;
  } catch {
    // statfs unavailable: say nothing rather than guess
  }
  return undefined;
}

/** What the user can do about a problem diskProblem() found, and its kind. */
function remedy(problem: string): { advice: string; kind: StoreError['kind'] } {
  if (problem.startsWith('no space')) return { advice: 'free some space on it and run the command again', kind: 'storage_full' };
  if (problem === 'read-only file system') return { advice: 'the store can be read but not changed; mount it read-write to change it', kind: 'storage_read_only' };
  return { advice: 'run txrepo as a user who may write the store', kind: 'unavailable' };
}

/**
 * SQLite's failures that come from the disk under the catalog (full, read-only, a file
 * size limit, an I/O error) as StoreErrors that say so and where: they are for the user
 * to fix, not bugs. SQLite does not give the errno of an I/O error (a full disk shows
 * as one when the -shm file cannot grow, and so does a write cut short by a file size
 * limit), so the file system and the process's limits are asked.
 */
function diskFailure(e: unknown, path: string, opening = false): unknown {
  const err = e as { code?: unknown; errcode?: unknown; errstr?: unknown };
  if (err?.code !== 'ERR_SQLITE_ERROR' || typeof err.errcode !== 'number') return e;
  const primary = err.errcode & 0xff;
  if (![SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN].includes(primary)) return e;
  const sqlite = `SQLite: ${String(err.errstr)}`;
  const outcome = opening ? 'the catalog cannot be opened' : 'the change was not made';
  // A write SQLite could not make: a file size limit is the likely cause, where there is one.
  const limit = primary === SQLITE_IOERR || primary === SQLITE_FULL ? fileSizeLimit() : undefined;
  const problem = diskProblem(dirname(path)) ?? (primary === SQLITE_FULL && limit === undefined ? 'no space left on the device' : undefined);
  if (problem) {
    const { advice, kind } = remedy(problem);
    return new StoreError(`${path}: ${problem} (${sqlite}); ${outcome}: ${advice}`, kind);
  }
  if (limit !== undefined) {
    return new StoreError(`${path}: ${sqlite}, most likely a write past this process's file size limit of ${limit} bytes (ulimit -f); ${outcome}: raise the limit (ulimit -f unlimited) and run the command again`, 'storage_full');
  }
  // No cause we can name, but the disk's or the files': an error of the system, not a bug.
  return new StoreError(`${path}: ${sqlite} (code ${err.errcode}); ${outcome}: check the disk (the system log) and the store's files and their permissions`, 'io');
}

/** The catalog's rows on SQLite, for the rules (catalog-rules.ts): every call answers at once. */
class SqliteStorage implements CatalogStorage {
  private readonly q: (sql: string) => StatementSync;
  constructor(q: (sql: string) => StatementSync) {
    this.q = q;
  }

  hasRepo(name: string): boolean {
    return this.q('SELECT 1 FROM repos WHERE name = ?').get(name) !== undefined;
  }

  insertRepo(r: Repository): void {
    this.q(`INSERT INTO repos (name, ${REPO_SETTINGS.join(', ')}, created_at, created_by) VALUES (?, ${REPO_SETTINGS.map(() => '?').join(', ')}, ?, ?)`).run(r.name, ...repoSettings(r), r.createdAt, r.createdBy);
  }

  readRepo(name: string): Repository | undefined {
    const r = this.q('SELECT * FROM repos WHERE name = ?').get(name) as Row | undefined;
    return r ? toRepo(r) : undefined;
  }

  writeRepoSettings(r: Repository): void {
    this.q(`UPDATE repos SET ${REPO_SETTINGS.map((c) => `${c} = ?`).join(', ')} WHERE name = ?`).run(...repoSettings(r), r.name);
  }

  readSigningKey(fingerprint: string): SigningKey | undefined {
    const r = this.q('SELECT * FROM signing_keys WHERE fingerprint = ?').get(fingerprint) as Row | undefined;
    return r ? toSigningKey(r) : undefined;
  }

  insertSigningKey(k: SigningKey): void {
    this.q('INSERT INTO signing_keys (fingerprint, public_key, private_key, added_at, added_by) VALUES (?, ?, ?, ?, ?)').run(k.fingerprint, k.publicKey, k.privateKey, k.addedAt, k.addedBy);
  }

  deleteSigningKey(fingerprint: string): void {
    this.q('DELETE FROM signing_keys WHERE fingerprint = ?').run(fingerprint);
  }

  deleteRepoRow(name: string): void {
    this.q('DELETE FROM repos WHERE name = ?').run(name);
  }

  hasSnapshot(repo: string, id: string): boolean {
    return this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(repo, id) !== undefined;
  }

  lastId(): string | undefined {
    const r = this.q('SELECT last_id FROM id_state WHERE one = 1').get() as Row | undefined;
    return r ? String(r.last_id) : undefined;
  }

  setLastId(id: string): void {
    this.q('INSERT INTO id_state (one, last_id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id').run(id);
  }

  insertSnapshot(s: Snapshot): void {
    this.q('INSERT INTO snapshots (id, repo, parent, created_at, actor, message, packages, repomd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      s.id,
      s.repo,
      s.parent ?? null,
      s.createdAt,
      s.createdBy,
      s.message,
      s.packages,
      s.repomd,
    );
  }

  insertFiles(snapshot: string, files: SnapshotFile[]): void {
    const file = this.q('INSERT INTO snapshot_files (snapshot, href, digest, size, kind) VALUES (?, ?, ?, ?, ?)');
    for (const f of files) file.run(snapshot, f.href, f.digest, f.size, f.kind);
  }

  storedPages(keys: string[]): string[] {
    return (this.q('SELECT i.page FROM json_each(?) j JOIN page_info i ON i.page = j.value').all(JSON.stringify(keys)) as Row[]).map((r) => String(r.page));
  }

  insertPages(pages: PackagePage[]): void {
    const entry = this.q('INSERT INTO package_pages (page, seq, href, digest, size) VALUES (?, ?, ?, ?, ?)');
    const info = this.q('INSERT INTO page_info (page, count, last) VALUES (?, ?, ?)');
    for (const page of pages) {
      for (const [i, p] of page.packages.entries()) entry.run(page.key, i, p.href, p.digest, p.size);
      info.run(page.key, page.packages.length, page.packages[page.packages.length - 1].href);
    }
  }

  listPages(snapshot: string, keys: string[]): void {
    const listed = this.q('INSERT INTO snapshot_pages (snapshot, seq, page) VALUES (?, ?, ?)');
    for (const [seq, key] of keys.entries()) listed.run(snapshot, seq, key);
  }

  deleteSnapshots(ids: string[]): number {
    const list = JSON.stringify(ids);
    this.q('DELETE FROM snapshot_files WHERE snapshot IN (SELECT value FROM json_each(?))').run(list);
    this.q('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT value FROM json_each(?))').run(list);
    return Number(this.q('DELETE FROM snapshots WHERE id IN (SELECT value FROM json_each(?))').run(list).changes);
  }

  deleteSnapshotsOf(repo: string): void {
    this.q('DELETE FROM snapshot_files WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(repo);
    this.q('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(repo);
    this.q('DELETE FROM snapshots WHERE repo = ?').run(repo);
  }

  dropUnlistedPages(): number {
    const pages = Number(this.q('DELETE FROM page_info WHERE page NOT IN (SELECT page FROM snapshot_pages)').run().changes);
    this.q('DELETE FROM package_pages WHERE page NOT IN (SELECT page FROM page_info)').run();
    return pages;
  }

  dropUnlistedRenderings(): number {
    return Number(this.q('DELETE FROM repodata_pages WHERE page IS NULL OR page NOT IN (SELECT page FROM page_info)').run().changes);
  }

  dropUnlistedRecords(before: string): number {
    return Number(this.q('DELETE FROM packages WHERE (added_at IS NULL OR added_at < ?) AND digest NOT IN (SELECT digest FROM package_pages)').run(before).changes);
  }

  tagTarget(repo: string, tag: string): string | undefined {
    const r = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(repo, tag) as Row | undefined;
    return r ? String(r.snapshot) : undefined;
  }

  pointTag(repo: string, tag: string, to: string, at: string): void {
    this.q('INSERT INTO tags (repo, tag, snapshot, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET snapshot = excluded.snapshot, moved_at = excluded.moved_at').run(repo, tag, to, at);
  }

  appendTagMove(m: TagMove): void {
    this.q('INSERT INTO tag_history (repo, tag, from_snapshot, to_snapshot, at, actor, reason, set_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      m.repo,
      m.tag,
      m.from ?? null,
      m.to,
      m.at,
      m.actor,
      m.reason,
      m.set ?? null,
    );
  }

  deleteTagsOf(repo: string): void {
    this.q('DELETE FROM tags WHERE repo = ?').run(repo);
    this.q('DELETE FROM tag_history WHERE repo = ?').run(repo);
  }

  taggedAmong(ids: string[]): string[] {
    return (this.q('SELECT value AS id FROM json_each(?) WHERE value IN (SELECT snapshot FROM tags)').all(JSON.stringify(ids)) as Row[]).map((r) => String(r.id));
  }

  tagMovesSince(since: string): TagMove[] {
    return (this.q('SELECT * FROM tag_history WHERE at >= ? ORDER BY seq').all(since) as Row[]).map(toMove);
  }

  readSet(id: string): SnapshotSet | undefined {
    const r = this.q('SELECT * FROM sets WHERE id = ?').get(id) as Row | undefined;
    if (!r) return undefined;
    const members = (this.q('SELECT repo, snapshot FROM set_members WHERE set_id = ? ORDER BY repo').all(id) as Row[]).map((m) => ({ repo: String(m.repo), snapshot: String(m.snapshot) }));
    return toSet(r, members);
  }

  /** Every set, in id order. */
  allSets(): SnapshotSet[] {
    return (this.q('SELECT id FROM sets ORDER BY id').all() as Row[]).map((r) => this.readSet(String(r.id))!);
  }

  liveSets(at: string): SnapshotSet[] {
    const rows = this.q('SELECT id FROM sets WHERE released_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id').all(at) as Row[];
    return rows.map((r) => this.readSet(String(r.id))!);
  }

  insertSet(set: SnapshotSet): void {
    this.q('INSERT INTO sets (id, label, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)').run(set.id, set.label ?? null, set.createdAt, set.createdBy, set.expiresAt ?? null);
    const member = this.q('INSERT INTO set_members (set_id, repo, snapshot) VALUES (?, ?, ?)');
    for (const m of set.members) member.run(set.id, m.repo, m.snapshot);
  }

  setLeaseEnd(id: string, expiresAt: string | null): void {
    this.q('UPDATE sets SET expires_at = ? WHERE id = ?').run(expiresAt, id);
  }

  setReleased(id: string, at: string): void {
    this.q('UPDATE sets SET released_at = ? WHERE id = ?').run(at, id);
  }

  readToken(name: string): TokenInfo | undefined {
    const r = this.q('SELECT * FROM tokens WHERE name = ?').get(name) as Row | undefined;
    return r ? toToken(r) : undefined;
  }

  insertToken(t: TokenInfo & { hash: string }): void {
    this.q('INSERT INTO tokens (name, hash, scopes, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(t.name, t.hash, scopesText(t.scopes), t.createdAt, t.createdBy, t.expiresAt ?? null);
  }

  setRevoked(name: string, at: string): void {
    this.q('UPDATE tokens SET revoked_at = ? WHERE name = ?').run(at, name);
  }

  recordUses(digests: string[], at: string): void {
    this.q('INSERT INTO blob_uses (digest, used_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (digest) DO UPDATE SET used_at = excluded.used_at').run(at, JSON.stringify(digests));
  }

  usedAmong(digests: string[], since: string): string[] {
    return this.digests('SELECT u.digest FROM json_each(?) j JOIN blob_uses u ON u.digest = j.value WHERE u.used_at >= ?', digests, since);
  }

  claimedAmong(digests: string[], since: string): string[] {
    return this.digests('SELECT r.digest FROM json_each(?) j JOIN blob_removals r ON r.digest = j.value WHERE r.claimed_at >= ?', digests, since);
  }

  listedAmong(digests: string[]): string[] {
    return this.digests(
      `SELECT value AS digest FROM json_each(?) j
       WHERE EXISTS (SELECT 1 FROM package_pages p WHERE p.digest = j.value)
          OR EXISTS (SELECT 1 FROM snapshot_files f WHERE f.digest = j.value)
          OR EXISTS (SELECT 1 FROM repodata_pages r WHERE r.blob = j.value)`,
      digests,
    );
  }

  claim(digests: string[], at: string): void {
    const claim = this.q('INSERT INTO blob_removals (digest, claimed_at) VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET claimed_at = excluded.claimed_at');
    for (const d of digests) claim.run(d, at);
  }

  dropClaimsBefore(before: string): void {
    this.q('DELETE FROM blob_removals WHERE claimed_at < ?').run(before);
  }

  forgetBlobs(digests: string[]): void {
    const list = JSON.stringify(digests);
    this.q('DELETE FROM blob_removals WHERE digest IN (SELECT value FROM json_each(?))').run(list);
    this.q('DELETE FROM blob_uses WHERE digest IN (SELECT value FROM json_each(?))').run(list);
  }

  /** The digests a query over a list of them (and more parameters) answers. */
  private digests(sql: string, digests: string[], ...params: string[]): string[] {
    return (this.q(sql).all(JSON.stringify(digests), ...params) as Row[]).map((r) => String(r.digest));
  }
}

export class SqliteCatalog implements Catalog {
  private readonly db: DatabaseSync;
  private readonly path: string;
  /** Opened as immutable (a read-only file system): nothing writes it. */
  private readonly immutable: boolean;
  private readonly statements = new Map<string, StatementSync>();
  private readonly storage = new SqliteStorage((sql) => this.q(sql));

  constructor(path: string) {
    this.path = path;
    let immutable = false;
    try {
      this.db = new DatabaseSync(path);
      // busy_timeout first: every later statement, journal_mode included, may meet a writer.
      this.db.exec('PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    } catch (e) {
      this.db = SqliteCatalog.openOnReadOnlyFs(path, e);
      immutable = true;
    }
    this.immutable = immutable;
    this.migrate();
  }

  /**
   * A store on a read-only file system (a replica, a mounted backup) is still read.
   * SQLite opens a WAL database there only if its -wal and -shm files exist (left by
   * a process that did not close it), since it cannot create them. A catalog closed
   * cleanly has no -wal file: all of it is in the main file, which nothing on this
   * mount can change, so it is opened as immutable (no -shm, no locks). A non-empty
   * -wal file holds commits only SQLite's shared memory can find: that needs a write.
   */
  private static openOnReadOnlyFs(path: string, failure: unknown): DatabaseSync {
    if (diskProblem(dirname(path)) !== 'read-only file system') throw diskFailure(failure, path, true);
    const wal = statSync(`${path}-wal`, { throwIfNoEntry: false });
    if (wal && wal.size > 0) {
      throw new StoreError(
        `${path}: read-only file system, and the catalog was not closed cleanly (${path}-wal holds commits); mount the store read-write once (any txrepo command then closes it cleanly), or copy it elsewhere`,
      );
    }
    const url = pathToFileURL(path);
    url.searchParams.set('immutable', '1');
    const db = new DatabaseSync(url, { readOnly: true });
    db.exec('PRAGMA foreign_keys = ON;');
    return db;
  }

  private version(): number {
    return Number((this.db.prepare('PRAGMA user_version').get() as Row).user_version);
  }

  /** Readers only read the schema version; a migration takes the write lock and re-checks. */
  private migrate() {
    if (this.version() === MIGRATIONS.length) return;
    this.transaction(() => {
      const version = this.version();
      if (version > MIGRATIONS.length) {
        throw new Error(rules.newerSchema(version, MIGRATIONS.length));
      }
      for (let v = version; v < MIGRATIONS.length; v++) {
        const step = MIGRATIONS[v];
        if (typeof step === 'string') this.db.exec(step);
        else step(this.db);
      }
      this.db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    });
  }

  private q(sql: string): StatementSync {
    // Inside consistentRead, on the view's own connection.
    const view = this.view.getStore();
    const [db, statements] = view ? [view.db, view.statements] : [this.db, this.statements];
    let st = statements.get(sql);
    if (!st) statements.set(sql, (st = db.prepare(sql)));
    return st;
  }

  /** The connection of a consistentRead running in this async context. */
  private readonly view = new AsyncLocalStorage<{ db: DatabaseSync; statements: Map<string, StatementSync> }>();

  /**
   * A connection of its own, in a read transaction (WAL: the snapshot is taken at its
   * first read, done at once), so that the view neither sees this connection's writes
   * nor holds them up. A catalog opened as immutable has no writers: it is one state.
   */
  async consistentRead<T>(fn: () => Promise<T>): Promise<T> {
    if (this.immutable) return fn();
    const db = new DatabaseSync(this.path, { readOnly: true });
    try {
      db.exec('PRAGMA busy_timeout = 30000; BEGIN');
      db.prepare('SELECT COUNT(*) FROM repos').get();
      return await this.view.run({ db, statements: new Map() }, fn);
    } finally {
      try {
        db.exec('COMMIT');
      } finally {
        db.close();
      }
    }
  }

  /** A write transaction: BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlocks). */
  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    return this.complete(fn);
  }

  /**
   * A write transaction (see transaction()) that waits for another process's write
   * lock on timers, not in SQLite's busy handler: that sleeps in this thread, and in
   * `txrepo serve` every reader would sleep with it, though reads need no lock (WAL).
   * The lock is taken and the transaction run in one synchronous stretch: nothing
   * else on this connection runs in between.
   */
  private async write<T>(fn: () => T, change = false): Promise<T> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      const busy = this.tryBegin();
      if (!busy) return this.complete(fn, change);
      if (Date.now() >= deadline) throw busy;
      await sleep(pause);
    }
  }

  /** BEGIN IMMEDIATE if no other connection holds the write lock; else SQLite's busy error. */
  private tryBegin(): Error | undefined {
    this.db.exec('PRAGMA busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE');
      return undefined;
    } catch (e) {
      const code = (e as { errcode?: unknown }).errcode;
      if (typeof code === 'number' && (code & 0xff) === SQLITE_BUSY) return e as Error;
      throw e;
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /**
   * Runs `fn` in the transaction just begun, and commits it (or rolls it back). The
   * transaction that makes a mutation's `change` also writes its audit row (auditScope).
   */
  private complete<T>(fn: () => T, change = false): T {
    const audit = change ? auditScope.getStore() : undefined;
    const changesBefore = audit && !audit.written ? this.totalChanges() : 0;
    try {
      const result = fn();
      // Only a transaction that changed something carries the row: one that found
      // nothing to do writes nothing, and so commits even on a full disk (a gc with no
      // snapshot to drop must still be able to free one); the mutation logs it after.
      const carries = audit !== undefined && !audit.written && this.totalChanges() > changesBefore;
      if (carries) this.insertAudit(audit.entry('ok'));
      crashPoint('commit', 'catalog');
      this.db.exec('COMMIT');
      if (carries) audit.written = true;
      crashPoint('committed', 'catalog');
      return result;
    } catch (e) {
      // A COMMIT that failed on the disk (full, I/O error) has already rolled back; a
      // ROLLBACK then would fail too and hide why.
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw diskFailure(e, this.path);
    }
  }

  /** A change that a rule makes (catalog-rules.ts), in a write transaction that carries its audit row. */
  private change<T>(rule: (tx: CatalogStorage) => Rule<T>): Promise<T> {
    return this.write(() => runNow(rule(this.storage)), true);
  }

  async createRepo(repo: Omit<Repository, 'createdAt'>): Promise<Repository> {
    const created: Repository = { ...repo, createdAt: new Date().toISOString() };
    return this.change((tx) => rules.createRepo(tx, created));
  }

  async getRepo(name: string): Promise<Repository | undefined> {
    const r = this.q('SELECT * FROM repos WHERE name = ?').get(name) as Row | undefined;
    return r ? toRepo(r) : undefined;
  }

  async listRepos(): Promise<Repository[]> {
    return (this.q('SELECT * FROM repos ORDER BY name').all() as Row[]).map(toRepo);
  }

  async updateRepo(name: string, change: RepoChange): Promise<Repository> {
    return this.change((tx) => rules.updateRepo(tx, name, change));
  }

  async addSigningKey(key: Omit<SigningKey, 'addedAt'>): Promise<SigningKey> {
    return this.change((tx) => rules.addSigningKey(tx, key));
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    return (this.q('SELECT * FROM signing_keys ORDER BY added_at, fingerprint').all() as Row[]).map(toSigningKey);
  }

  async removeSigningKey(fingerprint: string): Promise<SigningKey> {
    return this.change((tx) => rules.removeSigningKey(tx, fingerprint));
  }

  async deleteRepo(name: string): Promise<void> {
    return this.change((tx) => rules.deleteRepo(tx, name));
  }

  async putPackages(records: readonly StorableRecord[]): Promise<void> {
    const rows = records.map(rowOf);
    await this.write(() => {
      // A known record only gets a new added_at: gc keeps young records for a commit to come.
      // The JSON comes as UTF-8 bytes (rows.ts) and is stored as the text they are.
      const insert = this.q(
        'INSERT INTO packages (digest, name, arch, epoch, version, release, record, added_at) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?) ON CONFLICT (digest) DO UPDATE SET added_at = excluded.added_at',
      );
      const now = new Date().toISOString();
      for (const r of rows) insert.run(r.pkgid, r.name, r.arch, r.epoch, r.version, r.release, r.json, now);
    });
  }

  async getPackages(digests: string[]): Promise<Map<string, PackageRecord>> {
    return this.packagesAs(digests, toPackageRecord);
  }

  async getPackageTexts(digests: string[]): Promise<Map<string, string>> {
    return this.packagesAs(digests, (text) => text);
  }

  private packagesAs<T>(digests: string[], as: (text: string) => T): Map<string, T> {
    const out = new Map<string, T>();
    // A statement a digest, not one for all (json_each): that measured no faster, and
    // held a page's JSON texts at once beside the records made of them.
    const get = this.q('SELECT record FROM packages WHERE digest = ?');
    for (const d of digests) {
      const r = get.get(d) as Row | undefined;
      if (r) out.set(d, as(String(r.record)));
    }
    return out;
  }
  async getPackageIdentities(digests: string[]): Promise<Map<string, PackageIdentity>> {
    const out = new Map<string, PackageIdentity>();
    const rows = this.q('SELECT p.digest, p.name, p.arch, p.epoch, p.version, p.release FROM json_each(?) j JOIN packages p ON p.digest = j.value').all(JSON.stringify(digests)) as Row[];
    for (const r of rows) {
      const d = String(r.digest);
      out.set(d, { digest: d, name: String(r.name), arch: String(r.arch), epoch: String(r.epoch), version: String(r.version), release: String(r.release) });
    }
    return out;
  }

  async getRepodataPages(keys: string[]): Promise<Map<string, RepodataPage>> {
    const out = new Map<string, RepodataPage>();
    // One statement for all keys: a deploy asks for every page of the repo.
    for (const r of this.q('SELECT r.* FROM json_each(?) j JOIN repodata_pages r ON r.key = j.value').all(JSON.stringify(keys)) as Row[]) {
      const key = String(r.key);
      const part = (p: string) => ({ size: Number(r[`${p}_size`]), openSize: Number(r[`${p}_open`]) });
      out.set(key, { key, page: String(r.page), blob: String(r.blob), primary: part('primary'), filelists: part('filelists'), other: part('other') });
    }
    return out;
  }

  async putRepodataPages(pages: RepodataPage[]): Promise<void> {
    await this.write(() => {
      // REPLACE: a page rendered again (its blob was gone) supersedes the old row.
      const put = this.q(
        `INSERT OR REPLACE INTO repodata_pages (key, page, blob, primary_size, primary_open, filelists_size, filelists_open, other_size, other_open)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of pages) {
        put.run(p.key, p.page, p.blob, p.primary.size, p.primary.openSize, p.filelists.size, p.filelists.openSize, p.other.size, p.other.openSize);
      }
    });
  }

  async commitSnapshot(c: SnapshotCommit): Promise<Snapshot> {
    return this.change((tx) => rules.commitSnapshot(tx, c));
  }

  async getSnapshot(repo: string, id: string): Promise<Snapshot | undefined> {
    const r = this.q('SELECT * FROM snapshots WHERE repo = ? AND id = ?').get(repo, id) as Row | undefined;
    return r ? toSnapshot(r) : undefined;
  }

  async listSnapshots(repo: string): Promise<Snapshot[]> {
    return (this.q('SELECT * FROM snapshots WHERE repo = ? ORDER BY id').all(repo) as Row[]).map(toSnapshot);
  }

  async snapshotFiles(id: string): Promise<SnapshotFile[]> {
    const files = (this.q('SELECT href, digest, size, kind FROM snapshot_files WHERE snapshot = ?').all(id) as Row[]).map((r) => ({
      href: String(r.href),
      digest: String(r.digest),
      size: Number(r.size),
      kind: r.kind === 'package' ? ('package' as const) : ('metadata' as const),
    }));
    const rows = this.q('SELECT p.href, p.digest, p.size FROM snapshot_pages s JOIN package_pages p ON p.page = s.page WHERE s.snapshot = ?').all(id) as Row[];
    for (const r of rows) files.push({ href: String(r.href), digest: String(r.digest), size: Number(r.size), kind: 'package' });
    return files.sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
  }

  async snapshotMetadata(id: string): Promise<SnapshotFile[]> {
    return (this.q('SELECT href, digest, size FROM snapshot_files WHERE snapshot = ? ORDER BY href').all(id) as Row[]).map((r) => ({
      href: String(r.href),
      digest: String(r.digest),
      size: Number(r.size),
      kind: 'metadata' as const,
    }));
  }

  async snapshotPages(id: string): Promise<PageRef[]> {
    // Each page's last entry gives its count (seq + 1) and where it ends.
    const rows = this.q('SELECT s.page, i.count, i.last FROM snapshot_pages s LEFT JOIN page_info i ON i.page = s.page WHERE s.snapshot = ? ORDER BY s.seq').all(id) as Row[];
    return rows.map((r) => {
      if (r.count === null) throw new Error(rules.pageWithoutInfo(String(r.page), id));
      return { key: String(r.page), count: Number(r.count), last: String(r.last) };
    });
  }

  async getPages(keys: string[]): Promise<Map<string, SnapshotFile[]>> {
    const out = new Map<string, SnapshotFile[]>();
    const get = this.q('SELECT href, digest, size FROM package_pages WHERE page = ? ORDER BY seq');
    for (const key of keys) {
      if (out.has(key)) continue;
      const rows = get.all(key) as Row[];
      if (rows.length) out.set(key, rows.map((r) => ({ href: String(r.href), digest: String(r.digest), size: Number(r.size), kind: 'package' as const })));
    }
    return out;
  }

  async moveTag(u: TagUpdate): Promise<TagMove> {
    return this.change((tx) => rules.moveTag(tx, u));
  }

  async getTag(repo: string, tag: string): Promise<Tag | undefined> {
    const r = this.q('SELECT * FROM tags WHERE repo = ? AND tag = ?').get(repo, tag) as Row | undefined;
    return r ? toTag(r) : undefined;
  }

  async listTags(repo: string): Promise<Tag[]> {
    return (this.q('SELECT * FROM tags WHERE repo = ? ORDER BY tag').all(repo) as Row[]).map(toTag);
  }

  async tagHistory(repo: string, tag?: string): Promise<TagMove[]> {
    const rows = tag === undefined ? this.q('SELECT * FROM tag_history WHERE repo = ? ORDER BY seq').all(repo) : this.q('SELECT * FROM tag_history WHERE repo = ? AND tag = ? ORDER BY seq').all(repo, tag);
    return (rows as Row[]).map(toMove);
  }

  async tagAt(repo: string, tag: string, time: string): Promise<string | undefined> {
    const r = this.q('SELECT to_snapshot FROM tag_history WHERE repo = ? AND tag = ? AND at <= ? ORDER BY seq DESC LIMIT 1').get(repo, tag, time) as Row | undefined;
    return r ? String(r.to_snapshot) : undefined;
  }

  async tagMovesSince(since: string): Promise<TagMove[]> {
    return this.storage.tagMovesSince(since);
  }

  // Sets

  async createSet(n: NewSet): Promise<SnapshotSet> {
    return this.change((tx) => rules.createSet(tx, n));
  }

  async getSet(id: string): Promise<SnapshotSet | undefined> {
    return this.storage.readSet(id);
  }

  async listSets(opts: { liveAt?: string } = {}): Promise<SnapshotSet[]> {
    return opts.liveAt === undefined ? this.storage.allSets() : this.storage.liveSets(opts.liveAt);
  }

  async updateSet(id: string, change: LeaseChange): Promise<SnapshotSet> {
    return this.change((tx) => rules.updateSet(tx, id, change));
  }

  async promoteSet(p: Promotion): Promise<TagMove[]> {
    return this.change((tx) => rules.promoteSet(tx, p));
  }

  // Tokens and the audit log

  async createToken(t: NewToken): Promise<TokenInfo> {
    return this.change((tx) => rules.createToken(tx, t));
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (this.q('SELECT * FROM tokens ORDER BY name').all() as Row[]).map(toToken);
  }

  async revokeToken(name: string): Promise<TokenInfo> {
    return this.change((tx) => rules.revokeToken(tx, name));
  }

  async findToken(hash: string): Promise<TokenInfo | undefined> {
    const r = this.q('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
    return r ? toToken(r) : undefined;
  }

  async appendAudit(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    try {
      await this.write(() => this.insertAudit(e));
    } catch (err) {
      throw diskFailure(err, this.path);
    }
  }

  /** Rows changed by this connection since it opened (SQLite's total_changes()). */
  private totalChanges(): number {
    return Number((this.q('SELECT total_changes() AS n').get() as Row).n);
  }

  private insertAudit(e: Omit<AuditEntry, 'seq'>): void {
    this.q('INSERT INTO audit (at, actor, command, repo, args, result) VALUES (?, ?, ?, ?, ?, ?)').run(e.at, e.actor, e.command, e.repo ?? null, e.args, e.result);
  }

  async listAudit(opts: { repo?: string; limit?: number }): Promise<AuditEntry[]> {
    const limit = opts.limit ?? 1000;
    const rows = opts.repo === undefined ? this.q('SELECT * FROM audit ORDER BY seq DESC LIMIT ?').all(limit) : this.q('SELECT * FROM audit WHERE repo = ? ORDER BY seq DESC LIMIT ?').all(opts.repo, limit);
    return (rows as Row[]).reverse().map(toAudit);
  }

  // Garbage collection

  async sweep(s: CatalogSweep): Promise<CatalogSweepResult> {
    return this.change((tx) => rules.sweep(tx, s));
  }

  async referencedBlobs(without: string[] = []): Promise<Set<string>> {
    const ids = JSON.stringify(without);
    // One read transaction, so that the three queries see one state of the catalog.
    this.db.exec('BEGIN');
    try {
      const out = new Set<string>();
      const add = (rows: unknown[]) => {
        for (const r of rows as Row[]) out.add(String(r.digest));
      };
      add(this.q('SELECT DISTINCT digest FROM snapshot_files WHERE snapshot NOT IN (SELECT value FROM json_each(?))').all(ids));
      const pages = 'SELECT DISTINCT page FROM snapshot_pages WHERE snapshot NOT IN (SELECT value FROM json_each(?))';
      add(this.q(`SELECT DISTINCT digest FROM package_pages WHERE page IN (${pages})`).all(ids));
      add(this.q(`SELECT blob AS digest FROM repodata_pages WHERE page IN (${pages})`).all(ids));
      return out;
    } finally {
      this.db.exec('COMMIT');
    }
  }

  async counts(): Promise<CatalogCounts> {
    return toCounts(this.q(COUNTS_QUERY).get() as Row);
  }

  async storedPackages(): Promise<{ count: number; bytes: number }> {
    return toStoredPackages(this.q(STORED_PACKAGES_QUERY).get() as Row);
  }

  // The blob ledger: writes that never carry a mutation's audit row (that goes with the change itself)

  async recordBlobUses(digests: string[]): Promise<string[]> {
    // No transaction for nothing: a read-only store still answers an empty call.
    if (!digests.length) return [];
    return this.write(() => runNow(rules.recordBlobUses(this.storage, digests)));
  }

  async blobRemovalsPending(digests: string[]): Promise<string[]> {
    return digests.length ? this.storage.claimedAmong(digests, rules.liveClaimsSince()) : [];
  }

  async claimBlobRemovals(digests: string[], unusedSince: string): Promise<string[]> {
    if (!digests.length) return [];
    return this.write(() => runNow(rules.claimBlobRemovals(this.storage, digests, unusedSince)));
  }

  async finishBlobRemovals(digests: string[]): Promise<void> {
    if (!digests.length) return;
    await this.write(() => runNow(rules.finishBlobRemovals(this.storage, digests)));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
