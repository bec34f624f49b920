// A sync's inspector job (common/worker-pool.ts): each small download hashed (sha256
// names its blob, the upstream's type verifies it), its record read from its bytes,
// its own digests verified, and the record serialized as the catalog stores it. That
// is most of a sync's CPU per package beside the download itself; on this thread it
// runs beside the one that runs the downloads. Started as a worker, this module serves
// batches; it loads the RPM reader and the catalog's row rule, not the store.

import { createHash } from 'node:crypto';
import { reportFailure, serveBatches, type BatchJob, type Outcome, type ReportedFailure } from '../common/worker-pool.ts';
import { readVerifiedBytes } from '../snapshots/verified.ts';
import { serializeRecord, type SerializedRecord } from '../store/rows.ts';

export interface InspectTask {
  /** The whole package file (copied to the worker: the caller stores it after). */
  bytes: Uint8Array;
  /** The hashes to take, sha256 first. */
  types: string[];
  /** What messages call it: the URL it came from. */
  name: string;
  /** The upstream's file time. */
  timeFile: number;
}

/**
 * The file's digests (of the task's types), and its record or why it has none: the
 * caller compares the digests with the upstream's before it believes either.
 */
export interface Inspected {
  digests: string[];
  record?: SerializedRecord;
  failure?: ReportedFailure;
}

function inspect(t: InspectTask): Outcome<Inspected> {
  try {
    const digests = t.types.map((type) => createHash(type).update(t.bytes).digest('hex'));
    try {
      return { ok: true, value: { digests, record: serializeRecord(readVerifiedBytes(t.bytes, t.name, { pkgid: digests[0], timeFile: t.timeFile })) } };
    } catch (e) {
      return { ok: true, value: { digests, failure: reportFailure(e) } };
    }
  } catch (e) {
    return { ok: false, failure: reportFailure(e) };
  }
}

export const inspectJob: BatchJob<InspectTask, Outcome<Inspected>[], Inspected> = {
  run: (tasks) => ({ reply: tasks.map(inspect) }),
  outcomes: (reply) => reply,
};

serveBatches(inspectJob, import.meta.url);
