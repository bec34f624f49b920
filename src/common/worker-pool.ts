// Worker threads for CPU work the calling thread would otherwise do between its I/O:
// createrepo's readers (reading packages, rendering their XML) and a sync's inspector
// (reading each download's headers, verifying its digests). Tasks travel in batches;
// small jobs run inline, because starting a worker costs more than a few tasks.
//
// A job is one module that both sides import: the pool runs its batches inline, the
// worker thread (that module, started as a worker) runs them through serveBatches().
// Only a worker the pool started for that module serves: the module is also imported
// by code that may itself run in someone's worker thread (a test's probe reading the
// store), whose messages are not batches.

import { availableParallelism } from 'node:os';
import { parentPort, Worker, workerData, type Transferable } from 'node:worker_threads';
import { Failure, kindOf, type FailureKind } from './failures.ts';

/**
 * A task that failed, as it crosses back from a worker: its error's name, message and
 * kind, and a system error's code and file (what its message to the user is made of).
 */
export interface ReportedFailure {
  name: string;
  message: string;
  kind: FailureKind;
  code?: string;
  path?: string;
}

/** A task's outcome: its value, or its failure (errors come back as values, not exceptions). */
export type Outcome<R> = { ok: true; value: R } | { ok: false; failure: ReportedFailure };

/** An error carried back from a worker, with its original name, message and kind. */
export class WorkerReportedError extends Failure {
  readonly kind: FailureKind;
  readonly code?: string;
  readonly path?: string;
  constructor(reported: ReportedFailure) {
    super(reported.message);
    this.name = reported.name;
    this.kind = reported.kind;
    if (reported.code !== undefined) this.code = reported.code;
    if (reported.path !== undefined) this.path = reported.path;
  }
}

export function reportFailure(e: unknown): ReportedFailure {
  const err = e as NodeJS.ErrnoException;
  const reported: ReportedFailure = { name: err.name, message: err.message, kind: kindOf(err) };
  if (typeof err.code === 'string' && typeof err.path === 'string') Object.assign(reported, { code: err.code, path: err.path });
  return reported;
}

/** What a pool's two sides share: how a batch is done, and how its reply is read. */
export interface BatchJob<T, B, R> {
  /** Does a batch; returns what crosses back, and what of it is transferred (not copied). */
  run(tasks: T[]): { reply: B; transfer?: Transferable[] };
  /** The outcomes of a reply, in the order of its tasks. */
  outcomes(reply: B): Outcome<R>[];
  /** What of a batch of tasks is transferred to the worker, not copied (the caller no longer needs it). */
  transfer?(tasks: T[]): Transferable[];
}

/** What a pool's worker is told: the job module it was started for. */
const JOB_MODULE = 'txrepoBatchJob';

/**
 * In the job's module (`moduleUrl`: its import.meta.url): when a pool started it as a
 * worker for this job, answer each batch the pool sends.
 */
export function serveBatches<T, B>(job: Pick<BatchJob<T, B, unknown>, 'run'>, moduleUrl: string): void {
  if ((workerData as Record<string, unknown> | null)?.[JOB_MODULE] !== moduleUrl) return;
  parentPort?.on('message', (tasks: T[]) => {
    const { reply, transfer } = job.run(tasks);
    parentPort!.postMessage(reply, transfer ?? []);
  });
}

export interface PoolOptions {
  /** Worker threads (0: every task runs on the calling thread). */
  threads: number;
  /** Start the threads once this many tasks ran inline (default 0: at once). */
  startAfter?: number;
  /** Tasks sent to a worker at most per message. */
  batch: number;
  /** Batches a worker holds at most: it never waits for the next, and work stays spread. */
  inFlight: number;
  /** Tasks the calling thread takes at a time when every worker is full (small: its event loop stays responsive). */
  selfBatch: number;
}

type Waiter<R> = { resolve: (r: R) => void; reject: (e: Error) => void };

