// Public surface of the signing layer (OpenPGP.js): the keys that sign repo metadata
// and repomd.xml signatures (repomd.ts), and the package signature policy: the keys a
// repo allows and the packages' own signatures checked against them
// (package-signatures.ts). Loaded only where a key is in play: it costs start-up time.
export { clientCompatibility, describeKey, normalFingerprint, readKeyBlocks, SigningKeyError } from './keys.ts';
export type { KeyInfo } from './keys.ts';
export { GIVE_PASSPHRASE, RepomdSigner, unlockPrivateKey, verifyRepomd } from './repomd.ts';
export type { RepomdVerdict, UnlockedKey } from './repomd.ts';
export { loadPolicyKeys, PolicyKeyError } from './policy-keys.ts';
export type { PolicyKey } from './policy-keys.ts';
export { verifyPackageSignatures, PackageSignatureError } from './package-signatures.ts';
export type { PackageSigner, SignatureCheck, SignatureProblem } from './package-signatures.ts';
