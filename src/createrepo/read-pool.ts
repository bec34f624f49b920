// A pool of worker threads that read packages and render their metadata chunks.
// Small jobs run inline: starting a worker costs more than reading a few packages.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { renderTask, type ReadResult, type ReadTask } from './read-worker.ts';

export type Rendered = Extract<ReadResult, { ok: true }>;

/** An error carried back from a worker, with its original name and message. */
export class WorkerReportedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const INLINE_BELOW = Number(process.env.TXREPO_INLINE_BELOW ?? 64);
const BATCH = 8;

export class ReadPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: Rendered) => void; reject: (e: Error) => void }>();
  private queue: { task: ReadTask }[] = [];
  private inFlight = new Map<Worker, number>();
  private nextId = 0;
  private dispatchScheduled = false;

  constructor(jobSize: number, workers: number) {
    const threads = jobSize < INLINE_BELOW ? 0 : Math.max(1, Math.min(workers, availableParallelism()));
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./read-worker.ts', import.meta.url));
      w.on('message', (results: ReadResult[]) => {
        this.inFlight.set(w, (this.inFlight.get(w) ?? 0) - results.length);
        for (const r of results) this.settle(r);
        this.dispatch();
      });
      w.on('error', (e) => {
        for (const { reject } of this.waiting.values()) reject(e);
        this.waiting.clear();
      });
      this.inFlight.set(w, 0);
      this.workers.push(w);
    }
  }

  private settle(r: ReadResult) {
    const p = this.waiting.get(r.id);
    if (!p) return;
    this.waiting.delete(r.id);
    if (r.ok) p.resolve(r);
    else p.reject(new WorkerReportedError(r.name, r.message));
  }

  /** Keeps every worker a couple of batches ahead. */
  private dispatch() {
    for (const w of this.workers) {
      while (this.queue.length && (this.inFlight.get(w) ?? 0) < 2 * BATCH) {
        const batch = this.queue.splice(0, BATCH).map((q) => q.task);
        this.inFlight.set(w, (this.inFlight.get(w) ?? 0) + batch.length);
        w.postMessage(batch);
      }
    }
  }

  render(task: Omit<ReadTask, 'id'>): Promise<Rendered> {
    const id = this.nextId++;
    const full = { ...task, id };
    if (this.workers.length === 0) {
      const r = renderTask(full);
      return r.ok ? Promise.resolve(r) : Promise.reject(new WorkerReportedError(r.name, r.message));
    }
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queue.push({ task: full });
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
