// /api/v1: every operation of the core as JSON (see docs/http-api.md). Reads are
// anonymous; changes need a bearer token (`txrepo token create`). A remote client can
// only name http(s) URLs as sources: the server never reads its own files for it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { LocalTxrepo, PROGRESS_MEDIA_TYPE, type Progress } from '../core/index.ts';
import type { BlobInfo, Store, TokenInfo } from '../store/index.ts';
import { failure, field, HttpError, query, readJson, sendJson } from './http.ts';

export interface ApiContext {
  store: Store;
  /** Largest package upload accepted. */
  maxUpload: number;
}

const URL_ONLY = /^https?:\/\//i;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function authenticate(req: IncomingMessage, store: Store): Promise<TokenInfo> {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!m) throw new HttpError(401, 'this request changes the store: give a token (Authorization: Bearer TOKEN; txrepo --token or $TXREPO_TOKEN)', { 'www-authenticate': 'Bearer realm="txrepo"' });
  const token = await store.catalog.tokenByHash(hashToken(m[1]));
  if (!token) throw new HttpError(401, 'the token is not valid (unknown or revoked)', { 'www-authenticate': 'Bearer realm="txrepo", error="invalid_token"' });
  return token;
}

/** The actor recorded for a request: the token's name, and who the client says it is. */
function actorOf(req: IncomingMessage, token: TokenInfo | undefined): string {
  const claimed = String(req.headers['x-txrepo-actor'] ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  const who = token ? `token:${token.name}` : 'anonymous';
  return claimed ? `${who} (${claimed})` : who;
}

function urlsOnly(values: string[], what: string): string[] {
  for (const v of values) if (!URL_ONLY.test(v)) throw new HttpError(400, `${what} ${JSON.stringify(v)}: the server only takes http(s) URLs (upload local packages: PUT /api/v1/blobs/SHA256)`);
  return values;
}

async function upload(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, digest: string): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new HttpError(400, `${JSON.stringify(digest)} is not a sha256 digest (64 lowercase hex digits)`);
  const length = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(length) || length < 0) throw new HttpError(411, 'give the Content-Length of the upload');
  if (length > ctx.maxUpload) throw new HttpError(413, `${length} bytes is more than the ${ctx.maxUpload} this server takes`);
  // Verified as it is written: a body that does not hash to its name stores nothing.
  const blob = await ctx.store.blobs.putStream(req, { digest, size: length });
  sendJson(res, 201, blobView(blob));
}

/** A blob as the API names it: by its sha256, like uploads and manifests. */
function blobView(b: BlobInfo): { sha256: string; size: number } {
  return { sha256: b.digest, size: b.size };
}

/** Whether the client asked to follow a long operation's progress (Accept: PROGRESS_MEDIA_TYPE). */
function wantsProgress(req: IncomingMessage): boolean {
  return String(req.headers.accept ?? '')
    .split(',')
    .some((range) => {
      const [type, ...params] = range.split(';').map((s) => s.trim());
      return type === PROGRESS_MEDIA_TYPE && !params.some((p) => /^q=0(\.0*)?$/.test(p));
    });
}

/** Reports sent per stage, at most: enough for a progress bar, few lines for a long sync. */
const REPORT_INTERVAL_MS = 200;

/**
 * Answers with the result of a long operation; a client that asked for its progress
 * gets it as it goes, one JSON object a line: {"progress": {...}} reports (a stage's
 * first and last, and one each REPORT_INTERVAL_MS between), then {"status": S,
 * "result": ...} or {"status": S, "error": {...}}. That HTTP status is 200: it goes out
 * before the outcome is known, so the outcome's status is in the last line.
 */
async function answerLong<T>(req: IncomingMessage, res: ServerResponse, status: number, run: (progress?: Progress) => Promise<T>): Promise<void> {
  if (!wantsProgress(req)) return sendJson(res, status, await run());
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
    const { status: failed, body } = failure(req, e as Error);
    line({ status: failed, ...body });
  }
  res.end();
}

/** The route of a path: names in the places of parameters (repos/:x/tags/:y). */
function routeOf(segments: string[]): string {
  return segments.map((s, i) => (i === 1 && ['repos', 'sets', 'blobs'].includes(segments[0]) ? ':x' : i === 3 ? ':y' : s)).join('/');
}

