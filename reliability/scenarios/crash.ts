// SIGKILL at random instants of each write operation, on a copy of one template store.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Recorder, type Scenario } from '../lib/harness.ts';
import { buildWorld, OPERATIONS, trialCopy, type Operation, type World } from '../lib/operations.ts';
import { commitStep, readTrace } from '../lib/trace.ts';
import { envFor, fsckProblems, run, storeState, TXREPO, type StoreState } from '../lib/world.ts';

interface Calibration {
  after: StoreState;
  steps: number;
  /** The step after which a clean run had committed its change (see trace.ts). */
  commitStep?: number;
  ms: number;
  /** When the first protocol step came (start-up, argument checks and reading come first). */
  firstStepMs: number;
}

/** Runs txrepo, noting when its trace file appeared (its first protocol step). */
function timedRun(args: string[], trace: string): Promise<{ code: number | null; stderr: string; ms: number; firstStepMs: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let firstStepMs = NaN;
    const child = spawn(TXREPO, args, { stdio: ['ignore', 'ignore', 'pipe'], env: envFor(args, { ...process.env, TXREPO_CRASH_TRACE: trace }) });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const poll = setInterval(() => {
      if (Number.isNaN(firstStepMs) && existsSync(trace)) firstStepMs = performance.now() - t0;
    }, 2);
    child.on('exit', (code) => {
      clearInterval(poll);
      const ms = performance.now() - t0;
      resolve({ code, stderr, ms, firstStepMs: Number.isNaN(firstStepMs) ? ms : firstStepMs });
    });
  });
}

/**
 * Runs txrepo and kills it with SIGKILL `delayMs` after its `step`-th protocol step
 * (step 0: at a random instant of its start-up), watching its trace file.
 */
function killAtStep(args: string[], trace: string, step: number, delayMs: number, pauseMs = 0): Promise<{ killed: boolean }> {
  return new Promise((resolve) => {
    const env = { ...process.env, TXREPO_CRASH_TRACE: trace, ...(pauseMs ? { TXREPO_CRASH_PAUSE: String(pauseMs) } : {}) };
    const child = spawn(TXREPO, args, { stdio: 'ignore', env: envFor(args, env) });
    let armed = false;
    const arm = () => {
      armed = true;
      clearInterval(poll);
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    const poll = setInterval(() => {
      if (armed) return;
      const text = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
      let lines = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      if (lines >= step) arm();
    }, 1);
    if (step === 0) {
      clearInterval(poll);
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs * 15);
    }
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ killed: signal === 'SIGKILL' && code === null });
    });
  });
}

/** A clean run of the operation: the state it leaves, its steps, how long it takes. */
export async function calibrate(op: Operation, w: World, root: string, rec: Recorder): Promise<Calibration | undefined> {
  await trialCopy(w, root);
  const trace = join(root, 'trace');
  const r = await timedRun(op.args(root, w), trace);
  if (r.code !== 0) {
    rec.fail(`${op.name}: the clean run`, `exited ${r.code}: ${r.stderr}`);
    return undefined;
  }
  const after = await storeState(join(root, 'STORE'));
  const problem = await op.done(root, w, after);
  if (problem) rec.fail(`${op.name}: the clean run`, problem);
  const steps = await readTrace(trace);
  return { after, steps: steps.length, commitStep: commitStep(steps), ms: r.ms, firstStepMs: r.firstStepMs };
}

/** The checks after an interrupted run: fsck, before-or-after, then a retry that completes it. */
export async function afterFault(op: Operation, w: World, root: string, cal: Calibration, rec: Recorder, trial: string, opts: { mustBeAfter?: boolean } = {}): Promise<'before' | 'after' | 'failed'> {
  const store = join(root, 'STORE');
  const problems = await fsckProblems(store);
  if (problems.length) {
    rec.fail(trial, `fsck: ${problems.join('; ')}`);
    return 'failed';
  }
  const mixed = await op.interrupted(root, w, cal.after);
  if (mixed) {
    rec.fail(trial, mixed);
    return 'failed';
  }
  const now = await storeState(store);
  const strip = (s: StoreState) => JSON.stringify({ ...s, ids: {} });
  const outcome = op.outcome ? await op.outcome(root, w) : strip(now) === strip(cal.after) ? 'after' : 'before';
  if (opts.mustBeAfter && outcome !== 'after') {
    rec.fail(trial, 'the operation had committed, but its change is gone');
    return 'failed';
  }
  const retry = await run(TXREPO, op.args(root, w), { env: envFor(op.args(root, w)) });
  if (retry.code !== 0) {
    rec.fail(trial, `the retry exited ${retry.code}: ${retry.stderr}`);
    return 'failed';
  }
  const done = await op.done(root, w, cal.after);
  const again = await fsckProblems(store);
  if (done || again.length) {
    rec.fail(trial, `after the retry: ${done ?? `fsck: ${again.join('; ')}`}`);
    return 'failed';
  }
  return outcome;
}

