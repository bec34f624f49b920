// Runs the real `txrepo serve` on a store, on a free loopback port, for tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { storeEnv } from './backends.ts';
import { mustRun, TXREPO } from './run.ts';

export interface Served {
  url: string;
  /** The access log lines so far. */
  log: string[];
  /** What the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
  child: ChildProcess;
}

/**
 * Makes the store a server is to serve (serve needs one): a second server's own
 * directory on shared backends, which `env` names (TXREPO_CATALOG, TXREPO_BLOBS).
 */
export async function initStore(store: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  await mustRun(TXREPO, ['init', '--store', store], { env: { ...storeEnv(store), ...opts.env } });
}

/** `env`: added to the environment of the server (a preload, say; backends: TXREPO_CATALOG, TXREPO_BLOBS). */
export async function serve(store: string, args: string[] = [], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const child = spawn(TXREPO, ['serve', '--listen', '127.0.0.1:0', '--store', store, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...storeEnv(store), ...opts.env } });
  const log: string[] = [];
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(...d.split('\n').filter(Boolean)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`txrepo serve exited ${code}: ${stderr}`)));
  });
  return {
    url,
    log,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The serve arguments of a server that fetches for its clients from the tests' own
 * upstreams, which listen on loopback: a server refuses loopback by default
 * (src/sync/fetch-policy.ts).
 */
export const FETCH_LOOPBACK = ['--fetch-allow', '127.0.0.1'];

/**
 * The serve arguments of a server that many simulated machines reach at once from one
 * loopback address (load and concurrency scenarios): a server lets one address hold
 * only 32 connections by default (src/server/server.ts, CONNECTION_LIMITS).
 */
export const MANY_CLIENTS = ['--max-connections-per-client', '1024'];

/**
 * The connections the server at `url` holds open now, as its side sees them (a client
 * that reads nothing does not see a close): established TCP connections whose local
 * port is the server's (its own files would also count the catalog's and the blob
 * store's connections, which come and go on PostgreSQL and S3), and which it accepted:
 * a connection still in the kernel's accept queue has no socket file yet (inode 0).
 * On a loaded machine the queue holds many of a burst for a while, which the server
 * has yet to take, or take and refuse (CI saw 36 of 200 once, on PostgreSQL and S3).
 */
export function heldConnections(url: string): number {
  const port = Number(new URL(url).port).toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${port}`) && state === '01' && inode !== '0') n++;
    }
  }
  return n;
}
