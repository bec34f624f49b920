// The catalog on PostgreSQL, shared by several txrepo processes on several machines.
//
// The protocol is SQLite's, carried over: every change is one transaction that first
// takes the store's writer lock (a transaction-level advisory lock, released by COMMIT
// or ROLLBACK, and by PostgreSQL itself if the writer's connection dies), so writers
// run one at a time and each sees every change committed before it: the latest-tag
// compare-and-swap of a commit, tag moves with `expect`, the snapshot id sequence,
// set leases and gc's sweep keep the meaning they have on SQLite. Readers take no
// lock (MVCC): they never wait for a writer. Reads that must see one state across
// several statements run in one REPEATABLE READ transaction.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PackageRecord } from '../rpm/index.ts';
import { crashPoint } from '../common/index.ts';
import {
  StoreError,
  auditScope,
  type AuditEntry,
  type Catalog,
  type CatalogSweep,
  type CatalogSweepResult,
  type CatalogCounts,
  type LeaseChange,
  type NewSet,
  type PackageIdentity,
  type PackagePage,
  type PageRef,
  type Promotion,
  type RepodataPage,
  type Repository,
  type Snapshot,
  type SnapshotCommit,
  type SnapshotFile,
  type SnapshotSet,
  type Tag,
  type TagMove,
  type TagUpdate,
  type NewToken,
  type RepoChange,
  type SigningKey,
  type TokenInfo,
} from './catalog.ts';
import * as rules from './catalog-rules.ts';
import { runAsync, type CatalogStorage, type Rule } from './catalog-rules.ts';
import { PG_MIGRATIONS } from './pg-schema.ts';
import { scopesText } from './token-scopes.ts';
import { REPO_SETTINGS, repoSettings, toAudit, toMove, toRepo, toSet, toSigningKey, toSnapshot, toTag, toToken, COUNTS_QUERY, STORED_PACKAGES_QUERY, toCounts, toStoredPackages, recordJsonText, rowOf, toPackageRecord, type Row, type StorableRecord } from './rows.ts';

/** How long a writer waits for another writer's lock before it gives up. */
const LOCK_TIMEOUT = '30s';
/** Rows per statement in bulk inserts (each column is one array parameter). */
const BATCH = 5000;

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A catalog URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE, and optionally
 * `?schema=NAME`, the PostgreSQL schema the catalog lives in (default: public), so
 * that several stores can share one database. The other parameters are libpq's, as
 * node-postgres reads them (sslmode, ...).
 */
export function parseCatalogUrl(url: string): { connectionString: string; schema: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(`--catalog ${JSON.stringify(url)}: not a URL; give postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreError(`--catalog ${redactUrl(url)}: not a PostgreSQL URL; give postgres://USER:PASSWORD@HOST:PORT/DATABASE (or leave it out for the store's own SQLite catalog)`);
  }
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new StoreError(`--catalog ${redactUrl(url)}: schema ${JSON.stringify(schema)} is not a plain lower-case SQL name (letters, digits, _)`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

/** PostgreSQL's failures to reach the catalog, as StoreErrors that say what to check. */
function connectionFailure(e: unknown, url: string): unknown {
  const err = e as { code?: unknown; message?: string };
  const where = `--catalog ${redactUrl(url)}`;
  switch (err?.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return new StoreError(`${where}: cannot reach the PostgreSQL server (${String(err.code)}); is it running, and is the host and port right?`);
    case '28P01':
    case '28000':
      return new StoreError(`${where}: PostgreSQL refused the login (${err.message}); check the user and password`);
    case '3D000':
      return new StoreError(`${where}: ${err.message}; create it first (createdb)`);
    case '42501':
      return new StoreError(`${where}: ${err.message}; the catalog's user needs to own its schema`);
    case '53100':
      return new StoreError(`${where}: the PostgreSQL server's disk is full (${err.message}); the change was not made: free some space there and run the command again`, 'storage_full');
    case '25006':
      return new StoreError(`${where}: the PostgreSQL server is read-only (${err.message}); the change was not made: point --catalog at the primary`, 'storage_read_only');
    case '55P03':
      return new StoreError(`${where}: another writer held the catalog's writer lock for ${LOCK_TIMEOUT}; the change was not made: run the command again`);
    case '57P01':
    case '57P02':
    case '57P03':
      return new StoreError(`${where}: the PostgreSQL server is shutting down or starting (${err.message}); run the command again`);
    default:
      return e;
  }
}

/** A transaction's connection (or the pool, for one statement): counts the rows its statements change (for the audit row). */
class Tx {
  changes = 0;
  readonly client: pg.PoolClient | pg.Pool;
  constructor(client: pg.PoolClient | pg.Pool) {
    this.client = client;
  }

  async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.client.query(sql, params)).rows as Row[];
  }

  async row(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.rows(sql, params))[0];
  }

  /** A statement that changes rows; resolves how many. */
  async run(sql: string, params: unknown[] = []): Promise<number> {
    const n = (await this.client.query(sql, params)).rowCount ?? 0;
    this.changes += n;
    return n;
  }
}

