// What a command works on: a store this process opens (--store DIR, else
// $TXREPO_STORE, else the user's data directory; created on first use, with the
// catalog and blobs of --catalog/$TXREPO_CATALOG and --blobs/$TXREPO_BLOBS, else the
// embedded ones), or a txrepo server (--server URL --token T, or $TXREPO_SERVER /
// $TXREPO_TOKEN).

import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Txrepo } from '../core/index.ts';
import { openStore, type Backends, type Store } from '../store/index.ts';
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

export function storeDir(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.TXREPO_STORE) return process.env.TXREPO_STORE;
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'txrepo', 'store');
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

/** Opens the store the options name. */
export function openLocalStore(v: Local): Promise<Store> {
  return openStore(storeDir(v.store), backendsOf(v));
}

/** For commands that need the store's files themselves (export, token, serve). */
export async function withStore<T>(v: Local, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openLocalStore(v);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
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

/** Runs `fn` on the local store or, with --server, on the server. */
export async function withTxrepo<T>(v: Target, fn: (tx: Txrepo) => Promise<T>): Promise<T> {
  const server = serverOf(v);
  let tx: Txrepo;
  if (server !== undefined) {
    if (namesStore(v)) throw new UsageError('give --store (with --catalog, --blobs) or --server, not both');
    const { RemoteTxrepo } = await import('../remote/index.ts');
    tx = new RemoteTxrepo(server, { token: v.token ?? process.env.TXREPO_TOKEN, actor: actor() });
  } else {
    const { LocalTxrepo } = await import('../core/index.ts');
    tx = new LocalTxrepo(await openLocalStore(v), actor());
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
      --token TOKEN        the server's access token for changes (default: $TXREPO_TOKEN)
      --json               print one JSON document on stdout: the result, or
                           {"error": {"type", "message"}} (see docs/cli.md)`;

export const LOCAL_HELP = `      --store DIR          the store (default: $TXREPO_STORE, else ~/.local/share/txrepo/store)
      --catalog URL        its catalog in PostgreSQL: postgres://USER@HOST/DB[?schema=S]
                           (default: $TXREPO_CATALOG, else DIR/catalog.sqlite)
      --blobs URL          its blobs in S3-compatible storage: s3://BUCKET/PREFIX
                           (default: $TXREPO_BLOBS, else DIR/blobs)
      --json               print one JSON document on stdout: the result, or
                           {"error": {"type", "message"}} (see docs/cli.md)`;
