// Public surface of the store layer: blob storage and the catalog, behind interfaces.
export { openStore, NoStoreError, NotAStoreError, StoreError, STORE_FORMAT } from './open.ts';
export type { Store, Backends, OpenOptions } from './open.ts';
export { BlobDamagedError, BlobMismatchError } from './blobs.ts';
export { hashFile } from './staged-blob.ts';
// S3 settings and failures, for publish's S3 target (loads the AWS SDK: import it only where S3 is in play).
export type { S3Location } from './s3-blobs.ts';
export const s3Support = () => import('./s3-blobs.ts');
export type { BlobBatch, BlobStore, BlobInfo, BlobWriter, Expected, LocalCopy } from './blobs.ts';
export { ConflictError, NotFoundError, AlreadyExistsError, auditScope, repoOrFail, STALE_CLAIM_MS, type Remedy } from './catalog.ts';
export { serializeRecord, type SerializedRecord, type StorableRecord } from './rows.ts';
export type { Catalog, BlobLedger, Repository, RepoChange, MirrorFilter, MirrorFilterChange, PolicyKey, SigningKey, Snapshot, SnapshotFile, SnapshotCommit, Tag, TagMove, TagUpdate, FileKind, PagePart, PageRef, PackagePage, RepodataPage, PackageIdentity, SnapshotSet, NewSet, LeaseChange, Promotion, NewToken, TokenInfo, AuditEntry, AuditScope, CatalogSweep, CatalogSweepResult, CatalogCounts } from './catalog.ts';
export { isSnapshotId, compareIds, nextSnapshotId } from './ids.ts';
export { paginate, pageKey, byFileNameThenPath, pageIndexOf, replacePages } from './pages.ts';
export { tokenRefusal } from './catalog-rules.ts';
export { checkScope, checkScopes, lackedScope, ScopeError, SCOPE_SYNTAX, type ScopeKind } from './token-scopes.ts';
