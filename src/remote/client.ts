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
import { PROGRESS_MEDIA_TYPE, type CreateRepoRequest, type CreateSetRequest, type DeployOutcome, type DeployRequest, type LogEntry, type Progress, type ProgressReport, type PromoteRequest, type RepoDetails, type RepoSummary, type SnapshotDetails, type SnapshotSummary, type SyncOutcome, type SyncRequest, type TagRequest, type Txrepo, type UploadedPackage } from '../core/index.ts';
import type { FsckReport, GcReport, SetManifest, SetView, SnapshotDiff } from '../snapshots/index.ts';
import { isFailureKind, kindOfClassName, kindOfStatus, type FailureKind } from '../common/index.ts';
import type { AuditEntry, Repository, Snapshot, Tag, TagMove } from '../store/index.ts';
import type { SyncResult } from '../sync/index.ts';

/** The server refused or failed a request; `kind` is the server's kind of failure. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  readonly status: number;
  readonly kind: FailureKind;
  constructor(message: string, status: number, type?: string) {
    super(message);
    this.status = status;
    // The server's kind, so that the CLI reports it as it would locally (a server
    // before the kinds sent its error class names: they map to the same kinds).
    this.kind = isFailureKind(type) ? type : ((type ? kindOfClassName(type) : undefined) ?? kindOfStatus(status));
  }
}

const enc = encodeURIComponent;

/** A package to upload: where it is, how large, and its sha256 once hashed. */
interface LocalPackage {
  path: string;
  size: number;
  sha256?: string;
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
   * Sends one request; resolves the response once its headers are in. `sent` hears of
   * each piece of an uploaded file as it goes out; `accept`: the answer's media type.
   */
  private send(method: string, path: string, body?: { json?: unknown; file?: string; size?: number; sent?: (bytes: number) => void }, accept = 'application/json'): Promise<IncomingMessage> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const headers: Record<string, string> = { 'x-txrepo-actor': this.actor, accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: Buffer | undefined;
    if (body?.json !== undefined) {
      payload = Buffer.from(JSON.stringify(body.json));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    } else if (body?.file !== undefined) {
      headers['content-type'] = 'application/x-rpm';
      headers['content-length'] = String(body.size);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers }, resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(new RemoteError(`${this.base.origin}: ${e.code === 'ECONNREFUSED' ? 'connection refused (is txrepo serve running there?)' : e.message}`, 0)));
      if (body?.file !== undefined) {
        const file = createReadStream(body.file);
        file.on('error', (e) => req.destroy(e));
        const sent = body.sent;
        if (sent) file.on('data', (chunk) => sent(chunk.length));
        file.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  private async call<T>(method: string, path: string, json?: unknown): Promise<T> {
    return this.reply<T>(await this.send(method, path, json === undefined ? undefined : { json }));
  }

  /** A call whose answer streams the server's progress to `progress`, when given. */
  private async follow<T>(method: string, path: string, json: unknown, progress: Progress | undefined): Promise<T> {
    if (!progress) return this.call<T>(method, path, json);
    const res = await this.send(method, path, { json }, `${PROGRESS_MEDIA_TYPE}, application/json;q=0.5`);
    // A server refuses a request (401, 400) before it starts streaming: plain JSON.
    if (!String(res.headers['content-type'] ?? '').startsWith(PROGRESS_MEDIA_TYPE)) return this.reply<T>(res);
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      let value: { result?: T; error?: { type?: string; message?: string }; status?: number };
      try {
        value = JSON.parse(line);
      } catch {
        throw new RemoteError(`${this.base.origin}: not a txrepo progress line: ${line.slice(0, 200)}`, res.statusCode ?? 0);
      }
      const report = reportOf(value);
      if (report) progress(report);
      else if (value?.error) throw new RemoteError(value.error.message ?? `HTTP ${value.status}`, Number(value.status) || 500, value.error.type);
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
      const err = (value as { error?: { type?: string; message?: string } } | undefined)?.error;
      throw new RemoteError(err?.message ?? `HTTP ${res.statusCode}`, res.statusCode ?? 0, err?.type);
    }
    return value as T;
  }

