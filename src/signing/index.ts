// Public surface of the signing layer: OpenPGP keys a repo allows and the package
// signature policy checked against them (OpenPGP.js; see package-signatures.ts).
export { loadPolicyKeys, PolicyKeyError } from './policy-keys.ts';
export type { PolicyKey } from './policy-keys.ts';
export { verifyPackageSignatures, PackageSignatureError } from './package-signatures.ts';
export type { PackageSigner, SignatureCheck, SignatureProblem } from './package-signatures.ts';
