// Many writers at once on one store, as separate CLI processes on the store directory
// and as remote CLIs through one `txrepo serve`: deploys of distinct packages into the
// same repository, compare-and-swap tag moves, set creates, promotions and gc, all at
// the same time, while readers (in this process, on the store; and over HTTP, through
// the server) measure how long each read takes. Then the outcome is checked against
// what every writer was told: no lost update, ids unique and increasing, sets and tags
// consistent with their history, gc kept what it must, fsck clean.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareIds } from '../../src/store/index.ts';
import { mib, ms, Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { asset, assetRpms, fsckProblems, mustTx, withLocal } from '../lib/world.ts';
import { startProbe } from '../lib/read-probe.ts';
import { buildMany, describeProc, txProc, type Proc, type Target } from '../lib/writers.ts';
import { initStore, MANY_CLIENTS, serve } from '../../test/helpers/serve.ts';
import { ON_SHARED_BACKENDS, storeEnv } from '../../test/helpers/backends.ts';

/** gc's grace window: longer than any writer here takes from storing its blobs to committing. */
const GC_GRACE = '30s';
const GC_GRACE_MS = 30_000;
/**
 * A process that has not finished after this long is deadlocked or starved: alone, a
 * deploy takes a fraction of a second; with a dozen processes on 2 cores, up to ~20 s.
 */
const PROC_TIMEOUT_MS = 90_000;
/**
 * The longest a read may be held up: its time less the time its threads (the reader's,
 * its thread pool, the server's main thread) waited for a CPU meanwhile. A read costs milliseconds
 * and SQLite WAL readers never wait for the writer's lock; what else holds one up (I/O
 * on a disk busy with the writers' fsyncs: up to a few hundred ms here) stays far below
 * this. A read behind a writer's lock, or behind a server whose event loop waits for
 * one, waits as long as the writer: seconds.
 */
const HELD_BOUND_MS = 2_000;
/**
 * The longest a read may take at all. On 2 cores with 8 (ci) or 12 (full) writer
 * processes starting at once, a reader waits up to a couple of seconds for a CPU
 * (measured); a read still going after this long is stuck, whatever the load.
 */
const READ_BOUND_MS = 10_000;

interface Plan {
  rounds: number;
  deployers: number;
  deploysEach: number;
  movers: number;
  movesEach: number;
  setters: number;
  setsEach: number;
  promoters: number;
  promotesEach: number;
  gcs: number;
}

const PLANS: Record<Context['scale'], Plan> = {
  ci: { rounds: 3, deployers: 3, deploysEach: 3, movers: 2, movesEach: 4, setters: 1, setsEach: 3, promoters: 1, promotesEach: 2, gcs: 1 },
  full: { rounds: 6, deployers: 5, deploysEach: 3, movers: 3, movesEach: 5, setters: 1, setsEach: 4, promoters: 2, promotesEach: 2, gcs: 1 },
};

/** Which repo a deployer writes to: most into app (the contended one), some into lib. */
const deployRepo = (writer: number) => (writer % 3 === 2 ? 'lib' : 'app');

interface Deployed {
  repo: string;
  href: string;
  snapshot?: string;
}

interface GcRun {
  endIso: string;
  removed: { repo: string; id: string }[];
  blobs: number;
}

interface SetMade {
  id: string;
  members: { repo: string; snapshot: string }[];
}

export const concurrency: Scenario = {
  name: 'concurrency',
  title: 'Concurrent writers, readers never blocked',
  about:
    'Rounds of many writers at once on one store: in each, deployers put distinct packages into the same repositories, ' +
    'tag movers read a tag and move it with `--expect` (compare-and-swap) to a random snapshot, set creators pin snapshots, ' +
    'promoters create sets and promote them, and gc (repositories with `--retain-last`, grace 30 s) runs over and over. ' +
    'The writers are separate CLI processes on the store directory in the first round, remote CLIs through one ' +
    '`txrepo serve` (with a token) in the second, and both mixed in the third (and so on at full scale). Meanwhile readers ' +
    'open the store in-process and read tags, snapshot lists and file lists, and fetch repomd.xml, primary.xml.gz and a ' +
    'package through tag URLs of the server, verifying every checksum. Checked: every deployed package is in the final ' +
    '`latest` (no lost update); snapshot ids are unique and increase along each repository\'s history; the successful ' +
    'tag moves are exactly the tag\'s history rows, each starting where the previous one ended; set ids are distinct from ' +
    'each other and from snapshot ids and every set\'s members exist; promotions are in the history with their set; gc ' +
    'removed no snapshot a tag, a tag\'s grace window or a live set protected; no process runs past 90 s (deadlock); ' +
    'no read fails, is held up more than 2 s beyond waiting for a CPU, or takes more than 10 s in all; fsck --verify-blobs is clean.',

  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const plan = PLANS[ctx.scale];
    const store = join(ctx.work, 'store');
    const rand = ctx.random;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

    // The packages: seed snapshots from the fixtures, and one distinct package per deploy.
    const assets = (await assetRpms()).filter((f) => !f.startsWith('duck-') && !f.startsWith('kangaroo-') && !f.startsWith('walrus-'));
    const names: string[] = [];
    for (let r = 0; r < plan.rounds; r++) for (let w = 0; w < plan.deployers; w++) for (let k = 0; k < plan.deploysEach; k++) names.push(`cc-r${r}-w${w}-n${k}`);
    ctx.log(`building ${names.length} packages`);
    const rpms = await buildMany(join(ctx.work, 'rpms'), names);

    const seedApp = assets.slice(0, 10);
    const seedLib = assets.slice(10, 16);
    await mustTx(store, ['repo', 'create', 'app', '--retain-last', '3']);
    await mustTx(store, ['repo', 'create', 'lib', '--retain-last', '2']);
    const deployed: Deployed[] = [];
    const snapshotIds: string[] = [];
    for (const [repo, seed] of [['app', seedApp], ['lib', seedLib]] as const) {
      for (const f of seed) {
        const out = JSON.parse((await mustTx(store, ['deploy', repo, asset(f), '--json'])).stdout) as { snapshot: string; unchanged: boolean; added: string[] };
        deployed.push({ repo, href: out.added[0], snapshot: out.unchanged ? undefined : out.snapshot });
        if (!out.unchanged) snapshotIds.push(out.snapshot);
      }
    }
    const firstStable = snapshotIds[2];
    await mustTx(store, ['tag', 'app', 'stable', firstStable, '--expect', 'none']);
    const token = (JSON.parse((await mustTx(store, ['token', 'create', 'writers', '--scope', 'admin', '--json'])).stdout) as { token: string }).token;
    const server = await serve(store, ['--grace', GC_GRACE, '--quiet', ...MANY_CLIENTS]);
    // On PostgreSQL and S3, a second server, with a directory of its own, on the same
    // catalog and bucket: the remote writers alternate between the two.
    if (ON_SHARED_BACKENDS) await initStore(join(ctx.work, 'second-server'), { env: storeEnv(store) });
    const second = ON_SHARED_BACKENDS ? await serve(join(ctx.work, 'second-server'), ['--grace', GC_GRACE, '--quiet', ...MANY_CLIENTS], { env: storeEnv(store) }) : undefined;
    const local: Target = { store };
    const remotes: Target[] = [server, ...(second ? [second] : [])].map((s) => ({ server: s.url, token }));

    // What the writers were told.
    const procs: Proc[] = [];
    const moves: { from: string; to: string }[] = [];
    let casConflicts = 0;
    let targetsGone = 0;
    const sets: SetMade[] = [];
    let setsRefused = 0;
    const promoted: { set: string; moves: { repo: string; from?: string; to: string }[] }[] = [];
    let promotesRefused = 0;
    const gcRuns: GcRun[] = [];
    const roundRows: (string | number)[][] = [];
    const roundSpans: [number, number][] = [];

    /** Runs a writer's process; anything but `allowed` outcomes is a failure. */
    const runTx = async (trial: string, target: Target, args: string[]): Promise<Proc> => {
      const p = await txProc(target, args, { timeoutMs: PROC_TIMEOUT_MS });
      procs.push(p);
      rec.trials++;
      if (p.timedOut) rec.fail(trial, `deadlock? ${describeProc(p)}`);
      else if (p.code === 70) rec.fail(trial, `txrepo reported a bug: ${describeProc(p)}`);
      return p;
    };
    const parse = <T>(trial: string, p: Proc): T | undefined => {
      try {
        return JSON.parse(p.stdout) as T;
      } catch {
        rec.fail(trial, `not JSON: ${describeProc(p)}`);
        return undefined;
      }
    };

    // Readers, for the whole run, each in a worker thread of its own.
    const localProbe = startProbe({ kind: 'local', store, repos: ['app', 'lib'], pauseMs: 25 });
    const httpProbe = startProbe({
      kind: 'http',
      bases: ['app/tags/latest', 'app/tags/stable', 'lib/tags/latest'].map((p) => `${server.url}/repos/${p}/`),
      serverPid: server.child.pid!,
      pauseMs: 25,
      seed: Math.floor(rand() * 2 ** 31),
    });
    let walBytes = 0;
    let localResult: Awaited<ReturnType<typeof localProbe.stop>> | undefined;
    let httpResult: Awaited<ReturnType<typeof httpProbe.stop>> | undefined;

    try {
      for (let round = 0; round < plan.rounds; round++) {
        const mode = ['local', 'remote', 'mixed'][round % 3];
        const remote = (writer: number) => remotes[Math.floor(writer / (mode === 'mixed' ? 2 : 1)) % remotes.length];
        const targetOf = (writer: number): Target => (mode === 'local' ? local : mode === 'remote' ? remote(writer) : writer % 2 === 0 ? local : remote(writer));
        const t0 = performance.now();
        roundSpans.push([Date.now(), Infinity]);
        const before = { procs: procs.length, moves: moves.length, conflicts: casConflicts, sets: sets.length, promoted: promoted.length, gc: gcRuns.length };
        let writersDone = false;
        let w = 0;
        const writers: Promise<void>[] = [];

        for (let i = 0; i < plan.deployers; i++) {
          const target = targetOf(w++);
          writers.push(
            (async () => {
              for (let k = 0; k < plan.deploysEach; k++) {
                const name = `cc-r${round}-w${i}-n${k}`;
                const repo = deployRepo(i);
                const trial = `round ${round + 1} (${mode}): deploy ${name} into ${repo}`;
                const p = await runTx(trial, target, ['deploy', repo, rpms.get(name)!, '-m', name, '--json']);
                if (p.code !== 0) {
                  if (!p.timedOut) rec.fail(trial, describeProc(p));
                  continue;
                }
                const out = parse<{ snapshot: string; unchanged: boolean; added: string[] }>(trial, p);
                if (!out) continue;
                if (out.unchanged || out.added.length !== 1) rec.fail(trial, `a new package made no snapshot: ${p.stdout}`);
                deployed.push({ repo, href: `Packages/c/${name}-1.0-1.noarch.rpm`, snapshot: out.unchanged ? undefined : out.snapshot });
                if (!out.unchanged) snapshotIds.push(out.snapshot);
              }
            })(),
          );
        }

        for (let i = 0; i < plan.movers; i++) {
          const target = targetOf(w++);
          writers.push(
            (async () => {
              for (let k = 0; k < plan.movesEach; k++) {
                const trial = `round ${round + 1} (${mode}): mover ${i} move ${k + 1}`;
                const list = await runTx(trial, target, ['snapshots', 'app', '--json']);
                const snaps = list.code === 0 ? parse<{ id: string; tags: string[] }[]>(trial, list) : (rec.fail(trial, describeProc(list)), undefined);
                if (!snaps) continue;
                const current = snaps.find((s) => s.tags.includes('stable'))?.id;
                if (!current) {
                  rec.fail(trial, `app has no snapshot tagged stable: ${list.stdout.slice(0, 500)}`);
                  continue;
                }
                const choices = snaps.filter((s) => s.id !== current);
                if (!choices.length) continue;
                const to = pick(choices).id;
                const p = await runTx(trial, target, ['tag', 'app', 'stable', to, '--expect', current, '--json']);
                if (p.code === 0) {
                  const move = parse<{ from?: string; to: string }>(trial, p);
                  if (!move) continue;
                  if (move.from !== current || move.to !== to) rec.fail(trial, `moved ${move.from} -> ${move.to}, asked ${current} -> ${to}`);
                  moves.push({ from: move.from ?? '', to: move.to });
                } else if (/points at/.test(p.stderr)) casConflicts++;
                else if (/has no snapshot/.test(p.stderr)) targetsGone++;
                else if (!p.timedOut) rec.fail(trial, describeProc(p));
              }
            })(),
          );
        }

        for (let i = 0; i < plan.setters; i++) {
          const target = targetOf(w++);
          writers.push(
            (async () => {
              for (let k = 0; k < plan.setsEach; k++) {
                const trial = `round ${round + 1} (${mode}): set create ${i}.${k}`;
                let appRef = 'app@stable';
                if (k % 2 === 1) {
                  // A snapshot by id, any of them: some are about to be collected.
                  const list = await runTx(trial, target, ['snapshots', 'app', '--json']);
                  const snaps = list.code === 0 ? parse<{ id: string }[]>(trial, list) : (rec.fail(trial, describeProc(list)), undefined);
                  if (snaps?.length) appRef = `app@${pick(snaps).id}`;
                }
                const p = await runTx(trial, target, ['set', 'create', appRef, 'lib@latest', '--ttl', '1h', '--label', `r${round}-s${i}-${k}`, '--json']);
                if (p.code === 0) {
                  const set = parse<SetMade>(trial, p);
                  if (set) sets.push({ id: set.id, members: set.members });
                } else if (/has no snapshot/.test(p.stderr)) setsRefused++;
                else if (!p.timedOut) rec.fail(trial, describeProc(p));
              }
            })(),
          );
        }

        for (let i = 0; i < plan.promoters; i++) {
          const target = targetOf(w++);
          writers.push(
            (async () => {
              for (let k = 0; k < plan.promotesEach; k++) {
                const trial = `round ${round + 1} (${mode}): promote ${i}.${k}`;
                const made = await runTx(trial, target, ['set', 'create', 'app@latest', 'lib@latest', '--ttl', '1h', '--label', `r${round}-p${i}-${k}`, '--json']);
                if (made.code !== 0) {
                  if (!made.timedOut) rec.fail(trial, describeProc(made));
                  continue;
                }
                const set = parse<SetMade>(trial, made);
                if (!set) continue;
                sets.push({ id: set.id, members: set.members });
                const p = await runTx(trial, target, ['promote', set.id, '--tag', 'tested', '--json']);
                if (p.code === 0) {
                  const m = parse<{ repo: string; from?: string; to: string }[]>(trial, p);
                  if (m) promoted.push({ set: set.id, moves: m });
                } else if (/back in time/.test(p.stderr)) promotesRefused++;
                else if (!p.timedOut) rec.fail(trial, describeProc(p));
              }
            })(),
          );
        }

        const gcs: Promise<void>[] = [];
        for (let i = 0; i < plan.gcs; i++) {
          const target = targetOf(w++);
          gcs.push(
            (async () => {
              do {
                const trial = `round ${round + 1} (${mode}): gc ${i}`;
                const p = await runTx(trial, target, ['gc', '--grace', GC_GRACE, '--json']);
                if (p.code !== 0) {
                  if (!p.timedOut) rec.fail(trial, describeProc(p));
                  continue;
                }
                const r = parse<{ snapshots: { repo: string; id: string }[]; blobs: number }>(trial, p);
                if (r) gcRuns.push({ endIso: new Date().toISOString(), removed: r.snapshots.map(({ repo, id }) => ({ repo, id })), blobs: r.blobs });
              } while (!writersDone);
            })(),
          );
        }

        await Promise.all(writers);
        writersDone = true;
        await Promise.all(gcs);
        roundSpans[round][1] = Date.now();
        const roundProcs = procs.slice(before.procs);
        const slowest = roundProcs.reduce((a, b) => (b.ms > a.ms ? b : a));
        const removed = gcRuns.slice(before.gc).reduce((n, g) => n + g.removed.length, 0);
        roundRows.push([
          round + 1,
          mode,
          w,
          roundProcs.length,
          roundProcs.filter((p) => p.args[0] === 'deploy' && p.code === 0).length,
          `${moves.length - before.moves} / ${casConflicts - before.conflicts}`,
          sets.length - before.sets,
          promoted.length - before.promoted,
          `${gcRuns.length - before.gc} / ${removed}`,
          `${ms(slowest.ms)} (${slowest.args[0]})`,
          `${((performance.now() - t0) / 1000).toFixed(1)} s`,
        ]);
        ctx.log(`round ${round + 1} (${mode}): ${roundProcs.length} processes, slowest ${ms(slowest.ms)}, gc removed ${removed} snapshots`);
        await rec.check(`after round ${round + 1}: fsck`, async () => {
          const problems = await fsckProblems(store);
          if (problems.length) throw new Error(problems.join('\n'));
        });
      }
      // On a fast machine the rounds can end before any snapshot has left the grace
      // window of its tag moves, and gc rightly removes none: then one more gc, once the
      // window has passed, exercises retention (with the readers still reading).
      if (gcRuns.every((g) => g.removed.length === 0)) {
        ctx.log(`no snapshot beyond the grace window yet: one more gc in ${GC_GRACE}`);
        await new Promise((r) => setTimeout(r, GC_GRACE_MS + 1000));
        const p = await runTx('gc after the grace window', local, ['gc', '--grace', GC_GRACE, '--json']);
        const r = p.code === 0 ? parse<{ snapshots: { repo: string; id: string }[]; blobs: number }>('gc after the grace window', p) : (rec.fail('gc after the grace window', describeProc(p)), undefined);
        if (r) gcRuns.push({ endIso: new Date().toISOString(), removed: r.snapshots.map(({ repo, id }) => ({ repo, id })), blobs: r.blobs });
      }
      walBytes = (await stat(join(store, 'catalog.sqlite-wal')).catch(() => undefined))?.size ?? 0;
    } finally {
      localResult = await localProbe.stop();
      httpResult = await httpProbe.stop();
      await server.stop();
      await second?.stop();
    }
    const localReads = localResult.lat;
    const httpReads = httpResult.lat;
    for (const [i, [from, to]] of roundSpans.entries()) {
      const cell = (lat: typeof localReads) => `${ms(lat.summary(from, to).max)} / ${ms(lat.summary(from, to, 'held').max)}`;
      roundRows[i]?.push(cell(localReads), cell(httpReads));
    }

    // The outcome, against what every writer was told.
    let lost = 0;
    await withLocal(store, async (t) => {
      // No lost update: every package deployed is in the final latest of its repo.
      for (const repo of ['app', 'lib']) {
        const files = new Set((await t.showSnapshot(repo, 'latest', { files: true })).files!.filter((f) => f.kind === 'package').map((f) => f.href));
        const missing = deployed.filter((d) => d.repo === repo && !files.has(d.href));
        lost += missing.length;
        if (missing.length) rec.fail(`no lost update (${repo})`, `deployed but not in the final latest: ${missing.map((d) => `${d.href} (snapshot ${d.snapshot})`).join(', ')}`);
        const want = deployed.filter((d) => d.repo === repo).length;
        if (files.size !== want) rec.fail(`no lost update (${repo})`, `latest has ${files.size} packages, ${want} were deployed`);
      }

      // Snapshot ids: unique, and increasing along each repo's history of commits.
      const dup = snapshotIds.filter((id, i) => snapshotIds.indexOf(id) !== i);
      if (dup.length) rec.fail('snapshot ids unique', `issued twice: ${dup.join(', ')}`);
      for (const repo of ['app', 'lib']) {
        const history = await t.tagHistory(repo, 'latest');
        const commits = deployed.filter((d) => d.repo === repo && d.snapshot).map((d) => d.snapshot!);
        if (history.length !== commits.length) rec.fail(`history of ${repo}`, `${history.length} moves of latest, ${commits.length} deploys made a snapshot`);
        const told = new Set(commits);
        for (const [i, m] of history.entries()) {
          if (!told.has(m.to)) rec.fail(`history of ${repo}`, `latest moved to ${m.to}, which no deploy reported`);
          if (i === 0) continue;
          const prev = history[i - 1];
          if (m.from !== prev.to) rec.fail(`history of ${repo}`, `move ${i} of latest starts at ${m.from}, the one before ended at ${prev.to}`);
          if (compareIds(m.to, prev.to) <= 0) rec.fail(`snapshot ids increase (${repo})`, `${m.to} was committed after ${prev.to}`);
        }
        for (const s of await t.snapshots(repo)) if (s.parent && compareIds(s.parent, s.id) >= 0) rec.fail(`snapshot ids increase (${repo})`, `${s.id} has the later parent ${s.parent}`);
      }

      // Tag moves: the successful ones are exactly the history, chained, and the tag ends at the last.
      const stable = (await t.tagHistory('app', 'stable')).slice(1);
      const key = (m: { from?: string; to: string }) => `${m.from ?? ''}>${m.to}`;
      const told = moves.map(key).sort();
      const recorded = stable.map(key).sort();
      if (JSON.stringify(told) !== JSON.stringify(recorded)) rec.fail('tag moves (stable)', `${moves.length} moves succeeded, the history has ${stable.length} rows: ${recorded.filter((k) => !told.includes(k)).join(', ')} not told; ${told.filter((k) => !recorded.includes(k)).join(', ')} not recorded`);
      let at = firstStable;
      for (const m of stable) {
        if (m.from !== at) rec.fail('tag moves (stable)', `a move from ${m.from} while stable was at ${at}: an update was lost`);
        at = m.to;
      }
      const now = (await t.tags('app')).find((x) => x.tag === 'stable')?.snapshot;
      if (now !== at) rec.fail('tag moves (stable)', `stable is at ${now}, its history ends at ${at}`);

      // Promotions: each move is in the history, with its set; the chain holds.
      for (const repo of ['app', 'lib']) {
        const tested = await t.tagHistory(repo, 'tested');
        const rows = new Set(tested.map((m) => `${m.set}:${key(m)}`));
        for (const p of promoted) for (const m of p.moves.filter((m) => m.repo === repo)) if (!rows.has(`${p.set}:${key(m)}`)) rec.fail(`promote ${p.set}`, `its move of tested in ${repo} (${key(m)}) is not in the history`);
        const expected = promoted.reduce((n, p) => n + p.moves.filter((m) => m.repo === repo).length, 0);
        if (tested.length !== expected) rec.fail(`promotions (${repo})`, `${expected} moves of tested reported, ${tested.length} in the history`);
        for (let i = 1; i < tested.length; i++) if (tested[i].from !== tested[i - 1].to) rec.fail(`promotions (${repo})`, `move ${i} of tested starts at ${tested[i].from}, the one before ended at ${tested[i - 1].to}`);
      }

      // Sets: distinct ids, none a snapshot id, members exist (their lease holds).
      const setIds = sets.map((s) => s.id);
      if (new Set(setIds).size !== setIds.length) rec.fail('set ids unique', `duplicates among ${setIds.join(', ')}`);
      const allSnapshotIds = new Set(snapshotIds);
      for (const repo of ['app', 'lib']) for (const m of await t.tagHistory(repo)) [m.from, m.to].forEach((id) => id && allSnapshotIds.add(id));
      for (const s of sets) {
        if (allSnapshotIds.has(s.id)) rec.fail(`set ${s.id}`, 'its id is also a snapshot id');
        for (const m of s.members) if (!(await t.store.catalog.getSnapshot(m.repo, m.snapshot))) rec.fail(`set ${s.id}`, `pins ${m.repo}@${m.snapshot}, which gc removed while the set was live`);
      }

      // gc removed nothing a tag's grace window or a live set protected. A move at or
      // after (end of the gc run - grace) was within the window when gc removed it.
      const history = [...(await t.tagHistory('app')), ...(await t.tagHistory('lib'))];
      for (const g of gcRuns) {
        const horizon = new Date(Date.parse(g.endIso) - GC_GRACE_MS).toISOString();
        for (const x of g.removed) {
          const m = history.find((m) => m.repo === x.repo && (m.from === x.id || m.to === x.id) && m.at >= horizon);
          if (m) rec.fail(`gc kept what it must`, `gc removed ${x.repo}@${x.id}, but tag ${m.tag} moved ${m.from ?? '(new)'} -> ${m.to} at ${m.at}, within the grace window of a gc that ended at ${g.endIso}`);
          const set = sets.find((s) => s.members.some((mm) => mm.repo === x.repo && mm.snapshot === x.id));
          if (set) rec.fail(`gc kept what it must`, `gc removed ${x.repo}@${x.id}, which live set ${set.id} pins`);
        }
      }
    });
    const removedTotal = gcRuns.reduce((n, g) => n + g.removed.length, 0);
    if (removedTotal === 0) rec.fail('gc under load', 'gc removed no snapshot: the retention policy was never exercised');

    await rec.check('fsck --verify-blobs at the end', async () => {
      const problems = await fsckProblems(store);
      if (problems.length) throw new Error(problems.join('\n'));
    });

    // Readers: no error, no read held up.
    for (const [what, lat] of [['in-process reads', localReads], ['HTTP reads', httpReads]] as const) {
      for (const e of lat.errors.slice(0, 20)) rec.fail(what, e);
      if (lat.mostHeld.ms > HELD_BOUND_MS) rec.fail(what, `a read was held up ${ms(lat.mostHeld.ms)} beyond waiting for a CPU (bound ${ms(HELD_BOUND_MS)}): ${lat.mostHeld.what}`);
      if (lat.slowest.ms > READ_BOUND_MS) rec.fail(what, `a read took ${ms(lat.slowest.ms)} (bound ${ms(READ_BOUND_MS)}): ${lat.slowest.what}`);
      if (lat.samples.length < 10) rec.fail(what, `only ${lat.samples.length} reads ran`);
    }

    const slowest = procs.reduce((a, b) => (b.ms > a.ms ? b : a));
    const lr = localReads.summary();
    const lh = localReads.summary(-Infinity, Infinity, 'held');
    const hr = httpReads.summary();
    const hh = httpReads.summary(-Infinity, Infinity, 'held');
    const byCmd = (cmd: string) => procs.filter((p) => p.args[0] === cmd || `${p.args[0]} ${p.args[1]}` === cmd);
    return {
      trials: rec.trials,
      faults: 0,
      failures: rec.failures,
      figures: [
        ['rounds × writers at once', `${plan.rounds} × ${roundRows[0]?.[2] ?? 0}`],
        ['writer processes (local / remote)', `${procs.length} (${procs.filter((p) => p.mode === 'local').length} / ${procs.filter((p) => p.mode === 'remote').length})`],
        ['slowest process (deadlock bound 90 s)', `${ms(slowest.ms)}: ${slowest.args.slice(0, 3).join(' ')} (${slowest.mode})`],
        ['deploys / packages missing from the final latest', `${byCmd('deploy').filter((p) => p.code === 0).length} / ${lost}`],
        ['snapshot ids issued (unique, increasing)', snapshotIds.length],
        ['tag moves with --expect: ok / lost the race / target collected', `${moves.length} / ${casConflicts} / ${targetsGone}`],
        ['sets created / refused (snapshot collected)', `${sets.length} / ${setsRefused}`],
        ['promotions: ok / refused (back in time)', `${promoted.length} / ${promotesRefused}`],
        ['gc runs / snapshots removed / blobs removed', `${gcRuns.length} / ${removedTotal} / ${gcRuns.reduce((n, g) => n + g.blobs, 0)}`],
        ['in-process reads: n, p50 / p99 / max', `${lr.n}, ${ms(lr.p50)} / ${ms(lr.p99)} / ${ms(lr.max)}`],
        ['in-process reads held up (less waiting for a CPU): p50 / p99 / max', `${ms(lh.p50)} / ${ms(lh.p99)} / ${ms(lh.max)}`],
        ['HTTP reads (tag paths): n, p50 / p99 / max', `${hr.n}, ${ms(hr.p50)} / ${ms(hr.p99)} / ${ms(hr.max)}`],
        ['HTTP reads held up (less waiting for a CPU): p50 / p99 / max', `${ms(hh.p50)} / ${ms(hh.p99)} / ${ms(hh.max)}`],
        ['catalog -wal file at the end (checkpoints kept up)', mib(walBytes)],
        ['read errors', localReads.errors.length + httpReads.errors.length],
      ],
      tables: [
        {
          title: 'Rounds',
          table: {
            columns: ['round', 'writers', 'at once', 'processes', 'deploys', 'moves ok / CAS lost', 'sets', 'promotions', 'gc runs / removed', 'slowest process', 'time', 'in-process reads: max / max held up', 'HTTP reads: max / max held up'],
            rows: roundRows,
          },
        },
        {
          title: 'Writer processes by command',
          table: {
            columns: ['command', 'runs', 'p50', 'p99', 'max'],
            rows: ['deploy', 'tag', 'snapshots', 'set create', 'promote', 'gc'].map((c) => {
              const t = byCmd(c).map((p) => p.ms).sort((a, b) => a - b);
              const pc = (q: number) => (t.length ? ms(t[Math.min(t.length - 1, Math.floor((q / 100) * t.length))]) : '-');
              return [c, t.length, pc(50), pc(99), t.length ? ms(t.at(-1)!) : '-'];
            }),
          },
        },
      ],
      notes: [
        `Reads: the in-process reader opens the store and reads tags, the snapshot list and the file lists of both repos' latest; the HTTP readers fetch repomd.xml, primary.xml.gz and one package through /repos/app/tags/latest/, /repos/app/tags/stable/ and /repos/lib/tags/latest/ (${httpResult.requests} requests), checking each against its checksum. Each read runs in a worker thread of its own. "Held up" is a read's time less the time its threads (the reader's and its thread pool; for HTTP, also the server's main thread) spent waiting for a CPU, from /proc/…/schedstat: on 2 cores running ${plan.deployers + plan.movers + plan.setters + plan.promoters + plan.gcs} writer processes that wait is most of a slow read. Bounds: held up ${ms(HELD_BOUND_MS)} (a read behind a writer's lock waits as long as the writer; without that, the worst seen is I/O on a disk busy with fsyncs), and ${ms(READ_BOUND_MS)} in all.`,
      ],
    };
  },
};
