// The catalog on embedded SQLite (node:sqlite) in WAL mode: readers never wait for
// writers, and writers from several processes serialise on BEGIN IMMEDIATE. The
// methods are synchronous underneath and async on the outside (see catalog.ts).

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { PackageRecord } from '../rpm/index.ts';
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
} from './catalog.ts';
import { nextSnapshotId } from './ids.ts';
import { paginate } from './pages.ts';

const V3_SCHEMA = `
  DROP TABLE repodata_pages;
  -- A page: a run of packages (see pages.ts), keyed by the hash of its entries.
  CREATE TABLE package_pages (
    page TEXT NOT NULL,
    seq INTEGER NOT NULL,
    href TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (page, seq)
  ) WITHOUT ROWID;
  CREATE INDEX package_pages_digest ON package_pages(digest);
  -- A snapshot's package list: its pages, in order.
  CREATE TABLE snapshot_pages (
    snapshot TEXT NOT NULL,
    seq INTEGER NOT NULL,
    page TEXT NOT NULL,
    PRIMARY KEY (snapshot, seq)
  ) WITHOUT ROWID;
  CREATE INDEX snapshot_pages_page ON snapshot_pages(page);
  -- Rendered repodata of a page: one blob (gzip members, then the texts) and sizes.
  CREATE TABLE repodata_pages (
    key TEXT PRIMARY KEY,
    blob TEXT NOT NULL,
    primary_size INTEGER NOT NULL, primary_open INTEGER NOT NULL,
    filelists_size INTEGER NOT NULL, filelists_open INTEGER NOT NULL,
    other_size INTEGER NOT NULL, other_open INTEGER NOT NULL
  ) WITHOUT ROWID;`;

/**
 * Lists a snapshot's pages, storing the pages the catalog does not have yet (and, from
 * schema version 4 on, their count and last href in page_info).
 */
function insertPages(db: DatabaseSync, snapshot: string, pages: (PageRef | PackagePage)[], schema = SCHEMA_VERSION): void {
  const withInfo = schema >= 4;
  const known = db.prepare(withInfo ? 'SELECT 1 FROM page_info WHERE page = ?' : 'SELECT 1 FROM package_pages WHERE page = ? LIMIT 1');
  const entry = db.prepare('INSERT INTO package_pages (page, seq, href, digest, size) VALUES (?, ?, ?, ?, ?)');
  const info = withInfo ? db.prepare('INSERT INTO page_info (page, count, last) VALUES (?, ?, ?)') : undefined;
  const listed = db.prepare('INSERT INTO snapshot_pages (snapshot, seq, page) VALUES (?, ?, ?)');
  const present = new Set<string>();
  for (const [seq, page] of pages.entries()) {
    // A page is content-addressed: one already stored has these very entries.
    if (!present.has(page.key) && !known.get(page.key)) {
      if (!('packages' in page)) throw new Error(`package page ${page.key} is not in the catalog and the commit does not give its packages`);
      for (const [i, p] of page.packages.entries()) entry.run(page.key, i, p.href, p.digest, p.size);
      info?.run(page.key, page.packages.length, page.packages[page.packages.length - 1].href);
    }
    present.add(page.key);
    listed.run(snapshot, seq, page.key);
  }
}

