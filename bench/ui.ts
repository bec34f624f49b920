// The web UI on a large repository: the snapshot page of a 50,000-package snapshot,
// served by `txrepo serve`, must answer its first page within 300 ms (issue 17).
//
// The store is made fast, not by 50,000 deploys' worth of rpm reading (minutes): one
// real package is deployed (the repository, its record, its repodata), then 50,000
// records derived from it, each with its own name, digest and href, are written to the
// catalog and committed as one snapshot of pages, as the commit loop would. The page
// reads only the catalog (pages, then records), so the blobs behind those records are
// not needed. Timed: the first page, a later page, and a search, each over HTTP.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageRecord } from '../src/rpm/index.ts';
import { openStore, paginate, type SnapshotFile } from '../src/store/index.ts';
import { mustRun } from '../test/helpers/run.ts';
import { start, stop } from './serve.ts';

const ROOT = join(import.meta.dirname, '..');
const TXREPO = join(ROOT, 'bin/txrepo');
/** The goal for the first page, in ms. */
export const GOAL_MS = 300;

export interface UiRow {
  scenario: string;
  /** Median and slowest of the timed requests, ms. */
  medianMs: number;
  maxMs: number;
  /** The first request after the server started (nothing cached), ms. */
  coldMs: number;
  bytes: number;
}

/** A store whose repository `big` has a latest snapshot of `count` packages; returns its id. */
async function bigStore(dir: string, count: number): Promise<string> {
  await mustRun(TXREPO, ['repo', 'create', 'big', '--store', dir]);
  await mustRun(TXREPO, ['deploy', 'big', join(ROOT, 'samples/zoo/bear-4.1-1.noarch.rpm'), '--store', dir]);
  const store = await openStore(dir, {}, { create: false });
  try {
    const { catalog } = store;
    const parent = (await catalog.getTag('big', 'latest'))!.snapshot;
    const base = (await catalog.snapshotFiles(parent)).find((f) => f.kind === 'package')!;
    const model = (await catalog.getPackages([base.digest])).get(base.digest)!;
    const files: SnapshotFile[] = [];
    for (let start = 0; start < count; start += 5000) {
      const records: PackageRecord[] = [];
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        const name = `pkg${String(i).padStart(5, '0')}`;
        const pkgid = createHash('sha256').update(name).digest('hex');
        const href = `Packages/p/${name}-1.${i % 7}-1.noarch.rpm`;
        records.push({ ...model, pkgid, name, version: `1.${i % 7}`, summary: `synthetic package ${i}`, locationHref: href, provides: [{ name }] });
        files.push({ href, digest: pkgid, size: model.sizePackage, kind: 'package' });
      }
      await catalog.putPackages(records);
    }
    const snapshot = await catalog.commitSnapshot({
      repo: 'big',
      parent,
      pages: paginate(files),
      files: await catalog.snapshotMetadata(parent),
      packages: files.length,
      repomd: (await catalog.getSnapshot('big', parent))!.repomd,
      actor: 'bench',
      message: `${count} synthetic packages`,
      tags: ['latest'],
    });
    return snapshot.id;
  } finally {
    await store.close();
  }
}

/** One request, timed to its last byte; the page must show what `expect` says (a fast wrong page is no result). */
async function timed(url: string, expect: RegExp): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const r = await fetch(url, { headers: { accept: 'text/html' } });
  const body = await r.text();
  const ms = performance.now() - t;
  if (r.status !== 200 || !expect.test(body)) throw new Error(`${url}: ${r.status}, not ${expect}: ${body.slice(0, 2000)}`);
  return { ms, bytes: Buffer.byteLength(body) };
}

export async function uiBench(opts: { work: string; runs: number; packages?: number }): Promise<UiRow[]> {
  const count = opts.packages ?? 50_000;
  const dir = join(opts.work, 'store');
  await mkdir(opts.work, { recursive: true });
  const made = performance.now();
  const id = await bigStore(dir, count);
  process.stderr.write(`ui bench: a snapshot of ${count} packages made in ${((performance.now() - made) / 1000).toFixed(1)} s\n`);
  const server = await start(TXREPO, ['serve', '--store', dir, '--listen', '127.0.0.1:0'], /listening on (http:\/\/\S+)/);
  const url = server.match[1];
  const page = `${url}/ui/repos/big/snapshots/${id}`;
  const scenarios: [string, string, RegExp][] = [
    [`snapshot page of ${count} packages: first page`, page, new RegExp(`page 1 of ${count / 50} \\(${count} packages\\)[\\s\\S]*pkg00049`)],
    [`snapshot page of ${count} packages: page 500`, `${page}?page=500`, /page 500 of [\s\S]*pkg24950[\s\S]*pkg24999/],
    [`snapshot page of ${count} packages: search`, `${page}?q=pkg4999`, /\(10 packages matching/],
    [`repository page (its +/- of ${count})`, `${url}/ui/repos/big`, /\+50000/],
    ['home page', `${url}/`, /big/],
  ];
  const rows: UiRow[] = [];
  try {
    for (const [scenario, target, expect] of scenarios) {
      const cold = await timed(target, expect);
      const times: number[] = [];
      for (let i = 0; i < Math.max(5, opts.runs); i++) times.push((await timed(target, expect)).ms);
      times.sort((a, b) => a - b);
      rows.push({ scenario, medianMs: times[Math.floor(times.length / 2)], maxMs: times[times.length - 1], coldMs: cold.ms, bytes: cold.bytes });
    }
  } finally {
    await stop(server.child);
  }
  return rows;
}
