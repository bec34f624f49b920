// The backends tests run on. By default every store is the embedded one (SQLite and a
// blob directory). With TXREPO_TEST_BACKEND=pg-s3 (what .ci/run's second pass sets),
// every store a test makes gets a catalog of its own in PostgreSQL (a schema named
// after the store's path, in the database of $TXREPO_TEST_PG) and blobs of its own in
// S3 (a prefix named the same, in the bucket of $TXREPO_TEST_S3): the same tests then
// run on the shared backends.
//
//   TXREPO_TEST_PG   postgres://USER:PASSWORD@HOST:PORT/DATABASE
//   TXREPO_TEST_S3   http://HOST:PORT/BUCKET of an S3-compatible server (credentials:
//                    $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, default S3RVER)

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore, type Backends, type Store } from '../../src/store/index.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export const TEST_BACKEND = process.env.TXREPO_TEST_BACKEND === 'pg-s3' ? 'pg-s3' : 'local';
export const ON_SHARED_BACKENDS = TEST_BACKEND === 'pg-s3';

/** For a test that is about the embedded backends' own files (SQLite, the blob directory). */
export const LOCAL_ONLY = { skip: ON_SHARED_BACKENDS ? 'about the embedded store\'s own files; this pass runs on PostgreSQL and S3' : false } as const;

/** For a test that does not touch a store's backends: it runs once, in the first pass. */
export const FIRST_PASS_ONLY = { skip: ON_SHARED_BACKENDS ? 'does not depend on the backends; it ran in the first pass' : false } as const;

/** The PostgreSQL the tests may use, or why there is none. */
export const PG_BASE = process.env.TXREPO_TEST_PG || undefined;
export const NEEDS_PG = { skip: PG_BASE ? false : 'set TXREPO_TEST_PG=postgres://USER:PASSWORD@HOST:PORT/DATABASE to run it (npm test sets one up as root)' } as const;

/** Credentials for the tests' S3-compatible server (s3rver takes any). */
export const AWS_ENV = {
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
  AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
};
Object.assign(process.env, AWS_ENV);