function chunks<T>(items: T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The catalog's rows on PostgreSQL, for the rules (catalog-rules.ts), in a transaction's connection. */
class PgStorage implements CatalogStorage {
  private readonly tx: Tx;
  constructor(tx: Tx) {
    this.tx = tx;
  }

  async hasRepo(name: string): Promise<boolean> {
    return (await this.tx.row('SELECT 1 AS x FROM repos WHERE name = $1', [name])) !== undefined;
  }

  async insertRepo(r: Repository): Promise<void> {
    await this.tx.run(`INSERT INTO repos (name, ${REPO_SETTINGS.join(', ')}, created_at, created_by) VALUES ($1, ${REPO_SETTINGS.map((_, i) => `$${i + 2}`).join(', ')}, $${REPO_SETTINGS.length + 2}, $${REPO_SETTINGS.length + 3})`, [r.name, ...repoSettings(r), r.createdAt, r.createdBy]);
  }

  async readRepo(name: string): Promise<Repository | undefined> {
    const r = await this.tx.row('SELECT * FROM repos WHERE name = $1', [name]);
    return r ? toRepo(r) : undefined;
  }

  async writeRepoSettings(r: Repository): Promise<void> {
    await this.tx.run(`UPDATE repos SET ${REPO_SETTINGS.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE name = $${REPO_SETTINGS.length + 1}`, [...repoSettings(r), r.name]);
  }

  async readSigningKey(fingerprint: string): Promise<SigningKey | undefined> {
    const r = await this.tx.row('SELECT * FROM signing_keys WHERE fingerprint = $1', [fingerprint]);
    return r ? toSigningKey(r) : undefined;
  }

  async insertSigningKey(k: SigningKey): Promise<void> {
    await this.tx.run('INSERT INTO signing_keys (fingerprint, public_key, private_key, added_at, added_by) VALUES ($1, $2, $3, $4, $5)', [k.fingerprint, k.publicKey, k.privateKey, k.addedAt, k.addedBy]);
  }

  async deleteSigningKey(fingerprint: string): Promise<void> {
    await this.tx.run('DELETE FROM signing_keys WHERE fingerprint = $1', [fingerprint]);
  }

  async deleteRepoRow(name: string): Promise<void> {
    await this.tx.run('DELETE FROM repos WHERE name = $1', [name]);
  }

  async hasSnapshot(repo: string, id: string): Promise<boolean> {
    return (await this.tx.row('SELECT 1 AS x FROM snapshots WHERE repo = $1 AND id = $2', [repo, id])) !== undefined;
  }

  async lastId(): Promise<string | undefined> {
    const r = await this.tx.row('SELECT last_id FROM id_state WHERE one = 1');
    return r ? String(r.last_id) : undefined;
  }

  async setLastId(id: string): Promise<void> {
    await this.tx.run('INSERT INTO id_state (one, last_id) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id', [id]);
  }

  async insertSnapshot(s: Snapshot): Promise<void> {
    await this.tx.run('INSERT INTO snapshots (id, repo, parent, created_at, actor, message, packages, repomd) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      s.id,
      s.repo,
      s.parent ?? null,
      s.createdAt,
      s.createdBy,
      s.message,
      s.packages,
      s.repomd,
    ]);
  }

  async insertFiles(snapshot: string, files: SnapshotFile[]): Promise<void> {
    for (const batch of chunks(files)) {
      await this.tx.run('INSERT INTO snapshot_files (snapshot, href, digest, size, kind) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[])', [
        snapshot,
        batch.map((f) => f.href),
        batch.map((f) => f.digest),
        batch.map((f) => f.size),
        batch.map((f) => f.kind),
      ]);
    }
  }

  async storedPages(keys: string[]): Promise<string[]> {
    return this.digestsOf('SELECT page AS digest FROM page_info WHERE page = ANY($1::text[])', keys);
  }

  async insertPages(pages: PackagePage[]): Promise<void> {
    const entries = pages.flatMap((page) => page.packages.map((p, seq) => ({ page: page.key, seq, ...p })));
    for (const batch of chunks(entries)) {
      await this.tx.run('INSERT INTO package_pages (page, seq, href, digest, size) SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bigint[])', [
        batch.map((e) => e.page),
        batch.map((e) => e.seq),
        batch.map((e) => e.href),
        batch.map((e) => e.digest),
        batch.map((e) => e.size),
      ]);
    }
    for (const batch of chunks(pages)) {
      await this.tx.run('INSERT INTO page_info (page, count, last) SELECT * FROM unnest($1::text[], $2::int[], $3::text[])', [
        batch.map((p) => p.key),
        batch.map((p) => p.packages.length),
        batch.map((p) => p.packages[p.packages.length - 1].href),
      ]);
    }
  }

  async listPages(snapshot: string, keys: string[]): Promise<void> {
    const listed = keys.map((key, seq) => ({ key, seq }));
    for (const batch of chunks(listed)) {
      await this.tx.run('INSERT INTO snapshot_pages (snapshot, seq, page) SELECT $1, * FROM unnest($2::int[], $3::text[])', [snapshot, batch.map((p) => p.seq), batch.map((p) => p.key)]);
    }
  }

  async deleteSnapshots(ids: string[]): Promise<number> {
    await this.tx.run('DELETE FROM snapshot_files WHERE snapshot = ANY($1::text[])', [ids]);
    await this.tx.run('DELETE FROM snapshot_pages WHERE snapshot = ANY($1::text[])', [ids]);
    return this.tx.run('DELETE FROM snapshots WHERE id = ANY($1::text[])', [ids]);
  }

  async deleteSnapshotsOf(repo: string): Promise<void> {
    await this.tx.run('DELETE FROM snapshot_files WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = $1)', [repo]);
    await this.tx.run('DELETE FROM snapshot_pages WHERE snapshot IN (SELECT id FROM snapshots WHERE repo = $1)', [repo]);
    await this.tx.run('DELETE FROM snapshots WHERE repo = $1', [repo]);
  }

  async dropUnlistedPages(): Promise<number> {
    const n = await this.tx.run('DELETE FROM page_info i WHERE NOT EXISTS (SELECT 1 FROM snapshot_pages s WHERE s.page = i.page)');
    await this.tx.run('DELETE FROM package_pages p WHERE NOT EXISTS (SELECT 1 FROM page_info i WHERE i.page = p.page)');
    return n;
  }

  dropUnlistedRenderings(): Promise<number> {
    return this.tx.run('DELETE FROM repodata_pages r WHERE r.page IS NULL OR NOT EXISTS (SELECT 1 FROM page_info i WHERE i.page = r.page)');
  }

  dropUnlistedRecords(before: string): Promise<number> {
    return this.tx.run('DELETE FROM packages k WHERE (k.added_at IS NULL OR k.added_at < $1) AND NOT EXISTS (SELECT 1 FROM package_pages p WHERE p.digest = k.digest)', [before]);
  }

  async tagTarget(repo: string, tag: string): Promise<string | undefined> {
    const r = await this.tx.row('SELECT snapshot FROM tags WHERE repo = $1 AND tag = $2', [repo, tag]);
    return r ? String(r.snapshot) : undefined;
  }

  async pointTag(repo: string, tag: string, to: string, at: string): Promise<void> {
    await this.tx.run('INSERT INTO tags (repo, tag, snapshot, moved_at) VALUES ($1, $2, $3, $4) ON CONFLICT (repo, tag) DO UPDATE SET snapshot = excluded.snapshot, moved_at = excluded.moved_at', [
      repo,
      tag,
      to,
      at,
    ]);
  }

  async appendTagMove(m: TagMove): Promise<void> {
    await this.tx.run('INSERT INTO tag_history (repo, tag, from_snapshot, to_snapshot, at, actor, reason, set_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      m.repo,
      m.tag,
      m.from ?? null,
      m.to,
      m.at,
      m.actor,
      m.reason,
      m.set ?? null,
    ]);
  }

  async deleteTagsOf(repo: string): Promise<void> {
    await this.tx.run('DELETE FROM tags WHERE repo = $1', [repo]);
    await this.tx.run('DELETE FROM tag_history WHERE repo = $1', [repo]);
  }

  async taggedAmong(ids: string[]): Promise<string[]> {
    return (await this.tx.rows('SELECT id FROM unnest($1::text[]) AS id WHERE id IN (SELECT snapshot FROM tags)', [ids])).map((r) => String(r.id));
  }

  async tagMovesSince(since: string): Promise<TagMove[]> {
    return (await this.tx.rows('SELECT * FROM tag_history WHERE at >= $1 ORDER BY seq', [since])).map(toMove);
  }

  /** Sets (by id) with their members, in two statements. */
  async readSets(where: string, params: unknown[]): Promise<SnapshotSet[]> {
    const sets = await this.tx.rows(`SELECT * FROM sets ${where} ORDER BY id`, params);
    if (!sets.length) return [];
    const members = await this.tx.rows('SELECT set_id, repo, snapshot FROM set_members WHERE set_id = ANY($1::text[]) ORDER BY set_id, repo', [sets.map((r) => String(r.id))]);
    const bySet = new Map<string, { repo: string; snapshot: string }[]>();
    for (const m of members) {
      const id = String(m.set_id);
      if (!bySet.has(id)) bySet.set(id, []);
      bySet.get(id)!.push({ repo: String(m.repo), snapshot: String(m.snapshot) });
    }
    return sets.map((r) => toSet(r, bySet.get(String(r.id)) ?? []));
  }

  async readSet(id: string): Promise<SnapshotSet | undefined> {
    return (await this.readSets('WHERE id = $1', [id]))[0];
  }

  liveSets(at: string): Promise<SnapshotSet[]> {
    return this.readSets('WHERE released_at IS NULL AND (expires_at IS NULL OR expires_at > $1)', [at]);
  }

  async insertSet(set: SnapshotSet): Promise<void> {
    await this.tx.run('INSERT INTO sets (id, label, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)', [set.id, set.label ?? null, set.createdAt, set.createdBy, set.expiresAt ?? null]);
    for (const m of set.members) await this.tx.run('INSERT INTO set_members (set_id, repo, snapshot) VALUES ($1, $2, $3)', [set.id, m.repo, m.snapshot]);
  }

  async setLeaseEnd(id: string, expiresAt: string | null): Promise<void> {
    await this.tx.run('UPDATE sets SET expires_at = $1 WHERE id = $2', [expiresAt, id]);
  }

  async setReleased(id: string, at: string): Promise<void> {
    await this.tx.run('UPDATE sets SET released_at = $1 WHERE id = $2', [at, id]);
  }

  async readToken(name: string): Promise<TokenInfo | undefined> {
    const r = await this.tx.row('SELECT * FROM tokens WHERE name = $1', [name]);
    return r ? toToken(r) : undefined;
  }

  async insertToken(t: TokenInfo & { hash: string }): Promise<void> {
    await this.tx.run('INSERT INTO tokens (name, hash, scopes, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [t.name, t.hash, scopesText(t.scopes), t.createdAt, t.createdBy, t.expiresAt ?? null]);
  }

  async setRevoked(name: string, at: string): Promise<void> {
    await this.tx.run('UPDATE tokens SET revoked_at = $1 WHERE name = $2', [at, name]);
  }

  async recordUses(digests: string[], at: string): Promise<void> {
    for (const batch of chunks(digests)) {
      await this.tx.run('INSERT INTO blob_uses (digest, used_at) SELECT d, $2 FROM unnest($1::text[]) AS d ON CONFLICT (digest) DO UPDATE SET used_at = excluded.used_at', [batch, at]);
    }
  }

  usedAmong(digests: string[], since: string): Promise<string[]> {
    return this.digestsOf('SELECT digest FROM blob_uses WHERE digest = ANY($1::text[]) AND used_at >= $2', digests, since);
  }

  claimedAmong(digests: string[], since: string): Promise<string[]> {
    return this.digestsOf('SELECT digest FROM blob_removals WHERE digest = ANY($1::text[]) AND claimed_at >= $2', digests, since);
  }

  listedAmong(digests: string[]): Promise<string[]> {
    return this.digestsOf(
      `SELECT d AS digest FROM unnest($1::text[]) AS d
       WHERE EXISTS (SELECT 1 FROM package_pages p WHERE p.digest = d)
          OR EXISTS (SELECT 1 FROM snapshot_files f WHERE f.digest = d)
          OR EXISTS (SELECT 1 FROM repodata_pages r WHERE r.blob = d)`,
      digests,
    );
  }

  async claim(digests: string[], at: string): Promise<void> {
    for (const batch of chunks(digests)) {
      await this.tx.run('INSERT INTO blob_removals (digest, claimed_at) SELECT d, $2 FROM unnest($1::text[]) AS d ON CONFLICT (digest) DO UPDATE SET claimed_at = excluded.claimed_at', [batch, at]);
    }
  }

  async dropClaimsBefore(before: string): Promise<void> {
    await this.tx.run('DELETE FROM blob_removals WHERE claimed_at < $1', [before]);
  }

  async forgetBlobs(digests: string[]): Promise<void> {
    await this.tx.run('DELETE FROM blob_removals WHERE digest = ANY($1::text[])', [digests]);
    await this.tx.run('DELETE FROM blob_uses WHERE digest = ANY($1::text[])', [digests]);
  }

  /** The `digest` column a query over a list ($1, in batches) and more parameters answers. */
  private async digestsOf(sql: string, list: string[], ...params: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const batch of chunks(list)) for (const r of await this.tx.rows(sql, [batch, ...params])) out.push(String(r.digest));
    return out;
  }
}

