// Public surface of the plain-directory repo layer (createrepo / modifyrepo).
export { createrepo, PackageErrors, CreaterepoInputError } from './createrepo.ts';
export type { CreaterepoOptions, CreaterepoResult } from './createrepo.ts';
export { modifyrepo, defaultMdType } from './modifyrepo.ts';
export type { ModifyrepoOptions, ModifyrepoResult } from './modifyrepo.ts';
export { LockedError, acquireLock } from './lock.ts';
export type { Lock } from './lock.ts';
export { ScanError, scanPackages } from './scan.ts';
export type { FoundPackage, ScanResult } from './scan.ts';
