// Tokens made before scopes existed keep working, as admin. The catalog is built as the
// txrepo before scopes built it, by its own migrations (they are only ever appended:
// SQLite's up to version 6, PostgreSQL's up to version 1), with a token row as that
// txrepo wrote it; this txrepo then opens it, migrates it, and the old token does what
// only admin may. On SQLite in the first pass, on PostgreSQL in the second.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PG_MIGRATIONS } from '../../src/store/pg-schema.ts';
import { MIGRATIONS } from '../../src/store/sqlite-schema.ts';
import { backendsFor, ON_SHARED_BACKENDS, PG_BASE } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore } from '../helpers/run.ts';
import { initStore, serve, type Served } from '../helpers/serve.ts';

/** The schema versions of the txrepo before token scopes. */
const BEFORE_SCOPES = { sqlite: 6, postgres: 1 };

/** The token row as the txrepo before scopes wrote it (its insertToken). */
const OLD_INSERT = 'INSERT INTO tokens (name, hash, created_at, created_by) VALUES ($1, $2, $3, $4)';

const oldToken = `txr_${randomBytes(32).toString('base64url')}`;
const oldRow = ['old', createHash('sha256').update(oldToken).digest('hex'), '2025-06-01T12:00:00.000Z', 'root@before'];

/** Replaces the store's (new, empty) SQLite catalog by one of the old schema, with the old token. */
async function oldSqliteCatalog(store: string): Promise<void> {
  const path = join(store, 'catalog.sqlite');
  for (const f of [path, `${path}-wal`, `${path}-shm`]) await rm(f, { force: true });
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(path);
  for (const step of MIGRATIONS.slice(0, BEFORE_SCOPES.sqlite)) {
    if (typeof step === 'string') db.exec(step);
    else step(db);
  }
  db.exec(`PRAGMA user_version = ${BEFORE_SCOPES.sqlite}`);
  db.prepare(OLD_INSERT.replace(/\$\d/g, '?')).run(...oldRow);
  db.close();
}

/** Replaces the store's PostgreSQL schema by one of the old schema, with the old token. */
async function oldPostgresCatalog(store: string): Promise<void> {
  const schema = new URL(backendsFor(store).catalog!).searchParams.get('schema')!;
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: PG_BASE });
  await db.connect();
  try {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
    // As PgCatalog.migrate made it: its version table, then each migration.
    await db.query('CREATE TABLE txrepo_schema (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL)');
    for (const step of PG_MIGRATIONS.slice(0, BEFORE_SCOPES.postgres)) await db.query(step);
    await db.query('INSERT INTO txrepo_schema (one, version) VALUES (1, $1)', [BEFORE_SCOPES.postgres]);
    await db.query(OLD_INSERT, oldRow);
  } finally {
    await db.end();
  }
}

let dir: string;
let store: string;
let served: Served;
const tx = () => inStore(store);

before(async () => {
  dir = await tempDir('txrepo-old-tokens-');
  store = join(dir, 'store');
  await initStore(store);
  await (ON_SHARED_BACKENDS ? oldPostgresCatalog(store) : oldSqliteCatalog(store));
  served = await serve(store, ['--quiet']);
});

after(async () => {
  await served?.stop();
  await removeDir(dir);
});

const api = (method: string, path: string, token: string, body?: unknown) =>
  fetch(`${served.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

describe(`a token from before scopes (${ON_SHARED_BACKENDS ? 'PostgreSQL' : 'SQLite'} catalog)`, () => {
  test('is listed as admin, live, with no expiry', async () => {
    const [token] = JSON.parse((await tx()(['token', 'list', '--json'])).stdout);
    assert.deepEqual(token, { name: 'old', scopes: ['admin'], createdAt: oldRow[2], createdBy: oldRow[3], live: true });
  });

  test('does what only admin may: create and delete a repository, gc, fsck --verify-blobs', async () => {
    assert.equal((await api('POST', '/repos', oldToken, { name: 'fresh' })).status, 201);
    assert.equal((await api('POST', '/gc', oldToken, { dryRun: true })).status, 200);
    assert.equal((await api('GET', '/fsck?verifyBlobs=1', oldToken)).status, 200);
    assert.equal((await api('DELETE', '/repos/fresh', oldToken)).status, 200);
    const log = (await (await api('GET', '/log', oldToken)).json()) as { actor: string; command: string }[];
    assert.ok(log.some((e) => e.command === 'repo create' && e.actor.startsWith('token:old')), JSON.stringify(log));
  });

  test('beside new tokens, which keep their scopes; revoking it works as before', async () => {
    const reader = (await tx()(['token', 'create', 'reader', '--scope', 'read'])).stdout.trim();
    assert.equal((await api('POST', '/repos', reader, { name: 'nope' })).status, 403);
    await tx()(['token', 'revoke', 'old']);
    assert.equal((await api('POST', '/repos', oldToken, { name: 'nope' })).status, 401);
  });
});