export class PgCatalog implements Catalog {
  private readonly pool: pg.Pool;
  private readonly url: string;
  private readonly schema: string;
  /** The advisory lock that serialises this catalog's writers (one per schema). */
  private readonly lockKey: string;

  private constructor(url: string) {
    this.url = url;
    const { connectionString, schema } = parseCatalogUrl(url);
    this.schema = schema;
    this.lockKey = createHash('sha256').update(`txrepo catalog writer ${schema}`).digest().readBigInt64BE(0).toString();
    this.pool = new pg.Pool({
      connectionString,
      max: 8,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 15_000,
      options: `-c search_path=${schema}`,
      application_name: 'txrepo',
    });
    // A pooled connection the server dropped while idle: the next query gets a new one.
    this.pool.on('error', () => {});
  }

  /** Connects, and creates or migrates the schema if it is behind. */
  static async open(url: string): Promise<PgCatalog> {
    const catalog = new PgCatalog(url);
    try {
      await catalog.migrate();
    } catch (e) {
      await catalog.pool.end().catch(() => {});
      throw connectionFailure(e, url);
    }
    return catalog;
  }

  private async version(tx: Tx): Promise<number> {
    const exists = await tx.row("SELECT 1 AS x FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'txrepo_schema'", [this.schema]);
    if (!exists) return 0;
    const r = await tx.row('SELECT version FROM txrepo_schema');
    return r ? Number(r.version) : 0;
  }