interface Thread<R> {
  worker: Worker;
  /** The batches sent and not answered, oldest first: a worker answers in order. */
  pending: Waiter<R>[][];
}

/**
 * Worker threads for a job: one fewer than the cores, because the calling thread
 * takes tasks too whenever the workers are busy, and has its own work (its I/O).
 */
export function threadsFor(wanted: number): number {
  return Math.max(1, Math.min(wanted, availableParallelism()) - 1);
}

export class WorkerPool<T, B, R> {
  private readonly threads: Thread<R>[] = [];
  private queue: { task: T; waiter: Waiter<R> }[] = [];
  private submitted = 0;
  private dispatchScheduled = false;
  private selfScheduled = false;
  private failure: Error | undefined;

  private readonly module: URL;
  private readonly job: BatchJob<T, B, R>;
  private readonly opts: PoolOptions;

  /** `module`: the job's module, started as each worker. */
  constructor(module: URL, job: BatchJob<T, B, R>, opts: PoolOptions) {
    this.module = module;
    this.job = job;
    this.opts = opts;
    if (!opts.startAfter) this.spawnAll();
  }

  private spawnAll() {
    for (let i = 0; i < this.opts.threads; i++) {
      const thread: Thread<R> = { worker: new Worker(this.module, { workerData: { [JOB_MODULE]: this.module.href } }), pending: [] };
      thread.worker.on('message', (reply: B) => {
        this.deliver(this.job.outcomes(reply), thread.pending.shift() ?? []);
        this.dispatch();
      });
      thread.worker.on('error', (e) => this.fail(e));
      this.threads.push(thread);
    }
  }

  private fail(e: Error) {
    this.failure = e;
    for (const t of this.threads) for (const w of t.pending.flat()) w.reject(e);
    for (const { waiter } of this.queue) waiter.reject(e);
    for (const t of this.threads) t.pending = [];
    this.queue = [];
  }

  private deliver(outcomes: Outcome<R>[], waiters: Waiter<R>[]) {
    for (const [i, o] of outcomes.entries()) {
      if (o.ok) waiters[i]?.resolve(o.value);
      else waiters[i]?.reject(new WorkerReportedError(o.failure));
    }
  }

  /**
   * Keeps every worker a few batches ahead; when they all are, runs a small batch on
   * this thread and comes back later (setImmediate) so that I/O callbacks still run.
   */
  private dispatch() {
    for (const t of this.threads) {
      while (this.queue.length && t.pending.length < this.opts.inFlight) {
        const batch = this.queue.splice(0, this.opts.batch);
        t.pending.push(batch.map((b) => b.waiter));
        const tasks = batch.map((b) => b.task);
        t.worker.postMessage(tasks, this.job.transfer?.(tasks) ?? []);
      }
    }
    if (this.queue.length && !this.selfScheduled) {
      this.selfScheduled = true;
      setImmediate(() => {
        this.selfScheduled = false;
        if (this.queue.length) this.runHere(this.queue.splice(0, this.opts.selfBatch));
        this.dispatch();
      });
    }
  }

  private runHere(batch: { task: T; waiter: Waiter<R> }[]) {
    this.deliver(
      this.job.outcomes(this.job.run(batch.map((b) => b.task)).reply),
      batch.map((b) => b.waiter),
    );
  }

  run(task: T): Promise<R> {
    const n = this.submitted++;
    if (this.threads.length === 0 && this.opts.threads > 0 && n >= (this.opts.startAfter ?? 0)) this.spawnAll();
    if (this.threads.length === 0) {
      const [o] = this.job.outcomes(this.job.run([task]).reply);
      return o.ok ? Promise.resolve(o.value) : Promise.reject(new WorkerReportedError(o.failure));
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ task, waiter: { resolve, reject } });
      // Tasks submitted in the same tick travel together.
      if (!this.dispatchScheduled) {
        this.dispatchScheduled = true;
        queueMicrotask(() => {
          this.dispatchScheduled = false;
          this.dispatch();
        });
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
