// OpenPGP algorithm ids (RFC 9580 9.1, 9.5; draft-ietf-openpgp-pqc), their names
// for messages, and which ones package signatures may use.

import * as openpgp from 'openpgp';

const PUBLIC_KEY_NAMES: Record<number, string> = {
  1: 'RSA',
  2: 'RSA (encrypt only)',
  3: 'RSA (sign only)',
  16: 'ElGamal',
  17: 'DSA',
  18: 'ECDH',
  19: 'ECDSA',
  22: 'EdDSA',
  25: 'X25519',
  26: 'X448',
  27: 'Ed25519',
  28: 'Ed448',
  30: 'ML-DSA-65+Ed25519',
  31: 'ML-DSA-87+Ed448',
  32: 'SLH-DSA-SHAKE-128s',
  33: 'SLH-DSA-SHAKE-128f',
  34: 'SLH-DSA-SHAKE-256s',
  35: 'ML-KEM-768+X25519',
  36: 'ML-KEM-1024+X448',
};

/** Post-quantum signature algorithms (draft-ietf-openpgp-pqc): OpenPGP.js 6 has none. */
const POST_QUANTUM = new Set([30, 31, 32, 33, 34]);

const HASH_NAMES: Record<number, string> = {
  1: 'MD5',
  2: 'SHA1',
  3: 'RIPEMD160',
  8: 'SHA256',
  9: 'SHA384',
  10: 'SHA512',
  11: 'SHA224',
  12: 'SHA3-256',
  14: 'SHA3-512',
};

/** node:crypto's names of the hashes (for version 3 signatures, verified here). */
export const NODE_HASHES: Record<number, string> = {
  8: 'sha256',
  9: 'sha384',
  10: 'sha512',
  11: 'sha224',
  12: 'sha3-256',
  14: 'sha3-512',
};

/** Signature algorithms OpenPGP.js 6 verifies in version 4 and 6 signatures. */
const OPENPGPJS_SIGNS = new Set([1, 3, 17, 19, 22, 27, 28]);
/** Version 3 signatures are verified here, with node:crypto: RSA only. */
const V3_SIGNS = new Set([1, 3]);

/**
 * OpenPGP.js's settings for verification: its defaults, but DSA is allowed. The repo's
 * admin chose each key, and rpm verifies DSA; a DSA key of 1024 bits can only make SHA1
 * signatures, which the hash rule refuses anyway.
 */
export const VERIFY_CONFIG: openpgp.Config = {
  ...openpgp.config,
  rejectPublicKeyAlgorithms: new Set([openpgp.enums.publicKey.elgamal]),
};

export const publicKeyName = (id: number): string => `${PUBLIC_KEY_NAMES[id] ?? 'unknown algorithm'} (${id})`;
export const hashName = (id: number): string => HASH_NAMES[id] ?? `hash algorithm ${id}`;

/** Why a signature of this version and algorithm cannot be verified, or undefined when it can. */
export function unsupportedAlgorithm(version: number, algorithm: number): string | undefined {
  if (POST_QUANTUM.has(algorithm)) return `it uses the post-quantum algorithm ${publicKeyName(algorithm)}, which txrepo cannot verify yet (OpenPGP.js 6 does not implement it)`;
  if (version === 3 && !V3_SIGNS.has(algorithm)) return `it is a version 3 signature made with ${publicKeyName(algorithm)}; txrepo verifies version 3 signatures made with RSA only`;
  if (!OPENPGPJS_SIGNS.has(algorithm)) return `it uses the public-key algorithm ${publicKeyName(algorithm)}, which txrepo cannot verify`;
  return undefined;
}

/** Why a signature's hash is refused, or undefined when it is accepted (OpenPGP.js's rule: not MD5, RIPEMD160 or SHA1). */
export function refusedHash(version: number, hash: number): string | undefined {
  const weak = VERIFY_CONFIG.rejectMessageHashAlgorithms.has(hash) || VERIFY_CONFIG.rejectHashAlgorithms.has(hash);
  if (weak) return `it uses the hash ${hashName(hash)}, which is too weak to trust (collisions can be made); sign with SHA256 or stronger`;
  const known = version === 3 ? NODE_HASHES[hash] : HASH_NAMES[hash];
  if (!known) return `it uses ${hashName(hash)}, which txrepo cannot verify`;
  return undefined;
}

/** For people: "RSA 3072", "EdDSA (ed25519Legacy)", "Ed25519". */
export function algorithmName(id: number, info: openpgp.AlgorithmInfo): string {
  const name = PUBLIC_KEY_NAMES[id] ?? info.algorithm;
  if (info.bits) return `${name} ${info.bits}`;
  return info.curve ? `${name} (${info.curve})` : name;
}

/** As rpm prints a signature: "V4 RSA/SHA512". */
export function signatureLabel(version: number, algorithm: number, hash: number): string {
  return `V${version} ${PUBLIC_KEY_NAMES[algorithm] ?? `algorithm ${algorithm}`}/${hashName(hash)}`;
}
