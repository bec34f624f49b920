// OpenPGP keys as txrepo shows and stores them: by fingerprint, with the facts a
// person checks before trusting one (user ids, algorithm, creation and expiry).

import * as openpgp from 'openpgp';
import { Failure } from '../common/index.ts';

/** A key given to txrepo is unusable: the message names it and says what to do. */
export class SigningKeyError extends Failure {
  override name = 'SigningKeyError';
  readonly kind = 'invalid_input';
}

export interface KeyInfo {
  /** Of the primary key, lowercase hex (40 digits for v4 keys, 64 for v6). */
  fingerprint: string;
  /** The last 16 hex digits of a v4 fingerprint (rpm and gpg show it). */
  keyId: string;
  userIds: string[];
  /** e.g. "rsa 3072", "eddsaLegacy ed25519", "ed25519". */
  algorithm: string;
  created: string;
  /** When the key stops being valid; absent: never. */
  expires?: string;
}

export async function describeKey(key: openpgp.Key): Promise<KeyInfo> {
  const algo = key.getAlgorithmInfo();
  const expiry = await key.getExpirationTime().catch(() => null);
  const info: KeyInfo = {
    fingerprint: key.getFingerprint(),
    keyId: key.getKeyID().toHex(),
    userIds: key.getUserIDs(),
    algorithm: [algo.algorithm, 'bits' in algo && algo.bits ? algo.bits : 'curve' in algo ? algo.curve : undefined].filter(Boolean).join(' '),
    created: key.getCreationTime().toISOString(),
  };
  if (expiry instanceof Date) info.expires = expiry.toISOString();
  return info;
}

/**
 * Why many dnf clients could not check signatures by this key, or undefined: librepo
 * verifies repomd.xml.asc with the system's GnuPG, and GnuPG 2.2 (Debian 12, RHEL 8
 * and 9) knows neither v6 keys nor the RFC 9580 Ed25519/Ed448 algorithms.
 */
export function clientCompatibility(info: KeyInfo, version: number): string | undefined {
  if (version >= 5) return `a v${version} key, which GnuPG before 2.4 (and so dnf on RHEL 8 and 9, Debian 12) cannot check`;
  if (/^(ed25519|ed448)\b/.test(info.algorithm)) return `an ${info.algorithm.split(' ')[0]} key (RFC 9580), which GnuPG before 2.4 (and so dnf on RHEL 8 and 9, Debian 12) cannot check; an RSA key, or EdDSA made by GnuPG 2.2 ('gpg --quick-gen-key UID ed25519'), works everywhere`;
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
