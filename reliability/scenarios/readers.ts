// Real dnf clients installing through a tag URL while the tag moves back and forth
// between snapshots that carry different versions of one package, deploys add
// snapshots (a new version, or other packages), and gc removes what retention lets go.
// Every run must install a version the tag pointed at during the run, byte for byte the
// package that was built (dnf checks the checksums; the installed header and file are
// checked here too).

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRpm } from '../../test/helpers/build.ts';
import { describe as describeDnf, dnf, dnfEnv } from '../../test/helpers/dnf.ts';
import { serve } from '../../test/helpers/serve.ts';
import { ms, percentile, Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { asset, assetRpms, fsckProblems, mustRun, mustTx, run, withLocal } from '../lib/world.ts';
import { describeProc, sleep, txProc, type Target } from '../lib/writers.ts';

interface Timing {
  /** How long the clients run. */
  durationMs: number;
  /** The server's tag grace window and gc's: longer than a dnf run, shorter than the test. */
  grace: string;
  graceMs: number;
  /** Pause between tag moves: a random time up to this. */
  moveEveryMs: number;
  deployEveryMs: number;
  gcEveryMs: number;
}

const TIMINGS: Record<Context['scale'], Timing> = {
  ci: { durationMs: 75_000, grace: '20s', graceMs: 20_000, moveEveryMs: 2_000, deployEveryMs: 8_000, gcEveryMs: 5_000 },
  full: { durationMs: 300_000, grace: '60s', graceMs: 60_000, moveEveryMs: 2_000, deployEveryMs: 15_000, gcEveryMs: 10_000 },
};

/** The package the clients install; each snapshot carries one build of it (--keep 1). */
const PACKAGE = 'hello';
const HREF = /^Packages\/h\/hello-([^-]+)-1\.noarch\.rpm$/;

interface DnfRun {
  loop: string;
  how: string;
  start: number;
  end: number;
  ok: boolean;
  /** Installed VERSION afterwards. */
  installed?: string;
}

export const readers: Scenario = {
  name: 'readers',
  title: 'dnf through moving tags',
  about:
    'Two loops run the real dnf against `/repos/app/tags/stable/` of `txrepo serve --grace G` for the whole test: one ' +
    'installs `hello` into a fresh installroot each time, the other keeps one installroot and runs `dnf distro-sync --refresh` ' +
    'with `metadata_expire=0` (an upgrade or a downgrade, whichever the tag says). Meanwhile `stable` moves (with ' +
    '`--expect`, through the API) every second or two between the 4 newest snapshots, which carry different versions of ' +
    '`hello` (the repo keeps one build per name: `--keep 1`); deploys through the server add snapshots, with a new ' +
    'version or with other packages; and gc (`--retain-last 3`, grace G) runs every few seconds, from the CLI and ' +
    'through the API. G (20 s at ci scale, 60 s at full) is shorter than the test and longer than a dnf run. Every dnf ' +
    'run must succeed, and leave installed a version that `stable` pointed at during the run, whose header (SIGMD5) is ' +
    'that of the package built and whose file has the content built (`rpm -V` clean too). After: fsck clean, and gc ' +
    'really removed snapshots.',

  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const timing = TIMINGS[ctx.scale];
    const rand = ctx.random;
    const store = join(ctx.work, 'store');
    const builds = join(ctx.work, 'rpms');

    // hello 1.0 … N.0: two to start with, and one for every other deploy.
    const versions = Array.from({ length: 2 + Math.ceil(timing.durationMs / timing.deployEveryMs / 2) + 1 }, (_, i) => `${i + 1}.0`);
    ctx.log(`building ${PACKAGE} ${versions[0]} … ${versions.at(-1)}`);
    const hello = new Map<string, string>();
    for (let i = 0; i < versions.length; i += 4) {
      await Promise.all(versions.slice(i, i + 4).map(async (v) => hello.set(v, await buildRpm(builds, { name: PACKAGE, version: v, release: '1' }))));
    }
    const sigmd5 = new Map<string, string>();
    for (const [v, file] of hello) sigmd5.set(v, (await mustRun('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', '%{SIGMD5}', file])).stdout.trim());
    const fillers = (await assetRpms()).filter((f) => !/^(duck|kangaroo|walrus)-/.test(f));

    // Snapshot -> the version of hello it carries, for every snapshot ever made.
    const versionOf = new Map<string, string>();
    const learn = async (id: string) => {
      await withLocal(store, async (t) => {
        const files = (await t.showSnapshot('app', id, { files: true })).files ?? [];
        const v = files.map((f) => HREF.exec(f.href)?.[1]).filter((x) => x !== undefined);
        if (v.length !== 1) rec.fail(`snapshot ${id}`, `carries ${v.length} builds of ${PACKAGE} (${v.join(', ')}), the repo keeps 1`);
        versionOf.set(id, v[0] ?? '?');
      });
    };

    await mustTx(store, ['repo', 'create', 'app', '--retain-last', '3', '--keep', '1']);
    const first = JSON.parse((await mustTx(store, ['deploy', 'app', hello.get(versions[0])!, ...fillers.slice(0, 8).map(asset), '--json'])).stdout).snapshot as string;
    const second = JSON.parse((await mustTx(store, ['deploy', 'app', hello.get(versions[1])!, '--json'])).stdout).snapshot as string;
    await learn(first);
    await learn(second);
    await mustTx(store, ['tag', 'app', 'stable', first, '--expect', 'none']);
    const token = (JSON.parse((await mustTx(store, ['token', 'create', 'readers', '--scope', 'admin', '--json'])).stdout) as { token: string }).token;
    const server = await serve(store, ['--grace', timing.grace, '--quiet']);
    const remote: Target = { server: server.url, token };
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/api/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const deadline = Date.now() + timing.durationMs;
    const running = () => Date.now() < deadline;
    let moves = 0;
    let casLost = 0;
    const gcRuns: { how: string; snapshots: number; blobs: number; bytes: number }[] = [];
    const deploys: { id: string; what: string }[] = [];
    const runs: DnfRun[] = [];
    let mismatches = 0;

    const mover = async () => {
      while (running()) {
        await sleep(250 + rand() * (timing.moveEveryMs - 250));
        const trial = `move stable (${moves + 1})`;
        const [tagsRes, snapsRes] = await Promise.all([api('GET', 'repos/app/tags'), api('GET', 'repos/app/snapshots')]);
        if (tagsRes.status !== 200 || snapsRes.status !== 200) {
          rec.fail(trial, `GET tags ${tagsRes.status}, snapshots ${snapsRes.status}: ${await tagsRes.text()} ${await snapsRes.text()}`);
          continue;
        }
        const current = ((await tagsRes.json()) as { tag: string; snapshot: string }[]).find((t) => t.tag === 'stable')?.snapshot;
        // The newest 4 of a repo that retains 3: now and then stable holds a snapshot only
        // the tag keeps, and when it leaves, only the grace window keeps it for the clients.
        const newest = ((await snapsRes.json()) as { id: string }[]).slice(-4).map((s) => s.id);
        // Back and forth between versions: a snapshot with another version if there is one.
        const others = newest.filter((id) => id !== current && versionOf.get(id) !== versionOf.get(current ?? ''));
        const choices = others.length ? others : newest.filter((id) => id !== current);
        if (!current || !choices.length) continue;
        const to = choices[Math.floor(rand() * choices.length)];
        const res = await api('PUT', 'repos/app/tags/stable', { ref: to, expect: current, reason: 'readers scenario' });
        rec.trials++;
        if (res.status === 200) moves++;
        else if (res.status === 409) casLost++;
        else if (res.status === 404 && /has no snapshot/.test(await res.clone().text())) casLost++; // collected meanwhile
        else rec.fail(trial, `PUT stable ${current} -> ${to}: ${res.status} ${await res.text()}`);
      }
    };

    const deployer = async () => {
      let next = 2;
      let filler = 8;
      for (let k = 0; running(); k++) {
        await sleep(timing.deployEveryMs);
        if (!running()) break;
        const newVersion = k % 2 === 0 && next < versions.length;
        const files = newVersion ? [hello.get(versions[next])!] : [asset(fillers[filler++ % fillers.length])];
        const what = newVersion ? `${PACKAGE} ${versions[next]}` : `filler ${fillers[(filler - 1) % fillers.length]}`;
        const p = await txProc(remote, ['deploy', 'app', ...files, '--json'], { timeoutMs: 60_000 });
        rec.trials++;
        if (p.code !== 0) {
          rec.fail(`deploy ${what}`, describeProc(p));
          continue;
        }
        if (newVersion) next++;
        const out = JSON.parse(p.stdout) as { snapshot: string; unchanged: boolean };
        const id = out.unchanged ? undefined : out.snapshot;
        if (id) {
          await learn(id);
          deploys.push({ id, what });
        }
      }
    };

    const collector = async () => {
      for (let k = 0; running(); k++) {
        await sleep(timing.gcEveryMs);
        if (!running()) break;
        rec.trials++;
        if (k % 2 === 0) {
          const p = await txProc({ store }, ['gc', '--grace', timing.grace, '--json'], { timeoutMs: 60_000 });
          if (p.code !== 0) rec.fail(`gc ${k + 1} (CLI)`, describeProc(p));
          else {
            const r = JSON.parse(p.stdout) as { snapshots: unknown[]; blobs: number; bytes: number };
            gcRuns.push({ how: 'CLI', snapshots: r.snapshots.length, blobs: r.blobs, bytes: r.bytes });
          }
        } else {
          const res = await api('POST', 'gc', { grace: timing.grace });
          if (res.status !== 200) rec.fail(`gc ${k + 1} (API)`, `${res.status} ${await res.text()}`);
          else {
            const r = (await res.json()) as { snapshots: unknown[]; blobs: number; bytes: number };
            gcRuns.push({ how: 'API', snapshots: r.snapshots.length, blobs: r.blobs, bytes: r.bytes });
          }
        }
      }
    };

    const repos = { app: `${server.url}/repos/app/tags/stable/` };
    /** One dnf run, then what it left installed, checked against the packages built. */
    const dnfRun = async (loop: string, root: string, how: string, args: string[]) => {
      const trial = `${loop}: dnf ${args.join(' ')} (run ${runs.filter((r) => r.loop === loop).length + 1})`;
      rec.trials++;
      const start = Date.now();
      const r = await dnf(root, repos, args, { setopt: { metadata_expire: '0' }, timeoutMs: 120_000 });
      const end = Date.now();
      const entry: DnfRun = { loop, how, start, end, ok: r.code === 0 };
      runs.push(entry);
      if (r.code !== 0) {
        if (/checksum|corrupt|does not match/i.test(r.stdout + r.stderr)) mismatches++;
        rec.fail(trial, describeDnf(r));
        return;
      }
      const q = await run('rpm', ['--root', root, '-q', '--qf', '%{VERSION} %{SIGMD5}', PACKAGE], { env: dnfEnv() });
      const [version, sig] = q.stdout.trim().split(' ');
      if (q.code !== 0 || !version) {
        entry.ok = false;
        rec.fail(trial, `dnf succeeded but rpm -q ${PACKAGE} says: ${q.stdout}${q.stderr}`);
        return;
      }
      entry.installed = version;
      if (sig !== sigmd5.get(version)) rec.fail(trial, `installed ${PACKAGE}-${version} has header SIGMD5 ${sig}, the package built has ${sigmd5.get(version)}`);
      const content = await readFile(join(root, `usr/share/${PACKAGE}/build`), 'utf8').catch((e: Error) => e.message);
      if (content !== `${PACKAGE}-${version}-1\n`) rec.fail(trial, `/usr/share/${PACKAGE}/build holds ${JSON.stringify(content)}, not what ${PACKAGE}-${version}-1 was built with`);
      const verify = await run('rpm', ['--root', root, '-V', PACKAGE], { env: dnfEnv() });
      if (verify.code !== 0) rec.fail(trial, `rpm -V ${PACKAGE}: ${verify.stdout}${verify.stderr}`);
    };

    const freshInstalls = async () => {
      for (let i = 0; running(); i++) {
        const root = join(ctx.work, `fresh-${i}`);
        await dnfRun('fresh installs', root, 'install', ['install', PACKAGE]);
        await rm(root, { recursive: true, force: true });
      }
    };
    const distroSyncs = async () => {
      const root = join(ctx.work, 'kept');
      await dnfRun('distro-sync', root, 'install', ['install', PACKAGE]);
      // --refresh: metadata_expire=0 alone counts in whole seconds (libdnf: expired if
      // its age > 0 s), and on a fast machine a run that starts within the second of the
      // one before it would use that run's metadata, not the tag's current state.
      while (running()) await dnfRun('distro-sync', root, 'distro-sync', ['distro-sync', '--refresh', PACKAGE]);
      await rm(root, { recursive: true, force: true });
    };

    ctx.log(`dnf loops for ${timing.durationMs / 1000} s, grace ${timing.grace}`);
    try {
      await Promise.all([mover(), deployer(), collector(), freshInstalls(), distroSyncs()]);
    } finally {
      await server.stop();
    }

    // Each run left installed a version stable pointed at during it. A move's time is
    // taken just before its COMMIT: moves up to half a second before a run count.
    const history = await withLocal(store, (t) => t.tagHistory('app', 'stable'));
    const SLACK = 500;
    let movedDuring = 0;
    for (const r of runs.filter((r) => r.installed)) {
      const before = history.filter((m) => Date.parse(m.at) <= r.start - SLACK).at(-1);
      const during = history.filter((m) => Date.parse(m.at) > r.start - SLACK && Date.parse(m.at) <= r.end);
      if (during.length) movedDuring++;
      const pointed = [...(before ? [before.to] : []), ...during.map((m) => m.to)];
      const allowed = new Set(pointed.map((id) => versionOf.get(id)));
      if (!allowed.has(r.installed)) {
        rec.fail(
          `${r.loop}: ${r.how} at ${new Date(r.start).toISOString()}`,
          `installed ${PACKAGE}-${r.installed}; stable pointed at ${pointed.map((id) => `${id} (${versionOf.get(id)})`).join(', ')} during the run`,
        );
      }
    }
    const versionsInstalled = new Set(runs.map((r) => r.installed).filter(Boolean));
    if (versionsInstalled.size < 2) rec.fail('tags really moved', `every run installed the same version (${[...versionsInstalled].join(', ')})`);
    const removed = gcRuns.reduce((n, g) => n + g.snapshots, 0);
    if (removed === 0) rec.fail('gc under readers', 'gc removed no snapshot: retention was never exercised');
    await rec.check('fsck --verify-blobs at the end', async () => {
      const problems = await fsckProblems(store);
      if (problems.length) throw new Error(problems.join('\n'));
    });

    const times = runs.map((r) => r.end - r.start).sort((a, b) => a - b);
    const failed = runs.filter((r) => !r.ok).length;
    const byLoop = (loop: string) => runs.filter((r) => r.loop === loop);
    return {
      trials: rec.trials,
      faults: 0,
      failures: rec.failures,
      figures: [
        ['dnf runs (fresh installs / distro-syncs), 2 loops at once', `${runs.length} (${byLoop('fresh installs').length} / ${byLoop('distro-sync').length})`],
        ['failed dnf runs / checksum mismatches', `${failed} / ${mismatches}`],
        ['versions installed', [...versionsInstalled].sort((a, b) => parseFloat(a!) - parseFloat(b!)).join(', ')],
        ['runs during which stable moved (or up to 0.5 s before)', movedDuring],
        ['dnf run time p50 / p99 / max', `${ms(percentile(times, 50))} / ${ms(percentile(times, 99))} / ${ms(times.at(-1) ?? NaN)}`],
        ['tag moves / lost the race', `${moves} / ${casLost}`],
        ['deploys (new version / other packages)', `${deploys.length} (${deploys.filter((d) => d.what.startsWith(PACKAGE)).length} / ${deploys.filter((d) => !d.what.startsWith(PACKAGE)).length})`],
        ['gc runs (CLI / API) / snapshots removed / blobs removed', `${gcRuns.length} (${gcRuns.filter((g) => g.how === 'CLI').length} / ${gcRuns.filter((g) => g.how === 'API').length}) / ${removed} / ${gcRuns.reduce((n, g) => n + g.blobs, 0)}`],
        ['grace (server tag paths and gc)', timing.grace],
      ],
      tables: [
        {
          title: 'gc runs that removed something',
          table: {
            columns: ['run', 'how', 'snapshots', 'blobs', 'bytes'],
            rows: gcRuns.flatMap((g, i) => (g.snapshots || g.blobs ? [[i + 1, g.how, g.snapshots, g.blobs, g.bytes]] : [])),
          },
        },
      ],
    };
  },
};