/** Answers /api/v1/...; `segments` is the path after /api/v1. */
export async function serveApi(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, segments: string[]): Promise<void> {
  const method = req.method ?? 'GET';
  const write = !(method === 'GET' || method === 'HEAD');
  const token = write ? await authenticate(req, ctx.store) : undefined;
  const tx = new LocalTxrepo(ctx.store, actorOf(req, token));
  const q = query(req);
  const ok = (value: unknown, status = 200) => sendJson(res, status, value);
  const body = write && !(segments[0] === 'blobs') ? await readJson(req) : {};
  const [a, b, c, d] = segments;
  const route = `${method === 'HEAD' ? 'GET' : method} ${routeOf(segments)}`;

  switch (route) {
    case 'GET health': {
      // For load balancers: this server reaches its catalog and its blob store.
      const check = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
          return 'ok';
        } catch (e) {
          return `${what}: ${(e as Error).message}`;
        }
      };
      const catalog = await check('catalog', () => ctx.store.catalog.listRepos());
      const blobs = await check('blobs', () => ctx.store.blobs.stat('0'.repeat(64)));
      return ok({ catalog, blobs }, catalog === 'ok' && blobs === 'ok' ? 200 : 503);
    }
    case 'GET repos':
      return ok(await tx.listRepos());
    case 'POST repos': {
      const upstream = field.string(body, 'upstream');
      if (upstream !== undefined) urlsOnly([upstream], 'upstream');
      return ok(
        await tx.createRepo({
          name: field.string(body, 'name', true)!,
          upstream,
          keep: field.number(body, 'keep'),
          retainLast: field.number(body, 'retainLast'),
          retainDays: field.number(body, 'retainDays'),
        }),
        201,
      );
    }
    case 'GET repos/:x':
      return ok(await tx.showRepo(b));
    case 'DELETE repos/:x':
      return ok(await tx.deleteRepo(b));
    case 'POST repos/:x/deploy': {
      const uploads = body.uploads ?? [];
      if (!Array.isArray(uploads) || uploads.some((u) => !u || typeof u.sha256 !== 'string' || typeof u.fileName !== 'string')) {
        throw new HttpError(400, '"uploads" must be a list of {"sha256": ..., "fileName": ...}');
      }
      const request = { repo: b, sources: urlsOnly(field.strings(body, 'sources'), 'source'), uploads, message: field.string(body, 'message') };
      return answerLong(req, res, 201, (progress) => tx.deploy(request, progress));
    }
    case 'POST repos/:x/sync': {
      const from = field.string(body, 'from');
      if (from !== undefined) urlsOnly([from], 'from');
      const request = { repo: b, from, mirror: field.boolean(body, 'mirror'), parallel: field.number(body, 'parallel'), message: field.string(body, 'message') };
      return answerLong(req, res, 200, (progress) => tx.sync(request, progress));
    }
    case 'GET repos/:x/snapshots':
      return ok(await tx.snapshots(b));
    case 'GET repos/:x/snapshots/:y':
      return ok(await tx.showSnapshot(b, d, { files: q.get('files') === '1' }));
    case 'GET repos/:x/tags':
      return ok(await tx.tags(b));
    case 'PUT repos/:x/tags/:y':
      return ok(await tx.tag({ repo: b, tag: d, ref: field.string(body, 'ref', true)!, expect: field.string(body, 'expect'), reason: field.string(body, 'reason') }));
    case 'GET repos/:x/history':
      return ok(await tx.tagHistory(b, q.get('tag') ?? undefined));
    case 'GET diff': {
      const [x, y] = [q.get('a'), q.get('b')];
      if (!x || !y) throw new HttpError(400, 'give ?a=REPO@REF&b=REPO@REF');
      return ok(await tx.diff(x, y));
    }
    case 'GET sets':
      return ok(await tx.listSets());
    case 'POST sets':
      return ok(await tx.createSet({ refs: field.strings(body, 'refs'), label: field.string(body, 'label'), ttl: field.string(body, 'ttl') }), 201);
    case 'GET sets/:x':
      return ok(await tx.showSet(b));
    case 'POST sets/:x/extend':
      return ok(await tx.extendSet(b, field.string(body, 'ttl', true)!));
    case 'POST sets/:x/keep':
      return ok(await tx.keepSet(b));
    case 'POST sets/:x/release':
      return ok(await tx.releaseSet(b));
    case 'POST sets/:x/promote':
      return ok(await tx.promote({ set: b, tag: field.string(body, 'tag', true)!, force: field.boolean(body, 'force'), reason: field.string(body, 'reason') }));
    case 'POST gc':
      return ok(await tx.gc({ dryRun: field.boolean(body, 'dryRun'), grace: field.string(body, 'grace') }));
    case 'GET fsck':
      return ok(await tx.fsck({ verifyBlobs: q.get('verifyBlobs') === '1' }));
    case 'GET log': {
      const limit = q.get('limit');
      if (limit !== null && !/^\d{1,6}$/.test(limit)) throw new HttpError(400, '?limit must be a whole number');
      return ok(await tx.log({ repo: q.get('repo') ?? undefined, limit: limit === null ? undefined : Number(limit) }));
    }
    case 'GET blobs/:x': {
      const info = /^[0-9a-f]{64}$/.test(b) ? await ctx.store.blobs.stat(b) : undefined;
      if (!info) throw new HttpError(404, `no blob ${b}`);
      return ok(blobView(info));
    }
    case 'PUT blobs/:x':
      return upload(req, res, ctx, b);
    default:
      throw new HttpError(404, `no API route ${method} /api/v1/${segments.join('/')}; see docs/http-api.md`);
  }
}
