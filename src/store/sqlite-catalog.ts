// The catalog on embedded SQLite (node:sqlite) in WAL mode: readers never wait for
// writers, and writers from several processes serialise on BEGIN IMMEDIATE. The
// methods are synchronous underneath and async on the outside (see catalog.ts).

import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { PackageRecord } from '../rpm/index.ts';
import { crashPoint } from '../common/index.ts';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
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
  type TokenInfo,
  type AuditEntry,
  type CatalogSweep,
  type CatalogSweepResult,
  auditScope,
  StoreError,
  STALE_CLAIM_MS,
} from './catalog.ts';
import { compareIds, nextSnapshotId } from './ids.ts';
import { insertPages, MIGRATIONS } from './sqlite-schema.ts';
import { newMove, toMove, toRepo, toSnapshot, toToken, type Row } from './rows.ts';

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

/**
 * SQLite's failures that come from the disk under the catalog (full, read-only) as
 * StoreErrors that say so and where: they are for the user to fix, not bugs. SQLite
 * does not give the errno of an I/O error (a full disk shows as one when the -shm file
 * cannot grow), so the file system is asked.
 */
function diskFailure(e: unknown, path: string, opening = false): unknown {
  const err = e as { code?: unknown; errcode?: unknown; errstr?: unknown };
  if (err?.code !== 'ERR_SQLITE_ERROR' || typeof err.errcode !== 'number') return e;
  const primary = err.errcode & 0xff;
  if (![SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN].includes(primary)) return e;
  const problem = diskProblem(dirname(path)) ?? (primary === SQLITE_FULL ? 'no space left on the device' : undefined);
  if (!problem) return e;
  const advice = problem.startsWith('no space')
    ? 'free some space on it and run the command again'
    : problem === 'read-only file system'
      ? 'the store can be read but not changed; mount it read-write to change it'
      : 'run txrepo as a user who may write the store';
  const kind = problem.startsWith('no space') ? 'storage_full' : problem === 'read-only file system' ? 'storage_read_only' : 'unavailable';
  return new StoreError(`${path}: ${problem} (SQLite: ${String(err.errstr)}); ${opening ? 'the catalog cannot be opened' : 'the change was not made'}: ${advice}`, kind);
}

