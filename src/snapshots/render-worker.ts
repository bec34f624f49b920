// The repodata renderer's job (common/worker-pool.ts): a package page's records, as
// the catalog stores them, parsed and rendered into the page's primary, filelists and
// other texts, packed in one buffer that comes back by transfer (metadata/packed.ts).
// The calling thread keeps the catalog reads, the gzip (on the thread pool) and the
// blob writes. Started as a worker, this module serves batches; it loads the renderer
// and the catalog's row rule, not the store.

import { packRendered, renderPackage, unpackRendered, type PackedTexts, type RenderedPackage } from '../metadata/index.ts';
import { toPackageRecord } from '../store/rows.ts';
import { reportFailure, serveBatches, type BatchJob, type Outcome, type ReportedFailure } from '../common/worker-pool.ts';

export interface RenderTask {
  /** Each package's record as the catalog stores it, in the page's order. */
  records: string[];
  /** Each package's href in the snapshot. */
  hrefs: string[];
  changelogLimit: number;
}

export interface RenderReply {
  texts: PackedTexts;
  failures: (ReportedFailure | undefined)[];
}

function renderTexts(t: RenderTask): RenderedPackage | ReportedFailure {
  try {
    const text = { primary: [] as string[], filelists: [] as string[], other: [] as string[] };
    for (const [i, record] of t.records.entries()) {
      const r = renderPackage({ ...toPackageRecord(record), locationHref: t.hrefs[i] }, t.changelogLimit);
      text.primary.push(r.primary as string);
      text.filelists.push(r.filelists as string);
      text.other.push(r.other as string);
    }
    return { primary: text.primary.join(''), filelists: text.filelists.join(''), other: text.other.join('') };
  } catch (e) {
    return reportFailure(e);
  }
}

export const renderJob: BatchJob<RenderTask, RenderReply, RenderedPackage> = {
  run: (tasks) => {
    const done = tasks.map(renderTexts);
    const texts = packRendered(done.map((r) => ('primary' in r ? r : undefined)));
    return { reply: { texts, failures: done.map((r) => ('primary' in r ? undefined : r)) }, transfer: [texts.buffer] };
  },
  outcomes: ({ texts, failures }) => unpackRendered(texts).map((value, i): Outcome<RenderedPackage> => (value ? { ok: true, value } : { ok: false, failure: failures[i]! })),
};

serveBatches(renderJob);
