// Public surface of the core: the operations both shells (CLI, HTTP API) call.
export type { Txrepo, CreateRepoRequest, UpdateRepoRequest, RepoSummary, RepoDetails, DeployRequest, UploadedPackage, SyncRequest, SnapshotSummary, SnapshotDetails, SnapshotFileView, CommitOutcome, DeployOutcome, SyncOutcome, RemoveRequest, RemoveOutcome, CopyRequest, CopyOutcome, UnresolvedRequirement, LogEntry, ExportOutcome, TagRequest, CreateSetRequest, PromoteRequest, Progress, ProgressReport, ProgressStage, FsckRequest } from './api.ts';
export { LocalTxrepo, DEFAULT_GRACE, RequestError } from './local.ts';
export { PROGRESS_MEDIA_TYPE } from './api.ts';
