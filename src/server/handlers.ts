// The handlers of /api/v1, one per route of the table (src/api/routes.ts), grouped by
// resource. Fastify has checked the query and body against the route's schemas; a
// handler adds only the rules of the server's (a client names only http(s) URLs: the
// server never reads its own files for it) and calls the core.

import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { openApiDocument, type RouteId } from '../api/index.ts';
import { PROGRESS_MEDIA_TYPE, type CreateRepoRequest, type LocalTxrepo, type Progress, type UpdateRepoRequest } from '../core/index.ts';
import { maskCredentials } from '../common/index.ts';
import { isRepoUrl } from '../snapshots/index.ts';
import type { BlobInfo, Store } from '../store/index.ts';
import { failure, HttpError, type Explain } from './http.ts';

/** A request, as a handler sees it. */
export interface Call {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** The JSON body, checked against the route's schema; null fields left out. */
  body: Record<string, unknown>;
  /** The core, acting as the request's token (and the client it names). */
  tx: LocalTxrepo;
  store: Store;
  maxUpload: number;
  request: FastifyRequest;
  reply: FastifyReply;
  explain?: Explain;
}

/** What a handler answers: a value, with the table's status unless it says another. */
export interface Answer {
  value?: unknown;
  status?: number;
}

type Handler = (call: Call) => Promise<Answer>;

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const answer = (value: unknown, status?: number): Answer => ({ value, status });
/** The handler answered itself (a stream of progress lines). */
const ANSWERED: Answer = {};


function urlsOnly(values: string[], what: string): string[] {
  for (const v of values) if (!isRepoUrl(v)) throw new HttpError('invalid_input', `${what} ${JSON.stringify(maskCredentials(v))}: the server only takes http(s) URLs (upload local packages: PUT /api/v1/blobs/SHA256)`);
  return values;
}

/** Whether the client asked to follow a long operation's progress (Accept: PROGRESS_MEDIA_TYPE). */
function wantsProgress(call: Call): boolean {
  return String(call.request.headers.accept ?? '')
    .split(',')
    .some((range) => {
      const [type, ...params] = range.split(';').map((s) => s.trim());
      return type === PROGRESS_MEDIA_TYPE && !params.some((p) => /^q=0(\.0*)?$/.test(p));
    });
}

/** Reports sent per stage, at most: enough for a progress bar, few lines for a long sync. */
const REPORT_INTERVAL_MS = 200;

/**
 * The result of a long operation; a client that asked for its progress gets it as it
 * goes, one JSON object a line: {"progress": {...}} reports (a stage's first and last,
 * and one each REPORT_INTERVAL_MS between), then {"status": S, "result": ...} or
 * {"status": S, "error": {...}}. That HTTP status is 200: it goes out before the
 * outcome is known, so the outcome's status is in the last line.
 */
async function long<T>(call: Call, status: number, run: (progress?: Progress) => Promise<T>): Promise<Answer> {
  if (!wantsProgress(call)) return answer(await run());
  const res = call.reply.hijack().raw;
  res.writeHead(200, { 'content-type': `${PROGRESS_MEDIA_TYPE}; charset=utf-8`, 'cache-control': 'no-store' });
  // A client that went away misses the rest; the operation still completes, as without progress.
  const line = (value: unknown) => {
    if (!res.destroyed && !res.writableEnded) res.write(JSON.stringify(value) + '\n');
  };
  let stage: string | undefined;
  let sentAt = 0;
  const progress: Progress = (r) => {
    const now = Date.now();
    if (r.stage === stage && r.done < r.total && now - sentAt < REPORT_INTERVAL_MS) return;
    stage = r.stage;
    sentAt = now;
    line({ progress: r });
  };
  try {
    line({ status, result: await run(progress) });
  } catch (e) {
    const { status: failed, body } = failure(call.request.raw, e as Error, call.explain);
    line({ status: failed, ...body });
  }
  res.end();
  return ANSWERED;
}

