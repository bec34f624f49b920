// The server under parallel dnf-like download load, while a writer commits: N clients
// (reliability/lib/load-client.ts) loop on one keep-alive connection each over a tag
// URL of `txrepo serve` on loopback, verifying every answer, while a writer deploys
// packages and moves the tag they read. Errors of any kind fail the scenario; the
// throughput, latencies and the server's memory are reported (and its memory bounded).

import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { MANY_CLIENTS, serve } from '../../test/helpers/serve.ts';
import { buildBigRpm } from '../lib/big-rpm.ts';
import { mib, ms, percentile, Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { KINDS, runLoad } from '../lib/load-client.ts';
import { asset, assetRpms, fsckProblems, mustTx, procMemory, tx } from '../lib/world.ts';
import { createHash } from 'node:crypto';

/**
 * Bounds on the server's memory. Peak resident size: the server holds at most 64
 * pooled 512 KiB read buffers (server/files.ts) and each of the CLIENTS connections at
 * most a 512 KiB chunk in flight beyond its socket's 512 KiB high-water mark, its lookup
 * caches are bounded LRUs (snapshots/lookup.ts), and Node itself takes ~70 MiB, with a
 * V8 heap that keeps tens of MiB of freed memory committed under a high allocation
 * rate (a 5-minute soak of this load: resident size 120 -> 170 MiB, live heap flat at
 * 13 MiB); 384 MiB leaves room for that and catches anything that scales with the
 * load. Growth: the live heap after a full garbage collection (heap-probe.ts) at the
 * end of the run against the end of the warm-up; a leak of even 1 KiB per request
 * would grow it by several MiB over the run's thousands of requests, while the caches
 * of this small repo stay far below it.
 */
const PEAK_BOUND = 384 * 2 ** 20;
const LIVE_GROWTH_BOUND = 16 * 2 ** 20;
const CLIENTS = 32;

/** The server's time per request, by kind, from its access log lines. */
function serverTimes(log: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of log) {
    const m = /"(GET|HEAD) (\S+)" (\d+) \d+ ([\d.]+)ms$/.exec(line);
    if (!m) continue;
    const [, method, path, status] = m;
    const kind =
      method === 'HEAD' ? 'package HEAD'
      : status === '304' ? 'repomd.xml (304)'
      : path.endsWith('/repomd.xml') ? 'repomd.xml'
      : path.endsWith('primary.xml.gz') ? 'primary.xml.gz'
      : status === '206' ? 'package Range'
      : 'package GET';
    let list = out.get(kind);
    if (!list) out.set(kind, (list = []));
    list.push(Number(m[4]));
  }
  return out;
}

