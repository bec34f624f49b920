// A repo's package signature policy: a package is accepted only when it is signed and
// every OpenPGP signature it carries verifies with one of the repo's allowed keys, as
// `rpmkeys -K` requires of all the signatures it finds. Which signatures a package
// carries is read by src/rpm/signatures.ts; here they are checked.
//
// What each signature covers (rpm: docs/manual/signatures_digests.md):
//   header signatures (RSAHEADER, DSAHEADER, rpm 6's OPENPGP): the main header bytes,
//     [headerStart, headerEnd). The header holds the payload's digest, so the package's
//     own digests (src/rpm/digests.ts, checked separately) extend it to the payload.
//   header+payload signatures (PGP, GPG; `rpmsign --rpmv3`): [headerStart, end of
//     file), streamed from the open file, never loaded whole.
//
// What is verified:
//   version 4 signatures: RSA, DSA, ECDSA (NIST P-256/384/521, brainpool), EdDSA (the
//     legacy Ed25519 of algorithm 22, which gpg and rpm make), Ed25519 (27), Ed448 (28),
//     by OpenPGP.js;
//   version 6 signatures (RFC 9580) by v6 keys: Ed25519, Ed448 (and RSA, ECDSA), by
//     OpenPGP.js; rpm 6 stores them in OPENPGP;
//   version 3 signatures (RFC 4880, old packages): RSA only, by node:crypto (v3.ts),
//     since OpenPGP.js 6 no longer reads them; a v3 DSA signature is refused as unsupported;
//   post-quantum algorithms (ML-DSA, SLH-DSA): not supported, OpenPGP.js 6 lacks them;
//     such a package is refused: "... uses the post-quantum algorithm ML-DSA-65+Ed25519
//     (30), which txrepo cannot verify yet".
// Hashes MD5, RIPEMD160 and SHA1 are refused as too weak (OpenPGP.js's rule, and RHEL 9's
// and rpm-sequoia's); rpm 4.18's own parser accepts SHA1. RSA keys under 2047 bits are
// refused (OpenPGP.js's `minRSABits`).
//
// Keys: a signature counts when its issuer is an allowed primary key or one of its
// subkeys valid for signing (bound by the primary, with the signing flag); when the
// signature names an issuer fingerprint, it must be that key's, so a key id collision
// cannot pass for an allowed key (rpm 4.18 goes by key id alone). A signature naming
// two issuers, a signed one and another unsigned, is refused (signatures.ts).
//
// Time: a key's validity is judged when the signature was made, as rpm (4.19 and later,
// with rpm-sequoia) and OpenPGP.js do: a package signed before its key expired stays
// accepted after the key expires; a signature made after the key expired is refused
// ("key ... expired on ..."), and so is one dated before its key was made. A revoked
// key's signatures are refused (a hard revocation, as `gpg --gen-revoke` makes by
// default, voids all; one that says the key was superseded or retired voids those made
// after it). rpm 4.18's built-in OpenPGP parser checks neither expiry nor revocation
// and accepts both; this policy does not (see docs/signing.md for every difference).
//
// Why OpenPGP.js: a well-kept, audited, pure-JavaScript implementation (no native
// code, no gpg process per package, no keyring on disk), the same library that signs
// and verifies repo metadata (repomd.xml.asc), with v6 keys and signatures.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { Failure } from '../common/index.ts';
import { PackageFileError, readSignedParts, type PackageSignature, type SignaturePacketFacts, type SignedParts } from '../rpm/index.ts';
import { refusedHash, signatureLabel, unsupportedAlgorithm, VERIFY_CONFIG } from './algorithms.ts';
import type { PolicyKey } from './policy-keys.ts';
import { verifyV3 } from './v3.ts';

/** Why a package's signatures were refused. */
export type SignatureProblem =
  | 'unsigned'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired_key'
  | 'expired_signature'
  | 'revoked_key'
  | 'not_signing_key'
  | 'unsupported'
  | 'unreadable';

/**
 * A package the signature policy refuses. Its kind is bad_package, so the CLI and the
 * API report it as they report any bad package (exit 1, HTTP 400); the message names
 * the file and the reason.
 */
export class PackageSignatureError extends Failure {
  readonly kind = 'bad_package';
  readonly path: string;
  readonly problem: SignatureProblem;
  /** The key id the refused signature names, when it names one. */
  readonly keyId: string | undefined;
  constructor(path: string, problem: SignatureProblem, message: string, keyId?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PackageSignatureError';
    this.path = path;
    this.problem = problem;
    this.keyId = keyId;
  }
}