/** A blob as the API names it: by its sha256, like uploads and manifests. */
function blobView(b: BlobInfo): { sha256: string; size: number } {
  return { sha256: b.digest, size: b.size };
}

const str = (body: Record<string, unknown>, name: string) => body[name] as string | undefined;
const num = (body: Record<string, unknown>, name: string) => body[name] as number | undefined;
const bool = (body: Record<string, unknown>, name: string) => body[name] as boolean | undefined;

const server: Pick<Record<RouteId, Handler>, 'health' | 'openapi'> = {
  async health({ store }) {
    // For load balancers: this server reaches its catalog and its blob store.
    const check = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        return 'ok';
      } catch (e) {
        return `${what}: ${(e as Error).message}`;
      }
    };
    const catalog = await check('catalog', () => store.catalog.listRepos());
    const blobs = await check('blobs', () => store.blobs.stat('0'.repeat(64)));
    return answer({ catalog, blobs }, catalog === 'ok' && blobs === 'ok' ? 200 : 503);
  },
  async openapi() {
    return answer(openApiDocument(VERSION));
  },
};

const repos: Pick<Record<RouteId, Handler>, 'listRepos' | 'createRepo' | 'updateRepo' | 'showRepo' | 'deleteRepo' | 'deploy' | 'sync' | 'remove' | 'copy'> = {
  listRepos: async ({ tx }) => answer(await tx.listRepos()),
  async createRepo({ tx, body }) {
    const upstream = str(body, 'upstream');
    if (upstream !== undefined) urlsOnly([upstream], 'upstream');
    return answer(await tx.createRepo({ name: str(body, 'name')!, upstream, keep: num(body, 'keep'), retainLast: num(body, 'retainLast'), retainDays: num(body, 'retainDays'), requireSigned: body.requireSigned as string[] | undefined, filter: body.filter as CreateRepoRequest['filter'] }));
  },
  async updateRepo({ tx, params, request }) {
    // Here null means "clear it": read from the body as sent, nulls kept.
    const sent = request.body as Record<string, unknown>;
    const field = <T>(name: string) => (sent[name] === undefined ? {} : { [name]: sent[name] as T | null });
    if (typeof sent.upstream === 'string') urlsOnly([sent.upstream], 'upstream');
    return answer(await tx.updateRepo({ name: params.repo, ...field<string>('upstream'), ...field<number>('keep'), ...field<number>('retainLast'), ...field<number>('retainDays'), ...field<string[]>('requireSigned'), ...field<UpdateRepoRequest['filter']>('filter') }));
  },
  showRepo: async ({ tx, params }) => answer(await tx.showRepo(params.repo)),
  deleteRepo: async ({ tx, params }) => answer(await tx.deleteRepo(params.repo)),
  async deploy(call) {
    const { tx, params, body } = call;
    const request = { repo: params.repo, sources: urlsOnly((body.sources as string[] | undefined) ?? [], 'source'), uploads: (body.uploads as { sha256: string; fileName: string }[] | undefined) ?? [], message: str(body, 'message') };
    return long(call, 201, (progress) => tx.deploy(request, progress));
  },
  async sync(call) {
    const { tx, params, body } = call;
    const from = str(body, 'from');
    if (from !== undefined) urlsOnly([from], 'from');
    const request = { repo: params.repo, from, mirror: bool(body, 'mirror'), parallel: num(body, 'parallel'), message: str(body, 'message') };
    return long(call, 200, (progress) => tx.sync(request, progress));
  },
  remove: async ({ tx, params, body }) => answer(await tx.remove({ repo: params.repo, patterns: body.patterns as string[], message: str(body, 'message'), dryRun: bool(body, 'dryRun') })),
  copy: async ({ tx, params, body }) =>
    answer(await tx.copy({ from: str(body, 'from')!, repo: params.repo, patterns: body.patterns as string[], withDeps: bool(body, 'withDeps'), message: str(body, 'message'), dryRun: bool(body, 'dryRun') })),
};

