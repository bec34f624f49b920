// npm test: gets the machine ready (scripts/test-env.ts: the programs the tests run,
// installed with apt when it can; a PostgreSQL database), type-checks, then runs every
// test twice, once on the embedded backends (SQLite and a local blob directory) and
// once on the shared ones (PostgreSQL and an S3-compatible server, s3rver, started here
// on loopback), then the bounded reliability suite on each.
//
// On a machine where it cannot install (not root, no apt), it says in one message what
// to install and runs the test files whose needs are met (each file's `// needs:`
// line). Under CI ($CI set) nothing may be left out: a missing program or database is
// a failure.
//
//   npm test [-- --only local|shared] [--no-reliability] [--plan]
//
// --plan prints what would run and what would be skipped, and runs nothing.

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startS3Server } from '../test/helpers/backends.ts';
import { ensurePostgres, install, needsOf, postgresUnavailable, ROOT, testFiles, unmet, whatToInstall } from './test-env.ts';

const ROOT_DIR = resolve(import.meta.dirname, '..');
process.chdir(ROOT_DIR);
const { values } = parseArgs({ options: { only: { type: 'string' }, 'no-reliability': { type: 'boolean' }, plan: { type: 'boolean' } } });
if (values.only !== undefined && values.only !== 'local' && values.only !== 'shared') {
  process.stderr.write(`--only ${values.only}: give local or shared\n`);
  process.exit(2);
}
const CI = Boolean(process.env.CI);
const RELIABILITY = 'reliability/run.ts';

function step(title: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  process.stderr.write(`\n=== ${title}\n`);
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT_DIR, stdio: 'inherit', env });
    child.on('exit', (code, signal) => (code === 0 ? done() : fail(new Error(`${title}: exited ${code ?? signal}`))));
  });
}

/**
 * The machine made ready: programs installed and a database set up where possible.
 * Says in one message what still cannot run, and why.
 */
function prepare() {
  const files = testFiles(ROOT_DIR);
  const needs = new Map([...files, RELIABILITY].map((f) => [f, needsOf(f)]));
  const shared = values.only !== 'local' && !process.env.TXREPO_TEST_PG;
  const wanted = [...new Set([...needs.values()].flat()), ...(shared ? ['pg_ctlcluster'] : [])];
  let missing = unmet(wanted);
  const programs = missing.filter((m) => m !== ROOT);
  if (programs.length && !values.plan) missing = [...install(programs), ...missing.filter((m) => m === ROOT)];
  let pg = process.env.TXREPO_TEST_PG;
  let noDatabase: string | undefined;
  if (shared) {
    const got = values.plan ? { why: postgresUnavailable() } : ensurePostgres();
    pg = got.url;
    noDatabase = got.why;
  }
  const blocked = (f: string) => needs.get(f)!.some((n) => missing.includes(n));
  const skipped = [...needs.keys()].filter(blocked);
  if (missing.length || noDatabase) {
    process.stderr.write(whatToInstall(missing, skipped, noDatabase));
    if (CI) throw new Error(`under CI every test must run; missing: ${[...missing, ...(noDatabase ? ['a PostgreSQL database'] : [])].join(', ')}`);
  }
  return { files: files.filter((f) => !blocked(f)), skipped, reliability: !blocked(RELIABILITY), pg };
}

try {
  const { files, skipped, reliability, pg } = prepare();
  // Both passes get the database: the tests of the PostgreSQL catalog itself run in each.
  if (pg) process.env.TXREPO_TEST_PG = pg;
  if (values.plan) {
    process.stdout.write(JSON.stringify({ run: files, skipped, reliability, postgres: pg ?? (values.only === 'local' || !postgresUnavailable() ? 'made when the tests run' : null) }, null, 2) + '\n');
    process.exit(0);
  }
  const node = process.execPath;
  const unit = [node, ['--test', '--test-concurrency=2', ...files]] as const;
  const suite = [node, [RELIABILITY, '--scale', 'ci']] as const;
  const runReliability = reliability && !values['no-reliability'];

  await step('type check', node, [resolve(ROOT_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  if (values.only !== 'shared') await step('tests on SQLite and a local blob directory', ...unit);
  if (values.only !== 'local') {
    if (!pg) {
      process.stderr.write('\n=== skipped: the PostgreSQL + S3 pass (no database, see above)\n');
    } else {
      const s3 = await startS3Server('txrepo-test');
      try {
        const env = { ...process.env, TXREPO_TEST_PG: pg, TXREPO_TEST_BACKEND: 'pg-s3', TXREPO_TEST_S3: s3.url };
        await step(`tests on PostgreSQL and S3 (${s3.url})`, ...unit, env);
        if (runReliability) await step('reliability suite (ci scale) on PostgreSQL and S3', ...suite, env);
      } finally {
        await s3.close();
      }
    }
  }
  if (values.only !== 'shared' && runReliability) await step('reliability suite (ci scale) on SQLite and a local blob directory', ...suite);
} catch (e) {
  process.stderr.write(`\nnpm test: ${(e as Error).message}\n`);
  process.exit(1);
}
