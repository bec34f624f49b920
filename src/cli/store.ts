// The store a command works on: --store DIR, else $TXREPO_STORE, else the user's
// data directory. Created on first use.

import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../store/index.ts';

export const STORE_OPTION = { store: { type: 'string' }, json: { type: 'boolean' } } as const;

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

export async function withStore<T>(flag: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeDir(flag));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

export const STORE_HELP = `      --store DIR          the store (default: $TXREPO_STORE, else ~/.local/share/txrepo/store)
      --json               print JSON on stdout`;