/** A PostgreSQL catalog URL of a schema of its own. */
export function pgUrl(schema: string): string {
  if (!PG_BASE) throw new Error('TXREPO_TEST_PG is not set');
  const u = new URL(PG_BASE);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** An S3 blobs URL under a prefix of its own, on `server` (default: $TXREPO_TEST_S3). */
export function s3Url(prefix: string, server = process.env.TXREPO_TEST_S3): string {
  if (!server) throw new Error('TXREPO_TEST_S3 is not set');
  const u = new URL(server);
  const bucket = u.pathname.replace(/^\/+|\/+$/g, '');
  return `s3://${bucket}/${prefix}?endpoint=${u.origin}`;
}

/** A name for the store at `dir`, usable as a schema and a prefix. */
function nameOf(dir: string): string {
  return `t_${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 20)}`;
}

/** The backends a test store at `dir` uses on this pass. */
export function backendsFor(dir: string): Backends {
  if (!ON_SHARED_BACKENDS) return {};
  return { catalog: pgUrl(nameOf(dir)), blobs: s3Url(nameOf(dir)) };
}

/**
 * The environment a txrepo process working on the store at `dir` needs on this pass.
 * Backends `base` names already (a test that shares one catalog between stores) stay.
 */
export function storeEnv(dir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const b = backendsFor(dir);
  if (!b.catalog || base.TXREPO_CATALOG || base.TXREPO_BLOBS) return base;
  return { ...base, ...AWS_ENV, TXREPO_CATALOG: b.catalog, TXREPO_BLOBS: b.blobs };
}

/**
 * Copies the catalog and blobs of the store at `from` to those of the store at `to`
 * (the directory itself copied already, marker and all), on the shared-backend pass:
 * the catalog's schema table by table, the blobs object by object.
 */
export async function cloneSharedStore(from: string, to: string): Promise<void> {
  const [a, b] = [nameOf(from), nameOf(to)];
  const target = backendsFor(to);
  const noPassword = new URL(target.catalog!);
  noPassword.password = '';
  await writeFile(join(to, 'txrepo-store.json'), JSON.stringify({ format: 1, catalog: noPassword.toString(), blobs: target.blobs }) + '\n');
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: PG_BASE });
  await db.connect();
  try {
    await db.query(`DROP SCHEMA IF EXISTS ${b} CASCADE; CREATE SCHEMA ${b}`);
    const tables = (await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'", [a])).rows.map((r) => String(r.table_name));
    for (const t of tables) {
      await db.query(`CREATE TABLE ${b}.${t} (LIKE ${a}.${t} INCLUDING ALL); INSERT INTO ${b}.${t} OVERRIDING SYSTEM VALUE SELECT * FROM ${a}.${t}`);
    }
    const identities = (await db.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND is_identity = 'YES'", [b])).rows;
    for (const { table_name: t, column_name: c } of identities) {
      await db.query(`SELECT setval(pg_get_serial_sequence('${b}.${t}', '${c}'), COALESCE(MAX(${c}), 0) + 1, false) FROM ${b}.${t}`);
    }
  } finally {
    await db.end();
  }
  const { CopyObjectCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } = await import('@aws-sdk/client-s3');
  const server = new URL(process.env.TXREPO_TEST_S3!);
  const Bucket = server.pathname.replace(/^\/+|\/+$/g, '');
  const client = new S3Client({ endpoint: server.origin, forcePathStyle: true, region: AWS_ENV.AWS_REGION });
  // One request at a time, each tried again on a 500: s3rver (a file tree behind a
  // web server) fails now and then under concurrent copies and deletes in one place.
  const send = async <T>(command: unknown): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await client.send(command as never)) as T;
      } catch (e) {
        if (attempt >= 5 || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 500) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  };
  type Page = { Contents?: { Key?: string }[]; IsTruncated?: boolean; NextContinuationToken?: string };
  try {
    // What an earlier trial left under the new prefix goes first: the copy is exact.
    for (let page: Page; (page = await send<Page>(new ListObjectsV2Command({ Bucket, Prefix: `${b}/` }))).Contents?.length; ) {
      for (const o of page.Contents!) await send(new DeleteObjectCommand({ Bucket, Key: o.Key }));
    }
    let ContinuationToken: string | undefined;
    do {
      const page = await send<Page>(new ListObjectsV2Command({ Bucket, Prefix: `${a}/`, ContinuationToken }));
      for (const o of page.Contents ?? []) await send(new CopyObjectCommand({ Bucket, CopySource: `${Bucket}/${o.Key}`, Key: `${b}/${o.Key!.slice(a.length + 1)}` }));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  } finally {
    client.destroy();
  }
}

/** Opens a test store in this process, on this pass's backends. */
export function openTestStore(dir: string): Promise<Store> {
  return openStore(dir, backendsFor(dir));
}

export interface S3Server {
  /** http://127.0.0.1:PORT/BUCKET */
  url: string;
  close(): Promise<void>;
}

/** An S3-compatible server (s3rver) of the test's own, on loopback, with one bucket. */
export async function startS3Server(bucket = 'txrepo-test'): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'txrepo-s3-'));
  const child: ChildProcess = spawn(join(REPO_ROOT, 'node_modules/.bin/s3rver'), ['-d', dir, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its log (every request, and a stack for each request it does not implement, such
  // as listing multipart uploads) is kept out of the test output.
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8192));
  child.stderr!.on('data', keep);
  const port = await new Promise<number>((done, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) done(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with ${code} before listening: ${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/${bucket}`,
    // Twice is once: a test may stop it early, and its cleanup stop it again.
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Puts `data` where the store at `dir` keeps blob `digest`, on this pass's backends,
 * going round the blob store: damage, as a failing disk or a hand in the bucket makes it.
 */
export async function overwriteBlob(dir: string, digest: string, data: Uint8Array): Promise<void> {
  const where = `sha256/${digest.slice(0, 2)}/${digest}`;
  if (!ON_SHARED_BACKENDS) {
    const path = join(dir, 'blobs', where);
    await rm(path, { force: true });
    await writeFile(path, data);
    return;
  }
  const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const server = new URL(process.env.TXREPO_TEST_S3!);
  const client = new S3Client({ endpoint: server.origin, forcePathStyle: true, region: AWS_ENV.AWS_REGION });
  try {
    await client.send(new PutObjectCommand({ Bucket: server.pathname.replace(/^\/+|\/+$/g, ''), Key: `${nameOf(dir)}/${where}`, Body: data }));
  } finally {
    client.destroy();
  }
}
