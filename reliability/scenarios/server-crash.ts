// Two servers on one store taking deploys at once, one of them killed (SIGKILL) at a
// random instant while a deploy goes through it, then started again, as a load
// balancer's backend that dies would be. On the embedded backends both serve the one
// store directory; on PostgreSQL and S3 each has a directory of its own on the shared
// catalog and bucket.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ON_SHARED_BACKENDS, storeEnv } from '../../test/helpers/backends.ts';
import { initStore, serve, type Served } from '../../test/helpers/serve.ts';
import { Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { fsckProblems, mustTx, withLocal } from '../lib/world.ts';
import { buildMany, describeProc, txProc } from '../lib/writers.ts';

const TRIALS = { ci: 10, full: 40 };
/** Packages per deploy. */
const BATCH = 3;

export const serverCrash: Scenario = {
  name: 'server-crash',
  title: 'A server killed mid-deploy',
  about:
    'Two `txrepo serve` processes on one store (on PostgreSQL and S3: each with a directory of its own, on the one ' +
    'catalog and bucket) take a deploy each at once; the second is killed with SIGKILL at a random instant of its ' +
    'deploy (20% to 120% of the time a deploy through it takes, measured first: most kills cut a deploy off, some come just after it), then started again. Checked after each trial: the deploy through ' +
    'the other server succeeded and is in `latest`; the killed server\'s deploy is in `latest` whole or not at all (and ' +
    'if its client was told it succeeded, whole); fsck finds nothing wrong; the client\'s retry through the surviving ' +
    'server succeeds; the snapshots form one unbroken chain.',
  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const trials = TRIALS[ctx.scale];
    const store = join(ctx.work, 'store');
    const names = Array.from({ length: (trials + 1) * 2 * BATCH }, (_, i) => `sc-${Math.floor(i / (2 * BATCH))}-${i % (2 * BATCH)}`);
    ctx.log(`building ${names.length} packages`);
    const rpms = await buildMany(join(ctx.work, 'rpms'), names);
    await mustTx(store, ['repo', 'create', 'app']);
    const token = (JSON.parse((await mustTx(store, ['token', 'create', 'deployers', '--scope', 'admin', '--json'])).stdout) as { token: string }).token;
    const env = storeEnv(store);
    // One process (--workers 1): the SIGKILL lands on the process doing the deploy.
    const start = (dir: string) => serve(dir, ['--quiet', '--workers', '1'], { env });
    const survivor = await start(store);
    // On the embedded backends the second server is on the same directory.
    const secondDir = ON_SHARED_BACKENDS ? join(ctx.work, 'second-server') : store;
    if (ON_SHARED_BACKENDS) await initStore(secondDir, { env });
    let victim: Served = await start(secondDir);
    // How long a deploy through a server takes here, client start to exit: the kills
    // fall within it (a kill after the deploy ended would test nothing).
    const calibration = await txProc({ server: victim.url, token }, ['deploy', 'app', ...names.slice(trials * 2 * BATCH).map((n) => rpms.get(n)!), '--json'], { timeoutMs: 120_000 });
    if (calibration.code !== 0) throw new Error(`a deploy through the second server failed: ${describeProc(calibration)}`);
    const span = calibration.ms;
    let midDeploy = 0;
    let committedBeforeKill = 0;
    let toldOk = 0;
    try {
      for (let t = 0; t < trials; t++) {
        const trial = `trial ${t + 1}`;
        const mine = names.slice(t * 2 * BATCH, t * 2 * BATCH + BATCH).map((n) => rpms.get(n)!);
        const theirs = names.slice(t * 2 * BATCH + BATCH, (t + 1) * 2 * BATCH).map((n) => rpms.get(n)!);
        const other = txProc({ server: survivor.url, token }, ['deploy', 'app', ...mine, '--json'], { timeoutMs: 120_000 });
        const cut = txProc({ server: victim.url, token }, ['deploy', 'app', ...theirs, '--json'], { timeoutMs: 120_000 });
        await sleep(Math.floor(span * (0.2 + ctx.random())));
        victim.child.kill('SIGKILL');
        rec.faults++;
        const [o, c] = await Promise.all([other, cut]);
        await victim.stop();
        rec.trials++;
        if (o.code !== 0) rec.fail(trial, `the deploy through the surviving server failed: ${describeProc(o)}`);
        if (c.code === 0) toldOk++;
        else midDeploy++;
        const base = (f: string) => f.slice(f.lastIndexOf('/') + 1);
        await rec.check(trial, async () => {
          const problems = await fsckProblems(store);
          if (problems.length) throw new Error(`fsck: ${problems.join('; ')}`);
          await withLocal(store, async (tx) => {
            const hrefs = new Set(((await tx.showSnapshot('app', 'latest', { files: true })).files ?? []).map((f) => f.href.slice(f.href.lastIndexOf('/') + 1)));
            for (const f of mine) if (!hrefs.has(base(f))) throw new Error(`${base(f)}, deployed through the surviving server, is not in latest`);
            const present = theirs.filter((f) => hrefs.has(base(f))).length;
            if (present !== 0 && present !== theirs.length) throw new Error(`${present} of the ${theirs.length} packages of the killed server's deploy are in latest: a torn deploy`);
            if (c.code === 0 && present === 0) throw new Error(`the killed server told its client the deploy went through, but latest lacks it: ${c.stdout}`);
            if (present && c.code !== 0) committedBeforeKill++;
            const snapshots = await tx.snapshots('app');
            for (let i = 1; i < snapshots.length; i++) if (snapshots[i].parent !== snapshots[i - 1].id) throw new Error(`snapshot ${snapshots[i].id} is on ${snapshots[i].parent}, not on ${snapshots[i - 1].id}`);
          });
        });
        // The client retries through the server that is up.
        if (c.code !== 0) {
          const retry = await txProc({ server: survivor.url, token }, ['deploy', 'app', ...theirs, '--json'], { timeoutMs: 120_000 });
          if (retry.code !== 0) rec.fail(trial, `the retry through the surviving server failed: ${describeProc(retry)}`);
        }
        victim = await start(secondDir);
      }
    } finally {
      await victim.stop();
      await survivor.stop();
    }
    ctx.log(`${trials} kills: ${midDeploy} cut the deploy off (${committedBeforeKill} of those had committed), ${toldOk} came after it finished`);
    return {
      trials: rec.trials,
      faults: rec.faults,
      failures: rec.failures,
      figures: [
        ['servers killed during a deploy', trials],
        ['deploys cut off (client told it failed)', midDeploy],
        ['of those, committed before the kill (whole)', committedBeforeKill],
        ['deploys that finished before the kill', toldOk],
      ],
    };
  },
};
