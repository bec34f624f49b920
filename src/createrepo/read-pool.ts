// A pool of worker threads that read packages and render their metadata chunks.
// Small jobs run inline: starting a worker costs more than reading a few packages.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Failure, type FailureKind } from '../common/index.ts';
import type { RenderedPackage } from '../metadata/index.ts';
import { renderBatch, renderTask, type BatchReply, type ReadTask } from './read-worker.ts';

/** An error carried back from a worker, with its original name, message and kind. */
export class WorkerReportedError extends Failure {
  readonly kind: FailureKind;
  constructor(reported: { name: string; message: string; kind: FailureKind }) {
    super(reported.message);
    this.name = reported.name;
    this.kind = reported.kind;
  }
}

/**
 * Below this many packages to read, threads cost more than they save: a reader
 * thread takes about 40 ms of CPU and 30 MiB to start, and the calling thread reads
 * a small package in about 0.3 ms (measured on 2 cores for issue 19).
 */
export const INLINE_BELOW = 256;
const BATCH = 24;
const BATCHES_IN_FLIGHT = 3;
/** Smaller batches on the calling thread keep its event loop responsive. */
const SELF_BATCH = 4;

type Waiter = { resolve: (r: RenderedPackage) => void; reject: (e: Error) => void };

export class ReadPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiter>();
  private readonly inFlight = new Map<Worker, number>();
  private queue: ReadTask[] = [];
  private nextId = 0;
  private dispatchScheduled = false;
  private selfScheduled = false;
  private failure: Error | undefined;

  private readonly threads: number;
  private readonly startAfter: number;

  /**
   * `threads` workers (0: every package is read on the calling thread). They start
   * now, or with `startAfter`, once that many packages were read inline: an --update
   * that reads a handful of packages never pays for them.
   */
  constructor(threads: number, startAfter = 0) {
    this.threads = threads;
    this.startAfter = startAfter;
    if (startAfter === 0) for (let i = 0; i < threads; i++) this.spawn();
  }

  /**
   * Worker threads for a job: one fewer than the cores, because the calling thread
   * reads packages too whenever the workers are busy (it is otherwise idle, waiting).
   */
  static threadsFor(workers: number): number {
    return Math.max(1, Math.min(workers, availableParallelism()) - 1);
  }

  private spawn() {
    const w = new Worker(new URL('./read-worker.ts', import.meta.url));
    w.on('message', (reply: BatchReply) => {
      this.inFlight.set(w, (this.inFlight.get(w) ?? 0) - 1);
      this.deliver(reply);
      this.dispatch();
    });
    w.on('error', (e) => {
      this.failure = e;
      for (const { reject } of this.waiting.values()) reject(e);
      this.waiting.clear();
    });
    this.inFlight.set(w, 0);
    this.workers.push(w);
  }

  private deliver({ buffer, outcomes }: BatchReply) {
    {
      const bytes = Buffer.from(buffer);
      let at = 0;
      for (const o of outcomes) {
        const waiter = this.waiting.get(o.id);
        this.waiting.delete(o.id);
        if (!o.ok) {
          waiter?.reject(new WorkerReportedError(o));
          continue;
        }
        const [p, f, l] = o.lengths;
        waiter?.resolve({ primary: bytes.subarray(at, at + p), filelists: bytes.subarray(at + p, at + p + f), other: bytes.subarray(at + p + f, at + p + f + l) });
        at += p + f + l;
      }
    }
  }

  /**
   * Keeps every worker a few batches ahead; when they all are, reads one batch on
   * this thread and comes back later (setImmediate) so that I/O callbacks still run.
   */
  private dispatch() {
    for (const w of this.workers) {
      while (this.queue.length && (this.inFlight.get(w) ?? 0) < BATCHES_IN_FLIGHT) {
        this.inFlight.set(w, (this.inFlight.get(w) ?? 0) + 1);
        w.postMessage(this.queue.splice(0, BATCH));
      }
    }
    if (this.queue.length && !this.selfScheduled) {
      this.selfScheduled = true;
      setImmediate(() => {
        this.selfScheduled = false;
        if (this.queue.length) this.deliver(renderBatch(this.queue.splice(0, SELF_BATCH)));
        this.dispatch();
      });
    }
  }

  render(task: Omit<ReadTask, 'id'>): Promise<RenderedPackage> {
    const full = { ...task, id: this.nextId++ };
    if (this.workers.length === 0 && this.threads > 0 && full.id >= this.startAfter) {
      for (let i = 0; i < this.threads; i++) this.spawn();
    }
    if (this.workers.length === 0) {
      const r = renderTask(full);
      return 'primary' in r ? Promise.resolve(r) : Promise.reject(new WorkerReportedError(r));
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(full.id, { resolve, reject });
      this.queue.push(full);
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
