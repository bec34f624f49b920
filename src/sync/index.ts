// Public surface of the sync layer: mirroring upstream yum repos into the store.
export { sync, ingestRepo, listedPackageFiles } from './sync.ts';
export type { SyncOptions, SyncResult, FilterReport, IngestedRepo, ListedFile } from './sync.ts';
export { applyMirrorFilter, advisoriesLeftOut, requiresLeftOut, checkMirrorFilter, checkMirrorFilterChange, MirrorFilterError, FILTER_LIMITS } from './filter.ts';
export type { FilterOutcome, Nevra, RequiresLeftOut, WithDependencies } from './filter.ts';
export { openUpstream, UpstreamError } from './source.ts';
export type { Upstream } from './source.ts';
export { checkHref, checkPackageHref, UnsafeHrefError } from './hrefs.ts';
export { downloadToBlob, ChecksumMismatchError } from './download.ts';
export { fetchPolicy, FetchRefusedError, restrictedKind } from './fetch-policy.ts';
export type { FetchPolicy } from './fetch-policy.ts';
export { parseNetrc, withoutCredentials } from './credentials.ts';
