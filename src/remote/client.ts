// The operations of a txrepo server, over its /api/v1 (see docs/http-api.md): what the
// CLI uses with --server. Local files given to deploy are uploaded first, as blobs
// named by their sha256 (the server checks the name against the content). For the long
// operations (deploy, sync), a caller that follows progress gets the server's progress
// too: the answer then comes as NDJSON lines, progress reports and the result last.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { ROUTES, routeUrl, type Route } from '../api/index.ts';
import { PROGRESS_MEDIA_TYPE, type CopyOutcome, type CopyRequest, type RemoveOutcome, type RemoveRequest, type CreateRepoRequest, type UpdateRepoRequest, type CreateSetRequest, type DeployOutcome, type DeployRequest, type LogEntry, type Progress, type ProgressReport, type PromoteRequest, type RepoDetails, type RepoSummary, type SnapshotDetails, type SnapshotSummary, type SyncOutcome, type SyncRequest, type TagRequest, type Txrepo, type UploadedPackage, type FsckRequest } from '../core/index.ts';
import type { FsckReport, GcReport, SetManifest, SetView, SnapshotDiff } from '../snapshots/index.ts';
import { Failure, isFailureKind, kindOfStatus, retryOf, type FailureKind } from '../common/index.ts';
import type { Repository, Tag, TagMove } from '../store/index.ts';
import type { ListedFile } from '../sync/index.ts';

/**
 * The error class names a server before the kinds sent as `type`, and their kinds: such
 * a server is still understood. Nothing else reads a class name.
 */
const OLDER_SERVERS_TYPES: Record<string, FailureKind> = {
  InvalidNameError: 'invalid_input',
  RequestError: 'invalid_input',
  RefError: 'invalid_input',
  DeployInputError: 'invalid_input',
  HttpError: 'invalid_input',
  NotFoundError: 'not_found',
  ConflictError: 'conflict',
  AlreadyExistsError: 'already_exists',
  RpmFormatError: 'bad_package',
  BlobMismatchError: 'bad_package',
  ChecksumMismatchError: 'bad_package',
  RepomdError: 'bad_metadata',
  MetadataParseError: 'bad_metadata',
  DecompressionLimitError: 'bad_metadata',
  UnsafeHrefError: 'bad_metadata',
  UpstreamError: 'upstream',
  StoreError: 'unavailable',
};

/**
 * The kind of a server's refusal: its `kind` if it sent one (a finer one than its
 * type), else its `type`, else an older server's class name, else its HTTP status.
 */
function kindOfAnswer(status: number, error: { type?: unknown; kind?: unknown } | undefined): FailureKind {
  if (isFailureKind(error?.kind)) return error.kind;
  if (isFailureKind(error?.type)) return error.type;
  if (typeof error?.type === 'string' && Object.hasOwn(OLDER_SERVERS_TYPES, error.type)) return OLDER_SERVERS_TYPES[error.type];
  return kindOfStatus(status);
}

/** The server refused or failed a request; `kind` is the server's kind of failure. */
export class RemoteError extends Failure {
  override name = 'RemoteError';
  readonly status: number;
  readonly kind: FailureKind;
  /** `type`: the error body's type (or kind), if the server sent one; else the status says. */
  constructor(message: string, status: number, type?: string, kind?: string) {
    super(message);
    this.status = status;
    this.kind = kindOfAnswer(status, { type, kind });
  }
}


/** A package to upload: where it is, how large, and its sha256 once hashed. */
interface LocalPackage {
  path: string;
  size: number;
  sha256?: string;
  /** For a file of a local yum repo directory: the checksum its metadata lists, verified when hashed. */
  listed?: ListedFile;
}

const totalSize = (list: LocalPackage[]) => list.reduce((n, p) => n + p.size, 0);

/** The package files a local yum repo directory's metadata lists, each with what it lists (the sync layer, loaded on demand). */
async function listedFilesOf(dir: string): Promise<{ path: string; listed: ListedFile }[]> {
  const { listedPackageFiles } = await import('../sync/index.ts');
  return (await listedPackageFiles(dir)).map((listed) => ({ path: listed.path, listed }));
}

/** One request of a route: its parameters, query, and JSON body or file. */
interface Call {
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  body?: unknown;
  file?: { path: string; size: number; sent?: (bytes: number) => void };
  /** HEAD, to ask a GET route for its headers only. */
  method?: 'HEAD';
}