export interface PackageSigner {
  /** The signing (sub)key's id, 16 lowercase hex digits: the record's `signer`. */
  keyId: string;
  /** The signing (sub)key's fingerprint. */
  fingerprint: string;
  /** The allowed key it is, or is a subkey of: a PolicyKey's fingerprint. */
  primaryFingerprint: string;
}

export interface SignatureCheck {
  /** Who signed: the key of its first header signature (else its header+payload one). */
  signer: PackageSigner;
  /** What was verified, e.g. "the header signature (RSAHEADER): V4 RSA/SHA512 by key 43311ebceb3420d6". */
  checked: string[];
}

interface Context {
  path: string;
  keys: readonly PolicyKey[];
  parts: SignedParts;
  file: FileHandle;
}

/** A signature's key among the allowed ones: the primary key or one of its subkeys. */
interface FoundKey {
  policy: PolicyKey;
  key: openpgp.PublicKey | openpgp.Subkey;
}

/**
 * Checks that the package at `path` is signed and that every OpenPGP signature it
 * carries verifies with one of `keys`. Throws PackageSignatureError when not;
 * RpmFormatError or PackageFileError when it is not a readable package.
 */
export async function verifyPackageSignatures(path: string, keys: readonly PolicyKey[]): Promise<SignatureCheck> {
  if (!keys.length) throw new Error('verifyPackageSignatures: the policy allows no keys');
  const file = await openPackage(path);
  try {
    const ctx: Context = { path, keys, parts: readSignedParts(file.fd, path), file };
    const { signatures } = ctx.parts;
    if (!signatures.length) throw new PackageSignatureError(path, 'unsigned', `${path} is not signed; the repo requires packages signed by ${allowed(keys)}`);
    const checked: string[] = [];
    let signer: PackageSigner | undefined;
    // Header signatures come first (SIGNATURE_TAGS order): the cheap checks before the long one.
    for (const sig of signatures) {
      const { label, found, packet } = await checkSignature(ctx, sig);
      checked.push(label);
      signer ??= { keyId: packet.keyId!, fingerprint: found.key.getFingerprint(), primaryFingerprint: found.policy.fingerprint };
    }
    return { signer: signer!, checked };
  } catch (e) {
    // A read that failed (EIO) names the file like readPackage's; the rest is as thrown.
    if (e instanceof Failure || typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    throw new PackageFileError(path, e as NodeJS.ErrnoException);
  } finally {
    await file.close();
  }
}

/** Opens the package without blocking on a FIFO (read.ts then refuses it as not a regular file). */
async function openPackage(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new PackageFileError(path, e as NodeJS.ErrnoException);
  }
}

const allowed = (keys: readonly PolicyKey[]) => keys.map((k) => k.fingerprint).join(', ');

const when = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** Verifies one signature; throws PackageSignatureError saying why it does not count. */
async function checkSignature(ctx: Context, sig: PackageSignature): Promise<{ label: string; found: FoundKey; packet: SignaturePacketFacts }> {
  const { path } = ctx;
  const which = `${sig.covers} signature (${sig.where})`;
  if (!sig.ok) {
    const problem = sig.unsupported ? 'unsupported' : 'unreadable';
    throw new PackageSignatureError(path, problem, `${path}: its ${which} cannot be ${sig.unsupported ? 'checked' : 'read'}: ${sig.problem}`);
  }
  const p = sig.packet;
  const keyId = p.keyId;
  if (!keyId) throw new PackageSignatureError(path, 'unreadable', `${path}: its ${which} names no key (it has no issuer subpacket)`);
  const by = `its ${which} by key ${keyId}`;
  const unsupported = unsupportedAlgorithm(p.version, p.publicKeyAlgorithm) ?? refusedHash(p.version, p.hashAlgorithm) ?? unsupportedType(p.signatureType);
  if (unsupported) throw new PackageSignatureError(path, 'unsupported', `${path}: ${by} cannot be checked: ${unsupported}`, keyId);
  const found = findKey(ctx.keys, p);
  if (!found) throw new PackageSignatureError(path, 'unknown_key', `${path} is signed by key ${keyId}, which is not among the repo's allowed keys (${allowed(ctx.keys)})`, keyId);
  await checkKeyAt(ctx, found, p, by);
  checkSignatureExpiry(ctx, p, by);
  const cause = p.version === 3 ? await checkV3(ctx, sig.covers, p, found) : await checkWithOpenpgp(ctx, sig, found);
  if (cause !== true) {
    const message = `${path}: ${by} does not verify (the header or payload was changed after signing, or the signature is damaged)`;
    throw new PackageSignatureError(path, 'bad_signature', message, keyId, cause);
  }
  return { label: `the ${which}: ${signatureLabel(p.version, p.publicKeyAlgorithm, p.hashAlgorithm)} by key ${keyId}`, found, packet: p };
}

