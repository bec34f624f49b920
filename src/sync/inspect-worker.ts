// A sync's inspector job (common/worker-pool.ts): each small download hashed (sha256
// names its blob, the upstream's type verifies it), its record read from its bytes,
// its own digests verified, the record serialized as the catalog stores it, and the
// bytes written to the store's staging file the caller names. That is most of a sync's
// CPU and file-system calls per package beside the download itself; on this thread it
// runs beside the one that runs the downloads. Started as a worker, this module serves
// batches; it loads the RPM reader and the catalog's row rule, not the store.

import { createHash } from 'node:crypto';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { atPath, writeAllSync } from '../common/index.ts';
import { reportFailure, serveBatches, type BatchJob, type Outcome, type ReportedFailure } from '../common/worker-pool.ts';
import { readVerifiedBytes } from '../snapshots/verified.ts';
import { serializeRecord, type SerializedRecord } from '../store/rows.ts';

export interface InspectTask {
  /**
   * The whole package file: transferred to the worker when `writeTo` is given (the
   * caller then no longer needs it), copied otherwise.
   */
  bytes: Uint8Array;
  /** The hashes to take, sha256 first. */
  types: string[];
  /** What messages call it: the URL it came from. */
  name: string;
  /** The upstream's file time. */
  timeFile: number;
  /**
   * A new file to write the bytes to once their record is read (a staging path of the
   * store, which the caller then adopts or removes), created read-only as a blob is.
   */
  writeTo?: string;
}

/**
 * The file's digests (of the task's types), and its record or why it has none: the
 * caller compares the digests with the upstream's before it believes either. `written`:
 * the bytes are in the task's `writeTo` (only with a record).
 */
export interface Inspected {
  digests: string[];
  record?: SerializedRecord;
  failure?: ReportedFailure;
  written?: boolean;
}

/**
 * Creates `path` holding `bytes`, not fsynced (the caller's blob batch makes it
 * durable); a failure leaves no file and names the path.
 */
function writeNew(path: string, bytes: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx', 0o444);
    writeAllSync(fd, bytes);
    closeSync(fd);
  } catch (e) {
    if (fd !== undefined) {
      closeSync(fd);
      unlinkSync(path);
    }
    throw atPath(e, path);
  }
}

function inspect(t: InspectTask): Outcome<Inspected> {
  try {
    const digests = t.types.map((type) => createHash(type).update(t.bytes).digest('hex'));
    let record: SerializedRecord;
    try {
      record = serializeRecord(readVerifiedBytes(t.bytes, t.name, { pkgid: digests[0], timeFile: t.timeFile }));
    } catch (e) {
      return { ok: true, value: { digests, failure: reportFailure(e) } };
    }
    if (t.writeTo === undefined) return { ok: true, value: { digests, record } };
    writeNew(t.writeTo, t.bytes);
    return { ok: true, value: { digests, record, written: true } };
  } catch (e) {
    return { ok: false, failure: reportFailure(e) };
  }
}

/** A task's bytes, when they are to be written here and fill their own buffer (a pooled slice is copied). */
function handedOver(t: InspectTask): ArrayBuffer | undefined {
  const { buffer, byteOffset, byteLength } = t.bytes;
  return t.writeTo !== undefined && buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? buffer : undefined;
}

export const inspectJob: BatchJob<InspectTask, Outcome<Inspected>[], Inspected> = {
  run: (tasks) => {
    const reply = tasks.map(inspect);
    // The records' bytes cross back by transfer (each its own buffer: TextEncoder's).
    return { reply, transfer: reply.flatMap((o) => (o.ok && o.value.record ? [o.value.record.json.buffer as ArrayBuffer] : [])) };
  },
  outcomes: (reply) => reply,
  transfer: (tasks) => tasks.map(handedOver).filter((b) => b !== undefined),
};

serveBatches(inspectJob, import.meta.url);