/** A progress report of the server's, if the line is one (anything else is left alone). */
function reportOf(value: unknown): ProgressReport | undefined {
  const r = (value as { progress?: Partial<ProgressReport> } | undefined)?.progress;
  // A stage is a short word: a newer server's unknown one shows as it is, nothing else does.
  if (!r || typeof r.stage !== 'string' || !/^[a-z-]{1,32}$/.test(r.stage) || (r.unit !== 'bytes' && r.unit !== 'packages')) return undefined;
  if (!Number.isFinite(r.done) || !Number.isFinite(r.total)) return undefined;
  return { stage: r.stage, unit: r.unit, done: r.done!, total: r.total! };
}

export interface RemoteOptions {
  token?: string;
  /** Who acts on this side (user@host); the server records it beside the token's name. */
  actor: string;
}

export class RemoteTxrepo implements Txrepo {
  readonly actor: string;
  private readonly base: URL;
  private readonly token?: string;

  constructor(server: string, opts: RemoteOptions) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new RemoteError(`--server ${JSON.stringify(server)} is not a URL: give http://HOST:PORT`, 0, 'usage');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RemoteError(`--server ${server}: give an http:// or https:// URL`, 0, 'usage');
    this.base = new URL(url.pathname.endsWith('/') ? url.href : `${url.href}/`);
    this.token = opts.token;
    this.actor = opts.actor;
  }

  /**
   * Sends one request of the route table: the route's path with `params` filled in,
   * `query`, and a JSON `body` or a `file` to upload. Resolves the response once its
   * headers are in. `sent` hears of each piece of an uploaded file as it goes out;
   * `accept`: the answer's media type; `method`: HEAD, to ask a GET route for headers.
   */
  private send(route: Route, call: Call = {}, accept = 'application/json'): Promise<IncomingMessage> {
    const url = new URL(routeUrl(route, call.params, call.query).replace(/^\//, ''), this.base);
    const headers: Record<string, string> = { 'x-txrepo-actor': this.actor, accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: Buffer | undefined;
    if (call.body !== undefined) {
      payload = Buffer.from(JSON.stringify(call.body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (call.file !== undefined) {
      headers['content-type'] = 'application/x-rpm';
      headers['content-length'] = String(call.file.size);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: call.method ?? route.method, headers }, resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(new RemoteError(`${this.base.origin}: ${e.code === 'ECONNREFUSED' ? 'connection refused (is txrepo serve running there?)' : e.message}`, 0)));
      if (call.file !== undefined) {
        const file = createReadStream(call.file.path);
        file.on('error', (e) => req.destroy(e));
        const sent = call.file.sent;
        if (sent) file.on('data', (chunk) => sent(chunk.length));
        file.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  private async call<T>(route: Route, call: Call = {}): Promise<T> {
    return this.reply<T>(await this.send(route, call));
  }

  /** A call whose answer streams the server's progress to `progress`, when given. */
  private async follow<T>(route: Route, call: Call, progress: Progress | undefined): Promise<T> {
    if (!progress) return this.call<T>(route, call);
    const res = await this.send(route, call, `${PROGRESS_MEDIA_TYPE}, application/json;q=0.5`);
    // A server refuses a request (401, 400) before it starts streaming: plain JSON.
    if (!String(res.headers['content-type'] ?? '').startsWith(PROGRESS_MEDIA_TYPE)) return this.reply<T>(res);
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      let value: { result?: T; error?: { type?: string; kind?: string; message?: string }; status?: number };
      try {
        value = JSON.parse(line);
      } catch {
        throw new RemoteError(`${this.base.origin}: not a txrepo progress line: ${line.slice(0, 200)}`, res.statusCode ?? 0);
      }
      const report = reportOf(value);
      if (report) progress(report);
      else if (value?.error) throw new RemoteError(value.error.message ?? `HTTP ${value.status}`, Number(value.status) || 500, value.error.type, value.error.kind);
      else if (value && 'result' in value) return value.result as T;
    }
    throw new RemoteError(`${this.base.origin}: the answer ended before its result (did the server stop?)`, res.statusCode ?? 0);
  }

  /** The JSON of an answer; a RemoteError with the server's message for a refusal. */
  private async reply<T>(res: IncomingMessage): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RemoteError(`${this.base.origin}: HTTP ${res.statusCode}: not a txrepo API answer: ${text.slice(0, 200)}`, res.statusCode ?? 0, 'unavailable');
    }
    if ((res.statusCode ?? 500) >= 400) {
      const err = (value as { error?: { type?: string; kind?: string; message?: string } } | undefined)?.error;
      throw new RemoteError(err?.message ?? `HTTP ${res.statusCode}`, res.statusCode ?? 0, err?.type, err?.kind);
    }
    return value as T;
  }

  /** Hashes local packages: their names on the server; in bytes to `progress`. */
  private async hashAll(files: { path: string; listed?: ListedFile }[], progress?: Progress): Promise<LocalPackage[]> {
    const packages: LocalPackage[] = [];
    for (const f of files) packages.push({ ...f, size: (await stat(f.path)).size });
    let hashed = 0;
    const total = totalSize(packages);
    for (const p of packages) {
      const hash = createHash('sha256');
      const listedHash = p.listed && p.listed.checksumType !== 'sha256' ? createHash(p.listed.checksumType) : undefined;
      for await (const chunk of createReadStream(p.path)) {
        hash.update(chunk as Buffer);
        listedHash?.update(chunk as Buffer);
        hashed += (chunk as Buffer).length;
        progress?.({ stage: 'hash', unit: 'bytes', done: hashed, total });
      }
      p.sha256 = hash.digest('hex');
      if (p.listed) {
        const digest = listedHash?.digest('hex') ?? p.sha256;
        if (digest !== p.listed.checksum || p.size !== p.listed.size) {
          const { ChecksumMismatchError } = await import('../sync/index.ts');
          throw new ChecksumMismatchError(`${p.path}: ${p.size} bytes with ${p.listed.checksumType} ${digest}, but the repo's metadata lists ${p.listed.size} bytes with ${p.listed.checksum}; the file or the metadata is damaged`);
        }
      }
    }
    return packages;
  }

  /** Uploads the packages the server lacks (it is asked for each), in bytes to `progress`. */
  private async uploadMissing(packages: LocalPackage[], progress?: Progress): Promise<void> {
    const missing: LocalPackage[] = [];
    for (const p of packages) if (!(await this.has(p.sha256!))) missing.push(p);
    let uploaded = 0;
    const total = totalSize(missing);
    for (const p of missing) {
      await this.put(p, (n) => {
        uploaded += n;
        progress?.({ stage: 'upload', unit: 'bytes', done: uploaded, total });
      });
    }
  }

  /** Whether the server has the blob SHA256. */
  private async has(sha256: string): Promise<boolean> {
    const head = await this.send(ROUTES.hasBlob, { method: 'HEAD', params: { sha256 } });
    head.resume();
    return head.statusCode === 200;
  }

  /** Uploads a local package as the blob of its sha256 (the server checks its content against the name). */
  private async put(p: LocalPackage, sent?: (bytes: number) => void): Promise<void> {
    const { size } = await stat(p.path);
    await this.reply(await this.send(ROUTES.upload, { params: { sha256: p.sha256! }, file: { path: p.path, size, sent } })).catch((e: RemoteError) => {
      e.message = `${p.path}: ${e.message}`;
      throw e;
    });
  }

  createRepo(r: CreateRepoRequest) {
    return this.call<Repository>(ROUTES.createRepo, { body: r });
  }
  updateRepo(r: UpdateRepoRequest) {
    const { name, ...body } = r;
    return this.call<Repository>(ROUTES.updateRepo, { params: { repo: name }, body });
  }
  listRepos() {
    return this.call<RepoSummary[]>(ROUTES.listRepos);
  }
  showRepo(name: string) {
    return this.call<RepoDetails>(ROUTES.showRepo, { params: { repo: name } });
  }
  deleteRepo(name: string) {
    return this.call<{ deleted: string }>(ROUTES.deleteRepo, { params: { repo: name } });
  }

  async deploy(r: DeployRequest, progress?: Progress): Promise<DeployOutcome> {
    // The server fetches the URLs; the client uploads the files, including those a
    // local yum repo directory lists (the server cannot read this machine's disk).
    const { collectRpmFiles, sourceKind } = await import('../snapshots/index.ts');
    const urls: string[] = [];
    const files: { path: string; listed?: ListedFile }[] = [];
    for (const source of r.sources ?? []) {
      const kind = await sourceKind(source);
      if (kind === 'repo-url') urls.push(source);
      else if (kind === 'repo-dir') files.push(...(await listedFilesOf(source)));
      else files.push(...(await collectRpmFiles([source])).map((path) => ({ path })));
    }
    const uploads: UploadedPackage[] = [...(r.uploads ?? [])];
    let packages: LocalPackage[] = [];
    if (files.length) {
      packages = await this.hashAll(files, progress);
      await this.uploadMissing(packages, progress);
      for (const p of packages) uploads.push({ sha256: p.sha256!, fileName: basename(p.path) });
    }
    const call = { params: { repo: r.repo }, body: { sources: urls, uploads, message: r.message } };
    for (let retries = 0; ; retries++) {
      try {
        return await this.follow<DeployOutcome>(ROUTES.deploy, call, progress);
      } catch (e) {
        // The server had a package when asked, so it was not sent, but a gc removed it
        // before the deploy (it was unused and older than gc's grace): send the ones it
        // lacks after all, and deploy again.
        if (!(e instanceof RemoteError) || retryOf(e.kind) !== 'upload-again' || retries >= packages.length) throw e;
        await this.uploadMissing(packages);
      }
    }
  }

  sync(r: SyncRequest, progress?: Progress) {
    return this.follow<SyncOutcome>(ROUTES.sync, { params: { repo: r.repo }, body: r }, progress);
  }
  remove(r: RemoveRequest) {
    const { repo, ...body } = r;
    return this.call<RemoveOutcome>(ROUTES.remove, { params: { repo }, body });
  }
  copy(r: CopyRequest) {
    const { repo, ...body } = r;
    return this.call<CopyOutcome>(ROUTES.copy, { params: { repo }, body });
  }
  snapshots(repo: string) {
    return this.call<SnapshotSummary[]>(ROUTES.snapshots, { params: { repo } });
  }
  showSnapshot(repo: string, ref: string, opts: { files?: boolean } = {}) {
    return this.call<SnapshotDetails>(ROUTES.showSnapshot, { params: { repo, ref }, query: { files: opts.files ? '1' : undefined } });
  }
  diff(a: string, b: string) {
    return this.call<SnapshotDiff>(ROUTES.diff, { query: { a, b } });
  }
  tag(r: TagRequest) {
    return this.call<TagMove>(ROUTES.tag, { params: { repo: r.repo, tag: r.tag }, body: { ref: r.ref, expect: r.expect, reason: r.reason } });
  }
  tags(repo: string) {
    return this.call<Tag[]>(ROUTES.tags, { params: { repo } });
  }
  tagHistory(repo: string, tag?: string) {
    return this.call<TagMove[]>(ROUTES.history, { params: { repo }, query: { tag: tag || undefined } });
  }
  createSet(r: CreateSetRequest) {
    return this.call<SetView>(ROUTES.createSet, { body: r });
  }
  listSets() {
    return this.call<SetView[]>(ROUTES.listSets);
  }
  showSet(id: string) {
    return this.call<SetManifest>(ROUTES.showSet, { params: { set: id } });
  }
  extendSet(id: string, ttl: string) {
    return this.call<SetView>(ROUTES.extendSet, { params: { set: id }, body: { ttl } });
  }
  keepSet(id: string) {
    return this.call<SetView>(ROUTES.keepSet, { params: { set: id }, body: {} });
  }
  releaseSet(id: string) {
    return this.call<SetView>(ROUTES.releaseSet, { params: { set: id }, body: {} });
  }
  promote(r: PromoteRequest) {
    return this.call<TagMove[]>(ROUTES.promote, { params: { set: r.set }, body: { tag: r.tag, force: r.force, reason: r.reason } });
  }
  gc(r: { dryRun?: boolean; grace?: string }) {
    return this.call<GcReport>(ROUTES.gc, { body: r });
  }
  fsck(r: FsckRequest) {
    // Good copies are on the store's side: --from names a directory there.
    if (r.repair) return Promise.reject(new RemoteError("fsck --repair runs on the store itself, not through a server: run it where the store is, with --store (and --catalog, --blobs)", 400, 'usage'));
    return this.call<FsckReport>(ROUTES.fsck, { query: { verifyBlobs: r.verifyBlobs ? '1' : undefined } });
  }
  log(r: { repo?: string; limit?: number }) {
    return this.call<LogEntry[]>(ROUTES.log, { query: { repo: r.repo || undefined, limit: r.limit ? String(r.limit) : undefined } });
  }
  async close() {}
}
