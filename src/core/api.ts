// The operations of txrepo, as one interface that both shells use: the CLI calls it
// (on a local store, or on a server through RemoteTxrepo), and the HTTP API serves it
// (LocalTxrepo behind /api/v1). Requests and results are plain JSON values.

import type { AuditEntry, FileKind, MirrorFilter, MirrorFilterChange, Repository, Snapshot, Tag, TagMove, TokenInfo } from '../store/index.ts';
import type { FsckReport, GcReport, SetManifest, SetView, SnapshotDiff } from '../snapshots/index.ts';

export interface CreateRepoRequest {
  name: string;
  upstream?: string;
  keep?: number;
  retainLast?: number;
  retainDays?: number;
  /**
   * OpenPGP public keys (armoured; an entry may hold several): deploy and sync then
   * take only packages signed by one of them.
   */
  requireSigned?: string[];
  /** Which of the upstream's packages sync takes (docs/sync.md); absent: all. */
  filter?: MirrorFilter;
}

/** What `repo update` changes: a field given replaces the repo's, null clears it. */
export interface UpdateRepoRequest {
  name: string;
  upstream?: string | null;
  keep?: number | null;
  retainLast?: number | null;
  retainDays?: number | null;
  /** As in CreateRepoRequest; null (or none): packages need no signature. */
  requireSigned?: string[] | null;
  /** Fields given replace the filter's, a field null clears it; null clears the whole filter. */
  filter?: MirrorFilterChange | null;
}

export interface RepoSummary extends Repository {
  latest?: string;
}

export interface RepoDetails extends Repository {
  snapshots: number;
  tags: Tag[];
}

/** A package already uploaded to the server's blob store (see RemoteTxrepo.deploy). */
export interface UploadedPackage {
  sha256: string;
  fileName: string;
}

export interface DeployRequest {
  repo: string;
  /** .rpm files, directories of them, yum repo directories, or http(s) yum repo URLs. */
  sources?: string[];
  uploads?: UploadedPackage[];
  message?: string;
}

export interface FsckRequest {
  /** Re-hash every blob. */
  verifyBlobs?: boolean;
  /** Repair each damaged blob (src/snapshots/repair.ts). */
  repair?: boolean;
  /** With `repair`: a directory or http(s) base URL holding good copies. */
  from?: string;
}

export interface SyncRequest {
  repo: string;
  from?: string;
  mirror?: boolean;
  parallel?: number;
  message?: string;
}

export interface RemoveRequest {
  repo: string;
  /** Package names, name.arch, NEVRAs, N-V-R(.A), file names, or shell globs of them. */
  patterns: string[];
  message?: string;
  /** Only say what would be removed. */
  dryRun?: boolean;
}

export interface CopyRequest {
  /** The source: SRC[@REF] (REF defaults to latest). */
  from: string;
  /** The destination repository. */
  repo: string;
  patterns: string[];
  /** Also what the packages need from the source snapshot. */
  withDeps?: boolean;
  message?: string;
  dryRun?: boolean;
}

/** A snapshot in a list: with the tags that point at it. */
export interface SnapshotSummary extends Snapshot {
  tags: string[];
}

/** One file of a snapshot's tree, as both shells show it. */
export interface SnapshotFileView {
  href: string;
  kind: FileKind;
  size: number;
  sha256: string;
  /** A package: the key id of its OpenPGP signature; absent: unsigned. */
  signer?: string;
}

export interface SnapshotDetails extends SnapshotSummary {
  /** Its path on a txrepo server: /repos/<repo>/snapshots/<id>/. */
  path: string;
  files?: SnapshotFileView[];
}

/**
 * What a deploy or a sync did. `snapshot` is the snapshot `latest` points at after it:
 * the new one, or the one it already pointed at when nothing was new (`unchanged`).
 */
export interface CommitOutcome {
  repo: string;
  snapshot: string;
  unchanged: boolean;
  /** The snapshot's path on a txrepo server. */
  path: string;
  /** Packages in the snapshot. */
  packages: number;
}

export interface DeployOutcome extends CommitOutcome {
  /** Hrefs of the packages added, and of those the repo's --keep policy removed. */
  added: string[];
  removed: string[];
  /** Hrefs of packages given that the --keep policy did not take (older than the builds kept). */
  notKept: string[];
}

/**
 * What a remove did, or with `dryRun` would do (then `snapshot` is latest as it is, and
 * `unchanged` is true).
 */
export interface RemoveOutcome extends CommitOutcome {
  /** Hrefs of the packages removed. */
  removed: string[];
  dryRun: boolean;
}

/** A requirement of a copied package that neither the source nor the destination provides. */
export interface UnresolvedRequirement {
  /** The NEVRA of the package that requires it. */
  package: string;
  requires: string;
  why?: string;
}

