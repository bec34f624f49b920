// The operations on a store this process opens: what `txrepo` does without --server,
// and what `txrepo serve` does for each /api/v1 request. Every mutation is recorded in
// the audit log, with its actor, arguments and result (failures too).

import { basename } from 'node:path';
import {
  checkRepoName,
  checkTagName,
  collectRpmFiles,
  commitPackages,
  copyPackages,
  createSet,
  diffSnapshots,
  DeployInputError,
  fsck,
  repairBlobs,
  gc,
  ingestFiles,
  ingestStored,
  leaseEnd,
  packageHref,
  parseDuration,
  checkPackageName,
  parseRepoRef,
  removePackages,
  resolveRef,
  setManifest,
  snapshotPath,
  sourceKind,
  viewOfSet,
  warmSigning,
  type CommitResult,
  type IngestedPackage,
  type StoredPackageFailures,
} from '../snapshots/index.ts';
import type { FetchPolicy } from '../sync/index.ts';
import { auditScope, type AuditScope, NotFoundError, type PolicyKey, repoOrFail, type Store } from '../store/index.ts';
import type { CommitOutcome, CopyOutcome, CopyRequest, RemoveOutcome, RemoveRequest, CreateRepoRequest, UpdateRepoRequest, SnapshotFileView, DeployOutcome, DeployRequest, LogEntry, Progress, ProgressStage, PromoteRequest, SnapshotDetails, SnapshotSummary, SyncRequest, TagRequest, Txrepo, FsckRequest } from './api.ts';
import { checkOneLine, Failure, forTerminal, hasCredentials, kindOf, maskCredentials, type FailureKind } from '../common/index.ts';

/** A request the core refuses as given (a field out of range). */
export class RequestError extends Failure {
  override name = 'RequestError';
  readonly kind = 'invalid_input';
}

/** A deploy names an upload the store does not have (never sent, or gc took it since): a client sends it again. */
export class UploadMissingError extends Failure {
  override name = 'UploadMissingError';
  readonly kind = 'upload_missing';
}

/** An uploaded package that cannot be read, named by its file name; of the reader's kind (a bad package, as it would be locally). */
class UploadReadError extends Failure {
  override name = 'UploadReadError';
  readonly kind: FailureKind;
  constructor(message: string, kind: FailureKind) {
    super(message);
    this.kind = kind;
  }
}

/** The request an audit row recorded; a row written by hand (or damaged) stays text. */
function recordedRequest(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The counting callback of the lower layers, as reports of a stage in packages. */
function counting(stage: ProgressStage, progress: Progress | undefined): ((done: number, total: number) => void) | undefined {
  return progress && ((done, total) => progress({ stage, unit: 'packages', done, total }));
}

/** An uploaded package that cannot be ingested is named by its file name. */
const UPLOAD_FAILURES: StoredPackageFailures = {
  blobCalled: 'the upload',
  missing: (p) => new UploadMissingError(`${p.source}: no uploaded blob ${p.digest}; upload it first (PUT /api/v1/blobs/${p.digest})`),
  unreadable: (p, message, e) => new UploadReadError(`${p.source}: ${message}`, kindOf(e)),
};

/**
 * The free text a request carries (a deploy's message, a tag move's reason, a set's
 * label) is shown in lists, logs and repos.repo: one line of printable text, checked
 * before anything is done.
 */
function checkFreeText(args: unknown): void {
  if (typeof args !== 'object' || args === null) return;
  for (const field of ['message', 'reason', 'label'] as const) {
    const value = (args as Record<string, unknown>)[field];
    if (typeof value === 'string') checkOneLine(value, field);
  }
}

/** A repository as shown: an upstream an older txrepo stored with credentials, masked. */
function shownRepo<R extends { upstream?: string }>(repo: R): R {
  return repo.upstream === undefined ? repo : { ...repo, upstream: maskCredentials(repo.upstream) };
}

/** A repository's settings as given, checked: whole numbers, days, an upstream without credentials. */
function checkSettings(r: { upstream?: string; keep?: number; retainLast?: number; retainDays?: number }): void {
  const whole = (field: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) throw new RequestError(`${field} ${v}: give a whole number of at least 1`);
  };
  whole('keep', r.keep);
  whole('retainLast', r.retainLast);
  if (r.retainDays !== undefined && !(Number.isFinite(r.retainDays) && r.retainDays > 0)) throw new RequestError(`retainDays ${r.retainDays}: give a number of days above 0`);
  // A repository is shown to whoever reads it: its upstream holds no secret.
  if (r.upstream !== undefined && hasCredentials(r.upstream)) {
    throw new RequestError(`upstream ${maskCredentials(r.upstream)}: a stored upstream keeps no credentials (anyone who reads the repository would see them); give it without, and put them in the netrc file $TXREPO_NETRC names (machine HOST login USER password PASSWORD)`);
  }
}

