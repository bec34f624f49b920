// The operations of txrepo, as one interface that both shells use: the CLI calls it
// (on a local store, or on a server through RemoteTxrepo), and the HTTP API serves it
// (LocalTxrepo behind /api/v1). Requests and results are plain JSON values.

import type { AuditEntry, Repository, Snapshot, SnapshotFile, SnapshotSet, Tag, TagMove, TokenInfo } from '../store/index.ts';
import type { DeployResult, FsckReport, GcReport, SetManifest, SnapshotDiff } from '../snapshots/index.ts';
import type { SyncResult } from '../sync/index.ts';

export interface CreateRepoRequest {
  name: string;
  upstream?: string;
  keep?: number;
  retainLast?: number;
  retainDays?: number;
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

export interface SyncRequest {
  repo: string;
  from?: string;
  mirror?: boolean;
  parallel?: number;
  message?: string;
}

export interface SnapshotDetails extends Snapshot {
  tags: string[];
  path: string;
  files?: SnapshotFile[];
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
  listRepos(): Promise<RepoSummary[]>;
  showRepo(name: string): Promise<RepoDetails>;
  deleteRepo(name: string): Promise<{ deleted: string }>;

  deploy(r: DeployRequest, progress?: Progress): Promise<DeployResult>;
  sync(r: SyncRequest, progress?: Progress): Promise<SyncResult>;

  snapshots(repo: string): Promise<Snapshot[]>;
  showSnapshot(repo: string, ref: string, opts?: { files?: boolean }): Promise<SnapshotDetails>;
  /** Two REPO@REF (the repos may differ). */
  diff(a: string, b: string): Promise<SnapshotDiff>;

  tag(r: TagRequest): Promise<TagMove>;
  tags(repo: string): Promise<Tag[]>;
  tagHistory(repo: string, tag?: string): Promise<TagMove[]>;

  createSet(r: CreateSetRequest): Promise<SnapshotSet>;
  listSets(): Promise<SnapshotSet[]>;
  showSet(id: string): Promise<SetManifest>;
  /** A new lease end: TTL from now ('forever': kept until released). */
  extendSet(id: string, ttl: string): Promise<SnapshotSet>;
  keepSet(id: string): Promise<SnapshotSet>;
  releaseSet(id: string): Promise<SnapshotSet>;
  promote(r: PromoteRequest): Promise<TagMove[]>;

  gc(r: { dryRun?: boolean; grace?: string }): Promise<GcReport>;
  fsck(r: { verifyBlobs?: boolean }): Promise<FsckReport>;
  log(r: { repo?: string; limit?: number }): Promise<AuditEntry[]>;

  close(): Promise<void>;
}

export type { TokenInfo };
