// The repodata renderer's job (common/worker-pool.ts): a package page's records, as
// the catalog stores them, parsed and rendered into the page's primary, filelists and
// other texts, and each gzipped as a member of its own (repodata.ts), all packed in
// one buffer that comes back by transfer (metadata/packed.ts). The calling thread
// keeps the catalog reads and the blob writes. Started as a worker, this module
// serves batches; it loads the renderer and the catalog's row rule, not the store.

import { gzipSync } from 'node:zlib';
import { packEach, renderPackage, unpackEach, type PackedParts } from '../metadata/index.ts';
import { toPackageRecord } from '../store/rows.ts';
import { reportFailure, serveBatches, type BatchJob, type ReportedFailure } from '../common/worker-pool.ts';

/** The gzip of every member of a snapshot's metadata files. */
export const MEMBER_GZIP = { level: 6 };

export interface RenderTask {
  /** Each package's record as the catalog stores it, in the page's order. */
  records: string[];
  /** Each package's href in the snapshot. */
  hrefs: string[];
  changelogLimit: number;
}

/** A rendered page: its primary, filelists and other texts, and their gzip members, in that order. */
export interface RenderedPage {
  plain: Buffer[];
  compressed: Buffer[];
}

export interface RenderReply {
  parts: PackedParts;
  failures: (ReportedFailure | undefined)[];
}

function renderParts(t: RenderTask): Buffer[] | ReportedFailure {
  try {
    const text = { primary: [] as string[], filelists: [] as string[], other: [] as string[] };
    for (const [i, record] of t.records.entries()) {
      const r = renderPackage({ ...toPackageRecord(record), locationHref: t.hrefs[i] }, t.changelogLimit);
      text.primary.push(r.primary as string);
      text.filelists.push(r.filelists as string);
      text.other.push(r.other as string);
    }
    const plain = [text.primary, text.filelists, text.other].map((texts) => Buffer.from(texts.join('')));
    return [...plain, ...plain.map((p) => gzipSync(p, MEMBER_GZIP))];
  } catch (e) {
    return reportFailure(e);
  }
}

export const renderJob: BatchJob<RenderTask, RenderReply, RenderedPage> = {
  run: (tasks) => {
    const reply = packEach(tasks, renderParts);
    return { reply, transfer: [reply.parts.buffer] };
  },
  outcomes: (reply) => unpackEach(reply, (p) => ({ plain: p.slice(0, 3), compressed: p.slice(3) })),
};

serveBatches(renderJob, import.meta.url);