  /** Readers only read the version; a migration takes the writer lock and checks again. */
  private async migrate(): Promise<void> {
    const current = await this.read((tx) => this.version(tx));
    if (current === PG_MIGRATIONS.length) return;
    await this.write(async (tx) => {
      await tx.run(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      const version = await this.version(tx);
      if (version > PG_MIGRATIONS.length) {
        throw new StoreError(`--catalog ${redactUrl(this.url)}: ${rules.newerSchema(version, PG_MIGRATIONS.length)}`);
      }
      if (version === 0) await tx.run('CREATE TABLE txrepo_schema (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL)');
      for (let v = version; v < PG_MIGRATIONS.length; v++) await tx.run(PG_MIGRATIONS[v]);
      await tx.run('INSERT INTO txrepo_schema (one, version) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET version = excluded.version', [PG_MIGRATIONS.length]);
    });
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw connectionFailure(e, this.url);
    }
  }

  /** The client of a consistentRead running in this async context. */
  private readonly view = new AsyncLocalStorage<pg.PoolClient>();

  /** Every read `fn` makes sees one state: they all go to one client, in one REPEATABLE READ transaction. */
  async consistentRead<T>(fn: () => Promise<T>): Promise<T> {
    if (this.view.getStore()) return fn();
    return this.read((tx) => this.view.run(tx.client as pg.PoolClient, fn));
  }

