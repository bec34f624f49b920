// What a command works on: a store this process opens (--store DIR, else
// $TXREPO_STORE, else the user's data directory; with the catalog and blobs of
// --catalog/$TXREPO_CATALOG and --blobs/$TXREPO_BLOBS, else the embedded ones), or a
// txrepo server (--server URL --token T, or $TXREPO_SERVER / $TXREPO_TOKEN).
//
// Each command says whether it reads or writes the store: one that writes makes the
// store where there is none yet (src/store/open.ts says where that may be), one that
// reads refuses a path with no store and leaves it as it was.

import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Txrepo } from '../core/index.ts';
import { readFileSync } from 'node:fs';
import { NoStoreError, NotAStoreError, openStore, type Backends, type Store } from '../store/index.ts';
import { GLOBAL_OPTIONS } from './args.ts';
import { UsageError } from './errors.ts';

/** The options of commands that work on a local store only (not through a server). */
export const LOCAL_OPTION = {
  store: GLOBAL_OPTIONS.store,
  catalog: GLOBAL_OPTIONS.catalog,
  blobs: GLOBAL_OPTIONS.blobs,
  json: GLOBAL_OPTIONS.json,
} as const;

/** The options of commands that work on a local store or through a server. */
export const STORE_OPTION = GLOBAL_OPTIONS;

/** What a command does with a local store: 'writes' makes it where there is none. */
export type StoreUse = 'reads' | 'writes';

/** The store's directory, and who named it (for what a message tells the user to do). */
interface StorePath {
  dir: string;
  from: '--store' | '$TXREPO_STORE' | 'default';
}

function storePath(flag: string | undefined): StorePath {
  if (flag) return { dir: flag, from: '--store' };
  if (process.env.TXREPO_STORE) return { dir: process.env.TXREPO_STORE, from: '$TXREPO_STORE' };
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return { dir: join(data, 'txrepo', 'store'), from: 'default' };
}

export function storeDir(flag: string | undefined): string {
  return storePath(flag).dir;
}

/** A word for a shell command line, quoted when it needs to be. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Adds to the store layer's refusal what the user can do about it, in the CLI's words. */
function withAdvice(e: unknown, where: StorePath, v: Local): unknown {
  const same = v.catalog !== undefined || v.blobs !== undefined ? ' (with the same --catalog, --blobs)' : '';
  if (e instanceof NoStoreError) {
    const advice = {
      '--store': `create one with 'txrepo init --store ${shellWord(where.dir)}'${same}, or give --store the directory of an existing store`,
      $TXREPO_STORE: `$TXREPO_STORE names it: create one with 'txrepo init'${same}, or point $TXREPO_STORE at an existing store`,
      default: `it is the default store: create one with 'txrepo init'${same}, or give --store DIR or $TXREPO_STORE`,
    }[where.from];
    e.message += `; ${advice}`;
  } else if (e instanceof NotAStoreError) {
    e.message += where.from === '$TXREPO_STORE' ? '; point $TXREPO_STORE at another directory, or at an existing store' : '; give --store another directory, or that of an existing store';
  }
  return e;
}

/** Who is acting, for snapshots, tag history and the audit log. */
export function actor(): string {
  if (process.env.TXREPO_ACTOR) return process.env.TXREPO_ACTOR;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? user;
  }
  return `${user}@${hostname()}`;
}

interface Local {
  store?: string;
  catalog?: string;
  blobs?: string;
}

/** Whether the options name a local store (--store, --catalog or --blobs). */
export function namesStore(v: Local): boolean {
  return v.store !== undefined || v.catalog !== undefined || v.blobs !== undefined;
}

/** The catalog and blobs asked for: flags, else the environment (else the store's own). */
export function backendsOf(v: Local): Backends {
  const pick = (flag: string | undefined, env: string | undefined) => (flag !== undefined ? flag : env ? env : undefined);
  return { catalog: pick(v.catalog, process.env.TXREPO_CATALOG), blobs: pick(v.blobs, process.env.TXREPO_BLOBS) };
}

