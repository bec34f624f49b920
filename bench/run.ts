// npm run bench: txrepo side by side with the reference tools on a generated corpus,
// wall time and peak memory, as ratios (txrepo / reference: below 1.0 means txrepo is
// faster or smaller): createrepo full and --update runs vs createrepo_c, and the store
// operations of bench/store.ts.
//
//   npm run bench -- [--small 5000] [--large 40] [--runs 3] [--replicas 4] [--sizes 1000,10000,50000]
//                    [--only createrepo|store|serve|backends|ui] [--json FILE]
//
// The serve benchmark needs nginx and curl (apt-get install nginx-light curl); the
// backends benchmark (bench/backends.ts) PostgreSQL, named by $TXREPO_TEST_PG.

import { cp, link, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCorpus } from './corpus.ts';
import { measure, median, type Measure } from './measure.ts';
import { backendsBench, type BackendRow } from './backends.ts';
import { serveBench, type ServeRow } from './serve.ts';
import { storeBench } from './store.ts';
import { GOAL_MS, uiBench, type UiRow } from './ui.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TXREPO = join(ROOT, 'bin/txrepo');

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '5000' },
    large: { type: 'string', default: '40' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
    keep: { type: 'boolean' },
    only: { type: 'string' },
    replicas: { type: 'string', default: '4' },
    sizes: { type: 'string', default: '1000,10000,50000' },
  },
});
const small = Number(values.small);
const large = Number(values.large);
const runs = Number(values.runs);


/** Links every file of `from` into `to` (same mtimes, no copying). */
async function linkTree(from: string, to: string, skip = new Set<string>()): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    if (e.isDirectory()) await linkTree(join(from, e.name), join(to, e.name));
    else await link(join(from, e.name), join(to, e.name));
  }
}

interface Scenario {
  name: string;
  /** Prepares `dir` before each measured run. */
  prepare(dir: string): Promise<void>;
  args: string[];
}

const pad = (s: string, n: number) => s.padEnd(n);

/** The web UI's snapshot page on a 50,000-package snapshot (bench/ui.ts), against its goal. */
async function runUi(work: string): Promise<UiRow[]> {
  const rows = await uiBench({ work: join(work, 'ui-bench'), runs: Math.max(runs, 7) });
  console.log(`
the web UI through txrepo serve (median of ${Math.max(runs, 7)} requests after one cold; goal for the first page: ${GOAL_MS} ms)
`);
  console.log(`${pad('scenario', 50)}${pad('median', 12)}${pad('slowest', 12)}${pad('cold', 12)}${pad('page size', 12)}goal`);
  for (const r of rows) {
    const goal = r.scenario.endsWith('first page') ? (r.medianMs <= GOAL_MS && r.coldMs <= GOAL_MS ? 'met' : 'MISSED') : '';
    console.log(`${pad(r.scenario, 50)}${pad(`${r.medianMs.toFixed(1)} ms`, 12)}${pad(`${r.maxMs.toFixed(1)} ms`, 12)}${pad(`${r.coldMs.toFixed(1)} ms`, 12)}${pad(`${(r.bytes / 1024).toFixed(0)} KiB`, 12)}${goal}`);
  }
  return rows;
}

