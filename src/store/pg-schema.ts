// The catalog's PostgreSQL schema: the same tables, columns and meanings as the SQLite
// schema at its version 7 (sqlite-schema.ts; docs/store.md describes them), written
// for PostgreSQL. Its migrations are numbered on their own, from version 0 up; each
// runs once, in one transaction, under the catalog's writer lock (PgCatalog.migrate).
//
// Every text column sorts and compares in the "C" collation: ids, times and hrefs are
// compared as strings (ISO 8601 times, snapshot ids), and must order byte by byte as
// they do in SQLite, whatever the database's default collation.

/** Each entry migrates the schema from version i to i + 1. */
export const PG_MIGRATIONS: string[] = [
  // 1: the catalog of SQLite schema version 6.
  `CREATE TABLE repos (
     name TEXT COLLATE "C" PRIMARY KEY,
     upstream TEXT,
     keep INTEGER,
     retain_last INTEGER,
     retain_days DOUBLE PRECISION,
     created_at TEXT COLLATE "C" NOT NULL,
     created_by TEXT NOT NULL
   );
   CREATE TABLE packages (
     digest TEXT COLLATE "C" PRIMARY KEY,
     name TEXT NOT NULL,
     arch TEXT NOT NULL,
     epoch TEXT NOT NULL,
     version TEXT NOT NULL,
     release TEXT NOT NULL,
     record TEXT NOT NULL,
     added_at TEXT COLLATE "C"
   );
   CREATE TABLE snapshots (
     id TEXT COLLATE "C" PRIMARY KEY,
     repo TEXT COLLATE "C" NOT NULL,
     parent TEXT COLLATE "C",
     created_at TEXT COLLATE "C" NOT NULL,
     actor TEXT NOT NULL,
     message TEXT NOT NULL,
     packages INTEGER NOT NULL,
     repomd TEXT COLLATE "C" NOT NULL
   );
   CREATE INDEX snapshots_repo ON snapshots(repo, id);
   -- A snapshot's files other than packages (repodata).
   CREATE TABLE snapshot_files (
     snapshot TEXT COLLATE "C" NOT NULL,
     href TEXT COLLATE "C" NOT NULL,
     digest TEXT COLLATE "C" NOT NULL,
     size BIGINT NOT NULL,
     kind TEXT NOT NULL,
     PRIMARY KEY (snapshot, href)
   );
   CREATE INDEX snapshot_files_digest ON snapshot_files(digest);
   -- A page: a run of packages (see pages.ts), keyed by the hash of its entries.
   CREATE TABLE package_pages (
     page TEXT COLLATE "C" NOT NULL,
     seq INTEGER NOT NULL,
     href TEXT COLLATE "C" NOT NULL,
     digest TEXT COLLATE "C" NOT NULL,
     size BIGINT NOT NULL,
     PRIMARY KEY (page, seq)
   );
   CREATE INDEX package_pages_digest ON package_pages(digest);
   CREATE TABLE page_info (
     page TEXT COLLATE "C" PRIMARY KEY,
     count INTEGER NOT NULL,
     last TEXT COLLATE "C" NOT NULL
   );
   -- A snapshot's package list: its pages, in order.
   CREATE TABLE snapshot_pages (
     snapshot TEXT COLLATE "C" NOT NULL,
     seq INTEGER NOT NULL,
     page TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (snapshot, seq)
   );
   -- Rendered repodata of a page: one blob (gzip members, then the texts) and sizes.
   CREATE TABLE repodata_pages (
     key TEXT COLLATE "C" PRIMARY KEY,
     blob TEXT COLLATE "C" NOT NULL,
     primary_size BIGINT NOT NULL, primary_open BIGINT NOT NULL,
     filelists_size BIGINT NOT NULL, filelists_open BIGINT NOT NULL,
     other_size BIGINT NOT NULL, other_open BIGINT NOT NULL,
     page TEXT COLLATE "C"
   );
   CREATE TABLE tags (
     repo TEXT COLLATE "C" NOT NULL,
     tag TEXT COLLATE "C" NOT NULL,
     snapshot TEXT COLLATE "C" NOT NULL,
     moved_at TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (repo, tag)
   );
   CREATE TABLE tag_history (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     repo TEXT COLLATE "C" NOT NULL,
     tag TEXT COLLATE "C" NOT NULL,
     from_snapshot TEXT COLLATE "C",
     to_snapshot TEXT COLLATE "C" NOT NULL,
     at TEXT COLLATE "C" NOT NULL,
     actor TEXT NOT NULL,
     reason TEXT NOT NULL,
     set_id TEXT COLLATE "C"
   );
   CREATE INDEX tag_history_tag ON tag_history(repo, tag, at);
   CREATE INDEX tag_history_at ON tag_history(at);
   -- The last snapshot id ever issued: ids never go back, even after gc.
   CREATE TABLE id_state (one INTEGER PRIMARY KEY CHECK (one = 1), last_id TEXT COLLATE "C" NOT NULL);
   CREATE TABLE sets (
     id TEXT COLLATE "C" PRIMARY KEY,
     label TEXT,
     created_at TEXT COLLATE "C" NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT COLLATE "C",
     released_at TEXT COLLATE "C"
   );
   CREATE TABLE set_members (
     set_id TEXT COLLATE "C" NOT NULL,
     repo TEXT COLLATE "C" NOT NULL,
     snapshot TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (set_id, repo)
   );
   CREATE INDEX set_members_snapshot ON set_members(snapshot);
   CREATE TABLE tokens (
     name TEXT COLLATE "C" PRIMARY KEY,
     hash TEXT COLLATE "C" NOT NULL UNIQUE,
     created_at TEXT COLLATE "C" NOT NULL,
     created_by TEXT NOT NULL,
     revoked_at TEXT COLLATE "C"
   );
   CREATE TABLE audit (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at TEXT COLLATE "C" NOT NULL,
     actor TEXT NOT NULL,
     command TEXT NOT NULL,
     repo TEXT COLLATE "C",
     args TEXT NOT NULL,
     result TEXT NOT NULL
   );
   CREATE INDEX audit_repo ON audit(repo, seq);
   -- SQLite schema version 6: the blob ledger (catalog.ts, BlobLedger).
   CREATE TABLE blob_uses (
     digest TEXT COLLATE "C" PRIMARY KEY,
     used_at TEXT COLLATE "C" NOT NULL
   );
   CREATE TABLE blob_removals (
     digest TEXT COLLATE "C" PRIMARY KEY,
     claimed_at TEXT COLLATE "C" NOT NULL
   );
   CREATE INDEX repodata_pages_blob ON repodata_pages(blob);`,
  // 2: SQLite schema version 7: token scopes (token-scopes.ts, space-separated) and
  // expiry. Tokens made before scopes existed could do everything: they keep that, as admin.
  `ALTER TABLE tokens ADD COLUMN scopes TEXT;
   ALTER TABLE tokens ADD COLUMN expires_at TEXT COLLATE "C";
   UPDATE tokens SET scopes = 'admin';`,
  // 3: SQLite schema version 8: signing keys, and each repo's package signature policy.
  `CREATE TABLE signing_keys (
     fingerprint TEXT COLLATE "C" PRIMARY KEY,
     public_key TEXT NOT NULL,
     private_key TEXT NOT NULL,
     added_at TEXT COLLATE "C" NOT NULL,
     added_by TEXT NOT NULL
   );
   ALTER TABLE repos ADD COLUMN require_signed TEXT;`,
  // 4: SQLite schema version 9: mirror filters (src/sync/filter.ts; JSON).
  `ALTER TABLE repos ADD COLUMN mirror_filter TEXT;`,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