/** How long each step waits in the paused trials: long enough to be killed in. */
const PAUSE_MS = 25;

export const crash: Scenario = {
  name: 'crash',
  title: 'Crash injection (SIGKILL at random instants)',
  about:
    'Each write operation (deploy, sync, tag, set create, promote, publish, gc) runs as a `txrepo` process on a fresh copy of a template store (two repos, four and three snapshots, tags, two live sets, a published tree) and is killed with SIGKILL at a random instant: the trial picks a random step of the operation\'s commit protocol (a clean run counts them) and a random delay of up to 20 ms after it (step 0: a random instant of the first 300 ms), so kills land between steps and inside them (writes, hashing, transactions). Every other trial runs with a pause of 25 ms before each step (`TXREPO_CRASH_PAUSE`) and kills within the pause after a random step from 1 on, so each operation has kills that land inside its commit protocol however fast the machine is; an operation with none fails the scenario. After each kill: `fsck --verify-blobs` is clean; the store is exactly in the state before or the state after the operation (snapshots, tags and sets compared by content); the published tree serves one whole snapshot and keeps the older generation\'s files; then the same command, run again, succeeds and leaves the operation\'s effect. Each process writes its step trace, so a trial knows how far into the commit protocol it got.',
  async run(ctx) {
    const rec = new Recorder();
    const w = await buildWorld(ctx.work);
    const perOp = ctx.scale === 'full' ? 40 : 8;
    const rows: (string | number)[][] = [];
    try {
      for (const op of OPERATIONS) {
        const root = join(ctx.work, 'trial');
        const cal = await calibrate(op, w, root, rec);
        if (!cal) continue;
        const counts = { midProtocol: 0, beforeFirstStep: 0, finished: 0, before: 0, after: 0, failed: 0 };
        for (let i = 0; i < perOp; i++) {
          await trialCopy(w, root);
          const trace = join(root, 'trace');
          // A random step to reach, then a random delay of up to 20 ms: the kill lands
          // anywhere in the protocol, between its steps or inside one (a write, a hash,
          // a transaction), not only during start-up, which would prove little. Every
          // other trial runs with a pause before each step (TXREPO_CRASH_PAUSE) and
          // kills within it, after a step that has another after it: on a fast machine
          // a whole tag move takes a millisecond, and only such a kill surely lands
          // inside its protocol.
          const paused = i % 2 === 1 && cal.steps > 1;
          const step = paused ? 1 + Math.floor(ctx.random() * (cal.steps - 1)) : Math.floor(ctx.random() * cal.steps);
          const delay = ctx.random() * (paused ? PAUSE_MS : 20);
          const { killed } = await killAtStep(op.args(root, w), trace, step, delay, paused ? PAUSE_MS : 0);
          const at = `${step === 0 ? 'before the first step' : `${delay.toFixed(1)} ms after step ${step}${paused ? ' (steps paused)' : ''}`}`;
          const reached = (await readTrace(trace)).length;
          rec.trials++;
          if (killed) rec.faults++;
          if (!killed || reached >= cal.steps) counts.finished++;
          else if (reached === 0) counts.beforeFirstStep++;
          else counts.midProtocol++;
          const outcome = await afterFault(op, w, root, cal, rec, `${op.name}, killed ${at} (it had reached step ${reached} of ${cal.steps})`);
          counts[outcome]++;
        }
        // Kills that all landed before or after the protocol tested none of it.
        if (counts.midProtocol === 0) rec.fail(`${op.name}: ${perOp} kills`, `none landed inside the commit protocol (after its first step, before its last): ${JSON.stringify(counts)}`);
        ctx.log(`${op.name}: ${JSON.stringify(counts)}`);
        rows.push([op.name, cal.steps, `${Math.round(cal.firstStepMs)} / ${Math.round(cal.ms)} ms`, perOp, counts.midProtocol, counts.beforeFirstStep, counts.finished, counts.before, counts.after, counts.failed]);
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
        ['kills', rec.faults],
        ['kills inside the commit protocol (after its first step)', rows.reduce((n, r) => n + Number(r[4]), 0)],
      ],
      tables: [
        {
          title: 'Per operation',
          table: {
            columns: ['operation', 'protocol steps', 'clean run: first step / end', 'trials', 'killed mid-protocol', 'killed before its first step', 'finished first', 'left: before', 'left: after', 'failed'],
            rows,
          },
        },
      ],
    };
  },
};
