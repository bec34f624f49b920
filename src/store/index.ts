// Public surface of the store layer: blob storage and the catalog, behind interfaces.
export { openStore, NoStoreError, NotAStoreError, StoreError, STORE_FORMAT } from './open.ts';
export type { Store, Backends, OpenOptions } from './open.ts';
export { BlobMismatchError } from './blobs.ts';
export type { BlobStore, BlobInfo, BlobWriter, Expected, LocalCopy } from './blobs.ts';
export { ConflictError, NotFoundError, AlreadyExistsError, auditScope, repoOrFail, STALE_CLAIM_MS, type Remedy } from './catalog.ts';
export type { Catalog, BlobLedger, Repository, RepoChange, PolicyKey, SigningKey, Snapshot, SnapshotFile, SnapshotCommit, Tag, TagMove, TagUpdate, FileKind, PagePart, PageRef, PackagePage, RepodataPage, PackageIdentity, SnapshotSet, NewSet, LeaseChange, Promotion, NewToken, TokenInfo, AuditEntry, AuditScope, CatalogCounts, CatalogSweep, CatalogSweepResult } from './catalog.ts';
export { isSnapshotId, compareIds, nextSnapshotId } from './ids.ts';
export { paginate, pageKey, byFileNameThenPath, pageIndexOf, replacePages } from './pages.ts';
export { tokenRefusal } from './catalog-rules.ts';
export { checkScope, checkScopes, lackedScope, ScopeError, SCOPE_SYNTAX, type ScopeKind } from './token-scopes.ts';
