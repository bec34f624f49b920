// createrepo's reader job (common/worker-pool.ts): reads packages and renders their
// XML chunks, so the main thread only orders, hashes and compresses. A batch of tasks
// comes in; its chunks go back packed in one buffer, by transfer (metadata/packed.ts).
// Started as a worker, this module serves batches.

import { packEach, renderPackage, unpackEach, type PackedParts, type RenderedPackage } from '../metadata/index.ts';
import { readPackageSync, type ChecksumType } from '../rpm/index.ts';
import { reportFailure, serveBatches, type BatchJob, type ReportedFailure } from '../common/worker-pool.ts';

export interface ReadTask {
  path: string;
  href: string;
  base?: string;
  checksumType: ChecksumType;
  changelogLimit: number;
}

/** The batch's chunks (primary, filelists, other), and each failed task's failure (the others have none). */
export interface BatchReply {
  parts: PackedParts;
  failures: (ReportedFailure | undefined)[];
}

/** Reads and renders one package: its primary, filelists and other chunks. */
function renderTask(t: ReadTask): (string | Uint8Array)[] | ReportedFailure {
  try {
    const r = readPackageSync(t.path, { checksumType: t.checksumType, locationHref: t.href, locationBase: t.base, changelogLimit: t.changelogLimit });
    const { primary, filelists, other } = renderPackage(r, t.changelogLimit);
    return [primary, filelists, other];
  } catch (e) {
    return reportFailure(e);
  }
}

export const readJob: BatchJob<ReadTask, BatchReply, RenderedPackage> = {
  run: (tasks) => {
    const reply = packEach(tasks, renderTask);
    return { reply, transfer: [reply.parts.buffer] };
  },
  outcomes: (reply) => unpackEach(reply, ([primary, filelists, other]) => ({ primary, filelists, other })),
};

serveBatches(readJob, import.meta.url);
