// Readers that measure how long reads take while writers run, each in a worker thread
// of its own so that the scenario's own work (spawning writers, parsing their output)
// does not show up as read latency:
//
//   local: opens the store in-process (world.ts withLocal: the core API), reads, closes.
//   http:  what a yum client reads through tag URLs of a server (writers.ts yumRead).
//
// Each read's time is also given less the time the threads doing it (this one, the
// thread pool that runs its file system calls, the server's main thread) waited for a
// CPU meanwhile: on a 2-core machine running
// a dozen writer processes that wait is most of a slow read, and it says nothing
// about txrepo. What is left ("held") is the read's own work and whatever held it up:
// a lock, I/O, a server's event loop busy with a writer's work.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { seeded } from './harness.ts';
import { withLocal } from './world.ts';
import { Latency, queuedMs, sleep, yumRead } from './writers.ts';

export interface ProbeResult {
  samples: number[];
  held: number[];
  at: number[];
  errors: string[];
  slowest: { ms: number; what: string };
  mostHeld: { ms: number; what: string };
  /** HTTP requests made (http probes). */
  requests: number;
}

export type ProbeJob = { kind: 'local'; store: string; repos: string[]; pauseMs: number } | { kind: 'http'; bases: string[]; serverPid: number; pauseMs: number; seed: number };

async function runLocal(job: Extract<ProbeJob, { kind: 'local' }>, lat: Latency, stopped: () => boolean): Promise<number> {
  while (!stopped()) {
    await lat.time('in-process read: open the store, then tags, snapshots and the files of latest of each repo', () =>
      withLocal(job.store, async (t) => {
        for (const repo of job.repos) {
          await t.tags(repo);
          await t.snapshots(repo);
          await t.showSnapshot(repo, 'latest', { files: true });
        }
      }),
    );
    await sleep(job.pauseMs);
  }
  return 0;
}

async function runHttp(job: Extract<ProbeJob, { kind: 'http' }>, lat: Latency, stopped: () => boolean): Promise<number> {
  const random = seeded(job.seed);
  let requests = 0;
  // One client per base, as separate yum clients would be.
  await Promise.all(
    job.bases.map(async (base) => {
      while (!stopped()) {
        requests += await yumRead(base, lat, random);
        await sleep(job.pauseMs);
      }
    }),
  );
  return requests;
}

if (!isMainThread && (workerData as { readProbe?: ProbeJob })?.readProbe) {
  const job = (workerData as { readProbe: ProbeJob }).readProbe;
  let stop = false;
  parentPort!.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  const lat = new Latency(job.kind === 'local' ? () => queuedMs('self', 'libuv') : () => queuedMs('self', String(job.serverPid)));
  const requests = job.kind === 'local' ? await runLocal(job, lat, () => stop) : await runHttp(job, lat, () => stop);
  const result: ProbeResult = { samples: lat.samples, held: lat.held, at: lat.at, errors: lat.errors, slowest: lat.slowest, mostHeld: lat.mostHeld, requests };
  parentPort!.postMessage(result);
}

/** Starts a probe in a worker thread; `stop()` ends it and gives its reads as a Latency. */
export function startProbe(job: ProbeJob): { stop(): Promise<{ lat: Latency; requests: number }> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: { readProbe: job } });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    worker.once('message', (m) => resolve(m as ProbeResult));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`read probe exited ${code} without a result`)));
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      const lat = new Latency();
      lat.samples.push(...r.samples);
      lat.held.push(...r.held);
      lat.at.push(...r.at);
      lat.errors.push(...r.errors);
      lat.slowest = r.slowest;
      lat.mostHeld = r.mostHeld;
      return { lat, requests: r.requests };
    },
  };
}
