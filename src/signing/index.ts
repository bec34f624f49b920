// Public surface of the signing layer: OpenPGP keys, repo metadata signatures, and
// (package-signatures.ts) the package signature policy. Loaded only where a key is
// in play: OpenPGP.js costs start-up time.
export { describeKey, normalFingerprint, readAllowedKeys, readKeyBlocks, SigningKeyError } from './keys.ts';
export type { AllowedKey, KeyInfo } from './keys.ts';
export { RepomdSigner, unlockPrivateKey, verifyRepomd } from './repomd.ts';
export type { RepomdVerdict, UnlockedKey } from './repomd.ts';
