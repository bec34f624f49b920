// Worker thread body: reads packages and renders their XML chunks, so the main thread
// only orders, hashes and compresses. A batch of tasks comes in; one ArrayBuffer with
// every chunk, UTF-8 encoded, goes back by transfer (no copy, no string cloning).

import { parentPort } from 'node:worker_threads';
import { renderPackage, type RenderedPackage } from '../metadata/index.ts';
import { readPackageSync, type ChecksumType } from '../rpm/index.ts';
import { kindOf, type FailureKind } from '../common/index.ts';

export interface ReadTask {
  id: number;
  path: string;
  href: string;
  base?: string;
  checksumType: ChecksumType;
  changelogLimit: number;
}

export type TaskOutcome = { id: number; ok: true; lengths: [number, number, number] } | { id: number; ok: false } & ReadFailure;

export interface BatchReply {
  buffer: ArrayBuffer;
  outcomes: TaskOutcome[];
}

/** A package that could not be read, as it crosses back from a worker: its kind with it. */
export interface ReadFailure {
  name: string;
  message: string;
  kind: FailureKind;
}

/** Reads and renders one package; errors come back as values, not exceptions. */
export function renderTask(t: ReadTask): RenderedPackage | ReadFailure {
  try {
    const r = readPackageSync(t.path, { checksumType: t.checksumType, locationHref: t.href, locationBase: t.base });
    return renderPackage(r, t.changelogLimit);
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message, kind: kindOf(err) };
  }
}

export function renderBatch(batch: ReadTask[]): BatchReply {
  const rendered = batch.map(renderTask);
  let total = 0;
  for (const r of rendered) if ('primary' in r) total += Buffer.byteLength(r.primary as string) + Buffer.byteLength(r.filelists as string) + Buffer.byteLength(r.other as string);
  const buffer = new ArrayBuffer(total);
  const bytes = Buffer.from(buffer);
  let at = 0;
  const outcomes = rendered.map((r, i): TaskOutcome => {
    const id = batch[i].id;
    if (!('primary' in r)) return { id, ok: false, ...r };
    const p = bytes.write(r.primary as string, at);
    const f = bytes.write(r.filelists as string, at + p);
    const o = bytes.write(r.other as string, at + p + f);
    at += p + f + o;
    return { id, ok: true, lengths: [p, f, o] };
  });
  return { buffer, outcomes };
}

parentPort?.on('message', (batch: ReadTask[]) => {
  const reply = renderBatch(batch);
  parentPort!.postMessage(reply, [reply.buffer]);
});
