// Version 3 signatures (RFC 4880 5.2.2), which OpenPGP.js 6 no longer reads but
// packages signed for RHEL 6 and older still carry ("V3 RSA/SHA256 Signature"). They
// are verified here with node:crypto, RSA only (PKCS#1 v1.5): the signed hash is that
// of the data, then the signature type (1 byte) and the creation time (4 bytes,
// big-endian); its first two bytes must equal the packet's hash prefix, as RFC 4880
// has a verifier check before the public-key operation.

import { createHash, createPublicKey, createVerify } from 'node:crypto';
import type { SignaturePacketFacts } from '../rpm/index.ts';
import { NODE_HASHES } from './algorithms.ts';

const RSA_ALGORITHMS = new Set([1, 3]);

/** Checks a version 3 RSA signature over the data `feed` gives, in order. */
export async function verifyV3(packet: SignaturePacketFacts, keyAlgorithm: number, publicParams: object, feed: (onChunk: (chunk: Uint8Array) => void) => Promise<void>): Promise<boolean> {
  const hashName = NODE_HASHES[packet.hashAlgorithm];
  const { n, e } = publicParams as { n?: Uint8Array; e?: Uint8Array };
  const value = packet.mpis?.[0];
  if (!hashName || !RSA_ALGORITHMS.has(keyAlgorithm) || !n || !e || !value || packet.mpis!.length !== 1 || value.length > n.length) return false;
  const hash = createHash(hashName);
  const verifier = createVerify(hashName);
  await feed((chunk) => {
    hash.update(chunk);
    verifier.update(chunk);
  });
  const trailer = Buffer.alloc(5);
  trailer[0] = packet.signatureType;
  trailer.writeUInt32BE(packet.created, 1);
  hash.update(trailer);
  verifier.update(trailer);
  const digest = hash.digest();
  if (digest[0] !== packet.hashPrefix[0] || digest[1] !== packet.hashPrefix[1]) return false;
  const key = createPublicKey({ key: { kty: 'RSA', n: base64url(n), e: base64url(e) }, format: 'jwk' });
  // The MPI drops leading zero bytes; PKCS#1 wants the value as long as the modulus.
  return verifier.verify(key, leftPad(value, n.length));
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

function leftPad(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes, length - bytes.length);
  return out;
}
