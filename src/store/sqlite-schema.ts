// The catalog's SQLite schema: migrations from version 0 up, each run once, in one
// write transaction (see SqliteCatalog.migrate). docs/store.md describes the tables.

import type { DatabaseSync } from 'node:sqlite';
import type { PackagePage } from './catalog.ts';
import { paginate } from './pages.ts';

type Row = Record<string, string | number | null>;

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
 * Migration 3's listing of a snapshot's pages, storing the pages the catalog does not
 * have yet, in that version's tables (no page_info: migration 4 fills it). A page is
 * content-addressed: one already stored has these very entries. Commits list pages
 * through the catalog's rules (catalog-rules.ts).
 */
function insertPagesV3(db: DatabaseSync, snapshot: string, pages: PackagePage[]): void {
  const known = db.prepare('SELECT 1 FROM package_pages WHERE page = ? LIMIT 1');
  const entry = db.prepare('INSERT INTO package_pages (page, seq, href, digest, size) VALUES (?, ?, ?, ?, ?)');
  const listed = db.prepare('INSERT INTO snapshot_pages (snapshot, seq, page) VALUES (?, ?, ?)');
  const present = new Set<string>();
  for (const [seq, page] of pages.entries()) {
    if (!present.has(page.key) && !known.get(page.key)) {
      for (const [i, p] of page.packages.entries()) entry.run(page.key, i, p.href, p.digest, p.size);
    }
    present.add(page.key);
    listed.run(snapshot, seq, page.key);
  }
}

/** Each entry migrates the schema from version i to i + 1 (SQL, or a step in code). */
export const MIGRATIONS: (string | ((db: DatabaseSync) => void))[] = [
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
      insertPagesV3(db, String(snapshot), paginate(packages));
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
  // 5: what the flow needs around snapshots: sets (pinned snapshots with a lease),
  // promotions recorded in tag history, access tokens, the audit log, retention, and
  // what gc needs to keep running writes safe (added_at) and to drop stale cache rows.
  `ALTER TABLE repos ADD COLUMN retain_last INTEGER;
   ALTER TABLE repos ADD COLUMN retain_days REAL;
   -- When a record was last ingested: gc keeps unreferenced records this young.
   ALTER TABLE packages ADD COLUMN added_at TEXT;
   -- The package page a cached rendering is of (NULL in rows from before: dropped by gc).
   ALTER TABLE repodata_pages ADD COLUMN page TEXT;
   ALTER TABLE tag_history ADD COLUMN set_id TEXT;
   CREATE TABLE sets (
     id TEXT PRIMARY KEY,
     label TEXT,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT,
     released_at TEXT
   );
   CREATE TABLE set_members (
     set_id TEXT NOT NULL,
     repo TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     PRIMARY KEY (set_id, repo)
   ) WITHOUT ROWID;
   CREATE INDEX set_members_snapshot ON set_members(snapshot);
   CREATE TABLE tokens (
     name TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     command TEXT NOT NULL,
     repo TEXT,
     args TEXT NOT NULL,
     result TEXT NOT NULL
   );
   CREATE INDEX audit_repo ON audit(repo, seq);`,
  // 6: the blob ledger (catalog.ts, BlobLedger), for blobs in object storage.
  `CREATE TABLE blob_uses (
     digest TEXT PRIMARY KEY,
     used_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE blob_removals (
     digest TEXT PRIMARY KEY,
     claimed_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX repodata_pages_blob ON repodata_pages(blob);`,
  // 7: token scopes (token-scopes.ts, space-separated) and expiry. Tokens made before
  // scopes existed could do everything: they keep that, as admin.
  `ALTER TABLE tokens ADD COLUMN scopes TEXT;
   ALTER TABLE tokens ADD COLUMN expires_at TEXT;
   UPDATE tokens SET scopes = 'admin';`,
  // 8: signed repos (src/signing): the keys that sign snapshots, and each repo's package
  // signature policy (JSON: [{fingerprint, publicKey}]).
  `CREATE TABLE signing_keys (
     fingerprint TEXT PRIMARY KEY,
     public_key TEXT NOT NULL,
     private_key TEXT NOT NULL,
     added_at TEXT NOT NULL,
     added_by TEXT NOT NULL
   );
   ALTER TABLE repos ADD COLUMN require_signed TEXT;`,
  // 9: mirror filters (src/sync/filter.ts; JSON: {include, exclude, arches, newest}).
  `ALTER TABLE repos ADD COLUMN mirror_filter TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

