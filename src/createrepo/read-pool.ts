// createrepo's reader threads (read-worker.ts on common/worker-pool.ts): packages read
// and rendered in batches. Small jobs run inline: starting a worker costs more than
// reading a few packages.

import { WorkerPool } from '../common/worker-pool.ts';
import type { RenderedPackage } from '../metadata/index.ts';
import { readJob, type BatchReply, type ReadTask } from './read-worker.ts';

/**
 * Below this many packages to read, threads cost more than they save: a reader
 * thread takes about 40 ms of CPU and 30 MiB to start, and the calling thread reads
 * a small package in about 0.3 ms (measured on 2 cores for issue 19).
 */
export const INLINE_BELOW = 256;

export type ReadPool = WorkerPool<ReadTask, BatchReply, RenderedPackage>;

/**
 * `threads` readers (0: every package is read on the calling thread). They start now,
 * or with `startAfter`, once that many packages were read inline: an --update that
 * reads a handful of packages never pays for them.
 */
export function startReaders(threads: number, startAfter = 0): ReadPool {
  return new WorkerPool(new URL('./read-worker.ts', import.meta.url), readJob, { threads, startAfter, batch: 24, inFlight: 3, selfBatch: 4 });
}
