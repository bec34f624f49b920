// createrepo's reader job (common/worker-pool.ts): reads packages and renders their
// XML chunks, so the main thread only orders, hashes and compresses. A batch of tasks
// comes in; one ArrayBuffer with every chunk, UTF-8 encoded, goes back by transfer
// (no copy, no string cloning). Started as a worker, this module serves batches.

import type { RenderedPackage } from '../metadata/index.ts';
import { renderPackage } from '../metadata/index.ts';
import { readPackageSync, type ChecksumType } from '../rpm/index.ts';
import { reportFailure, serveBatches, type BatchJob, type Outcome, type ReportedFailure } from '../common/worker-pool.ts';

export interface ReadTask {
  path: string;
  href: string;
  base?: string;
  checksumType: ChecksumType;
  changelogLimit: number;
}

export interface BatchReply {
  buffer: ArrayBuffer;
  /** Each task's chunk lengths (primary, filelists, other) in the buffer, in order, or its failure. */
  outcomes: ({ ok: true; lengths: [number, number, number] } | { ok: false; failure: ReportedFailure })[];
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

function renderBatch(batch: ReadTask[]): BatchReply {
  const rendered = batch.map(renderTask);
  let total = 0;
  for (const r of rendered) if ('primary' in r) total += Buffer.byteLength(r.primary as string) + Buffer.byteLength(r.filelists as string) + Buffer.byteLength(r.other as string);
  const buffer = new ArrayBuffer(total);
  const bytes = Buffer.from(buffer);
  let at = 0;
  const outcomes = rendered.map((r): BatchReply['outcomes'][number] => {
    if (!('primary' in r)) return { ok: false, failure: r };
    const p = bytes.write(r.primary as string, at);
    const f = bytes.write(r.filelists as string, at + p);
    const o = bytes.write(r.other as string, at + p + f);
    at += p + f + o;
    return { ok: true, lengths: [p, f, o] };
  });
  return { buffer, outcomes };
}

/** The chunks of a reply, cut from its one buffer. */
function unpack({ buffer, outcomes }: BatchReply): Outcome<RenderedPackage>[] {
  const bytes = Buffer.from(buffer);
  let at = 0;
  return outcomes.map((o) => {
    if (!o.ok) return o;
    const [p, f, l] = o.lengths;
    const value = { primary: bytes.subarray(at, at + p), filelists: bytes.subarray(at + p, at + p + f), other: bytes.subarray(at + p + f, at + p + f + l) };
    at += p + f + l;
    return { ok: true, value };
  });
}

export const readJob: BatchJob<ReadTask, BatchReply, RenderedPackage> = {
  run: (tasks) => {
    const reply = renderBatch(tasks);
    return { reply, transfer: [reply.buffer] };
  },
  outcomes: unpack,
};

serveBatches(readJob);