const snapshots: Pick<Record<RouteId, Handler>, 'snapshots' | 'showSnapshot' | 'diff' | 'tags' | 'tag' | 'history'> = {
  snapshots: async ({ tx, params }) => answer(await tx.snapshots(params.repo)),
  showSnapshot: async ({ tx, params, query }) => answer(await tx.showSnapshot(params.repo, params.ref, { files: query.files === '1' })),
  diff: async ({ tx, query }) => answer(await tx.diff(query.a!, query.b!)),
  tags: async ({ tx, params }) => answer(await tx.tags(params.repo)),
  tag: async ({ tx, params, body }) => answer(await tx.tag({ repo: params.repo, tag: params.tag, ref: str(body, 'ref')!, expect: str(body, 'expect'), reason: str(body, 'reason') })),
  history: async ({ tx, params, query }) => answer(await tx.tagHistory(params.repo, query.tag)),
};

const sets: Pick<Record<RouteId, Handler>, 'listSets' | 'createSet' | 'showSet' | 'extendSet' | 'keepSet' | 'releaseSet' | 'promote'> = {
  listSets: async ({ tx }) => answer(await tx.listSets()),
  createSet: async ({ tx, body }) => answer(await tx.createSet({ refs: body.refs as string[], label: str(body, 'label'), ttl: str(body, 'ttl') })),
  showSet: async ({ tx, params }) => answer(await tx.showSet(params.set)),
  extendSet: async ({ tx, params, body }) => answer(await tx.extendSet(params.set, str(body, 'ttl')!)),
  keepSet: async ({ tx, params }) => answer(await tx.keepSet(params.set)),
  releaseSet: async ({ tx, params }) => answer(await tx.releaseSet(params.set)),
  promote: async ({ tx, params, body }) => answer(await tx.promote({ set: params.set, tag: str(body, 'tag')!, force: bool(body, 'force'), reason: str(body, 'reason') })),
};

const blobs: Pick<Record<RouteId, Handler>, 'hasBlob' | 'upload'> = {
  async hasBlob({ store, params }) {
    const info = /^[0-9a-f]{64}$/.test(params.sha256) ? await store.blobs.stat(params.sha256) : undefined;
    if (!info) throw new HttpError('not_found', `no blob ${params.sha256}`);
    return answer(blobView(info));
  },
  async upload({ store, params, request, maxUpload }) {
    const digest = params.sha256;
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new HttpError('invalid_input', `${JSON.stringify(digest)} is not a sha256 digest (64 lowercase hex digits)`);
    const length = Number(request.headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0) throw new HttpError('length_required', 'give the Content-Length of the upload');
    if (length > maxUpload) throw new HttpError('too_large', `the upload is ${length} bytes, more than the ${maxUpload} this server takes (its serve --max-upload)`);
    // Verified as it is written: a body that does not hash to its name stores nothing.
    return answer(blobView(await store.blobs.putStream(request.raw, { digest, size: length })));
  },
};

const store: Pick<Record<RouteId, Handler>, 'gc' | 'fsck' | 'log'> = {
  gc: async ({ tx, body }) => answer(await tx.gc({ dryRun: bool(body, 'dryRun'), grace: str(body, 'grace') })),
  fsck: async ({ tx, query }) => answer(await tx.fsck({ verifyBlobs: query.verifyBlobs === '1' })),
  log: async ({ tx, query }) => answer(await tx.log({ repo: query.repo, limit: query.limit === undefined ? undefined : Number(query.limit) })),
};

/** Every route's handler: the type makes one missing from the table, or one too many, a compile error. */
export const HANDLERS: Record<RouteId, Handler> = { ...server, ...repos, ...snapshots, ...sets, ...blobs, ...store };