async function main() {
  const work = join(tmpdir(), `txrepo-bench-${process.pid}`);
  if (values.only === 'ui') {
    const ui = await runUi(work);
    if (values.json) await writeFile(values.json, JSON.stringify({ runs, ui }, null, 2));
    if (!values.keep) await rm(work, { recursive: true, force: true });
    return;
  }
  const corpus = join(work, 'corpus');
  const reserve = join(work, 'reserve');
  process.stderr.write(`building the corpus (${small} small + ${large} large packages)...\n`);
  await buildCorpus(corpus, { small, large });
  // Ten packages held back for the --update runs.
  const files = (await readdir(corpus, { recursive: true })).filter((f) => f.endsWith('.rpm')).sort();
  const held = files.filter((_, i) => i % Math.floor(files.length / 10) === 5).slice(0, 10);
  await mkdir(reserve, { recursive: true });
  for (const f of held) {
    await link(join(corpus, f), join(reserve, f.replaceAll('/', '_')));
    await rm(join(corpus, f));
  }
  const total = files.length - held.length;

  const tools = {
    txrepo: (args: string[], dir: string) => measure(TXREPO, ['createrepo', '--quiet', ...args, dir]),
    createrepo_c: (args: string[], dir: string) => measure('createrepo_c', ['--no-database', '--quiet', ...args, dir]),
  };
  const dirs = { txrepo: join(work, 'txrepo'), createrepo_c: join(work, 'createrepo_c') };
  for (const d of Object.values(dirs)) await linkTree(corpus, d);

  const baseline = new Map<string, string>();
  const scenarios: Scenario[] = [
    {
      name: `full run, ${total} packages`,
      args: [],
      prepare: async (dir) => rm(join(dir, 'repodata'), { recursive: true, force: true }),
    },
    {
      name: '--update, nothing changed',
      args: ['--update'],
      prepare: async (dir) => {
        await rm(join(dir, 'repodata'), { recursive: true, force: true });
        await cp(baseline.get(dir)!, join(dir, 'repodata'), { recursive: true, preserveTimestamps: true });
      },
    },
    {
      name: '--update, 10 packages added',
      args: ['--update'],
      prepare: async (dir) => {
        await rm(join(dir, 'repodata'), { recursive: true, force: true });
        await cp(baseline.get(dir)!, join(dir, 'repodata'), { recursive: true, preserveTimestamps: true });
        await linkTree(reserve, join(dir, 'added'));
      },
    },
  ];

  // Warm the page cache and make the baseline repodata each --update run starts from.
  for (const [tool, dir] of Object.entries(dirs) as [keyof typeof tools, string][]) {
    await tools[tool]([], dir);
    const saved = join(work, `baseline-${tool}`);
    await cp(join(dir, 'repodata'), saved, { recursive: true, preserveTimestamps: true });
    baseline.set(dir, saved);
  }

  const results: { scenario: string; txrepo: Measure; createrepo_c: Measure; wallRatio: number; rssRatio: number }[] = [];
  for (const s of values.only === undefined || values.only === 'createrepo' ? scenarios : []) {
    const samples: Record<string, Measure[]> = { txrepo: [], createrepo_c: [] };
    for (let i = 0; i < runs; i++) {
      for (const tool of ['createrepo_c', 'txrepo'] as const) {
        await rm(join(dirs[tool], 'added'), { recursive: true, force: true });
        await s.prepare(dirs[tool]);
        samples[tool].push(await tools[tool](s.args, dirs[tool]));
      }
    }
    const pick = (tool: string): Measure => median(samples[tool]);
    const t = pick('txrepo');
    const c = pick('createrepo_c');
    results.push({ scenario: s.name, txrepo: t, createrepo_c: c, wallRatio: t.wall / c.wall, rssRatio: t.rssKiB / c.rssKiB });
    process.stderr.write(`  ${s.name}: txrepo ${t.wall.toFixed(2)} s, createrepo_c ${c.wall.toFixed(2)} s\n`);
  }

  if (results.length) {
    console.log(`\ntxrepo createrepo vs createrepo_c (median of ${runs} runs; ratio = txrepo / createrepo_c)\n`);
    console.log(`${pad('scenario', 34)}${pad('txrepo', 22)}${pad('createrepo_c', 22)}wall ratio  memory ratio`);
  }
  for (const r of results) {
    const fmt = (m: Measure) => `${m.wall.toFixed(2)} s ${(m.rssKiB / 1024).toFixed(0)} MiB`;
    console.log(`${pad(r.scenario, 34)}${pad(fmt(r.txrepo), 22)}${pad(fmt(r.createrepo_c), 22)}${pad(r.wallRatio.toFixed(2), 12)}${r.rssRatio.toFixed(2)}`);
  }

  let store: Awaited<ReturnType<typeof storeBench>> = [];
  if (values.only === undefined || values.only === 'store') {
    const smallDir = join(ROOT, '.cache', `corpus-${small}-${large}`, 'small');
    store = await storeBench({ smallDir, work: join(work, 'store-bench'), runs, replicas: Number(values.replicas) });
    console.log(`
store operations vs the reference tools (median of ${runs} runs; ratio = txrepo / reference)
`);
    console.log(`${pad('scenario', 40)}${pad('txrepo', 22)}${pad('reference', 42)}wall ratio  memory ratio`);
    for (const r of store) {
      const fmt = (m: Measure) => `${m.wall.toFixed(2)} s ${(m.rssKiB / 1024).toFixed(0)} MiB`;
      console.log(`${pad(r.scenario, 40)}${pad(fmt(r.txrepo), 22)}${pad(`${fmt(r.reference)} (${r.referenceName})`, 42)}${pad((r.txrepo.wall / r.reference.wall).toFixed(2), 12)}${(r.txrepo.rssKiB / r.reference.rssKiB).toFixed(2)}`);
    }
  }
  let serve: ServeRow[] = [];
  if (values.only === undefined || values.only === 'serve') {
    const cached = join(ROOT, '.cache', `corpus-${small}-${large}`);
    serve = await serveBench({ smallDir: join(cached, 'small'), largeDir: join(cached, 'large'), work: join(work, 'serve-bench'), runs, small: 1000 });
    console.log(`
txrepo serve vs the reference (median of ${runs} runs; ratio = txrepo / reference throughput: above 1.0 means txrepo is faster)
`);
    console.log(`${pad('scenario', 42)}${pad('txrepo', 24)}${pad('reference', 30)}throughput ratio`);
    for (const r of serve) {
      const rate = (m: Measure) => (r.bytes ? ` ${(r.bytes / 2 ** 20 / m.wall).toFixed(0)} MiB/s` : '');
      const ref = r.reference ? `${r.reference.wall.toFixed(2)} s${rate(r.reference)} (${r.referenceName})` : '-';
      console.log(`${pad(r.scenario, 42)}${pad(`${r.txrepo.wall.toFixed(2)} s${rate(r.txrepo)}`, 24)}${pad(ref, 30)}${r.reference ? (r.reference.wall / r.txrepo.wall).toFixed(2) : '-'}`);
    }
  }
  let backends: BackendRow[] = [];
  if (values.only === undefined || values.only === 'backends') {
    const sizes = values.sizes.split(',').map(Number);
    backends = await backendsBench({ smallDir: join(ROOT, '.cache', `corpus-${small}-${large}`, 'small'), work: join(work, 'backends-bench'), runs, sizes });
    const names = [...new Set(backends.map((r) => r.backend))];
    console.log(`
the store's backends side by side (median of ${runs} runs for deploys of 10 and downloads; ratio = ${names[1] ?? 'shared'} / ${names[0]})
`);
    console.log(`${pad('scenario', 44)}${names.map((n) => pad(n, 28)).join('')}ratio`);
    for (const scenario of [...new Set(backends.map((r) => r.scenario))]) {
      const cells = names.map((n) => backends.find((r) => r.backend === n && r.scenario === scenario));
      const fmt = (r: BackendRow | undefined) =>
        r ? `${r.measure.wall.toFixed(2)} s ${r.bytes ? `${(r.bytes / 2 ** 20 / r.measure.wall).toFixed(0)} MiB/s` : `${(r.measure.rssKiB / 1024).toFixed(0)} MiB`}` : '-';
      const ratio = cells[0] && cells[1] ? (cells[1].measure.wall / cells[0].measure.wall).toFixed(2) : '-';
      console.log(`${pad(scenario, 44)}${cells.map((c) => pad(fmt(c), 28)).join('')}${ratio}`);
    }
  }
  const ui = values.only === undefined ? await runUi(work) : [];
  if (values.json) await writeFile(values.json, JSON.stringify({ small, large, runs, results, store, serve, backends, ui }, null, 2));
  if (!values.keep) await rm(work, { recursive: true, force: true });
}

await main();
