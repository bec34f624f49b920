// createrepo's reader job (common/worker-pool.ts): reads packages and renders their
// XML chunks, so the main thread only orders, hashes and compresses. A batch of tasks
// comes in; its chunks go back packed in one buffer, by transfer (metadata/packed.ts).
// Started as a worker, this module serves batches.

import { packParts, renderPackage, unpackParts, type PackedParts, type RenderedPackage } from '../metadata/index.ts';
import { readPackageSync, type ChecksumType } from '../rpm/index.ts';
import { reportFailure, serveBatches, type BatchJob, type Outcome, type ReportedFailure } from '../common/worker-pool.ts';

export interface ReadTask {
  path: string;
  href: string;
  base?: string;
  checksumType: ChecksumType;
  changelogLimit: number;
}

/** The batch's chunks (primary, filelists, other), and each failed task's failure (the others have none). */
export interface BatchReply {
  texts: PackedParts;
  failures: (ReportedFailure | undefined)[];
}

/** Reads and renders one package. */
function renderTask(t: ReadTask): RenderedPackage | ReportedFailure {
  try {
    const r = readPackageSync(t.path, { checksumType: t.checksumType, locationHref: t.href, locationBase: t.base });
    return renderPackage(r, t.changelogLimit);
  } catch (e) {
    return reportFailure(e);
  }
}

export const readJob: BatchJob<ReadTask, BatchReply, RenderedPackage> = {
  run: (tasks) => {
    const done = tasks.map(renderTask);
    const texts = packParts(done.map((r) => ('primary' in r ? [r.primary, r.filelists, r.other] : undefined)));
    return { reply: { texts, failures: done.map((r) => ('primary' in r ? undefined : r)) }, transfer: [texts.buffer] };
  },
  outcomes: ({ texts, failures }) =>
    unpackParts(texts).map((parts, i): Outcome<RenderedPackage> => (parts ? { ok: true, value: { primary: parts[0], filelists: parts[1], other: parts[2] } } : { ok: false, failure: failures[i]! })),
};

serveBatches(readJob);
