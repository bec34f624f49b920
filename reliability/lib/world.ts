// The stores, upstreams and processes the scenarios work on: a template store built
// once with the real CLI (repos, snapshots, tags, a set, a published tree), copied
// for each trial; the canonical state of a store, to compare before and after a fault;
// and txrepo runs as child processes, as users run it.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { LocalTxrepo } from '../../src/core/index.ts';
import { cloneSharedStore, ON_SHARED_BACKENDS, openTestStore, storeEnv } from '../../test/helpers/backends.ts';
import { mustRun, run, TXREPO, type RunResult } from '../../test/helpers/run.ts';
import { SAMPLES } from '../../test/helpers/samples.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** The sample packages (samples/zoo) and their updateinfo, comps and modules. */
export const ASSETS = SAMPLES;
export { TXREPO, run, mustRun, type RunResult, ON_SHARED_BACKENDS };

/**
 * The environment a txrepo process with these arguments needs: on the shared-backend
 * pass (TXREPO_TEST_BACKEND=pg-s3), the catalog and blobs of the store its --store
 * names (test/helpers/backends.ts); else `base` as it is.
 */
export function envFor(args: string[], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const i = args.indexOf('--store');
  return i >= 0 && i + 1 < args.length ? storeEnv(args[i + 1], base) : base;
}

/** Fixture packages, by file name. */
export async function assetRpms(): Promise<string[]> {
  return (await readdir(ASSETS)).filter((f) => f.endsWith('.rpm')).sort();
}
export const asset = (name: string) => join(ASSETS, name);

/** txrepo on a store; never throws, the result says how it went. */
export function tx(store: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<RunResult> {
  return run(TXREPO, [...args, '--store', store], { env: storeEnv(store, { ...process.env, ...opts.env }), timeout: opts.timeout ?? 120_000 });
}

export async function mustTx(store: string, args: string[]): Promise<RunResult> {
  const r = await tx(store, args);
  if (r.code !== 0) throw new Error(`txrepo ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

/** A child process that reports its peak memory (maxRSS) into `file` on exit. */
export function rssEnv(file: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${join(import.meta.dirname, 'rss-probe.ts')}`.trim(), TXREPO_RSS_FILE: file };
}

export async function readRss(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text ? Number(text) * 1024 : undefined;
}

/** Peak and current memory of a running process, from /proc. */
export async function procMemory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Opens a store in this process for checks (the process under test is gone). */
export async function withLocal<T>(store: string, fn: (t: LocalTxrepo) => Promise<T>): Promise<T> {
  const s = await openTestStore(store);
  const t = new LocalTxrepo(s, 'reliability');
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/**
 * fsck --verify-blobs: the problems it finds (none: sound). On the shared backends one
 * kind is left out: an object that no snapshot, page or cached rendering lists and
 * whose content does not hash to its name. s3rver, the S3 server of the tests, writes a PUT's
 * body in place as it arrives (S3 itself shows an object only once its PUT completed),
 * so a writer killed mid-upload leaves such an object there. txrepo never relies on
 * one (reuse checks the size; cached reads check the hash) and gc removes it.
 */
export async function fsckProblems(store: string): Promise<string[]> {
  return withLocal(store, async (t) => {
    const problems = (await t.fsck({ verifyBlobs: true })).problems;
    if (!ON_SHARED_BACKENDS) return problems;
    const referenced = await t.store.catalog.referencedBlobs();
    return problems.filter((p) => {
      const torn = /^blob ([0-9a-f]{64}): its content does not hash to its name/.exec(p);
      return !(torn && !referenced.has(torn[1]));
    });
  });
}

/**
 * What a store holds, without the names the clock gives (snapshot ids, times): per
 * repo, each snapshot as the hash of its file list (href and sha256 of every file but
 * repomd.xml, whose revision is a time), the tags as those hashes, and the sets as
 * lists of REPO:hash. Two stores with equal states serve the same trees.
 */
export interface StoreState {
  repos: Record<string, { snapshots: string[]; latest?: string; tags: Record<string, string>; packages: Record<string, number> }>;
  sets: string[];
  /** Snapshot id → content hash, to translate ids. */
  ids: Record<string, string>;
}

export async function storeState(store: string): Promise<StoreState> {
  return withLocal(store, async (t) => {
    const state: StoreState = { repos: {}, sets: [], ids: {} };
    for (const repo of await t.listRepos()) {
      const r: StoreState['repos'][string] = { snapshots: [], tags: {}, packages: {} };
      for (const s of await t.snapshots(repo.name)) {
        const d = await t.showSnapshot(repo.name, s.id, { files: true });
        const h = createHash('sha256');
        for (const f of (d.files ?? []).filter((f) => f.href !== 'repodata/repomd.xml').sort((a, b) => (a.href < b.href ? -1 : 1))) h.update(`${f.href} ${f.sha256}\n`);
        const key = h.digest('hex').slice(0, 16);
        state.ids[s.id] = key;
        r.snapshots.push(key);
        r.packages[key] = s.packages;
      }
      for (const tag of await t.tags(repo.name)) r.tags[tag.tag] = state.ids[tag.snapshot] ?? `missing:${tag.snapshot}`;
      r.latest = r.tags.latest;
      state.repos[repo.name] = r;
    }
    for (const set of await t.listSets()) {
      state.sets.push(set.members.map((m) => `${m.repo}:${state.ids[m.snapshot] ?? `missing:${m.snapshot}`}`).sort().join(',') + (set.releasedAt ? ' released' : ''));
    }
    state.sets.sort();
    return state;
  });
}

export const sameState = (a: StoreState, b: StoreState) => JSON.stringify({ ...a, ids: {} }) === JSON.stringify({ ...b, ids: {} });

/**
 * Copies a store (or any tree holding stores) for one trial. On the shared-backend
 * pass a store's catalog and blobs are copied too, to those of its new path.
 */
export async function cloneTree(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true, preserveTimestamps: true });
  if (!ON_SHARED_BACKENDS) return;
  const stores = async (dir: string, depth: number): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.name === 'txrepo-store.json')) return [dir];
    if (depth === 0) return [];
    return (await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => stores(join(dir, e.name), depth - 1)))).flat();
  };
  for (const store of await stores(from, 2)) await cloneSharedStore(store, join(to, store.slice(from.length)));
}

/** A static file server on loopback: the upstream yum repo that sync reads. */
export async function staticServer(root: string): Promise<{ url: string; close(): Promise<void>; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (path.split('/').includes('..')) return void res.writeHead(400).end();
    const data = await readFile(join(root, path)).catch(() => undefined);
    if (!data) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && Number(range[1]) < data.length) {
      const start = Number(range[1]);
      res.writeHead(206, { 'content-length': data.length - start, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` }).end(data.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': data.length }).end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, server, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A yum repo directory made by createrepo_c from some fixture packages. */
export async function upstreamRepo(dir: string, rpms: string[], opts: { comps?: boolean } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const f of rpms) await cp(asset(f), join(dir, f));
  const args = ['--quiet', '--simple-md-filenames'];
  if (opts.comps) args.push('--groupfile', asset('comps.xml'));
  await mustRun('createrepo_c', [...args, dir]);
  if (opts.comps) await mustRun('modifyrepo_c', [asset('updateinfo.xml'), join(dir, 'repodata')]);
  return dir;
}

/** Spawns a txrepo process and kills it with SIGKILL after `afterMs` (if still running). */
export async function killAfter(args: string[], afterMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn(TXREPO, args, { stdio: 'ignore', env: envFor(args, { ...process.env, ...env }) });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
  const code = await exited;
  clearTimeout(timer);
  return { killed: code === null, code };
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}
