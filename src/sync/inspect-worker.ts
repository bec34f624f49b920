// A sync's inspector job (common/worker-pool.ts): each small download's record read
// from its bytes, its own digests verified, and serialized as the catalog stores it.
// That is most of a sync's CPU per package beside the download itself; on this
// thread it runs beside the one that runs the downloads. Started as a worker, this
// module serves batches; it loads the RPM reader and the catalog's row rule, not the
// store.

import { reportFailure, serveBatches, type BatchJob, type Outcome } from '../common/worker-pool.ts';
import { readVerifiedBytes } from '../snapshots/verified.ts';
import { serializeRecord, type SerializedRecord } from '../store/rows.ts';

export interface InspectTask {
  /** The whole package file (copied to the worker: the caller stores it after). */
  bytes: Uint8Array;
  /** What messages call it: the URL it came from. */
  name: string;
  /** Its sha256, taken as it arrived. */
  pkgid: string;
  /** The upstream's file time. */
  timeFile: number;
}

function inspect(t: InspectTask): Outcome<SerializedRecord> {
  try {
    return { ok: true, value: serializeRecord(readVerifiedBytes(t.bytes, t.name, t)) };
  } catch (e) {
    return { ok: false, failure: reportFailure(e) };
  }
}

export const inspectJob: BatchJob<InspectTask, Outcome<SerializedRecord>[], SerializedRecord> = {
  run: (tasks) => ({ reply: tasks.map(inspect) }),
  outcomes: (reply) => reply,
};

serveBatches(inspectJob);
