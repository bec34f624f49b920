// npm test: type-checks, then runs every test twice, once on the embedded backends
// (SQLite and a local blob directory) and once on the shared ones (PostgreSQL and an
// S3-compatible server, s3rver, started here on loopback), then the bounded
// reliability suite on each.
//
// The shared pass needs $TXREPO_TEST_PG (postgres://USER:PASSWORD@HOST:PORT/DATABASE, a
// database the tests may create schemas in; .ci/run sets one up). Without it that pass
// is skipped with a notice, except under CI ($CI set), where it is a failure.
//
//   npm test [-- --only local|shared] [--no-reliability]

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startS3Server } from '../test/helpers/backends.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { only: { type: 'string' }, 'no-reliability': { type: 'boolean' } } });
if (values.only !== undefined && values.only !== 'local' && values.only !== 'shared') {
  process.stderr.write(`--only ${values.only}: give local or shared\n`);
  process.exit(2);
}

function step(title: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  process.stderr.write(`\n=== ${title}\n`);
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
    child.on('exit', (code, signal) => (code === 0 ? done() : fail(new Error(`${title}: exited ${code ?? signal}`))));
  });
}

const node = process.execPath;
const unit = [node, ['--test', '--test-concurrency=2', 'test/**/*.test.ts']] as const;
const reliability = [node, ['reliability/run.ts', '--scale', 'ci']] as const;

try {
  await step('type check', node, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  if (values.only !== 'shared') {
    await step('tests on SQLite and a local blob directory', ...unit);
  }
  if (values.only !== 'local') {
    if (!process.env.TXREPO_TEST_PG) {
      const why = 'the PostgreSQL + S3 pass needs TXREPO_TEST_PG=postgres://USER:PASSWORD@HOST:PORT/DATABASE (.ci/run sets it up)';
      if (process.env.CI) throw new Error(why);
      process.stderr.write(`\n=== skipped: ${why}\n`);
    } else {
      const s3 = await startS3Server('txrepo-test');
      try {
        const env = { ...process.env, TXREPO_TEST_BACKEND: 'pg-s3', TXREPO_TEST_S3: s3.url };
        await step(`tests on PostgreSQL and S3 (${s3.url})`, ...unit, env);
        if (!values['no-reliability']) await step('reliability suite (ci scale) on PostgreSQL and S3', ...reliability, env);
      } finally {
        await s3.close();
      }
    }
  }
  if (values.only !== 'shared' && !values['no-reliability']) {
    await step('reliability suite (ci scale) on SQLite and a local blob directory', ...reliability);
  }
} catch (e) {
  process.stderr.write(`\nnpm test: ${(e as Error).message}\n`);
  process.exit(1);
}