  /** Reads that must see one state of the catalog: one REPEATABLE READ transaction. */
  private async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const inView = this.view.getStore();
    if (inView) return fn(new Tx(inView));
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await fn(new Tx(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      throw connectionFailure(e, this.url);
    } finally {
      client.release(broken);
    }
  }

  /** One statement, outside any transaction (it sees one state by itself). */
  private async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await (this.view.getStore() ?? this.pool).query(sql, params)).rows as Row[];
    } catch (e) {
      throw connectionFailure(e, this.url);
    }
  }

  /**
   * A write transaction under the writer lock. The transaction that makes a
   * mutation's `change` also writes its audit row (auditScope), as on SQLite: only if
   * it changed something.
   */
  private async write<T>(fn: (tx: Tx) => Promise<T>, change = false): Promise<T> {
    const client = await this.connect();
    const tx = new Tx(client);
    const audit = change ? auditScope.getStore() : undefined;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [this.lockKey]);
      const result = await fn(tx);
      const carries = audit !== undefined && !audit.written && tx.changes > 0;
      if (carries) await this.insertAudit(tx, audit.entry('ok'));
      crashPoint('commit', 'catalog');
      await client.query('COMMIT');
      if (carries) audit.written = true;
      crashPoint('committed', 'catalog');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      throw connectionFailure(e, this.url);
    } finally {
      client.release(broken);
    }
  }

  /** A change that a rule makes (catalog-rules.ts), in a write transaction that carries its audit row. */
  private change<T>(rule: (tx: CatalogStorage) => Rule<T>): Promise<T> {
    return this.write((tx) => runAsync(rule(new PgStorage(tx))), true);
  }

  /** Storage reads of one statement each, outside any transaction. */
  private async once<T>(read: (storage: PgStorage) => Promise<T>): Promise<T> {
    try {
      return await read(new PgStorage(new Tx(this.view.getStore() ?? this.pool)));
    } catch (e) {
      throw connectionFailure(e, this.url);
    }
  }

  async createRepo(repo: Omit<Repository, 'createdAt'>): Promise<Repository> {
    const created: Repository = { ...repo, createdAt: new Date().toISOString() };
    return this.change((tx) => rules.createRepo(tx, created));
  }

  async getRepo(name: string): Promise<Repository | undefined> {
    const [r] = await this.rows('SELECT * FROM repos WHERE name = $1', [name]);
    return r ? toRepo(r) : undefined;
  }

  async listRepos(): Promise<Repository[]> {
    return (await this.rows('SELECT * FROM repos ORDER BY name')).map(toRepo);
  }

  async updateRepo(name: string, change: RepoChange): Promise<Repository> {
    return this.change((tx) => rules.updateRepo(tx, name, change));
  }

  async addSigningKey(key: Omit<SigningKey, 'addedAt'>): Promise<SigningKey> {
    return this.change((tx) => rules.addSigningKey(tx, key));
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    return (await this.rows('SELECT * FROM signing_keys ORDER BY added_at, fingerprint')).map(toSigningKey);
  }

  async removeSigningKey(fingerprint: string): Promise<SigningKey> {
    return this.change((tx) => rules.removeSigningKey(tx, fingerprint));
  }

  async deleteRepo(name: string): Promise<void> {
    return this.change((tx) => rules.deleteRepo(tx, name));
  }


  async putPackages(records: readonly StorableRecord[]): Promise<void> {
    // One row per digest: an upsert may not touch a row twice in one statement.
    const unique = [...new Map(records.map((r) => [r.pkgid, rowOf(r)])).values()];
    if (!unique.length) return;
    await this.write(async (tx) => {
      const now = new Date().toISOString();
      for (const batch of chunks(unique)) {
        const cols: string[][] = [[], [], [], [], [], [], []];
        for (const r of batch) [r.pkgid, r.name, r.arch, r.epoch, r.version, r.release, recordJsonText(r)].forEach((v, i) => cols[i].push(v));
        // A known record only gets a new added_at: gc keeps young records for a commit to come.
        await tx.run(
          `INSERT INTO packages (digest, name, arch, epoch, version, release, record, added_at)
           SELECT d, n, a, e, v, r, rec, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(d, n, a, e, v, r, rec)
           ON CONFLICT (digest) DO UPDATE SET added_at = excluded.added_at`,
          [...cols, now],
        );
      }
    });
  }

  async getPackages(digests: string[]): Promise<Map<string, PackageRecord>> {
    return this.packagesAs(digests, toPackageRecord);
  }

  async getPackageTexts(digests: string[]): Promise<Map<string, string>> {
    return this.packagesAs(digests, (text) => text);
  }

  private async packagesAs<T>(digests: string[], as: (text: string) => T): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const batch of chunks(digests)) {
      for (const r of await this.rows('SELECT digest, record FROM packages WHERE digest = ANY($1::text[])', [batch])) {
        out.set(String(r.digest), as(String(r.record)));
      }
    }
    return out;
  }

  async getPackageIdentities(digests: string[]): Promise<Map<string, PackageIdentity>> {
    const out = new Map<string, PackageIdentity>();
    for (const batch of chunks(digests)) {
      for (const r of await this.rows('SELECT digest, name, arch, epoch, version, release FROM packages WHERE digest = ANY($1::text[])', [batch])) {
        const d = String(r.digest);
        out.set(d, { digest: d, name: String(r.name), arch: String(r.arch), epoch: String(r.epoch), version: String(r.version), release: String(r.release) });
      }
    }
    return out;
  }

  async getRepodataPages(keys: string[]): Promise<Map<string, RepodataPage>> {
    const out = new Map<string, RepodataPage>();
    for (const batch of chunks(keys)) {
      for (const r of await this.rows('SELECT * FROM repodata_pages WHERE key = ANY($1::text[])', [batch])) {
        const key = String(r.key);
        const part = (p: string) => ({ size: Number(r[`${p}_size`]), openSize: Number(r[`${p}_open`]) });
        out.set(key, { key, page: String(r.page), blob: String(r.blob), primary: part('primary'), filelists: part('filelists'), other: part('other') });
      }
    }
    return out;
  }

  async putRepodataPages(pages: RepodataPage[]): Promise<void> {
    const unique = [...new Map(pages.map((p) => [p.key, p])).values()];
    if (!unique.length) return;
    await this.write(async (tx) => {
      for (const batch of chunks(unique)) {
        const col = (f: (p: RepodataPage) => string | number) => batch.map(f);
        // A page rendered again (its blob was gone) supersedes the old row.
        await tx.run(
          `INSERT INTO repodata_pages (key, page, blob, primary_size, primary_open, filelists_size, filelists_open, other_size, other_open)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
           ON CONFLICT (key) DO UPDATE SET page = excluded.page, blob = excluded.blob,
             primary_size = excluded.primary_size, primary_open = excluded.primary_open,
             filelists_size = excluded.filelists_size, filelists_open = excluded.filelists_open,
             other_size = excluded.other_size, other_open = excluded.other_open`,
          [
            col((p) => p.key),
            col((p) => p.page),
            col((p) => p.blob),
            col((p) => p.primary.size),
            col((p) => p.primary.openSize),
            col((p) => p.filelists.size),
            col((p) => p.filelists.openSize),
            col((p) => p.other.size),
            col((p) => p.other.openSize),
          ],
        );
      }
    });
  }

  async commitSnapshot(c: SnapshotCommit): Promise<Snapshot> {
    return this.change((tx) => rules.commitSnapshot(tx, c));
  }




  async getSnapshot(repo: string, id: string): Promise<Snapshot | undefined> {
    const [r] = await this.rows('SELECT * FROM snapshots WHERE repo = $1 AND id = $2', [repo, id]);
    return r ? toSnapshot(r) : undefined;
  }

  async listSnapshots(repo: string): Promise<Snapshot[]> {
    return (await this.rows('SELECT * FROM snapshots WHERE repo = $1 ORDER BY id', [repo])).map(toSnapshot);
  }

  async snapshotFiles(id: string): Promise<SnapshotFile[]> {
    return this.read(async (tx) => {
      const files = (await tx.rows('SELECT href, digest, size, kind FROM snapshot_files WHERE snapshot = $1', [id])).map((r) => ({
        href: String(r.href),
        digest: String(r.digest),
        size: Number(r.size),
        kind: r.kind === 'package' ? ('package' as const) : ('metadata' as const),
      }));
      const rows = await tx.rows('SELECT p.href, p.digest, p.size FROM snapshot_pages s JOIN package_pages p ON p.page = s.page WHERE s.snapshot = $1', [id]);
      for (const r of rows) files.push({ href: String(r.href), digest: String(r.digest), size: Number(r.size), kind: 'package' });
      return files.sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
    });
  }

  async snapshotMetadata(id: string): Promise<SnapshotFile[]> {
    return (await this.rows('SELECT href, digest, size FROM snapshot_files WHERE snapshot = $1 ORDER BY href', [id])).map((r) => ({
      href: String(r.href),
      digest: String(r.digest),
      size: Number(r.size),
      kind: 'metadata' as const,
    }));
  }

  async snapshotPages(id: string): Promise<PageRef[]> {
    const rows = await this.rows('SELECT s.page, i.count, i.last FROM snapshot_pages s LEFT JOIN page_info i ON i.page = s.page WHERE s.snapshot = $1 ORDER BY s.seq', [id]);
    return rows.map((r) => {
      if (r.count === null) throw new Error(rules.pageWithoutInfo(String(r.page), id));
      return { key: String(r.page), count: Number(r.count), last: String(r.last) };
    });
  }

  async getPages(keys: string[]): Promise<Map<string, SnapshotFile[]>> {
    const out = new Map<string, SnapshotFile[]>();
    for (const batch of chunks([...new Set(keys)], 500)) {
      for (const r of await this.rows('SELECT page, href, digest, size FROM package_pages WHERE page = ANY($1::text[]) ORDER BY page, seq', [batch])) {
        const key = String(r.page);
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push({ href: String(r.href), digest: String(r.digest), size: Number(r.size), kind: 'package' });
      }
    }
    return out;
  }

  async moveTag(u: TagUpdate): Promise<TagMove> {
    return this.change((tx) => rules.moveTag(tx, u));
  }

  async getTag(repo: string, tag: string): Promise<Tag | undefined> {
    const [r] = await this.rows('SELECT * FROM tags WHERE repo = $1 AND tag = $2', [repo, tag]);
    return r ? toTag(r) : undefined;
  }

  async listTags(repo: string): Promise<Tag[]> {
    return (await this.rows('SELECT * FROM tags WHERE repo = $1 ORDER BY tag', [repo])).map(toTag);
  }

  async tagHistory(repo: string, tag?: string): Promise<TagMove[]> {
    const rows =
      tag === undefined
        ? await this.rows('SELECT * FROM tag_history WHERE repo = $1 ORDER BY seq', [repo])
        : await this.rows('SELECT * FROM tag_history WHERE repo = $1 AND tag = $2 ORDER BY seq', [repo, tag]);
    return rows.map(toMove);
  }

  async tagAt(repo: string, tag: string, time: string): Promise<string | undefined> {
    const [r] = await this.rows('SELECT to_snapshot FROM tag_history WHERE repo = $1 AND tag = $2 AND at <= $3 ORDER BY seq DESC LIMIT 1', [repo, tag, time]);
    return r ? String(r.to_snapshot) : undefined;
  }

  // Sets



  async createSet(n: NewSet): Promise<SnapshotSet> {
    return this.change((tx) => rules.createSet(tx, n));
  }

  async getSet(id: string): Promise<SnapshotSet | undefined> {
    return this.read((tx) => new PgStorage(tx).readSet(id));
  }

  async listSets(opts: { liveAt?: string } = {}): Promise<SnapshotSet[]> {
    return this.read((tx) => (opts.liveAt === undefined ? new PgStorage(tx).readSets('', []) : new PgStorage(tx).liveSets(opts.liveAt)));
  }

  async updateSet(id: string, change: LeaseChange): Promise<SnapshotSet> {
    return this.change((tx) => rules.updateSet(tx, id, change));
  }

  async promoteSet(p: Promotion): Promise<TagMove[]> {
    return this.change((tx) => rules.promoteSet(tx, p));
  }

  async tagMovesSince(since: string): Promise<TagMove[]> {
    return this.once((storage) => storage.tagMovesSince(since));
  }

  // Tokens and the audit log

  async createToken(t: NewToken): Promise<TokenInfo> {
    return this.change((tx) => rules.createToken(tx, t));
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.rows('SELECT * FROM tokens ORDER BY name')).map(toToken);
  }

  async revokeToken(name: string): Promise<TokenInfo> {
    return this.change((tx) => rules.revokeToken(tx, name));
  }

  async findToken(hash: string): Promise<TokenInfo | undefined> {
    const [r] = await this.rows('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return r ? toToken(r) : undefined;
  }

  async appendAudit(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    await this.write((tx) => this.insertAudit(tx, e));
  }

  private async insertAudit(tx: Tx, e: Omit<AuditEntry, 'seq'>): Promise<void> {
    await tx.run('INSERT INTO audit (at, actor, command, repo, args, result) VALUES ($1, $2, $3, $4, $5, $6)', [e.at, e.actor, e.command, e.repo ?? null, e.args, e.result]);
  }

  async listAudit(opts: { repo?: string; limit?: number }): Promise<AuditEntry[]> {
    const limit = opts.limit ?? 1000;
    const rows =
      opts.repo === undefined
        ? await this.rows('SELECT * FROM audit ORDER BY seq DESC LIMIT $1', [limit])
        : await this.rows('SELECT * FROM audit WHERE repo = $1 ORDER BY seq DESC LIMIT $2', [opts.repo, limit]);
    return rows.reverse().map(toAudit);
  }

  // Garbage collection

  async sweep(s: CatalogSweep): Promise<CatalogSweepResult> {
    return this.change((tx) => rules.sweep(tx, s));
  }

  async referencedBlobs(without: string[] = []): Promise<Set<string>> {
    return this.read(async (tx) => {
      const out = new Set<string>();
      const add = (rows: Row[]) => {
        for (const r of rows) out.add(String(r.digest));
      };
      add(await tx.rows('SELECT DISTINCT digest FROM snapshot_files WHERE NOT (snapshot = ANY($1::text[]))', [without]));
      const pages = 'SELECT DISTINCT page FROM snapshot_pages WHERE NOT (snapshot = ANY($1::text[]))';
      add(await tx.rows(`SELECT DISTINCT digest FROM package_pages WHERE page IN (${pages})`, [without]));
      add(await tx.rows(`SELECT blob AS digest FROM repodata_pages WHERE page IN (${pages})`, [without]));
      return out;
    });
  }

  async counts(): Promise<CatalogCounts> {
    return toCounts((await this.read((tx) => tx.row(COUNTS_QUERY)))!);
  }

  async storedPackages(): Promise<{ count: number; bytes: number }> {
    return toStoredPackages((await this.read((tx) => tx.row(STORED_PACKAGES_QUERY)))!);
  }

  // The blob ledger: writes that never carry a mutation's audit row (that goes with the change itself)

  async recordBlobUses(digests: string[]): Promise<string[]> {
    // No transaction for nothing: a read-only catalog still answers an empty call.
    if (!digests.length) return [];
    return this.write((tx) => runAsync(rules.recordBlobUses(new PgStorage(tx), digests)));
  }

  async blobRemovalsPending(digests: string[]): Promise<string[]> {
    return digests.length ? this.once((storage) => storage.claimedAmong(digests, rules.liveClaimsSince())) : [];
  }

  async claimBlobRemovals(digests: string[], unusedSince: string): Promise<string[]> {
    if (!digests.length) return [];
    return this.write((tx) => runAsync(rules.claimBlobRemovals(new PgStorage(tx), digests, unusedSince)));
  }

  async finishBlobRemovals(digests: string[]): Promise<void> {
    if (!digests.length) return;
    await this.write((tx) => runAsync(rules.finishBlobRemovals(new PgStorage(tx), digests)));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