/** Opens the store the options name; `use` 'writes' makes it where there is none yet. */
export async function openLocalStore(v: Local, use: StoreUse): Promise<Store> {
  const where = storePath(v.store);
  try {
    return await openStore(where.dir, backendsOf(v), { create: use === 'writes' });
  } catch (e) {
    throw withAdvice(e, where, v);
  }
}

/** For commands that need the store's files themselves (export, token, serve). */
export async function withStore<T>(v: Local, use: StoreUse, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openLocalStore(v, use);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The passphrase of the store's protected signing keys: $TXREPO_SIGNING_PASSPHRASE, or
 * the first line of the file $TXREPO_SIGNING_PASSPHRASE_FILE names (docs/signing.md).
 */
export function signingPassphrase(file?: string): string | undefined {
  const path = file ?? process.env.TXREPO_SIGNING_PASSPHRASE_FILE;
  if (path === undefined || path === '') return process.env.TXREPO_SIGNING_PASSPHRASE || undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`passphrase file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return text.split(/\r?\n/)[0];
}

/** A process that writes snapshots signs them with the store's keys, unlocked by the passphrase the environment gives. */
async function configureStoreSigning(store: Store): Promise<void> {
  const passphrase = signingPassphrase();
  if (passphrase === undefined) return;
  const { configureSigning } = await import('../snapshots/index.ts');
  await configureSigning(store, { passphrase });
}

interface Target extends Local {
  server?: string;
  token?: string;
}

/** The server a command talks to, if any: --server, else $TXREPO_SERVER (unless a store is named). */
export function serverOf(v: Target): string | undefined {
  if (v.server !== undefined) return v.server;
  return namesStore(v) ? undefined : process.env.TXREPO_SERVER || undefined;
}

/** Runs `fn` on the local store (see StoreUse) or, with --server, on the server. */
export async function withTxrepo<T>(v: Target, use: StoreUse, fn: (tx: Txrepo) => Promise<T>): Promise<T> {
  const server = serverOf(v);
  let tx: Txrepo;
  if (server !== undefined) {
    if (namesStore(v)) throw new UsageError('give --store (with --catalog, --blobs) or --server, not both');
    const { RemoteTxrepo } = await import('../remote/index.ts');
    tx = new RemoteTxrepo(server, { token: v.token ?? process.env.TXREPO_TOKEN, actor: actor() });
  } else {
    const { LocalTxrepo } = await import('../core/index.ts');
    const store = await openLocalStore(v, use);
    try {
      if (use === 'writes') await configureStoreSigning(store);
    } catch (e) {
      await store.close();
      throw e;
    }
    tx = new LocalTxrepo(store, actor());
  }
  try {
    return await fn(tx);
  } finally {
    await tx.close();
  }
}

export const STORE_HELP = `      --store DIR          the store (default: $TXREPO_STORE, else ~/.local/share/txrepo/store)
      --catalog URL        its catalog in PostgreSQL: postgres://USER@HOST/DB[?schema=S]
                           (default: $TXREPO_CATALOG, else DIR/catalog.sqlite)
      --blobs URL          its blobs in S3-compatible storage: s3://BUCKET/PREFIX
                           (default: $TXREPO_BLOBS, else DIR/blobs)
      --server URL         act on a txrepo server instead (default: $TXREPO_SERVER)
      --token TOKEN        the server's access token (default: $TXREPO_TOKEN)
      --json               print one JSON document on stdout: the result, or
                           {"error": {"type", "message"}} (see docs/cli.md)`;

export const LOCAL_HELP = `      --store DIR          the store (default: $TXREPO_STORE, else ~/.local/share/txrepo/store)
      --catalog URL        its catalog in PostgreSQL: postgres://USER@HOST/DB[?schema=S]
                           (default: $TXREPO_CATALOG, else DIR/catalog.sqlite)
      --blobs URL          its blobs in S3-compatible storage: s3://BUCKET/PREFIX
                           (default: $TXREPO_BLOBS, else DIR/blobs)
      --json               print one JSON document on stdout: the result, or
                           {"error": {"type", "message"}} (see docs/cli.md)`;