/** The keys of a package policy as given (armoured texts), read and checked; none: no policy. */
async function policyKeys(texts: string[] | undefined): Promise<PolicyKey[] | undefined> {
  if (!texts?.length) return undefined;
  const { loadPolicyKeys } = await import('../signing/index.ts');
  const keys = new Map<string, PolicyKey>();
  for (const [i, text] of texts.entries()) {
    for (const k of await loadPolicyKeys(text, `requireSigned[${i}]`)) keys.set(k.fingerprint, { fingerprint: k.fingerprint, publicKey: k.key.armor() });
  }
  return [...keys.values()];
}

/** The audit row's request: keys by fingerprint only would need them read first; their count and size say enough. */
function auditedSettings<R extends { requireSigned?: string[] | null }>(r: R): unknown {
  if (!r.requireSigned) return r;
  return { ...r, requireSigned: `${r.requireSigned.length} key file(s), ${r.requireSigned.reduce((n, t) => n + t.length, 0)} characters` };
}

/** Grace window of gc (tag moves, unreferenced blobs and records) unless told otherwise. */
export const DEFAULT_GRACE = '1h';

export interface LocalTxrepoOptions {
  /** Where fetches for this caller may go (a server's, for its clients); none: anywhere. */
  fetchPolicy?: FetchPolicy;
}

export class LocalTxrepo implements Txrepo {
  readonly actor: string;
  readonly store: Store;
  private readonly fetchPolicy?: FetchPolicy;

  constructor(store: Store, actor: string, opts: LocalTxrepoOptions = {}) {
    this.store = store;
    this.actor = actor;
    this.fetchPolicy = opts.fetchPolicy;
  }

  private get catalog() {
    return this.store.catalog;
  }

  /**
   * Runs a mutation and records it in the audit log, whatever its outcome. The row of
   * a change is written by the catalog in the change's own transaction (auditScope):
   * on a full disk, a change whose row cannot be written is not made either.
   */
  private async mutation<T>(command: string, repo: string | undefined, args: unknown, fn: () => Promise<T>): Promise<T> {
    const scope: AuditScope = {
      // A URL's credentials (sync --from https://USER:PASSWORD@...) never reach the log.
      entry: (result) => ({ at: new Date().toISOString(), actor: this.actor, command, repo, args: maskCredentials(JSON.stringify(args)), result: maskCredentials(result) }),
      written: false,
    };
    let value: T;
    try {
      value = await auditScope.run(scope, () => {
        checkFreeText(args);
        return fn();
      });
    } catch (e) {
      // The log must not hide the real error (a read-only or full disk fails both).
      await this.catalog.appendAudit(scope.entry(`error: ${(e as Error).message}`)).catch(() => {});
      throw e;
    }
    // A mutation that changed nothing (a sync or deploy with nothing new) gets its row here.
    if (!scope.written) await this.catalog.appendAudit(scope.entry('ok'));
    return value;
  }

  createRepo(r: CreateRepoRequest) {
    return this.mutation('repo create', r.name, auditedSettings(r), async () => {
      checkSettings(r);
      const requireSigned = await policyKeys(r.requireSigned);
      const filter = r.filter === undefined ? undefined : (await import('../sync/index.ts')).checkMirrorFilter(r.filter);
      return this.catalog.createRepo({ name: checkRepoName(r.name), upstream: r.upstream, keep: r.keep, retainLast: r.retainLast, retainDays: r.retainDays, ...(requireSigned && { requireSigned }), ...(filter && { filter }), createdBy: this.actor });
    });
  }

