// npm run test:mutants: plants each bug of test/mutants.ts in a scratch copy of the
// tree and runs the tests that claim to catch it. A bug the tests do not catch is a
// hole in them. Writes the report to docs/mutants.md (or --out) and exits 1 if any bug
// survived.
//
//   npm run test:mutants [-- --only ID,ID] [--out FILE] [--keep]

import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MUTANTS, type Mutant } from '../test/mutants.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } } });
const only = values.only?.split(',').filter(Boolean);
for (const id of only ?? []) {
  if (!MUTANTS.some((m) => m.id === id)) {
    process.stderr.write(`--only ${id}: no such mutant; there are ${MUTANTS.map((m) => m.id).join(', ')}\n`);
    process.exit(2);
  }
}
const chosen = MUTANTS.filter((m) => !only || only.includes(m.id));

/** A copy of the tree to plant bugs in: the sources copied, node_modules and the fixture cache linked. */
async function scratchCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'txrepo-mutants-')), 'txrepo');
  const skip = new Set(['node_modules', '.cache', '.git']);
  await cp(ROOT, dir, { recursive: true, filter: (src) => !skip.has(src.slice(ROOT.length + 1).split('/')[0]!) });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await mkdir(join(dir, '.cache'));
  await cp(join(ROOT, '.cache/test-rpms'), join(dir, '.cache/test-rpms'), { recursive: true }).catch(() => {});
  return dir;
}

function runIn(dir: string, cmd: string, args: string[]): Promise<{ code: number | null; output: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => done({ code, output, seconds: (performance.now() - t0) / 1000 }));
  });
}

/** The command that runs a mutant's tests. */
function testCommand(m: Mutant): string[] {
  if (m.reliability) return [join('reliability', 'run.ts'), '--scale', 'ci', '--only', m.reliability, '--out', join('.cache', 'mutant-reliability.md')];
  return ['--test', '--test-concurrency=2', ...(m.testName ? ['--test-name-pattern', m.testName] : []), ...m.tests];
}

interface Outcome {
  mutant: Mutant;
  caught: boolean;
  seconds: number;
  detail: string;
}

/**
 * Whether a mutant's tests pass on the unchanged copy (once per set of tests): a failure
 * there would make any "caught" meaningless.
 */
const baselines = new Map<string, Promise<string | undefined>>();
function baseline(dir: string, m: Mutant): Promise<string | undefined> {
  const key = testCommand(m).join(' ');
  if (!baselines.has(key)) {
    baselines.set(key, runIn(dir, process.execPath, testCommand(m)).then((r) => (r.code === 0 ? undefined : `the tests fail without the bug (exit ${r.code}): ${r.output.slice(-1500)}`)));
  }
  return baselines.get(key)!;
}

async function tryMutant(dir: string, m: Mutant): Promise<Outcome> {
  const broken = await baseline(dir, m);
  if (broken) return { mutant: m, caught: false, seconds: 0, detail: broken };
  const file = join(dir, m.file);
  const original = await readFile(file, 'utf8');
  const count = original.split(m.from).length - 1;
  if (count !== 1) return { mutant: m, caught: false, seconds: 0, detail: `the bug cannot be planted: "${m.from}" occurs ${count} times in ${m.file}` };
  await writeFile(file, original.replace(m.from, m.to));
  try {
    const r = await runIn(dir, process.execPath, testCommand(m));
    const failed = r.output.split('\n').filter((l) => /^\s*✖ |FAIL /.test(l)).slice(0, 3).map((l) => l.trim());
    return { mutant: m, caught: r.code !== 0, seconds: r.seconds, detail: r.code !== 0 ? failed.join('; ') || `exit ${r.code}` : 'every test passed' };
  } finally {
    await writeFile(file, original);
  }
}

const dir = await scratchCopy();
const outcomes: Outcome[] = [];
try {
  for (const m of chosen) {
    process.stderr.write(`${m.id}: ${m.about}\n`);
    const o = await tryMutant(dir, m);
    outcomes.push(o);
    process.stderr.write(`  ${o.caught ? 'caught' : 'SURVIVED'} in ${o.seconds.toFixed(0)} s: ${o.detail}\n`);
  }
} finally {
  if (!values.keep) await rm(dirname(dir), { recursive: true, force: true });
}

const survived = outcomes.filter((o) => !o.caught);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const report = [
  '# Mutation check',
  '',
  'Each row is a bug planted on purpose in a scratch copy of the tree (`test/mutants.ts`), and the',
  'tests that claim to catch it; `npm run test:mutants` writes this file. A bug the tests do not',
  'catch is a hole in them. All must be caught.',
  '',
  `${outcomes.length} planted, ${outcomes.length - survived.length} caught, ${survived.length} survived.`,
  '',
  '| bug | planted in | tests | caught | how |',
  '|---|---|---|---|---|',
  ...outcomes.map((o) => `| ${cell(o.mutant.about)} | \`${o.mutant.file}\` | ${cell(o.mutant.reliability ? `reliability: ${o.mutant.reliability}` : o.mutant.tests.join(', ') + (o.mutant.testName ? ` ("${o.mutant.testName}")` : ''))} | ${o.caught ? 'yes' : '**no**'} | ${cell(o.detail).slice(0, 300)} |`),
  '',
].join('\n');
const out = resolve(values.out ?? (only ? join(ROOT, '.cache/mutants.md') : join(ROOT, 'docs/mutants.md')));
await mkdir(dirname(out), { recursive: true });
await writeFile(out, report);
process.stderr.write(`\n${survived.length === 0 ? 'PASS' : 'FAIL'}: ${outcomes.length - survived.length} of ${outcomes.length} caught; report written to ${out}\n`);
process.exit(survived.length === 0 ? 0 : 1);
