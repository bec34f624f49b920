// needs: createrepo_c modifyrepo_c dnf rpm rpmbuild xz root
// The reliability suite: `npm run test:reliability` (full: hundreds of trials, writes
// docs/reliability.md) or `node reliability/run.ts --scale ci` (bounded, in CI; writes
// .cache/reliability-ci.md). Exits 1 if any scenario found a failure.
//
//   --scale ci|full   how many trials (default full)
//   --only A,B        run only these scenarios (names below)
//   --seed N          seed of the random choices (default: the time), printed in the doc
//   --out FILE        where to write the report

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seeded, type Report, type Scale, type Scenario } from './lib/harness.ts';
import { renderReport } from './lib/report.ts';
import { ON_SHARED_BACKENDS } from '../test/helpers/backends.ts';
import { SCENARIOS } from './scenarios/index.ts';

// The SDKs' stacks are deep: keep enough frames to see which of our calls failed.
Error.stackTraceLimit = 50;

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'full' },
    only: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
});
const scale = values.scale as Scale;
if (scale !== 'ci' && scale !== 'full') {
  process.stderr.write(`--scale ${values.scale}: use ci or full\n`);
  process.exit(2);
}
const only = values.only?.split(',').filter(Boolean);
for (const name of only ?? []) {
  if (!SCENARIOS.some((s) => s.name === name)) {
    process.stderr.write(`--only ${name}: no such scenario; there are ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
}
const seed = values.seed ? Number(values.seed) : Date.now() % 1_000_000;
const root = resolve(import.meta.dirname, '..');
// On PostgreSQL and S3 (TXREPO_TEST_BACKEND=pg-s3, see test/helpers/backends.ts) the
// report goes to a file of its own.
const suffix = ON_SHARED_BACKENDS ? '-shared' : '';
const out = resolve(values.out ?? (scale === 'full' && !only ? join(root, `docs/reliability${suffix}.md`) : join(root, '.cache', `reliability-${scale}${suffix}.md`)));
const backends = ON_SHARED_BACKENDS ? `PostgreSQL catalog and S3-compatible blobs (${process.env.TXREPO_TEST_S3 ?? 's3rver'}), two servers` : 'SQLite catalog and a local blob directory (the embedded defaults)';

const wanted: Scenario[] = SCENARIOS.filter((s) => !only || only.includes(s.name));
const skipped = ON_SHARED_BACKENDS ? wanted.filter((s) => s.embeddedOnly).map((scenario) => ({ scenario, why: scenario.embeddedOnly! })) : [];
const chosen = wanted.filter((s) => !skipped.some((k) => k.scenario === s));
const results: { scenario: Scenario; report: Report; seconds: number }[] = [];
const started = new Date();
for (const scenario of chosen) {
  const work = await mkdtemp(join(tmpdir(), `txrepo-rel-${scenario.name}-`));
  const t0 = performance.now();
  process.stderr.write(`== ${scenario.name}: ${scenario.title}\n`);
  let report: Report;
  try {
    report = await scenario.run({ scale, work, log: (m) => process.stderr.write(`   ${scenario.name}: ${m}\n`), random: seeded(seed + results.length) });
  } catch (e) {
    report = { trials: 0, faults: 0, failures: [{ trial: 'the scenario itself', detail: (e as Error).stack ?? String(e) }], figures: [] };
  }
  const seconds = (performance.now() - t0) / 1000;
  // A scenario that tested nothing has failed, whatever it says.
  if (report.trials === 0 && report.failures.length === 0) report.failures.push({ trial: 'the scenario itself', detail: 'it ran no trials' });
  results.push({ scenario, report, seconds });
  process.stderr.write(`   ${scenario.name}: ${report.trials} trials, ${report.faults} faults, ${report.failures.length} failures, ${seconds.toFixed(0)} s\n`);
  for (const f of report.failures) process.stderr.write(`   FAIL ${f.trial}: ${f.detail}\n`);
  await rm(work, { recursive: true, force: true });
}

const commit = (() => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'reliability'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
})();
const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
await mkdir(dirname(out), { recursive: true });
await writeFile(out, renderReport({ scale, seed, started, machine, commit, command: `node reliability/run.ts ${process.argv.slice(2).join(' ')}`.trim(), backends, results, skipped }));
const failures = results.reduce((n, r) => n + r.report.failures.length, 0);
process.stderr.write(`\n${failures === 0 ? 'PASS' : 'FAIL'}: ${failures} failures; report written to ${out}\n`);
process.exit(failures === 0 ? 0 : 1);