export const load: Scenario = {
  name: 'load',
  title: 'Parallel downloads under load',
  about:
    `${CLIENTS} dnf-like clients written with node:http, one keep-alive connection each, loop on \`txrepo serve\` over loopback for a bounded time: repomd.xml through a tag URL ` +
    '(revalidated with If-None-Match half of the time), primary.xml.gz when it changed, then packages as whole downloads, Range requests (first-last, first-, -suffix), ' +
    'HEADs and a few downloads abandoned half-way (the connection closed). Every whole download is checked against the sha256 and size primary.xml lists, every range ' +
    'against the bytes of the deployed file, every HEAD against the size and ETag. Meanwhile a writer deploys packages, moves the tag the clients read and runs gc now ' +
    'and then, so downloads run across commits and tag moves (a client that read repomd.xml just ' +
    'before a move must still get every file it lists). Any error status, checksum mismatch, stall or connection error fails the scenario; so does the server\'s ' +
    'memory exceeding its bound or growing between the end of the warm-up and the end of the run.',

  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const full = ctx.scale === 'full';
    const seconds = full ? 90 : 20;
    const store = join(ctx.work, 'store');

    // Packages: the fixtures, plus bigger ones built with rpmbuild (random bytes).
    const fixtures = await assetRpms();
    const bigDir = join(ctx.work, 'big');
    const big: string[] = [];
    const bigCount = full ? 10 : 6;
    ctx.log(`building ${bigCount} big packages`);
    for (let i = 0; i < bigCount; i++) {
      big.push(await buildBigRpm(bigDir, { name: `payload-${i}`, version: '1.0', release: '1', bytes: (1 + (i % 4)) * 2 ** 20 + Math.floor(ctx.random() * 65536), random: ctx.random }));
    }
    const local = new Map<string, Buffer>();
    for (const path of [...fixtures.map(asset), ...big]) {
      const bytes = await readFile(path);
      local.set(createHash('sha256').update(bytes).digest('hex'), bytes);
    }
    // The repo starts with every other fixture and the big packages; the writer deploys the rest.
    const initial = fixtures.filter((_, i) => i % 2 === 0).map(asset);
    const later = fixtures.filter((_, i) => i % 2 === 1).map(asset);
    await mustTx(store, ['repo', 'create', 'el9']);
    await mustTx(store, ['deploy', 'el9', ...initial, ...big, '-m', 'initial']);
    await mustTx(store, ['tag', 'el9', 'stable', 'latest']);

    // With its access log (as servers run): it gives the server's own time per request.
    // And with the heap probe: its live heap, on SIGUSR2 (serve() passes our environment on).
    const heapFile = join(ctx.work, 'heap.txt');
    // One process (--workers 1): the memory and heap measured are the server's, not a supervisor's.
    const server = await serve(store, [...MANY_CLIENTS, '--workers', '1'], {
      env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import=${join(import.meta.dirname, '../lib/heap-probe.ts')}`.trim(), TXREPO_HEAP_FILE: heapFile },
    });
    const pid = server.child.pid!;
    const serverErrors: string[] = [];
    server.child.stderr!.on('data', (d: string) => {
      if (!/listening on/.test(d)) serverErrors.push(d);
    });
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    ctx.log(`${CLIENTS} clients for ${seconds} s against ${server.url}`);

    /** The server's live heap after a full collection (heap-probe.ts). */
    const liveHeap = async (): Promise<number | undefined> => {
      const before = (await readFile(heapFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      try {
        process.kill(pid, 'SIGUSR2');
      } catch {
        return undefined; // the server is gone: reported below
      }
      for (let i = 0; i < 50; i++) {
        await sleep(100);
        const lines = (await readFile(heapFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
        if (lines.length > before) return Number(lines[lines.length - 1].split(' ')[0]);
      }
      return undefined;
    };
    let warmHeap: number | undefined;
    const warmHeapTaken = sleep(seconds * 250).then(async () => (warmHeap = await liveHeap()));

    // Memory of the server, sampled; the warm-up ends at a quarter of the run.
    let warmRss: number | undefined;
    let lastRss = 0;
    let peak = 0;
    const sampler = setInterval(() => {
      procMemory(pid).then(
        (m) => {
          lastRss = m.rss;
          peak = Math.max(peak, m.hwm);
          if (warmRss === undefined && performance.now() - t0 >= seconds * 250) warmRss = m.rss;
        },
        () => {},
      );
    }, 250);

    // The writer: deploys the remaining fixtures one by one, moving `stable` after each;
    // once they are all in, moves `stable` between the snapshots (a rollback and back).
    // It pauses between commits: a CLI run takes most of a core of this machine, which
    // the clients and the server share, and the point is commits during downloads.
    const writer = { deploys: 0, moves: 0, gcs: 0, deployMs: [] as number[] };
    const pause = () => new Promise((r) => setTimeout(r, 500));
    const writing = (async () => {
      let next = 0;
      while (performance.now() < until) {
        await pause();
        if (next < later.length) {
          const file = later[next++];
          const started = performance.now();
          const r = await tx(store, ['deploy', 'el9', file, '-m', `during load ${next}`]);
          writer.deployMs.push(performance.now() - started);
          if (r.code !== 0) rec.fail('writer: deploy during load', `deploy ${file} exited ${r.code}: ${r.stderr}`);
          else writer.deploys++;
          const t = await tx(store, ['tag', 'el9', 'stable', 'latest']);
          if (t.code !== 0) rec.fail('writer: tag move during load', `tag exited ${t.code}: ${t.stderr}`);
          else writer.moves++;
          // Now and then gc, as a cron job would: it must take nothing the clients can still ask for.
          if (next % 4 === 0) {
            const g = await tx(store, ['gc']);
            if (g.code !== 0) rec.fail('writer: gc during load', `gc exited ${g.code}: ${g.stderr}`);
            else writer.gcs++;
          }
        } else {
          const list = JSON.parse((await mustTx(store, ['snapshots', 'el9', '--json'])).stdout) as { id: string }[];
          const to = list[Math.floor(ctx.random() * list.length)].id;
          const t = await tx(store, ['tag', 'el9', 'stable', to, '--json']);
          if (t.code !== 0) rec.fail('writer: tag move during load', `tag exited ${t.code}: ${t.stderr}`);
          else writer.moves++;
        }
      }
    })().catch((e) => rec.fail('writer', (e as Error).stack ?? String(e)));

    let result: Awaited<ReturnType<typeof runLoad>>;
    let elapsed: number;
    let endHeap: number | undefined;
    let alive: boolean;
    try {
      result = await runLoad({ base: `${server.url}/repos/el9/tags/stable/`, clients: CLIENTS, until, random: ctx.random, perRound: 4, local });
      elapsed = (performance.now() - t0) / 1000;
      await writing;
      await warmHeapTaken;
      endHeap = await liveHeap();
      const end = await procMemory(pid).catch(() => undefined);
      if (end) {
        lastRss = end.rss;
        peak = Math.max(peak, end.hwm);
      }
      alive = server.child.exitCode === null && server.child.signalCode === null;
    } finally {
      clearInterval(sampler);
      await server.stop();
    }

    // Checks: every request answered right, the server alive and sound, memory bounded.
    rec.trials = result.rounds + writer.deploys + writer.moves + writer.gcs;
    if (result.errors) rec.fail(`${result.errors} of ${result.requests + result.errors} requests`, result.errorDetails.join('\n'));
    if (!alive) rec.fail('server', `txrepo serve died during the load: ${serverErrors.join('')}`);
    if (serverErrors.length) rec.fail('server log', serverErrors.join('').slice(0, 2000));
    if (result.requests === 0) rec.fail('load', 'no request completed');
    if (result.generations < 2) rec.fail('load', `the clients saw ${result.generations} version(s) of repomd.xml: the writer's tag moves did not reach them`);
    if (peak > PEAK_BOUND) rec.fail('server memory', `peak RSS (VmHWM) ${mib(peak)}, above the bound of ${mib(PEAK_BOUND)}`);
    if (warmHeap === undefined || endHeap === undefined) rec.fail('server memory', 'the heap probe did not answer (reliability/lib/heap-probe.ts)');
    else if (endHeap - warmHeap > LIVE_GROWTH_BOUND) {
      rec.fail('server memory', `the live heap grew from ${mib(warmHeap)} after the warm-up to ${mib(endHeap)} at the end (bound: +${mib(LIVE_GROWTH_BOUND)}): a leak`);
    }
    await rec.check('fsck after the load', async () => {
      const problems = await fsckProblems(store);
      if (problems.length) throw new Error(problems.join('\n'));
    });

    const sortedDeploys = [...writer.deployMs].sort((a, b) => a - b);
    const onServer = serverTimes(server.log);
    const rows = KINDS.map((k) => {
      const s = result.kinds[k];
      const l = [...s.latencies].sort((a, b) => a - b);
      const t = (onServer.get(k) ?? []).sort((a, b) => a - b);
      const p = (xs: number[], q: number) => (xs.length ? ms(percentile(xs, q)) : '-');
      return [k, s.count, mib(s.bytes), p(l, 50), p(l, 95), p(l, 99), l.length ? ms(l[l.length - 1]) : '-', `${p(t, 50)} / ${p(t, 99)}`];
    });
    return {
      trials: rec.trials,
      faults: 0,
      failures: rec.failures,
      figures: [
        ['clients (keep-alive connections)', CLIENTS],
        ['duration', `${elapsed.toFixed(1)} s`],
        ['requests', result.requests],
        ['requests/s', Math.round(result.requests / elapsed)],
        ['throughput', `${(result.bytes / 2 ** 20 / elapsed).toFixed(1)} MiB/s`],
        ['errors', `${result.errors} (${((100 * result.errors) / Math.max(1, result.requests + result.errors)).toFixed(3)} %)`],
        ['commits during the load', `${writer.deploys} deploys (p50 ${sortedDeploys.length ? ms(percentile(sortedDeploys, 50)) : '-'}), ${writer.moves} tag moves, ${writer.gcs} gc runs`],
        ['repomd.xml versions seen', result.generations],
        ['rounds finished on metadata the tag had left', result.staleRounds],
        ['server peak RSS (VmHWM)', mib(peak)],
        ['server RSS after warm-up / at end', `${warmRss === undefined ? '-' : mib(warmRss)} / ${mib(lastRss)}`],
        ['server live heap after warm-up / at end (after a full GC)', `${warmHeap === undefined ? '-' : mib(warmHeap)} / ${endHeap === undefined ? '-' : mib(endHeap)}`],
      ],
      tables: [
        {
          title: 'Latency per request kind: client side (request sent to last byte read), and the server\'s own time from its access log',
          table: { columns: ['kind', 'requests', 'bytes', 'p50', 'p95', 'p99', 'max', 'server p50 / p99'], rows },
        },
      ],
      notes: [
        `Store: ${fixtures.length} fixture packages and ${bigCount} packages of 1–4 MiB of random bytes; the clients read \`/repos/el9/tags/stable/\`, which the writer moves after each deploy.`,
        'The clients, their hashing and the writer share the machine with the server: the figures are those of the whole system on loopback, not of the server alone.',
        `Memory bounds: peak resident size ${mib(PEAK_BOUND)}; live heap growth from the end of the warm-up to the end of the run ${mib(LIVE_GROWTH_BOUND)} (see load.ts for why). Resident size is reported, not bounded by growth: V8 keeps freed heap committed.`,
      ],
    };
  },
};