/** What a copy did, or with `dryRun` would do. */
export interface CopyOutcome extends DeployOutcome {
  /** The source snapshot's repository and id. */
  from: { repo: string; snapshot: string };
  /** Hrefs, in the destination, of the packages brought as dependencies (a part of those copied). */
  dependencies: string[];
  unresolved: UnresolvedRequirement[];
  dryRun: boolean;
}

export interface SyncOutcome extends CommitOutcome {
  /** Files downloaded from the upstream (packages and metadata the store lacked). */
  downloaded: number;
  /**
   * With a filter on the repo: how many of the upstream's packages it left out (never
   * downloaded), the ids of the advisories whose packages it all left out, and the kept
   * packages that require what only left-out packages provide.
   */
  filtered?: { leftOut: number; advisoriesLeftOut: string[]; requiresLeftOut: { package: string; requires: string[] }[]; dependencies?: number };
}

/** One entry of the audit log; `args` is the request as it was made (JSON). */
export interface LogEntry extends Omit<AuditEntry, 'args'> {
  args: unknown;
}

/** What export wrote. */
export interface ExportOutcome {
  repo: string;
  snapshot: string;
  dir: string;
  files: number;
  /** Files hard-linked from the store (the others were copied). */
  linked: number;
}

export interface TagRequest {
  repo: string;
  tag: string;
  ref: string;
  /** A REF the tag must point at now, or 'none' (it must not exist). */
  expect?: string;
  reason?: string;
}

export interface CreateSetRequest {
  refs: string[];
  label?: string;
  ttl?: string;
}

export interface PromoteRequest {
  set: string;
  tag: string;
  force?: boolean;
  reason?: string;
}

/**
 * A stage of a long operation, as a progress report names it: reading local packages
 * ('read'), hashing or uploading them to a server ('hash', 'upload'), fetching the
 * packages of a yum repo ('fetch'), syncing an upstream's packages ('sync').
 */
export type ProgressStage = 'read' | 'hash' | 'upload' | 'fetch' | 'sync';

/** How far a long operation is: `done` of `total` (bytes or packages) of its current stage. */
export interface ProgressReport {
  stage: ProgressStage;
  unit: 'bytes' | 'packages';
  done: number;
  total: number;
}

export interface Progress {
  (report: ProgressReport): void;
}

/**
 * The media type of an API answer that streams a long operation's progress reports,
 * one JSON object a line, before its result: what a client asks for (Accept) to follow
 * a deploy or sync the server runs (docs/http-api.md).
 */
export const PROGRESS_MEDIA_TYPE = 'application/x-ndjson';

export interface Txrepo {
  /** Who acts: recorded with snapshots, tag moves and in the audit log. */
  readonly actor: string;

  createRepo(r: CreateRepoRequest): Promise<Repository>;
  updateRepo(r: UpdateRepoRequest): Promise<Repository>;
  listRepos(): Promise<RepoSummary[]>;
  showRepo(name: string): Promise<RepoDetails>;
  deleteRepo(name: string): Promise<{ deleted: string }>;

  deploy(r: DeployRequest, progress?: Progress): Promise<DeployOutcome>;
  sync(r: SyncRequest, progress?: Progress): Promise<SyncOutcome>;
  /** A snapshot of REPO's latest without the packages the patterns name. */
  remove(r: RemoveRequest): Promise<RemoveOutcome>;
  /** A snapshot of REPO's latest with the packages the patterns name in another snapshot. */
  copy(r: CopyRequest): Promise<CopyOutcome>;

  snapshots(repo: string): Promise<SnapshotSummary[]>;
  showSnapshot(repo: string, ref: string, opts?: { files?: boolean }): Promise<SnapshotDetails>;
  /** Two REPO@REF (the repos may differ). */
  diff(a: string, b: string): Promise<SnapshotDiff>;

  tag(r: TagRequest): Promise<TagMove>;
  tags(repo: string): Promise<Tag[]>;
  tagHistory(repo: string, tag?: string): Promise<TagMove[]>;

  createSet(r: CreateSetRequest): Promise<SetView>;
  listSets(): Promise<SetView[]>;
  showSet(id: string): Promise<SetManifest>;
  /** A new lease end: TTL from now ('forever': kept until released). */
  extendSet(id: string, ttl: string): Promise<SetView>;
  keepSet(id: string): Promise<SetView>;
  releaseSet(id: string): Promise<SetView>;
  promote(r: PromoteRequest): Promise<TagMove[]>;

  gc(r: { dryRun?: boolean; grace?: string }): Promise<GcReport>;
  /**
   * Checks the store; with `repair`, also repairs each damaged blob it finds (from a good
   * copy under `from`, a directory or URL; else by quarantine). Repair runs on the
   * store itself, not through a server.
   */
  fsck(r: FsckRequest): Promise<FsckReport>;
  log(r: { repo?: string; limit?: number }): Promise<LogEntry[]>;

  close(): Promise<void>;
}

export type { TokenInfo };