  /**
   * Uploads the local packages the server lacks: hashes them all (their names on the
   * server), asks which it has, and sends the others; both in bytes to `progress`.
   */
  private async uploadAll(paths: string[], progress?: Progress): Promise<LocalPackage[]> {
    const packages: LocalPackage[] = [];
    for (const path of paths) packages.push({ path, size: (await stat(path)).size });
    const bytes = (list: LocalPackage[]) => list.reduce((n, p) => n + p.size, 0);
    let hashed = 0;
    const hashTotal = bytes(packages);
    for (const p of packages) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(p.path)) {
        hash.update(chunk as Buffer);
        hashed += (chunk as Buffer).length;
        progress?.({ stage: 'hash', unit: 'bytes', done: hashed, total: hashTotal });
      }
      p.sha256 = hash.digest('hex');
    }
    const missing: LocalPackage[] = [];
    for (const p of packages) if (!(await this.has(p.sha256!))) missing.push(p);
    let uploaded = 0;
    const uploadTotal = bytes(missing);
    for (const p of missing) {
      await this.put(p.path, p.sha256!, (n) => {
        uploaded += n;
        progress?.({ stage: 'upload', unit: 'bytes', done: uploaded, total: uploadTotal });
      });
    }
    return packages;
  }

  /** Whether the server has the blob SHA256. */
  private async has(sha256: string): Promise<boolean> {
    const head = await this.send('HEAD', `/api/v1/blobs/${sha256}`);
    head.resume();
    return head.statusCode === 200;
  }

  /** Uploads a local package as the blob SHA256 (the server checks its content against the name). */
  private async put(path: string, sha256: string, sent?: (bytes: number) => void): Promise<void> {
    const { size } = await stat(path);
    await this.reply(await this.send('PUT', `/api/v1/blobs/${sha256}`, { file: path, size, sent })).catch((e: RemoteError) => {
      e.message = `${path}: ${e.message}`;
      throw e;
    });
  }

  createRepo(r: CreateRepoRequest) {
    return this.call<Repository>('POST', '/api/v1/repos', r);
  }
  listRepos() {
    return this.call<RepoSummary[]>('GET', '/api/v1/repos');
  }
  showRepo(name: string) {
    return this.call<RepoDetails>('GET', `/api/v1/repos/${enc(name)}`);
  }
  deleteRepo(name: string) {
    return this.call<{ deleted: string }>('DELETE', `/api/v1/repos/${enc(name)}`);
  }

  async deploy(r: DeployRequest, progress?: Progress): Promise<DeployOutcome> {
    const urls = (r.sources ?? []).filter((s) => /^https?:\/\//i.test(s));
    const local = (r.sources ?? []).filter((s) => !/^https?:\/\//i.test(s));
    const uploads: UploadedPackage[] = [...(r.uploads ?? [])];
    const sent = new Map<string, string>(); // sha256 -> local file
    if (local.length) {
      const { collectRpmFiles } = await import('../snapshots/index.ts');
      for (const p of await this.uploadAll(await collectRpmFiles(local), progress)) {
        sent.set(p.sha256!, p.path);
        uploads.push({ sha256: p.sha256!, fileName: basename(p.path) });
      }
    }
    for (let retries = 0; ; retries++) {
      try {
        return await this.follow<DeployOutcome>('POST', `/api/v1/repos/${enc(r.repo)}/deploy`, { sources: urls, uploads, message: r.message }, progress);
      } catch (e) {
        // The server had a package when asked, so it was not sent, but a gc removed it
        // before the deploy (it was unused and older than gc's grace): send it after all.
        const gone = e instanceof RemoteError ? /no uploaded blob ([0-9a-f]{64})/.exec(e.message)?.[1] : undefined;
        const path = gone === undefined ? undefined : sent.get(gone);
        if (gone === undefined || path === undefined || retries >= sent.size) throw e;
        await this.put(path, gone);
      }
    }
  }

  sync(r: SyncRequest, progress?: Progress) {
    return this.follow<SyncOutcome>('POST', `/api/v1/repos/${enc(r.repo)}/sync`, r, progress);
  }
  snapshots(repo: string) {
    return this.call<SnapshotSummary[]>('GET', `/api/v1/repos/${enc(repo)}/snapshots`);
  }
  showSnapshot(repo: string, ref: string, opts: { files?: boolean } = {}) {
    return this.call<SnapshotDetails>('GET', `/api/v1/repos/${enc(repo)}/snapshots/${enc(ref)}${opts.files ? '?files=1' : ''}`);
  }
  diff(a: string, b: string) {
    return this.call<SnapshotDiff>('GET', `/api/v1/diff?a=${enc(a)}&b=${enc(b)}`);
  }
  tag(r: TagRequest) {
    return this.call<TagMove>('PUT', `/api/v1/repos/${enc(r.repo)}/tags/${enc(r.tag)}`, { ref: r.ref, expect: r.expect, reason: r.reason });
  }
  tags(repo: string) {
    return this.call<Tag[]>('GET', `/api/v1/repos/${enc(repo)}/tags`);
  }
  tagHistory(repo: string, tag?: string) {
    return this.call<TagMove[]>('GET', `/api/v1/repos/${enc(repo)}/history${tag ? `?tag=${enc(tag)}` : ''}`);
  }
  createSet(r: CreateSetRequest) {
    return this.call<SetView>('POST', '/api/v1/sets', r);
  }
  listSets() {
    return this.call<SetView[]>('GET', '/api/v1/sets');
  }
  showSet(id: string) {
    return this.call<SetManifest>('GET', `/api/v1/sets/${enc(id)}`);
  }
  extendSet(id: string, ttl: string) {
    return this.call<SetView>('POST', `/api/v1/sets/${enc(id)}/extend`, { ttl });
  }
  keepSet(id: string) {
    return this.call<SetView>('POST', `/api/v1/sets/${enc(id)}/keep`, {});
  }
  releaseSet(id: string) {
    return this.call<SetView>('POST', `/api/v1/sets/${enc(id)}/release`, {});
  }
  promote(r: PromoteRequest) {
    return this.call<TagMove[]>('POST', `/api/v1/sets/${enc(r.set)}/promote`, { tag: r.tag, force: r.force, reason: r.reason });
  }
  gc(r: { dryRun?: boolean; grace?: string }) {
    return this.call<GcReport>('POST', '/api/v1/gc', r);
  }
  fsck(r: { verifyBlobs?: boolean }) {
    return this.call<FsckReport>('GET', `/api/v1/fsck${r.verifyBlobs ? '?verifyBlobs=1' : ''}`);
  }
  log(r: { repo?: string; limit?: number }) {
    const q = new URLSearchParams();
    if (r.repo) q.set('repo', r.repo);
    if (r.limit) q.set('limit', String(r.limit));
    return this.call<LogEntry[]>('GET', `/api/v1/log${q.size ? `?${q}` : ''}`);
  }
  async close() {}
}
