// A power loss at each step of each operation's commit protocol, in turn.

import { join } from 'node:path';
import { Recorder, type Scenario } from '../lib/harness.ts';
import { buildWorld, OPERATIONS, trialCopy } from '../lib/operations.ts';
import { describeStep, readTrace } from '../lib/trace.ts';
import { run, TXREPO } from '../lib/world.ts';
import { afterFault, calibrate } from './crash.ts';

export const powerLoss: Scenario = {
  name: 'power-loss',
  title: 'Power loss at every step of the commit protocols',
  embeddedOnly: "its fault model is the local file system's fsync and rename points; on PostgreSQL and S3 a commit is PostgreSQL's and an upload is whole or absent, and the crash scenario kills at their commit points",
  about:
    'Every step of a commit protocol (fsync of a file, fsync of a directory, rename, link, creating a directory, the catalog COMMIT, and the process exit) goes through `src/common/durable.ts` and calls a crash point. For each operation, a clean run lists its steps; then one trial per step N runs the operation with `TXREPO_CRASH_AT=N TXREPO_CRASH_MODE=power`: just before step N the process undoes what a power loss could undo under POSIX rules (directory entries whose directory was not fsynced since they were made, and the data of files not fsynced before they were named, truncated to nothing) and kills itself. The catalog\'s durability is SQLite\'s (WAL, synchronous=FULL). After each trial the checks of the crash scenario run, and past the operation\'s commit step the state must be the state after: nothing committed is lost. At full scale every step is also tried with a plain SIGKILL (no power loss).',
  async run(ctx) {
    const rec = new Recorder();
    const w = await buildWorld(ctx.work);
    const rows: (string | number)[][] = [];
    const kinds = new Map<string, number>();
    try {
      for (const op of OPERATIONS) {
        const root = join(ctx.work, 'trial');
        const cal = await calibrate(op, w, root, rec);
        if (!cal) continue;
        if (cal.steps < 2) rec.fail(`${op.name}: the clean run`, `it took ${cal.steps} protocol steps: the crash points did not record (TXREPO_CRASH_TRACE)`);
        const counts = { before: 0, after: 0, failed: 0, notReached: 0 };
        // Full scale also kills at each step without the power loss (a crash that keeps
        // the page cache): the same checks must hold.
        const modes = ctx.scale === 'full' ? ['power', 'kill'] : ['power'];
        const plan = modes.flatMap((mode) => Array.from({ length: cal.steps }, (_, i) => ({ mode, n: i + 1 })));
        for (const { mode, n } of plan) {
          const trace = join(root, 'trace');
          // The last step is the exit, whatever its number; a run a step shorter than
          // the clean one (two new blobs that shared a fan-out directory this time) is
          // run again, a few times, before a step counts as not reached.
          const at = n === cal.steps ? 'exit' : String(n);
          let r: Awaited<ReturnType<typeof run>>;
          let steps: Awaited<ReturnType<typeof readTrace>>;
          for (let attempt = 0; ; attempt++) {
            await trialCopy(w, root);
            r = await run(TXREPO, op.args(root, w), { env: { ...process.env, TXREPO_CRASH_TRACE: trace, TXREPO_CRASH_AT: at, TXREPO_CRASH_MODE: mode } });
            steps = await readTrace(trace);
            const shorter = r.code === 0 && steps.length > 0 && steps.length < n;
            if (!shorter || attempt === 4) break;
          }
          const step = at === 'exit' ? steps.at(-1) : steps.find((s) => s.n === n);
          if (!step || r.code === 0) {
            // Every run takes the clean run's steps: one not reached means the crash
            // point did not fire, and the trial proved nothing.
            counts.notReached++;
            rec.fail(`${op.name}, ${mode} before step ${n} of ${cal.steps}`, r.code === 0 ? 'the run finished: the crash point did not fire' : `the run stopped (exit ${r.code}) before reaching step ${n}: ${r.stderr.trim().split('\n')[0]}`);
            continue;
          }
          rec.trials++;
          rec.faults++;
          const where = describeStep(step, root);
          const kind = step.kind;
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          // Past the clean run's commit step, the change must survive (the runs take
          // the same steps in the same number; only parallel blob writes interleave).
          const committed = cal.commitStep !== undefined && n > cal.commitStep;
          const outcome = await afterFault(op, w, root, cal, rec, `${op.name}, ${mode === 'power' ? 'power loss' : 'SIGKILL'} before step ${n} of ${cal.steps} (${where})`, { mustBeAfter: committed });
          counts[outcome]++;
        }
        ctx.log(`${op.name}: ${cal.steps} steps, ${JSON.stringify(counts)}`);
        rows.push([op.name, cal.steps, cal.commitStep ?? '-', counts.before, counts.after, counts.notReached, counts.failed]);
      }
    } finally {
      await w.close();
    }
    return {
      trials: rec.trials,
      faults: rec.faults,
      failures: rec.failures,
      figures: [
        ['operations', OPERATIONS.length],
        ['power losses simulated', rec.faults],
        ...[...kinds].map(([k, v]) => [`… before a ${k} step`, v] as [string, number]),
      ],
      tables: [
        {
          title: 'Per operation (one trial per protocol step)',
          table: { columns: ['operation', 'steps', 'commit step', 'left: before', 'left: after', 'step not reached', 'failed'], rows },
        },
      ],
    };
  },
};
