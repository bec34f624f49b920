// The store's backends side by side: the embedded one (SQLite and a local blob
// directory) and the shared one (PostgreSQL and S3-compatible object storage, here
// s3rver, both on loopback):
//  - how deploy cost grows with the repo: the first deploy of repos of 1k, 10k and 50k
//    packages, then deploys of 10 new packages into each (the cost a CI pays per build);
//  - serving: every package of a 1000-package snapshot downloaded through txrepo serve
//    (curl, 8 parallel): streamed from the blob store, and (object storage) by redirect
//    to presigned URLs, so that the object store carries the bytes.
//
// The PostgreSQL run needs $TXREPO_TEST_PG (postgres://USER:PASSWORD@HOST/DB); without
// it only the embedded backend is measured.

import { spawn } from 'node:child_process';
import { link, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startS3Server, type S3Server } from '../test/helpers/backends.ts';
import { measure, median, type Measure } from './measure.ts';
import { curlAll, start, stop } from './serve.ts';

const TXREPO = join(import.meta.dirname, '..', 'bin', 'txrepo');

export interface BackendRow {
  backend: string;
  scenario: string;
  measure: Measure;
  /** Bytes moved per run, for throughput figures. */
  bytes?: number;
}

interface Backend {
  name: string;
  env(store: string): NodeJS.ProcessEnv;
}

function tx(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(TXREPO, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`txrepo ${args.join(' ')}: ${err}`))));
  });
}

/** A directory of `count` packages: the corpus's, hard-linked under distinct names as needed. */
async function packagesDir(dir: string, corpus: string[], smallDir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const f = corpus[i % corpus.length];
    const sub = join(dir, `r${Math.floor(i / corpus.length)}`);
    if (i % corpus.length === 0) await mkdir(sub, { recursive: true });
    await link(join(smallDir, f), join(sub, `r${Math.floor(i / corpus.length)}-${f}`));
  }
}

export async function backendsBench(opts: { smallDir: string; work: string; runs: number; sizes: number[] }): Promise<BackendRow[]> {
  const { work, runs } = opts;
  await mkdir(work, { recursive: true });
  const all = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort();
  const added = all.slice(0, 10 * runs);
  const corpus = all.slice(10 * runs);
  const batches = Array.from({ length: runs }, (_, i) => added.slice(i * 10, i * 10 + 10).map((f) => join(opts.smallDir, f)));

  let s3: S3Server | undefined;
  const backends: Backend[] = [{ name: 'SQLite + local disk', env: () => process.env }];
  const pg = process.env.TXREPO_TEST_PG;
  if (pg) {
    s3 = await startS3Server('txrepo-bench');
    const endpoint = new URL(s3.url).origin;
    const tag = `bench_${process.pid}`;
    backends.push({
      name: 'PostgreSQL + S3',
      env: (store) => {
        const name = `${tag}_${store.replace(/[^a-z0-9]/gi, '_').slice(-40).toLowerCase()}`;
        const u = new URL(pg);
        u.searchParams.set('schema', name);
        return { ...process.env, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER', TXREPO_CATALOG: u.toString(), TXREPO_BLOBS: `s3://txrepo-bench/${name}?endpoint=${endpoint}` };
      },
    });
  } else {
    process.stderr.write('backends bench: TXREPO_TEST_PG is not set: PostgreSQL + S3 not measured\n');
  }

  const rows: BackendRow[] = [];
  try {
    for (const size of opts.sizes) {
      const source = join(work, `repo-${size}`);
      await packagesDir(source, corpus, opts.smallDir, size);
      for (const b of backends) {
        const store = join(work, `store-${size}-${b.name.replace(/\W+/g, '-')}`);
        const env = b.env(store);
        await tx(['repo', 'create', 'bench', '--store', store], env);
        process.stderr.write(`backends bench: ${b.name}, first deploy of ${size} packages\n`);
        rows.push({ backend: b.name, scenario: `first deploy of ${size} packages`, measure: await measure(TXREPO, ['deploy', 'bench', source, '--store', store], env) });
        const each: Measure[] = [];
        for (const batch of batches) each.push(await measure(TXREPO, ['deploy', 'bench', ...batch, '--store', store], env));
        rows.push({ backend: b.name, scenario: `deploy 10 into ${size} packages`, measure: median(each) });
      }
    }

    // Serving: 1000 packages through txrepo serve, on each backend.
    const source = join(work, 'serve-1000');
    await packagesDir(source, corpus, opts.smallDir, Math.min(1000, corpus.length));
    for (const b of backends) {
      const store = join(work, `serve-${b.name.replace(/\W+/g, '-')}`);
      const env = b.env(store);
      await tx(['repo', 'create', 'bench', '--store', store], env);
      const id = JSON.parse(await tx(['deploy', 'bench', source, '--store', store, '--json'], env)).snapshot as string;
      const files = JSON.parse(await tx(['show', `bench@${id}`, '--files', '--json', '--store', store], env)).files as { href: string; size: number; kind: string }[];
      const packages = files.filter((f) => f.kind === 'package');
      const bytes = packages.reduce((n, f) => n + f.size, 0);
      const modes = b.name.startsWith('PostgreSQL') ? [[], ['--redirect-downloads', '15m']] : [[]];
      for (const extra of modes) {
        const served = await start(TXREPO, ['serve', '--store', store, '--listen', '127.0.0.1:0', '--quiet', ...extra], /listening on (http:\/\/\S+)/, env);
        try {
          const urls = packages.map((f) => `${served.match[1]}/repos/bench/snapshots/${id}/${f.href}`);
          const t: Measure[] = [];
          for (let i = 0; i < runs; i++) t.push(await curlAll(work, 'serve', urls));
          rows.push({ backend: b.name, scenario: `download ${packages.length} packages${extra.length ? ', redirected' : ''}`, measure: median(t), bytes });
        } finally {
          await stop(served.child);
        }
      }
    }
  } finally {
    await s3?.close();
  }
  return rows;
}
