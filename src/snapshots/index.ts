// Public surface of the snapshots layer: repositories, snapshots, tags, ingest, the
// commit loop, deploy, export.
export { checkRepoName, checkTagName, checkTokenName, InvalidNameError } from './names.ts';
export { parseRepoRef, parseTime, resolveRef, RefError } from './refs.ts';
export { deploy, commitPackages, collectRpmFiles, DeployInputError } from './deploy.ts';
export type { DeployOptions, DeployResult, CommitPackagesOptions } from './deploy.ts';
export { isRepoUrl, sourceKind } from './sources.ts';
export type { SourceKind } from './sources.ts';
export { checkPackageName, ingestFiles, ingestStored, inRepodata, packageHref, refusedInRepodata, UNSERVABLE_NAME } from './ingest.ts';
export type { IngestedPackage, StoredPackage, StoredPackageFailures, StoredIngestOptions } from './ingest.ts';
export { commitOnLatest } from './commit.ts';
export type { CommitRequest, CommitResult, ListChange, ExtraMetadata, ListEdit } from './commit.ts';
export { exportSnapshot, ExportError } from './export.ts';
export { generateRepodata } from './repodata.ts';
export { describeUsers, fsck } from './fsck.ts';
export type { BlobDamage, BlobRepair, BlobUser, DamagedBlob, FsckReport } from './fsck.ts';
export { repairBlobs, RepairSourceError } from './repair.ts';
export { diffSnapshots } from './diff.ts';
export type { SnapshotDiff, PackageChange, MetadataChange } from './diff.ts';
export { gc, beyondRetention } from './gc.ts';
export type { GcOptions, GcReport } from './gc.ts';
export { createSet, setManifest, parseDuration, isLive, leaseEnd, viewOfSet, DEFAULT_SET_TTL } from './sets.ts';
export type { SetRequest, SetManifest, SetManifestFile, SetManifestRepo, SetView, LeaseEnded } from './sets.ts';
export { SnapshotLookup } from './lookup.ts';
export { gpgChecks, gpgLines } from './client-config.ts';
export type { GpgChecks } from './client-config.ts';
export { atPath, fileUnder, keyPath, LATEST_INDEX_PATH, setIndexPath, setMemberPath, setRepoFilePath, snapshotPath, tagPath } from './paths.ts';
export { configureSigning, publicKeys, snapshotSigner, warmSigning } from './signing.ts';
export type { Signer } from './signing.ts';