function unsupportedType(type: number): string | undefined {
  if (type === 0x00) return undefined;
  return `its signature type is 0x${type.toString(16).padStart(2, '0')}, not a signature of binary data (0x00) as rpm makes`;
}

/** The allowed (sub)key with the signature's key id, and its fingerprint when the signature names one. */
function findKey(keys: readonly PolicyKey[], p: SignaturePacketFacts): FoundKey | undefined {
  for (const policy of keys) {
    for (const key of policy.key.getKeys()) {
      if (key.getKeyID().toHex() !== p.keyId) continue;
      if (p.fingerprint && key.getFingerprint() !== p.fingerprint) continue;
      return { policy, key };
    }
  }
  return undefined;
}

/**
 * The key must have been valid for signing when the signature was made: not revoked,
 * not expired, a signing (sub)key of sufficient strength, made before the signature.
 */
async function checkKeyAt(ctx: Context, found: FoundKey, p: SignaturePacketFacts, by: string): Promise<void> {
  const at = new Date(p.created * 1000);
  if (found.key.getCreationTime() > at) {
    throw new PackageSignatureError(ctx.path, 'bad_signature', `${ctx.path}: ${by} claims to be made on ${when(at)}, before the key was created (${when(found.key.getCreationTime())})`, p.keyId);
  }
  try {
    await found.policy.key.getSigningKey(found.key.getKeyID(), at, undefined, VERIFY_CONFIG);
  } catch (e) {
    throw await keyProblem(ctx, found, at, by, p.keyId!, e);
  }
}

/** Says why OpenPGP.js found the key unfit to sign at `at`, from the key's own state. */
async function keyProblem(ctx: Context, found: FoundKey, at: Date, by: string, keyId: string, cause: unknown): Promise<PackageSignatureError> {
  const { path } = ctx;
  const primary = found.policy.key;
  const fp = found.policy.fingerprint;
  const subkey = found.key === primary ? undefined : (found.key as openpgp.Subkey);
  const fail = (problem: SignatureProblem, why: string) => new PackageSignatureError(path, problem, `${path}: ${by} cannot be trusted: ${why}`, keyId, cause);
  if (await primary.isRevoked(undefined, undefined, at, VERIFY_CONFIG).catch(() => false)) return fail('revoked_key', `key ${fp} was revoked${revocationNote(primary.revocationSignatures)}`);
  if (subkey && (await subkey.isRevoked(null as never, null as never, at, VERIFY_CONFIG).catch(() => false))) {
    return fail('revoked_key', `its subkey ${keyId} of key ${fp} was revoked${revocationNote(subkey.revocationSignatures)}`);
  }
  const expired = await expiryBefore(found, at);
  if (expired) return new PackageSignatureError(path, 'expired_key', `${path}: ${by} was made on ${when(at)}, but key ${expired.fingerprint} expired on ${when(expired.on)}`, keyId, cause);
  const info = found.key.getAlgorithmInfo();
  if (info.bits !== undefined && info.algorithm.startsWith('rsa') && info.bits < VERIFY_CONFIG.minRSABits) {
    return new PackageSignatureError(path, 'unsupported', `${path}: ${by} cannot be checked: the key is a ${info.bits}-bit RSA key, too weak to trust (txrepo wants ${VERIFY_CONFIG.minRSABits} bits or more)`, keyId, cause);
  }
  // OpenPGP.js's own words stay in the cause: they name no file and are less plain.
  const what = subkey ? `its subkey ${keyId} of key ${fp} is not valid for signing` : `key ${fp} is not valid for signing`;
  return fail('not_signing_key', `${what} (it is not marked for signing, or its self-signature does not verify)`);
}

