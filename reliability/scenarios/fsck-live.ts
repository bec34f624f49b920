// fsck on a live store (issue 18, item 6): fsck runs over and over while deploys, tag
// moves, promotions and gc commit beside it, and must report no problem, since there
// is none (the store is never damaged here). It reads the catalog in one consistent
// view and counts a blob problem only if its snapshot still exists afterwards
// (src/snapshots/fsck.ts); this counts its runs, and the runs a write landed during.

import { join } from 'node:path';
import { Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { fsckProblems, withLocal } from '../lib/world.ts';
import { buildMany, describeProc, txProc, type Proc } from '../lib/writers.ts';

/** fsck runs at least, and rounds of writes at least (each: deploy, tag, set, promote, release, gc). */
const RUNS = { ci: 200, full: 1000 };
const ROUNDS = { ci: 10, full: 60 };
/** Snapshots gc must have removed while fsck ran, at least. */
const REMOVED = { ci: 10, full: 40 };
/**
 * gc's grace window: short, so that gc removes snapshots while fsck runs, yet longer
 * than a deploy takes from storing its blobs to its commit (docs/store.md, "Garbage
 * collection": a writer must commit within the grace window; with none, gc takes the
 * blobs and records of a deploy on its way, and fsck rightly reports them missing).
 */
const GRACE = '8s';
/** Every this many runs re-hashes the blobs too (a gc removes them meanwhile). */
const VERIFY_EVERY = 10;
/** Stops the scenario however far it got (a hang is a failure). */
const LIMIT_MS = { ci: 150_000, full: 900_000 };

export const fsckLive: Scenario = {
  name: 'fsck-live',
  title: 'fsck beside live writes',
  about:
    'fsck runs in a loop (every tenth run with `--verify-blobs`, re-hashing every blob) on a store while separate `txrepo` ' +
    'processes commit beside it without pause: deploys into two repositories (`--retain-last 2`), tag moves, sets created, ' +
    'promoted and released, and `gc --grace 8s`, which removes snapshots and their blobs while fsck reads them (a grace window longer than a deploy takes to commit, as gc requires). Nothing damages ' +
    'the store, so every problem fsck reports is a false one: the count must be 0. Counted: fsck runs, those during which a ' +
    'write committed, and the writes; after the loop, `fsck --verify-blobs` is clean and gc has removed snapshots.',
  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const store = join(ctx.work, 'store');
    const target = { store };
    const rounds = ROUNDS[ctx.scale];
    // Enough packages that the writers never run out before fsck has run its count.
    const names = Array.from({ length: rounds * 10 }, (_, i) => `fl-${i}`);
    ctx.log(`building ${names.length} packages`);
    const rpms = await buildMany(join(ctx.work, 'rpms'), names);
    const must = async (args: string[]): Promise<Proc> => {
      const p = await txProc(target, args, { timeoutMs: 120_000 });
      if (p.code !== 0) throw new Error(describeProc(p));
      return p;
    };
    for (const repo of ['a', 'b']) {
      await must(['repo', 'create', repo, '--retain-last', '2']);
      await must(['deploy', repo, rpms.get(names.pop()!)!]);
    }

    // Writers: the moment each write committed (its process ended), for the count of
    // fsck runs a write landed during.
    const committed: number[] = [];
    let writing = true;
    let writeRounds = 0;
    let gcRemoved = 0;
    const step = async (what: string, args: string[]): Promise<Proc | undefined> => {
      const p = await txProc(target, args, { timeoutMs: 120_000 });
      if (p.code !== 0) {
        rec.fail(`writer: ${what}`, describeProc(p));
        return undefined;
      }
      committed.push(p.end);
      return p;
    };
    const deployer = (async () => {
      for (let i = 0; writing && names.length; i++) {
        const repo = i % 2 ? 'a' : 'b';
        await step('deploy', ['deploy', repo, rpms.get(names.pop()!)!]);
        await step('tag', ['tag', repo, 'tested', 'latest']);
        writeRounds++;
      }
    })();
    const promoter = (async () => {
      while (writing) {
        const made = await step('set create', ['set', 'create', 'a', 'b', '--ttl', '1h', '--json']);
        if (made) {
          const set = (JSON.parse(made.stdout) as { id: string }).id;
          await step('promote', ['promote', set, '--tag', 'released']);
          await step('set release', ['set', 'release', set]);
        }
        const gc = await step('gc', ['gc', '--grace', GRACE, '--json']);
        if (gc) gcRemoved += (JSON.parse(gc.stdout) as { snapshots: unknown[] }).snapshots.length;
      }
    })();

    let runs = 0;
    let verified = 0;
    let duringWrites = 0;
    let falseProblems = 0;
    const took: number[] = [];
    const deadline = performance.now() + LIMIT_MS[ctx.scale];
    try {
      await withLocal(store, async (tx) => {
        while ((runs < RUNS[ctx.scale] || writeRounds < rounds || gcRemoved < REMOVED[ctx.scale]) && names.length && performance.now() < deadline) {
          const verifyBlobs = runs % VERIFY_EVERY === 0;
          const start = performance.now();
          const report = await tx.fsck({ verifyBlobs });
          const end = performance.now();
          if (!verifyBlobs) took.push(end - start);
          runs++;
          if (verifyBlobs) verified++;
          rec.trials++;
          if (committed.some((t) => t >= start && t <= end)) duringWrites++;
          if (report.problems.length) {
            falseProblems += report.problems.length;
            rec.fail(`fsck run ${runs}${verifyBlobs ? ' (--verify-blobs)' : ''}`, report.problems.join('\n'));
          }
        }
      });
    } finally {
      writing = false;
      await Promise.all([deployer, promoter]);
    }
    if (runs < RUNS[ctx.scale]) rec.fail('the loop', `only ${runs} fsck runs of the ${RUNS[ctx.scale]} wanted (the writers ran out of packages or time)`);
    if (writeRounds < rounds) rec.fail('the loop', `only ${writeRounds} rounds of writes of the ${rounds} wanted`);
    if (duringWrites === 0) rec.fail('the loop', 'no write committed during any fsck run: the scenario tested nothing live');
    if (gcRemoved < REMOVED[ctx.scale]) rec.fail('the loop', `gc removed ${gcRemoved} snapshots, fewer than ${REMOVED[ctx.scale]}: fsck hardly raced a removal`);
    await rec.check('after the loop', async () => {
      const problems = await fsckProblems(store);
      if (problems.length) throw new Error(`fsck --verify-blobs: ${problems.join('; ')}`);
    });
    const median = took.sort((x, y) => x - y)[Math.floor(took.length / 2)] ?? 0;
    ctx.log(`median fsck run ${median.toFixed(0)} ms; ${runs} fsck runs (${verified} re-hashing), ${duringWrites} with a write committed during them, ${committed.length} writes, gc removed ${gcRemoved} snapshots, ${falseProblems} false problems`);
    return {
      trials: rec.trials,
      faults: 0,
      failures: rec.failures,
      figures: [
        ['fsck runs', runs],
        ['of those, with --verify-blobs', verified],
        ['runs a write committed during', duringWrites],
        ['writes committed beside them', committed.length],
        ['snapshots gc removed meanwhile', gcRemoved],
        ['false problems reported', falseProblems],
      ],
    };
  },
};