  updateRepo(r: UpdateRepoRequest) {
    return this.mutation('repo update', r.name, auditedSettings(r), async () => {
      checkSettings({ upstream: r.upstream ?? undefined, keep: r.keep ?? undefined, retainLast: r.retainLast ?? undefined, retainDays: r.retainDays ?? undefined });
      const requireSigned = r.requireSigned === null ? null : await policyKeys(r.requireSigned);
      const filter = r.filter === undefined ? undefined : (await import('../sync/index.ts')).checkMirrorFilterChange(r.filter);
      const { name: _, ...change } = { ...r, requireSigned, filter };
      return this.catalog.updateRepo(checkRepoName(r.name), change);
    });
  }

  async listRepos() {
    const repos = await this.catalog.listRepos();
    return Promise.all(repos.map(async (r) => ({ ...shownRepo(r), latest: (await this.catalog.getTag(r.name, 'latest'))?.snapshot })));
  }

  async showRepo(name: string) {
    const repo = await repoOrFail(this.catalog, checkRepoName(name));
    return { ...shownRepo(repo), snapshots: (await this.catalog.listSnapshots(name)).length, tags: await this.catalog.listTags(name) };
  }

  deleteRepo(name: string) {
    return this.mutation('repo delete', name, { name }, async () => {
      await this.catalog.deleteRepo(checkRepoName(name));
      return { deleted: name };
    });
  }

  async deploy(r: DeployRequest, progress?: Progress): Promise<DeployOutcome> {
    const { repo } = r;
    const result = await this.mutation('deploy', repo, r, async () => {
      checkRepoName(repo);
      await repoOrFail(this.catalog, repo, { createRepo: repo });
      if (!r.sources?.length && !r.uploads?.length) throw new DeployInputError('nothing to deploy: give at least one source');
      warmSigning(this.store);
      const packages: IngestedPackage[] = [];
      for (const source of r.sources ?? []) packages.push(...(await this.ingestSource(source, progress)));
      if (r.uploads?.length) packages.push(...(await this.ingestUploads(r.uploads, progress)));
      return commitPackages(this.store, { repo, packages, actor: this.actor, message: r.message });
    });
    return { ...this.outcome(repo, result), added: result.added, removed: result.removed, notKept: result.notKept ?? [] };
  }

  /** What a deploy or sync did, in the words of the API: the snapshot latest points at now. */
  private outcome(repo: string, r: CommitResult): CommitOutcome {
    return { repo, snapshot: r.latest, unchanged: r.unchanged, path: r.path, packages: r.packages };
  }

  /** A yum repo (URL, or directory with repodata) or local RPM files. */
  private async ingestSource(source: string, progress?: Progress): Promise<IngestedPackage[]> {
    if ((await sourceKind(source)) === 'files') return ingestFiles(this.store, await collectRpmFiles([source]), counting('read', progress));
    // Loaded only for yum repo sources: deploying files needs no HTTP client.
    const { ingestRepo } = await import('../sync/index.ts');
    const { packages } = await ingestRepo(this.store, source, { onProgress: counting('fetch', progress), fetchPolicy: this.fetchPolicy });
    return packages.map((p) => ({ ...p, href: packageHref(basename(p.href)) }));
  }

  /** Packages a client uploaded as blobs: their records are read (digests verified) from the blobs. */
  private async ingestUploads(uploads: { sha256: string; fileName: string }[], progress?: Progress): Promise<IngestedPackage[]> {
    for (const u of uploads) {
      if (!/^[^/]+\.rpm$/.test(u.fileName) || u.fileName.startsWith('.')) throw new DeployInputError(`${forTerminal(JSON.stringify(u.fileName))} is not a package file name (NAME.rpm, no directories, not starting with a dot)`);
      checkPackageName(u.fileName, `upload ${forTerminal(JSON.stringify(u.fileName))}`);
      if (!/^[0-9a-f]{64}$/.test(u.sha256)) throw new DeployInputError(`${JSON.stringify(u.sha256)} is not a sha256 digest`);
    }
    const stored = uploads.map((u) => ({ digest: u.sha256, locationHref: packageHref(u.fileName), source: u.fileName }));
    // touch: the blob must still be there, and stays while this deploy commits.
    const records = await ingestStored(this.store, stored, { failures: UPLOAD_FAILURES, touch: true, onProgress: counting('read', progress) });
    return stored.map((p, i) => ({ href: p.locationHref, digest: p.digest, size: records[i].sizePackage, source: p.source }));
  }

