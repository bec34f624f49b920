// OpenPGP keys as txrepo shows and stores them: by fingerprint, with the facts a
// person checks before trusting one (user ids, algorithm, creation and expiry), read
// one way for signing keys and policy keys alike.

import * as openpgp from 'openpgp';
import { Failure } from '../common/index.ts';
import { algorithmName } from './algorithms.ts';

/** A key given to txrepo is unusable: the message names it and says what to do. */
export class SigningKeyError extends Failure {
  override name = 'SigningKeyError';
  readonly kind = 'invalid_input';
}

/**
 * What a person checks of a key before trusting it, read the one way for every key
 * txrepo shows: signing keys (key import, key list) and the keys of a package policy.
 */
export interface KeyFacts {
  /** Of the primary key, lowercase hex (40 digits for v4 keys, 64 for v6). */
  fingerprint: string;
  /** The last 16 hex digits of a v4 fingerprint (rpm and gpg show it). */
  keyId: string;
  userIds: string[];
  /** For people: "RSA 3072", "EdDSA (ed25519Legacy)", "Ed25519" (algorithms.ts). */
  algorithm: string;
  created: Date;
  /** When the primary key expires; absent: never. */
  expires?: Date;
}

export async function keyFacts(key: openpgp.Key): Promise<KeyFacts> {
  const expiry = await key.getExpirationTime().catch(() => null);
  const facts: KeyFacts = {
    fingerprint: key.getFingerprint(),
    keyId: key.getKeyID().toHex(),
    userIds: key.getUserIDs(),
    algorithm: algorithmName(key.keyPacket.algorithm, key.getAlgorithmInfo()),
    created: key.getCreationTime(),
  };
  if (expiry instanceof Date) facts.expires = expiry;
  return facts;
}

/** A signing key's facts as the catalog keeps them and `key list --json` shows them: times as ISO 8601 text. */
export interface KeyInfo extends Omit<KeyFacts, 'created' | 'expires'> {
  created: string;
  expires?: string;
}

export async function describeKey(key: openpgp.Key): Promise<KeyInfo> {
  const { created, expires, ...rest } = await keyFacts(key);
  return { ...rest, created: created.toISOString(), ...(expires && { expires: expires.toISOString() }) };
}

/** RFC 9580's own EdDSA algorithms (ids 27, 28), which GnuPG 2.2 does not know; EdDSA of RFC 4880bis (22) it does. */
const RFC9580_EDDSA = new Set([27, 28]);

/**
 * Why many dnf clients could not check signatures by this key, or undefined: librepo
 * verifies repomd.xml.asc with the system's GnuPG, and GnuPG 2.2 (Debian 12, RHEL 8
 * and 9) knows neither v6 keys nor the RFC 9580 Ed25519/Ed448 algorithms.
 */
export function clientCompatibility(key: openpgp.Key): string | undefined {
  const { version, algorithm } = key.keyPacket;
  if (version >= 5) return `a v${version} key, which GnuPG before 2.4 (and so dnf on RHEL 8 and 9, Debian 12) cannot check`;
  if (RFC9580_EDDSA.has(algorithm)) return `an ${algorithmName(algorithm, key.getAlgorithmInfo())} key (RFC 9580), which GnuPG before 2.4 (and so dnf on RHEL 8 and 9, Debian 12) cannot check; an RSA key, or EdDSA made by GnuPG 2.2 ('gpg --quick-gen-key UID ed25519'), works everywhere`;
  return undefined;
}

/** A fingerprint as people type it (spaces, 0x, upper case) in the form txrepo stores. */
export function normalFingerprint(text: string): string {
  return text.replace(/\s+/g, '').replace(/^0x/i, '').toLowerCase();
}

/**
 * The armoured blocks of a text, in order, with their type ("PUBLIC KEY BLOCK",
 * "PRIVATE KEY BLOCK", "SIGNATURE", ...): a file may hold several one after another
 * (`cat a.asc b.asc`), and OpenPGP.js reads one block per call.
 */
export function armorBlocks(text: string): { block: string; type: string }[] {
  return [...text.matchAll(/-----BEGIN PGP ([A-Z0-9 ,]+)-----[\s\S]*?-----END PGP \1-----/g)].map(([block, type]) => ({ block, type }));
}

/** Every key of an armoured text (a repomd.xml.key during a rotation, a file of several keys). */
export async function readKeyBlocks(text: string): Promise<openpgp.Key[]> {
  const blocks = armorBlocks(text).filter((b) => b.type === 'PUBLIC KEY BLOCK' || b.type === 'PRIVATE KEY BLOCK');
  if (!blocks.length) throw new Error('no armoured key block (-----BEGIN PGP PUBLIC KEY BLOCK-----)');
  const keys: openpgp.Key[] = [];
  for (const { block } of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
  return keys;
}