export class SqliteCatalog implements Catalog {
  private readonly db: DatabaseSync;
  private readonly path: string;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.path = path;
    try {
      this.db = new DatabaseSync(path);
      // busy_timeout first: every later statement, journal_mode included, may meet a writer.
      this.db.exec('PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    } catch (e) {
      this.db = SqliteCatalog.openOnReadOnlyFs(path, e);
    }
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
        throw new Error(`the catalog has schema version ${version}, newer than this txrepo (${MIGRATIONS.length}); upgrade txrepo`);
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
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
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

  async createRepo(repo: Omit<Repository, 'createdAt'>): Promise<Repository> {
    const created: Repository = { ...repo, createdAt: new Date().toISOString() };
    try {
      await this.write(
        () =>
          this.q('INSERT INTO repos (name, upstream, keep, retain_last, retain_days, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
            created.name,
            created.upstream ?? null,
            created.keep ?? null,
            created.retainLast ?? null,
            created.retainDays ?? null,
            created.createdAt,
            created.createdBy,
          ),
        true,
      );
    } catch (e) {
      if (/UNIQUE constraint failed/.test((e as Error).message)) throw new AlreadyExistsError(`repository ${repo.name} already exists`);
      throw diskFailure(e, this.path);
    }
    return created;
  }

  async getRepo(name: string): Promise<Repository | undefined> {
    const r = this.q('SELECT * FROM repos WHERE name = ?').get(name) as Row | undefined;
    return r ? toRepo(r) : undefined;
  }

  async listRepos(): Promise<Repository[]> {
    return (this.q('SELECT * FROM repos ORDER BY name').all() as Row[]).map(toRepo);
  }

  async deleteRepo(name: string): Promise<void> {
    await this.write(() => {
      if (!this.q('SELECT 1 FROM repos WHERE name = ?').get(name)) throw new NotFoundError(`no repository ${name}`);
      const pinned = this.q(
        `SELECT s.id FROM sets s JOIN set_members m ON m.set_id = s.id
         WHERE m.repo = ? AND s.released_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?) ORDER BY s.id`,
      ).all(name, new Date().toISOString()) as Row[];
      if (pinned.length) throw new ConflictError(`repository ${name} has snapshots pinned by live sets (${pinned.map((r) => String(r.id)).join(', ')}); release them first ('txrepo set release ID')`);
      this.q('DELETE FROM snapshot_files WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(name);
      this.q('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(name);
      // Pages no snapshot lists any more go with it.
      this.q('DELETE FROM package_pages WHERE page NOT IN (SELECT page FROM snapshot_pages)').run();
      this.q('DELETE FROM page_info WHERE page NOT IN (SELECT page FROM snapshot_pages)').run();
      this.q('DELETE FROM snapshots WHERE repo = ?').run(name);
      this.q('DELETE FROM tags WHERE repo = ?').run(name);
      this.q('DELETE FROM tag_history WHERE repo = ?').run(name);
      this.q('DELETE FROM repos WHERE name = ?').run(name);
    }, true);
  }

  async putPackages(records: PackageRecord[]): Promise<void> {
    await this.write(() => {
      // A known record only gets a new added_at: gc keeps young records for a commit to come.
      const insert = this.q(
        'INSERT INTO packages (digest, name, arch, epoch, version, release, record, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO UPDATE SET added_at = excluded.added_at',
      );
      const now = new Date().toISOString();
      for (const r of records) {
        // The location belongs to a snapshot, not to the package.
        const { locationHref: _href, locationBase: _base, ...stored } = r;
        insert.run(r.pkgid, r.name, r.arch, r.epoch, r.version, r.release, JSON.stringify(stored), now);
      }
    });
  }

  async getPackages(digests: string[]): Promise<Map<string, PackageRecord>> {
    const out = new Map<string, PackageRecord>();
    const get = this.q('SELECT record FROM packages WHERE digest = ?');
    for (const d of digests) {
      const r = get.get(d) as Row | undefined;
      if (r) out.set(d, { ...(JSON.parse(String(r.record)) as PackageRecord), locationHref: '' });
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
    return this.write(() => {
      if (!this.q('SELECT 1 FROM repos WHERE name = ?').get(c.repo)) throw new NotFoundError(`no repository ${c.repo}`);
      const latest = this.q("SELECT snapshot FROM tags WHERE repo = ? AND tag = 'latest'").get(c.repo) as Row | undefined;
      const current = latest ? String(latest.snapshot) : undefined;
      if (current !== c.parent) {
        throw new ConflictError(`repository ${c.repo} moved on: latest is ${current ?? '(none)'}, the new snapshot was based on ${c.parent ?? '(none)'}`);
      }
      const now = new Date();
      const id = this.nextId(now);
      const snapshot: Snapshot = { id, repo: c.repo, createdAt: now.toISOString(), createdBy: c.actor, message: c.message, packages: c.packages, repomd: c.repomd };
      if (c.parent) snapshot.parent = c.parent;
      this.q('INSERT INTO snapshots (id, repo, parent, created_at, actor, message, packages, repomd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        id,
        c.repo,
        c.parent ?? null,
        snapshot.createdAt,
        c.actor,
        c.message,
        c.packages,
        c.repomd,
      );
      const file = this.q('INSERT INTO snapshot_files (snapshot, href, digest, size, kind) VALUES (?, ?, ?, ?, ?)');
      for (const f of c.files) file.run(id, f.href, f.digest, f.size, f.kind);
      insertPages(this.db, id, c.pages);
      for (const tag of c.tags) this.setTag(c.repo, tag, id, c.actor, c.message || 'commit', snapshot.createdAt);
      return snapshot;
    }, true);
  }

  private setTag(repo: string, tag: string, to: string, actor: string, reason: string, at: string, set?: string): TagMove {
    const prev = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(repo, tag) as Row | undefined;
    this.q('INSERT INTO tags (repo, tag, snapshot, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET snapshot = excluded.snapshot, moved_at = excluded.moved_at').run(repo, tag, to, at);
    this.q('INSERT INTO tag_history (repo, tag, from_snapshot, to_snapshot, at, actor, reason, set_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      repo,
      tag,
      prev ? String(prev.snapshot) : null,
      to,
      at,
      actor,
      reason,
      set ?? null,
    );
    return newMove(repo, tag, prev ? String(prev.snapshot) : undefined, to, at, actor, reason, set);
  }

  /** The next id of the shared snapshot/set sequence (inside a write transaction). */
  private nextId(now: Date): string {
    const last = this.q('SELECT last_id FROM id_state WHERE one = 1').get() as Row | undefined;
    const id = nextSnapshotId(now, last ? String(last.last_id) : undefined);
    this.q('INSERT INTO id_state (one, last_id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id').run(id);
    return id;
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
      if (r.count === null) throw new Error(`the catalog lists package page ${String(r.page)} in snapshot ${id} but has no page_info row for it; run 'txrepo fsck'`);
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
    return this.write(() => {
      if (!this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(u.repo, u.to)) throw new NotFoundError(`repository ${u.repo} has no snapshot ${u.to}`);
      if (u.expect !== undefined) {
        const cur = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(u.repo, u.tag) as Row | undefined;
        const now = cur ? String(cur.snapshot) : null;
        if (now !== u.expect) throw new ConflictError(`tag ${u.tag} of ${u.repo} points at ${now ?? '(nothing)'}, not ${u.expect ?? '(nothing)'}`);
      }
      return this.setTag(u.repo, u.tag, u.to, u.actor, u.reason, new Date().toISOString());
    }, true);
  }

  async getTag(repo: string, tag: string): Promise<Tag | undefined> {
    const r = this.q('SELECT * FROM tags WHERE repo = ? AND tag = ?').get(repo, tag) as Row | undefined;
    return r ? { repo, tag, snapshot: String(r.snapshot), movedAt: String(r.moved_at) } : undefined;
  }

  async listTags(repo: string): Promise<Tag[]> {
    return (this.q('SELECT * FROM tags WHERE repo = ? ORDER BY tag').all(repo) as Row[]).map((r) => ({ repo, tag: String(r.tag), snapshot: String(r.snapshot), movedAt: String(r.moved_at) }));
  }

  async tagHistory(repo: string, tag?: string): Promise<TagMove[]> {
    const rows = tag === undefined ? this.q('SELECT * FROM tag_history WHERE repo = ? ORDER BY seq').all(repo) : this.q('SELECT * FROM tag_history WHERE repo = ? AND tag = ? ORDER BY seq').all(repo, tag);
    return (rows as Row[]).map(toMove);
  }

  async tagAt(repo: string, tag: string, time: string): Promise<string | undefined> {
    const r = this.q('SELECT to_snapshot FROM tag_history WHERE repo = ? AND tag = ? AND at <= ? ORDER BY seq DESC LIMIT 1').get(repo, tag, time) as Row | undefined;
    return r ? String(r.to_snapshot) : undefined;
  }

  // Sets

  private readSet(id: string): SnapshotSet | undefined {
    const r = this.q('SELECT * FROM sets WHERE id = ?').get(id) as Row | undefined;
    if (!r) return undefined;
    const set: SnapshotSet = {
      id,
      createdAt: String(r.created_at),
      createdBy: String(r.created_by),
      members: (this.q('SELECT repo, snapshot FROM set_members WHERE set_id = ? ORDER BY repo').all(id) as Row[]).map((m) => ({ repo: String(m.repo), snapshot: String(m.snapshot) })),
    };
    if (r.label !== null) set.label = String(r.label);
    if (r.expires_at !== null) set.expiresAt = String(r.expires_at);
    if (r.released_at !== null) set.releasedAt = String(r.released_at);
    return set;
  }

  async createSet(n: NewSet): Promise<SnapshotSet> {
    return this.write(() => {
      for (const m of n.members) {
        if (!this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(m.repo, m.snapshot)) throw new NotFoundError(`repository ${m.repo} has no snapshot ${m.snapshot}`);
      }
      const now = new Date();
      const id = this.nextId(now);
      this.q('INSERT INTO sets (id, label, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)').run(id, n.label ?? null, now.toISOString(), n.actor, n.expiresAt ?? null);
      const member = this.q('INSERT INTO set_members (set_id, repo, snapshot) VALUES (?, ?, ?)');
      for (const m of n.members) member.run(id, m.repo, m.snapshot);
      return this.readSet(id)!;
    }, true);
  }

  async getSet(id: string): Promise<SnapshotSet | undefined> {
    return this.readSet(id);
  }

  async listSets(opts: { liveAt?: string } = {}): Promise<SnapshotSet[]> {
    const rows =
      opts.liveAt === undefined
        ? this.q('SELECT id FROM sets ORDER BY id').all()
        : this.q('SELECT id FROM sets WHERE released_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id').all(opts.liveAt);
    return (rows as Row[]).map((r) => this.readSet(String(r.id))!);
  }

  async updateSet(id: string, change: LeaseChange): Promise<SnapshotSet> {
    return this.write(() => {
      const set = this.readSet(id);
      if (!set) throw new NotFoundError(`no set ${id}`, { list: 'sets' });
      if (set.releasedAt) throw new ConflictError(`set ${id} was released at ${set.releasedAt}; a released set stays released (create a new one)`);
      if ('release' in change) this.q('UPDATE sets SET released_at = ? WHERE id = ?').run(new Date().toISOString(), id);
      else this.q('UPDATE sets SET expires_at = ? WHERE id = ?').run(change.expiresAt, id);
      return this.readSet(id)!;
    }, true);
  }

  async promoteSet(p: Promotion): Promise<TagMove[]> {
    return this.write(() => {
      const set = this.readSet(p.set);
      if (!set) throw new NotFoundError(`no set ${p.set}`, { list: 'sets' });
      const backwards: string[] = [];
      for (const m of set.members) {
        if (!this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(m.repo, m.snapshot)) {
          throw new NotFoundError(`set ${p.set}: snapshot ${m.snapshot} of ${m.repo} is gone (removed by gc after the set's lease ended)`);
        }
        const cur = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(m.repo, p.tag) as Row | undefined;
        if (cur && compareIds(m.snapshot, String(cur.snapshot)) < 0) backwards.push(`${m.repo}: ${p.tag} is at ${String(cur.snapshot)}, newer than ${m.snapshot}`);
      }
      if (backwards.length && !p.force) throw new ConflictError(`promoting set ${p.set} would move ${p.tag} back in time (${backwards.join('; ')}); use --force to do it anyway`);
      const at = new Date().toISOString();
      const moves: TagMove[] = [];
      for (const m of set.members) {
        const cur = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(m.repo, p.tag) as Row | undefined;
        if (cur && String(cur.snapshot) === m.snapshot) continue; // already there: no move to record
        moves.push(this.setTag(m.repo, p.tag, m.snapshot, p.actor, p.reason, at, p.set));
      }
      return moves;
    }, true);
  }

  async tagMovesSince(since: string): Promise<TagMove[]> {
    return (this.q('SELECT * FROM tag_history WHERE at >= ? ORDER BY seq').all(since) as Row[]).map(toMove);
  }

  // Tokens and the audit log

  async createToken(t: { name: string; hash: string; createdBy: string }): Promise<TokenInfo> {
    const createdAt = new Date().toISOString();
    try {
      await this.write(() => this.q('INSERT INTO tokens (name, hash, created_at, created_by) VALUES (?, ?, ?, ?)').run(t.name, t.hash, createdAt, t.createdBy), true);
    } catch (e) {
      if (/UNIQUE constraint failed/.test((e as Error).message)) throw new AlreadyExistsError(`a token named ${t.name} already exists; revoke it first or pick another name`);
      throw diskFailure(e, this.path);
    }
    return { name: t.name, createdAt, createdBy: t.createdBy };
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (this.q('SELECT * FROM tokens ORDER BY name').all() as Row[]).map(toToken);
  }

  async revokeToken(name: string): Promise<TokenInfo> {
    return this.write(() => {
      const r = this.q('SELECT * FROM tokens WHERE name = ?').get(name) as Row | undefined;
      if (!r) throw new NotFoundError(`no token named ${name}`, { list: 'tokens' });
      if (r.revoked_at === null) this.q('UPDATE tokens SET revoked_at = ? WHERE name = ?').run(new Date().toISOString(), name);
      return toToken(this.q('SELECT * FROM tokens WHERE name = ?').get(name) as Row);
    }, true);
  }

  async tokenByHash(hash: string): Promise<TokenInfo | undefined> {
    const r = this.q('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
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
    return (rows as Row[]).reverse().map((r) => {
      const e: AuditEntry = { seq: Number(r.seq), at: String(r.at), actor: String(r.actor), command: String(r.command), args: String(r.args), result: String(r.result) };
      if (r.repo !== null) e.repo = String(r.repo);
      return e;
    });
  }

  // Garbage collection

  async sweep(s: CatalogSweep): Promise<CatalogSweepResult> {
    return this.write(() => {
      // The plan was made outside this transaction: what a tag or a set took since stays.
      const kept = (
        this.q(
          `SELECT value AS id FROM json_each(?) WHERE value IN (SELECT snapshot FROM tags)
             OR value IN (SELECT m.snapshot FROM set_members m JOIN sets s ON s.id = m.set_id WHERE s.released_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?))
             OR value IN (SELECT to_snapshot FROM tag_history WHERE at >= ?)
             OR value IN (SELECT from_snapshot FROM tag_history WHERE at >= ?)`,
        ).all(JSON.stringify(s.snapshots), s.keep.liveAt, s.keep.movedSince, s.keep.movedSince) as Row[]
      ).map((r) => String(r.id));
      const ids = JSON.stringify(s.snapshots.filter((id) => !kept.includes(id)));
      this.q('DELETE FROM snapshot_files WHERE snapshot IN (SELECT value FROM json_each(?))').run(ids);
      this.q('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT value FROM json_each(?))').run(ids);
      const snapshots = Number(this.q('DELETE FROM snapshots WHERE id IN (SELECT value FROM json_each(?))').run(ids).changes);
      // What no snapshot uses any more: pages, their cached renderings, and records
      // that are in no page and were not ingested lately (a commit may be on its way).
      const pages = Number(this.q('DELETE FROM page_info WHERE page NOT IN (SELECT page FROM snapshot_pages)').run().changes);
      this.q('DELETE FROM package_pages WHERE page NOT IN (SELECT page FROM page_info)').run();
      const cacheRows = Number(this.q('DELETE FROM repodata_pages WHERE page IS NULL OR page NOT IN (SELECT page FROM page_info)').run().changes);
      const records = Number(
        this.q('DELETE FROM packages WHERE (added_at IS NULL OR added_at < ?) AND digest NOT IN (SELECT digest FROM package_pages)').run(s.recordsBefore).changes,
      );
      return { snapshots, kept, pages, records, cacheRows };
    }, true);
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

  // The blob ledger

  async recordBlobUses(digests: string[]): Promise<string[]> {
    if (!digests.length) return [];
    return this.write(() => {
      const now = new Date();
      const list = JSON.stringify(digests);
      this.q('DELETE FROM blob_removals WHERE claimed_at < ?').run(new Date(now.getTime() - STALE_CLAIM_MS).toISOString());
      this.q('INSERT INTO blob_uses (digest, used_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (digest) DO UPDATE SET used_at = excluded.used_at').run(now.toISOString(), list);
      return (this.q('SELECT r.digest FROM json_each(?) j JOIN blob_removals r ON r.digest = j.value').all(list) as Row[]).map((r) => String(r.digest));
    });
  }

  async blobRemovalsPending(digests: string[]): Promise<string[]> {
    if (!digests.length) return [];
    const fresh = new Date(Date.now() - STALE_CLAIM_MS).toISOString();
    return (this.q('SELECT r.digest FROM json_each(?) j JOIN blob_removals r ON r.digest = j.value WHERE r.claimed_at >= ?').all(JSON.stringify(digests), fresh) as Row[]).map((r) => String(r.digest));
  }

  async claimBlobRemovals(digests: string[], unusedSince: string): Promise<string[]> {
    if (!digests.length) return [];
    return this.write(() => {
      const claimed = (
        this.q(
          `SELECT DISTINCT value AS digest FROM json_each(?) j
           WHERE NOT EXISTS (SELECT 1 FROM blob_uses u WHERE u.digest = j.value AND u.used_at >= ?)
             AND NOT EXISTS (SELECT 1 FROM blob_removals c WHERE c.digest = j.value AND c.claimed_at >= ?)
             AND NOT EXISTS (SELECT 1 FROM package_pages p WHERE p.digest = j.value)
             AND NOT EXISTS (SELECT 1 FROM snapshot_files f WHERE f.digest = j.value)
             AND NOT EXISTS (SELECT 1 FROM repodata_pages r WHERE r.blob = j.value)`,
        ).all(JSON.stringify(digests), unusedSince, new Date(Date.now() - STALE_CLAIM_MS).toISOString()) as Row[]
      ).map((r) => String(r.digest));
      const claim = this.q('INSERT INTO blob_removals (digest, claimed_at) VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET claimed_at = excluded.claimed_at');
      const at = new Date().toISOString();
      for (const d of claimed) claim.run(d, at);
      return claimed;
    });
  }

  async finishBlobRemovals(digests: string[]): Promise<void> {
    if (!digests.length) return;
    await this.write(() => {
      const list = JSON.stringify(digests);
      this.q('DELETE FROM blob_removals WHERE digest IN (SELECT value FROM json_each(?))').run(list);
      this.q('DELETE FROM blob_uses WHERE digest IN (SELECT value FROM json_each(?))').run(list);
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