  async sync(r: SyncRequest, progress?: Progress) {
    const { sync } = await import('../sync/index.ts');
    const result = await this.mutation('sync', r.repo, r, () => {
      // The CLI checks --parallel, the API does not: zero (or less) downloads at a time
      // would fetch no package at all and commit the upstream as an empty repo.
      if (r.parallel !== undefined && !(Number.isSafeInteger(r.parallel) && r.parallel >= 1 && r.parallel <= 64)) {
        throw new RequestError(`parallel ${r.parallel}: give a whole number from 1 to 64`);
      }
      warmSigning(this.store);
      return sync(this.store, { repo: checkRepoName(r.repo), from: r.from, mirror: r.mirror, concurrency: r.parallel, message: r.message, actor: this.actor, onProgress: counting('sync', progress), fetchPolicy: this.fetchPolicy });
    });
    return { ...this.outcome(r.repo, result), downloaded: result.downloaded, ...(result.filtered && { filtered: result.filtered }) };
  }

  /** A dry run changes nothing: like gc's, it is not a mutation, and leaves no audit row. */
  private maybeMutation<T>(dryRun: boolean | undefined, command: string, repo: string, args: unknown, fn: () => Promise<T>): Promise<T> {
    if (!dryRun) return this.mutation(command, repo, args, fn);
    checkFreeText(args);
    return fn();
  }

  async remove(r: RemoveRequest): Promise<RemoveOutcome> {
    const result = await this.maybeMutation(r.dryRun, 'remove', r.repo, r, () =>
      removePackages(this.store, { repo: checkRepoName(r.repo), patterns: r.patterns, actor: this.actor, message: r.message, dryRun: r.dryRun }),
    );
    return { ...this.outcome(r.repo, result), removed: result.removed, dryRun: !!r.dryRun };
  }

  async copy(r: CopyRequest): Promise<CopyOutcome> {
    const from = parseRepoRef(r.from);
    const result = await this.maybeMutation(r.dryRun, 'copy', r.repo, r, () => {
      checkRepoName(from.repo);
      if (r.dryRun !== true) warmSigning(this.store);
      return copyPackages(this.store, { from, repo: checkRepoName(r.repo), patterns: r.patterns, withDeps: r.withDeps, actor: this.actor, message: r.message, dryRun: r.dryRun });
    });
    return {
      ...this.outcome(r.repo, result),
      added: result.added,
      removed: result.removed,
      notKept: result.notKept ?? [],
      from: { repo: from.repo, snapshot: result.source },
      dependencies: result.dependencies,
      unresolved: result.unresolved,
      dryRun: !!r.dryRun,
    };
  }

  /** Refuses a bad or unknown repository name with a message that says what to do. */
  private async requireRepo(repo: string): Promise<void> {
    await repoOrFail(this.catalog, checkRepoName(repo));
  }

  async snapshots(repo: string): Promise<SnapshotSummary[]> {
    await this.requireRepo(repo);
    const tags = await this.catalog.listTags(repo);
    return (await this.catalog.listSnapshots(repo)).map((s) => ({ ...s, tags: tags.filter((t) => t.snapshot === s.id).map((t) => t.tag) }));
  }

  /** A snapshot's files as shown, each package with its signer. */
  private async filesOf(snapshot: string): Promise<SnapshotFileView[]> {
    const files = await this.catalog.snapshotFiles(snapshot);
    const records = await this.catalog.getPackages(files.filter((f) => f.kind === 'package').map((f) => f.digest));
    return files.map((f) => {
      const signer = records.get(f.digest)?.signer;
      return { href: f.href, kind: f.kind, size: f.size, sha256: f.digest, ...(signer && { signer }) };
    });
  }

