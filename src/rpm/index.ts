// Public surface of the RPM format layer.
export { RpmFormatError, RpmDigestError, PackageFileError } from './errors.ts';
export { readPackage, readPackageBytes, readPackageSync, verifyDigests, headerLayout, parseHeaders, readSignedParts, CHECKSUM_TYPES } from './read.ts';
export type { ChecksumType, ReadOptions, HeaderLayout, SignedParts } from './read.ts';
export { packageSignatures, signerOf, SIGNATURE_TAGS, MAX_OPENPGP_SIGNATURES } from './signatures.ts';
export type { PackageSignature, SignatureCoverage, SignaturePacketFacts } from './signatures.ts';
export { evrcmp, rpmvercmp } from './vercmp.ts';
export type { Evr } from './vercmp.ts';
export { DEPENDENCY_KINDS, isPrimaryFile, nevra, specForms } from './record.ts';
export type { PackageRecord, Dependency, DependencyFlags, DependencyKind, PackageFile, FileType, ChangelogEntry } from './record.ts';
