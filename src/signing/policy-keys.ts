// The keys a repo's package signature policy allows: OpenPGP public keys, as `gpg
// --export` writes them (armored or binary, one file may hold several). Read with
// OpenPGP.js; a private key, anything that is not a key, and an empty file are
// refused with a message that names the file and says what to give instead.

import * as openpgp from 'openpgp';
import { Failure } from '../common/index.ts';
import { armorBlocks, keyFacts, type KeyFacts } from './keys.ts';

/** A key a repo allows packages to be signed by: its facts (keys.ts) and what verifying needs. */
export interface PolicyKey extends KeyFacts {
  /** The key carries a valid revocation: no signature it made is accepted (hard revocation) or none made after it. */
  revoked: boolean;
  /** Ids and fingerprints of its subkeys (signatures by signing subkeys count as the key's). */
  subkeys: { keyId: string; fingerprint: string }[];
  /** The OpenPGP.js key, for verification. */
  key: openpgp.PublicKey;
}

/** A key file that cannot be used: names the file and says what to give instead. */
export class PolicyKeyError extends Failure {
  readonly kind = 'invalid_input';
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'PolicyKeyError';
    this.source = source;
  }
}

const EXPORT_HINT = 'export the public key with `gpg --armor --export <fingerprint>` and give that file';

/**
 * Reads the public keys in `contents` (a key file's text or bytes; `source` names it
 * in errors). Throws PolicyKeyError for an empty file, a private key, or anything
 * OpenPGP.js cannot read as a public key.
 */
export async function loadPolicyKeys(contents: string | Uint8Array, source: string): Promise<PolicyKey[]> {
  const text = typeof contents === 'string' ? contents : looksArmored(contents) ? Buffer.from(contents).toString('latin1') : undefined;
  if ((text ?? contents).length === 0 || (text !== undefined && !text.trim())) throw new PolicyKeyError(source, `the file is empty, it holds no key; ${EXPORT_HINT}`);
  const keys = text === undefined ? await readBinary(contents as Uint8Array, source) : await readArmored(text, source);
  const seen = new Map<string, PolicyKey>();
  for (const key of keys) {
    if (key.isPrivate()) throw privateKeyError(source, key.getFingerprint());
    const described = await describe(key);
    if (!seen.has(described.fingerprint)) seen.set(described.fingerprint, described);
  }
  return [...seen.values()];
}

/** Binary keys may start with anything; armor starts with its BEGIN line (maybe after blank lines). */
function looksArmored(bytes: Uint8Array): boolean {
  return /^\s*-----BEGIN PGP /.test(Buffer.from(bytes.subarray(0, 256)).toString('latin1'));
}

async function readBinary(bytes: Uint8Array, source: string): Promise<openpgp.Key[]> {
  try {
    return await openpgp.readKeys({ binaryKeys: bytes });
  } catch (e) {
    throw new PolicyKeyError(source, `is not an OpenPGP public key (${(e as Error).message}); ${EXPORT_HINT}`);
  }
}

/** Every armored block: `cat a.asc b.asc` makes a valid key file of two keys. */
async function readArmored(text: string, source: string): Promise<openpgp.Key[]> {
  const blocks = armorBlocks(text);
  if (!blocks.length) throw new PolicyKeyError(source, `holds no armored OpenPGP key (no "-----BEGIN PGP PUBLIC KEY BLOCK-----" line); ${EXPORT_HINT}`);
  const keys: openpgp.Key[] = [];
  for (const { block, type } of blocks) {
    if (type === 'PRIVATE KEY BLOCK') throw privateKeyError(source);
    if (type !== 'PUBLIC KEY BLOCK') throw new PolicyKeyError(source, `holds a PGP ${type.toLowerCase()}, not a public key; ${EXPORT_HINT}`);
    try {
      keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
    } catch (e) {
      throw new PolicyKeyError(source, `holds a public key block OpenPGP.js cannot read (${(e as Error).message}); ${EXPORT_HINT}`);
    }
  }
  return keys;
}

function privateKeyError(source: string, fingerprint?: string): PolicyKeyError {
  const which = fingerprint ? ` (${fingerprint})` : '';
  return new PolicyKeyError(source, `holds a private key${which}; a repo needs only the public key: ${EXPORT_HINT}, and keep the private key where packages are signed`);
}

async function describe(key: openpgp.Key): Promise<PolicyKey> {
  return {
    ...(await keyFacts(key)),
    revoked: await key.isRevoked().catch(() => false),
    subkeys: key.subkeys.map((s) => ({ keyId: s.getKeyID().toHex(), fingerprint: s.getFingerprint() })),
    key: key as openpgp.PublicKey,
  };
}