  async showSnapshot(repo: string, ref: string, opts: { files?: boolean } = {}): Promise<SnapshotDetails> {
    const s = await resolveRef(this.catalog, checkRepoName(repo), ref);
    const tags = (await this.catalog.listTags(repo)).filter((t) => t.snapshot === s.id).map((t) => t.tag);
    const files = opts.files ? await this.filesOf(s.id) : undefined;
    return { ...s, tags, path: snapshotPath(repo, s.id), files };
  }

  async diff(a: string, b: string) {
    const [x, y] = [a, b].map(parseRepoRef);
    return diffSnapshots(this.store, await resolveRef(this.catalog, checkRepoName(x.repo), x.ref), await resolveRef(this.catalog, checkRepoName(y.repo), y.ref));
  }

  tag(r: TagRequest) {
    return this.mutation('tag', r.repo, r, async () => {
      const tag = checkTagName(r.tag);
      const target = await resolveRef(this.catalog, checkRepoName(r.repo), r.ref);
      let expect: string | null | undefined;
      if (r.expect === 'none') expect = null;
      else if (r.expect !== undefined) expect = (await resolveRef(this.catalog, r.repo, r.expect)).id;
      return this.catalog.moveTag({ repo: r.repo, tag, to: target.id, expect, actor: this.actor, reason: r.reason ?? `tag ${r.ref}` });
    });
  }

  async tags(repo: string) {
    await this.requireRepo(repo);
    return this.catalog.listTags(repo);
  }

  async tagHistory(repo: string, tag?: string) {
    await this.requireRepo(repo);
    return this.catalog.tagHistory(repo, tag);
  }

  async createSet(r: { refs: string[]; label?: string; ttl?: string }) {
    return viewOfSet(await this.mutation('set create', undefined, r, () => createSet(this.store, { ...r, actor: this.actor })));
  }

  async listSets() {
    const now = new Date();
    return (await this.catalog.listSets()).map((s) => viewOfSet(s, now));
  }

  showSet(id: string) {
    return setManifest(this.store, id);
  }

  async extendSet(id: string, ttl: string) {
    return viewOfSet(await this.mutation('set extend', undefined, { id, ttl }, () => this.catalog.updateSet(id, { expiresAt: leaseEnd(ttl) ?? null })));
  }

  async keepSet(id: string) {
    return viewOfSet(await this.mutation('set keep', undefined, { id }, () => this.catalog.updateSet(id, { expiresAt: null })));
  }

  async releaseSet(id: string) {
    return viewOfSet(await this.mutation('set release', undefined, { id }, () => this.catalog.updateSet(id, { release: true })));
  }

  promote(r: PromoteRequest) {
    return this.mutation('promote', undefined, r, async () => {
      const tag = checkTagName(r.tag);
      const set = await this.catalog.getSet(r.set);
      if (!set) throw new NotFoundError(`no set ${r.set}`, { list: 'sets' });
      const reason = r.reason ?? `promote set ${set.id}${set.label ? ` (${set.label})` : ''}`;
      return this.catalog.promoteSet({ set: set.id, tag, force: r.force, actor: this.actor, reason });
    });
  }

  gc(r: { dryRun?: boolean; grace?: string }) {
    const run = () => gc(this.store, { dryRun: r.dryRun, graceMs: parseDuration(r.grace ?? DEFAULT_GRACE) });
    return r.dryRun ? run() : this.mutation('gc', undefined, r, run);
  }

  fsck(r: FsckRequest) {
    if (!r.repair) return fsck(this.store, r);
    return this.mutation('fsck --repair', undefined, r, async () => {
      const report = await fsck(this.store, r);
      return { ...report, repairs: await repairBlobs(this.store, report.damaged, { from: r.from }) };
    });
  }

  async log(r: { repo?: string; limit?: number }): Promise<LogEntry[]> {
    // Rows an older txrepo wrote may hold a URL's credentials: masked on the way out.
    return (await this.catalog.listAudit(r)).map((e) => ({ ...e, args: recordedRequest(maskCredentials(e.args)), result: maskCredentials(e.result) }));
  }

  close() {
    return this.store.close();
  }
}
