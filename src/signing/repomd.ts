// Signing a repo's metadata: a detached, ASCII-armoured OpenPGP signature of
// repodata/repomd.xml, written beside it as repodata/repomd.xml.asc, which dnf checks
// with repo_gpgcheck=1 (librepo verifies repomd.xml.asc against the keys imported from
// the repo's gpgkey URLs). The signing keys' public halves go beside them as
// repodata/repomd.xml.key, as createrepo-based hosts (Copr, OBS) do.
//
// OpenPGP.js does the cryptography (docs/signing.md says why): it runs in the process,
// so a deploy signs without starting gpg or an agent, and it is the library the
// package policy verifies with.
//
// With two keys (a rotation), one .asc holds a signature by each: a client that trusts
// either key accepts the repo (librepo accepts the file when one signature is good).

import * as openpgp from 'openpgp';
import { clientCompatibility, describeKey, type KeyInfo, readKeyBlocks, SigningKeyError } from './keys.ts';

/** A private key ready to sign: imported, unlocked, checked. */
export interface UnlockedKey {
  info: KeyInfo;
  /** Why some dnf clients could not check its signatures (keys.ts, clientCompatibility), if they could not. */
  caveat?: string;
  key: openpgp.PrivateKey;
  /** The public half, armoured. */
  publicKey: string;
  /** The private key as given (still protected by its passphrase, if it was), armoured: what a store keeps. */
  stored: string;
}

/** A private key as stored: armoured, protected by a passphrase or not. */
export interface StoredPrivateKey {
  armored: string;
  /** For messages: the file it came from, or "signing key FPR". */
  source: string;
}

/**
 * Reads one private key (armoured or binary) and unlocks it with `passphrase` when it
 * is protected. Refuses a public key, several keys, a key that cannot sign now
 * (expired, revoked, no signing-capable key), and a wrong or missing passphrase, each
 * with an error that names `source` and says what to do.
 */
/** How a CLI user gives a passphrase; a server says its own way (see unlockPrivateKey's `howToGive`). */
export const GIVE_PASSPHRASE = 'give it (--passphrase-file FILE, or TXREPO_SIGNING_PASSPHRASE / TXREPO_SIGNING_PASSPHRASE_FILE in the environment)';

export async function unlockPrivateKey(bytes: string | Uint8Array, source: string, passphrase?: string, howToGive = GIVE_PASSPHRASE): Promise<UnlockedKey> {
  const keys = await readPrivateKeys(bytes, source);
  if (keys.length !== 1) throw new SigningKeyError(`${source}: holds ${keys.length} private keys; give one file per key`);
  let key = keys[0];
  const stored = key.armor();
  if (!key.isDecrypted()) {
    if (passphrase === undefined) throw new SigningKeyError(`${source}: the key is protected by a passphrase; ${howToGive}`);
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch {
      throw new SigningKeyError(`${source}: the passphrase does not unlock the key`);
    }
  }
  await checkCanSign(key, source);
  const info = await describeKey(key);
  const caveat = clientCompatibility(key);
  return { info, key, publicKey: key.toPublic().armor(), stored, ...(caveat && { caveat }) };
}

async function readPrivateKeys(bytes: string | Uint8Array, source: string): Promise<openpgp.PrivateKey[]> {
  let keys: openpgp.Key[];
  try {
    const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
    keys = text.includes('-----BEGIN PGP') ? await readKeyBlocks(text) : await openpgp.readKeys({ binaryKeys: Buffer.from(bytes) });
  } catch (e) {
    throw new SigningKeyError(`${source}: not an OpenPGP key (${(e as Error).message}); export one with 'gpg --export-secret-keys --armor KEYID'`);
  }
  const privateKeys = keys.filter((k): k is openpgp.PrivateKey => k.isPrivate());
  if (!privateKeys.length) throw new SigningKeyError(`${source}: a public key; signing needs the private key ('gpg --export-secret-keys --armor KEYID')`);
  return privateKeys;
}

/** Signs a test message: an expired, revoked or sign-less key fails here, not at a deploy. */
async function checkCanSign(key: openpgp.PrivateKey, source: string): Promise<void> {
  try {
    await key.getSigningKey();
  } catch (e) {
    throw new SigningKeyError(`${source}: cannot sign: ${(e as Error).message.replace(/^Could not find valid signing key packet in key [0-9a-f]+: ?/i, '') || 'no valid signing key'}`);
  }
}

/** Signs repomd.xml with every key it holds. */
export class RepomdSigner {
  readonly keys: UnlockedKey[];

  constructor(keys: UnlockedKey[]) {
    if (!keys.length) throw new Error('RepomdSigner: no keys');
    this.keys = keys;
  }

  get fingerprints(): string[] {
    return this.keys.map((k) => k.info.fingerprint);
  }

  /** The detached, armoured signature (one signature packet per key) of `repomd`. */
  async sign(repomd: Uint8Array): Promise<string> {
    const message = await openpgp.createMessage({ binary: repomd });
    return openpgp.sign({ message, signingKeys: this.keys.map((k) => k.key), detached: true, format: 'armored' });
  }

  /** The public keys, one armoured block each: repodata/repomd.xml.key. */
  publicKeys(): string {
    return this.keys.map((k) => k.publicKey).join('');
  }
}

/** What checking repomd.xml.asc found. */
export interface RepomdVerdict {
  /** Fingerprints of the keys whose signatures verified. */
  goodBy: string[];
  /** Why the others did not, one line each. */
  problems: string[];
}

/**
 * Checks a detached signature of repomd.xml against armoured public keys (several
 * blocks may follow each other): every signature in it must verify, as a client that
 * trusts all the keys sees it. Never throws for bad input: that is a problem.
 */
export async function verifyRepomd(repomd: Uint8Array, armoredSignature: string, armoredKeys: string): Promise<RepomdVerdict> {
  let keys: openpgp.Key[];
  let signature: openpgp.Signature;
  try {
    keys = await readKeyBlocks(armoredKeys);
  } catch (e) {
    return { goodBy: [], problems: [`the keys are unreadable: ${(e as Error).message}`] };
  }
  try {
    signature = await openpgp.readSignature({ armoredSignature });
  } catch (e) {
    return { goodBy: [], problems: [`the signature is unreadable: ${(e as Error).message}`] };
  }
  const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: repomd }), signature, verificationKeys: keys, expectSigned: false });
  const goodBy: string[] = [];
  const problems: string[] = [];
  for (const s of result.signatures) {
    const signer = keys.find((k) => k.getKeys(s.keyID).length);
    try {
      await s.verified;
      goodBy.push(signer!.getFingerprint());
    } catch (e) {
      problems.push(`the signature by key ${s.keyID.toHex()} does not verify: ${(e as Error).message}`);
    }
  }
  if (!result.signatures.length) problems.push('the file holds no signature');
  return { goodBy, problems };
}