/** " on <date> (<reason>)" from the newest revocation signature, for the message. */
function revocationNote(revocations: openpgp.SignaturePacket[]): string {
  const newest = [...revocations].sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0))[0];
  if (!newest?.created) return '';
  const reason = newest.reasonForRevocationString ? ` (${newest.reasonForRevocationString})` : '';
  return ` on ${when(newest.created)}${reason}`;
}

/** The primary key or the subkey, whichever had expired at `at`, and when. */
async function expiryBefore(found: FoundKey, at: Date): Promise<{ fingerprint: string; on: Date } | undefined> {
  const primary = found.policy.key;
  const primaryExpiry = (await selfSignatureExpiry(primary, at)) ?? (await primary.getExpirationTime(undefined, VERIFY_CONFIG).catch(() => null));
  if (primaryExpiry instanceof Date && primaryExpiry <= at) return { fingerprint: found.policy.fingerprint, on: primaryExpiry };
  if (found.key === primary) return undefined;
  const subkeyExpiry = await (found.key as openpgp.Subkey).getExpirationTime(at, VERIFY_CONFIG).catch(() => null);
  if (subkeyExpiry instanceof Date && subkeyExpiry <= at) return { fingerprint: found.key.getFingerprint(), on: subkeyExpiry };
  return undefined;
}

/** The primary key's expiry by the self-signature in force at `at` (a later one may have extended it). */
async function selfSignatureExpiry(primary: openpgp.PublicKey, at: Date): Promise<Date | undefined> {
  const self = await primary.getPrimaryUser(at, undefined, VERIFY_CONFIG).then((u) => u.selfCertification, () => undefined);
  if (!self || self.keyNeverExpires !== false || !self.keyExpirationTime) return undefined;
  return new Date(primary.getCreationTime().getTime() + self.keyExpirationTime * 1000);
}

function checkSignatureExpiry(ctx: Context, p: SignaturePacketFacts, by: string): void {
  if (!p.expiresAfter) return;
  const expired = new Date((p.created + p.expiresAfter) * 1000);
  if (expired.getTime() <= Date.now()) throw new PackageSignatureError(ctx.path, 'expired_signature', `${ctx.path}: ${by} expired on ${when(expired)}`, p.keyId);
}

/** A version 3 signature: node:crypto (v3.ts). True, or why it failed. */
async function checkV3(ctx: Context, covers: PackageSignature['covers'], p: SignaturePacketFacts, found: FoundKey): Promise<true | Error> {
  const ok = await verifyV3(p, found.key.keyPacket.algorithm, found.key.keyPacket.publicParams, (onChunk) => feed(ctx, covers, onChunk));
  return ok || new Error('the version 3 RSA signature does not match the data');
}

async function feed(ctx: Context, covers: PackageSignature['covers'], onChunk: (chunk: Uint8Array) => void): Promise<void> {
  if (covers === 'header') return onChunk(ctx.parts.header);
  for await (const chunk of headerAndPayload(ctx)) onChunk(chunk);
}

/** [headerStart, end of file) from the open file, in chunks, leaving the handle open. */
function headerAndPayload(ctx: Context): Readable {
  const { layout, size } = ctx.parts;
  return ctx.file.createReadStream({ start: layout.headerStart, end: size - 1, autoClose: false, highWaterMark: 1 << 20 }) as unknown as Readable;
}

/** A version 4 or 6 signature: OpenPGP.js. True, or its error. */
async function checkWithOpenpgp(ctx: Context, sig: PackageSignature, found: FoundKey): Promise<true | unknown> {
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ binarySignature: sig.bytes, config: VERIFY_CONFIG });
  } catch (e) {
    return e;
  }
  const streamed = sig.covers !== 'header';
  const data = streamed ? (Readable.toWeb(headerAndPayload(ctx)) as unknown as openpgp.WebStream<Uint8Array>) : ctx.parts.header;
  const message = await openpgp.createMessage({ binary: data });
  const result = await openpgp.verify({ message, signature, verificationKeys: [found.policy.key], format: 'binary', config: VERIFY_CONFIG });
  if (result.signatures.length !== 1) return new Error(`OpenPGP.js read ${result.signatures.length} signatures in the packet`);
  // A streamed message is hashed as its data is read: drain it.
  if (streamed) await drain(result.data as ReadableStream<Uint8Array>);
  try {
    return await result.signatures[0].verified;
  } catch (e) {
    return e;
  }
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}