/** Each entry migrates the schema from version i to i + 1 (SQL, or a step in code). */
const MIGRATIONS: (string | ((db: DatabaseSync) => void))[] = [
  `CREATE TABLE repos (
     name TEXT PRIMARY KEY,
     upstream TEXT,
     keep INTEGER,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL
   );
   CREATE TABLE packages (
     digest TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     arch TEXT NOT NULL,
     epoch TEXT NOT NULL,
     version TEXT NOT NULL,
     release TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE TABLE snapshots (
     id TEXT PRIMARY KEY,
     repo TEXT NOT NULL,
     parent TEXT,
     created_at TEXT NOT NULL,
     actor TEXT NOT NULL,
     message TEXT NOT NULL,
     packages INTEGER NOT NULL,
     repomd TEXT NOT NULL
   );
   CREATE INDEX snapshots_repo ON snapshots(repo, id);
   CREATE TABLE snapshot_files (
     snapshot TEXT NOT NULL,
     href TEXT NOT NULL,
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     kind TEXT NOT NULL,
     PRIMARY KEY (snapshot, href)
   ) WITHOUT ROWID;
   CREATE INDEX snapshot_files_digest ON snapshot_files(digest);
   CREATE TABLE tags (
     repo TEXT NOT NULL,
     tag TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     moved_at TEXT NOT NULL,
     PRIMARY KEY (repo, tag)
   );
   CREATE TABLE tag_history (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     repo TEXT NOT NULL,
     tag TEXT NOT NULL,
     from_snapshot TEXT,
     to_snapshot TEXT NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     reason TEXT NOT NULL
   );
   CREATE INDEX tag_history_tag ON tag_history(repo, tag, at);
   -- The last snapshot id ever issued: ids never go back, even after gc.
   CREATE TABLE id_state (one INTEGER PRIMARY KEY CHECK (one = 1), last_id TEXT NOT NULL);`,
  // 2: rendered repodata pages, so that a snapshot re-renders only what changed.
  `CREATE TABLE repodata_pages (
     key TEXT PRIMARY KEY,
     primary_digest TEXT NOT NULL, primary_size INTEGER NOT NULL, primary_open INTEGER NOT NULL,
     filelists_digest TEXT NOT NULL, filelists_size INTEGER NOT NULL, filelists_open INTEGER NOT NULL,
     other_digest TEXT NOT NULL, other_size INTEGER NOT NULL, other_open INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // 3: snapshots list their packages in shared pages (a commit writes only the pages
  // that changed); a rendered repodata page is one blob. The version 2 page cache is
  // dropped (a cache: its blobs become garbage, pages are rendered again on demand).
  (db) => {
    db.exec(V3_SCHEMA);
    // Snapshots made before pages existed listed their packages in snapshot_files.
    const snapshots = db.prepare("SELECT DISTINCT snapshot FROM snapshot_files WHERE kind = 'package'").all() as Row[];
    const files = db.prepare("SELECT href, digest, size FROM snapshot_files WHERE snapshot = ? AND kind = 'package'");
    for (const { snapshot } of snapshots) {
      const packages = (files.all(snapshot) as Row[]).map((r) => ({ href: String(r.href), digest: String(r.digest), size: Number(r.size), kind: 'package' as const }));
      insertPages(db, String(snapshot), paginate(packages), 3);
    }
    db.exec("DELETE FROM snapshot_files WHERE kind = 'package'");
  },
  // 4: a page's count and last href in a row of their own, so that reading a snapshot's
  // page list is one range scan; no index from page to snapshots (a commit would write
  // one random index entry per page of the repo; gc can scan instead).
  `CREATE TABLE page_info (
     page TEXT PRIMARY KEY,
     count INTEGER NOT NULL,
     last TEXT NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO page_info (page, count, last)
     SELECT page, seq + 1, href FROM package_pages p WHERE seq = (SELECT MAX(seq) FROM package_pages WHERE page = p.page);
   DROP INDEX snapshot_pages_page;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

type Row = Record<string, string | number | null>;

function toRepo(r: Row): Repository {
  const repo: Repository = { name: String(r.name), createdAt: String(r.created_at), createdBy: String(r.created_by) };
  if (r.upstream !== null) repo.upstream = String(r.upstream);
  if (r.keep !== null) repo.keep = Number(r.keep);
  return repo;
}

function toSnapshot(r: Row): Snapshot {
  const s: Snapshot = {
    id: String(r.id),
    repo: String(r.repo),
    createdAt: String(r.created_at),
    actor: String(r.actor),
    message: String(r.message),
    packages: Number(r.packages),
    repomd: String(r.repomd),
  };
  if (r.parent !== null) s.parent = String(r.parent);
  return s;
}

function toMove(r: Row): TagMove {
  const m: TagMove = { repo: String(r.repo), tag: String(r.tag), to: String(r.to_snapshot), at: String(r.at), actor: String(r.actor), reason: String(r.reason) };
  if (r.from_snapshot !== null) m.from = String(r.from_snapshot);
  return m;
}

export class SqliteCatalog implements Catalog {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    // busy_timeout first: every later statement, journal_mode included, may meet a writer.
    this.db.exec('PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    this.migrate();
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
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  async createRepo(repo: Omit<Repository, 'createdAt'>): Promise<Repository> {
    const created: Repository = { ...repo, createdAt: new Date().toISOString() };
    try {
      this.q('INSERT INTO repos (name, upstream, keep, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run(
        created.name,
        created.upstream ?? null,
        created.keep ?? null,
        created.createdAt,
        created.createdBy,
      );
    } catch (e) {
      if (/UNIQUE constraint failed/.test((e as Error).message)) throw new AlreadyExistsError(`repository ${repo.name} already exists`);
      throw e;
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
    this.transaction(() => {
      if (!this.q('SELECT 1 FROM repos WHERE name = ?').get(name)) throw new NotFoundError(`no repository ${name}`);
      this.q('DELETE FROM snapshot_files WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(name);
      this.q('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = ?)').run(name);
      // Pages no snapshot lists any more go with it.
      this.q('DELETE FROM package_pages WHERE page NOT IN (SELECT page FROM snapshot_pages)').run();
      this.q('DELETE FROM page_info WHERE page NOT IN (SELECT page FROM snapshot_pages)').run();
      this.q('DELETE FROM snapshots WHERE repo = ?').run(name);
      this.q('DELETE FROM tags WHERE repo = ?').run(name);
      this.q('DELETE FROM tag_history WHERE repo = ?').run(name);
      this.q('DELETE FROM repos WHERE name = ?').run(name);
    });
  }

  async putPackages(records: PackageRecord[]): Promise<void> {
    this.transaction(() => {
      const insert = this.q('INSERT OR IGNORE INTO packages (digest, name, arch, epoch, version, release, record) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const r of records) {
        // The location belongs to a snapshot, not to the package.
        const { locationHref: _href, locationBase: _base, ...stored } = r;
        insert.run(r.pkgid, r.name, r.arch, r.epoch, r.version, r.release, JSON.stringify(stored));
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
      out.set(key, { key, blob: String(r.blob), primary: part('primary'), filelists: part('filelists'), other: part('other') });
    }
    return out;
  }

  async putRepodataPages(pages: RepodataPage[]): Promise<void> {
    this.transaction(() => {
      // REPLACE: a page rendered again (its blob was gone) supersedes the old row.
      const put = this.q('INSERT OR REPLACE INTO repodata_pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const p of pages) {
        put.run(p.key, p.blob, p.primary.size, p.primary.openSize, p.filelists.size, p.filelists.openSize, p.other.size, p.other.openSize);
      }
    });
  }

  async commitSnapshot(c: SnapshotCommit): Promise<Snapshot> {
    return this.transaction(() => {
      if (!this.q('SELECT 1 FROM repos WHERE name = ?').get(c.repo)) throw new NotFoundError(`no repository ${c.repo}`);
      const latest = this.q("SELECT snapshot FROM tags WHERE repo = ? AND tag = 'latest'").get(c.repo) as Row | undefined;
      const current = latest ? String(latest.snapshot) : undefined;
      if (current !== c.parent) {
        throw new ConflictError(`repository ${c.repo} moved on: latest is ${current ?? '(none)'}, the new snapshot was based on ${c.parent ?? '(none)'}`);
      }
      const now = new Date();
      const last = this.q('SELECT last_id FROM id_state WHERE one = 1').get() as Row | undefined;
      const id = nextSnapshotId(now, last ? String(last.last_id) : undefined);
      this.q('INSERT INTO id_state (one, last_id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id').run(id);
      const snapshot: Snapshot = { id, repo: c.repo, createdAt: now.toISOString(), actor: c.actor, message: c.message, packages: c.packages, repomd: c.repomd };
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
    });
  }

  private setTag(repo: string, tag: string, to: string, actor: string, reason: string, at: string): TagMove {
    const prev = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(repo, tag) as Row | undefined;
    this.q('INSERT INTO tags (repo, tag, snapshot, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET snapshot = excluded.snapshot, moved_at = excluded.moved_at').run(repo, tag, to, at);
    this.q('INSERT INTO tag_history (repo, tag, from_snapshot, to_snapshot, at, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)').run(repo, tag, prev ? String(prev.snapshot) : null, to, at, actor, reason);
    const move: TagMove = { repo, tag, to, at, actor, reason };
    if (prev) move.from = String(prev.snapshot);
    return move;
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
    return this.transaction(() => {
      if (!this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(u.repo, u.to)) throw new NotFoundError(`repository ${u.repo} has no snapshot ${u.to}`);
      if (u.expect !== undefined) {
        const cur = this.q('SELECT snapshot FROM tags WHERE repo = ? AND tag = ?').get(u.repo, u.tag) as Row | undefined;
        const now = cur ? String(cur.snapshot) : null;
        if (now !== u.expect) throw new ConflictError(`tag ${u.tag} of ${u.repo} points at ${now ?? '(nothing)'}, not ${u.expect ?? '(nothing)'}`);
      }
      return this.setTag(u.repo, u.tag, u.to, u.actor, u.reason, new Date().toISOString());
    });
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

  async close(): Promise<void> {
    this.db.close();
  }
}
