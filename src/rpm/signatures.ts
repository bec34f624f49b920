// The OpenPGP signatures an RPM carries in its signature header (rpm:
// docs/manual/signatures_digests.md), found and read just far enough to say what they
// are: which tag holds each, what it covers, its packet version, algorithms, creation
// time and issuer. No cryptography here: src/signing verifies them against keys. The
// record's `signer` comes from this, so reading a package costs no more than parsing a
// few hundred bytes it already holds.
//
// Where rpm keeps them:
//   RSAHEADER (268), DSAHEADER (267)  one binary packet each, over the main header
//   OPENPGP (278, rpm 6)              base64 packets (a string array), over the main header
//   PGP (1002), GPG (1005)            one binary packet each, over main header + payload
//                                     (rpm 3 style, written by `rpmsign --rpmv3`)
//
// Packets are read as RFC 4880 / RFC 9580 define them: old and new packet framing;
// version 3, 4 and 6 signature packets; creation time (subpacket 2), expiration
// (3), issuer key id (16) and issuer fingerprint (33), from the hashed area or,
// failing that, the unhashed one. Anything else about a packet is left to the verifier.
//
// Signature data is hostile input like the rest of the file, but a garbled signature
// must not make an otherwise good package unreadable (createrepo does not check
// signatures): each one that cannot be read is recorded with its problem, and the
// signature policy refuses it with that reason. Every read is bounds-checked against
// the bytes present; nothing is allocated from a length field.

import { HeaderError } from './errors.ts';
import type { Header } from './header.ts';
import { Sig } from './tags.ts';

export type SignatureCoverage = 'header' | 'header+payload';

interface SignatureTag {
  tag: number;
  name: string;
  covers: SignatureCoverage;
}

/** The signature tags, in the order `signerOf` prefers them. */
export const SIGNATURE_TAGS: readonly SignatureTag[] = [
  { tag: Sig.RSAHEADER, name: 'RSAHEADER', covers: 'header' },
  { tag: Sig.DSAHEADER, name: 'DSAHEADER', covers: 'header' },
  { tag: Sig.OPENPGP, name: 'OPENPGP', covers: 'header' },
  { tag: Sig.PGP, name: 'PGP', covers: 'header+payload' },
  { tag: Sig.GPG, name: 'GPG', covers: 'header+payload' },
];

/** rpm 6 signs with at most a few keys; more OPENPGP entries than this are not read. */
export const MAX_OPENPGP_SIGNATURES = 16;

/** What a signature packet says about itself. */
export interface SignaturePacketFacts {
  /** Packet version: 3, 4 or 6. */
  version: 3 | 4 | 6;
  /** 0x00 for a signature of a binary document, as rpm makes. */
  signatureType: number;
  /** OpenPGP public-key algorithm id (1 RSA, 17 DSA, 19 ECDSA, 22 EdDSA, 27 Ed25519 ...). */
  publicKeyAlgorithm: number;
  /** OpenPGP hash algorithm id (8 SHA256, 10 SHA512 ...). */
  hashAlgorithm: number;
  /** Creation time, seconds since the epoch. */
  created: number;
  /** Seconds after `created` when the signature expires (subpacket 3), if it does. */
  expiresAfter?: number;
  /** Issuer key id, 16 lowercase hex digits (from subpacket 16, else the fingerprint). */
  keyId?: string;
  /** Issuer fingerprint, lowercase hex (40 digits for v4 keys, 64 for v6), when given. */
  fingerprint?: string;
  /** The first two bytes of the signed hash, as the packet states them. */
  hashPrefix: Uint8Array;
  /** Version 3 only: the signature's MPIs (RSA: one, DSA: r and s), without bit counts. */
  mpis?: Uint8Array[];
}

/** Where a signature came from. */
interface SignatureSource {
  tag: number;
  tagName: string;
  covers: SignatureCoverage;
  /** For messages: "RSAHEADER", "OPENPGP[1]". */
  where: string;
  /** The packet as stored (base64 decoded for OPENPGP). */
  bytes: Uint8Array;
}

export type PackageSignature = SignatureSource &
  ({ ok: true; packet: SignaturePacketFacts } | { ok: false; problem: string; unsupported?: boolean });

/** A packet that cannot be read; `unsupported` when it is well-formed but of a kind not read. */
class PacketProblem extends Error {
  readonly unsupported: boolean;
  constructor(message: string, unsupported = false) {
    super(message);
    this.unsupported = unsupported;
  }
}

/** Every OpenPGP signature of a parsed signature header, in SIGNATURE_TAGS order. */
export function packageSignatures(sig: Header): PackageSignature[] {
  const out: PackageSignature[] = [];
  for (const t of SIGNATURE_TAGS) {
    if (!sig.has(t.tag)) continue;
    const source = { tag: t.tag, tagName: t.name, covers: t.covers };
    for (const found of tagPackets(sig, t)) {
      const where = found.index === undefined ? t.name : `${t.name}[${found.index}]`;
      const bytes = found.bytes ?? new Uint8Array(0);
      out.push({ ...source, where, bytes, ...(found.problem !== undefined ? { ok: false, problem: found.problem } : read(bytes)) });
    }
  }
  return out;
}

/** The issuer key id of a package's signature: its first readable header-only one, else header+payload. */
export function signerOf(signatures: readonly PackageSignature[]): string | undefined {
  const readable = signatures.filter((s) => s.ok && s.packet.keyId);
  const first = readable.find((s) => s.covers === 'header') ?? readable[0];
  return first?.ok ? first.packet.keyId : undefined;
}

function read(bytes: Uint8Array): { ok: true; packet: SignaturePacketFacts } | { ok: false; problem: string; unsupported?: boolean } {
  try {
    return { ok: true, packet: parseSignaturePacket(bytes) };
  } catch (e) {
    if (!(e instanceof PacketProblem)) throw e;
    return e.unsupported ? { ok: false, problem: e.message, unsupported: true } : { ok: false, problem: e.message };
  }
}

interface FoundPacket {
  index?: number;
  bytes?: Uint8Array;
  problem?: string;
}

/** The packets a signature tag holds; a tag of the wrong type or bad base64 is a problem, not an error. */
function tagPackets(sig: Header, t: SignatureTag): FoundPacket[] {
  try {
    if (t.tag !== Sig.OPENPGP) return [{ bytes: sig.binary(t.tag) }];
    const count = sig.count(t.tag)!;
    if (count > MAX_OPENPGP_SIGNATURES) return [{ problem: `the tag holds ${count} signatures; txrepo reads at most ${MAX_OPENPGP_SIGNATURES}` }];
    return sig.strings(t.tag)!.map((text, index) => decodeBase64(text, index));
  } catch (e) {
    if (e instanceof HeaderError) return [{ problem: e.message }];
    throw e;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Node's decoder skips what is not base64; a signature must be nothing else. */
function decodeBase64(text: string, index: number): FoundPacket {
  const compact = text.replace(/\s+/g, '');
  if (!compact || !BASE64.test(compact)) return { index, problem: 'it is not base64 text' };
  return { index, bytes: Buffer.from(compact, 'base64') };
}

/** Reads one signature packet (framing included, nothing after it); throws PacketProblem. */
function parseSignaturePacket(bytes: Uint8Array): SignaturePacketFacts {
  const body = new Cursor(unframe(bytes));
  const version = body.u8('version');
  if (version === 3) return readV3(body);
  if (version === 4 || version === 6) return readV4orV6(body, version);
  // Well framed but of another version (v5 is LibrePGP's): not read, and said so.
  throw new PacketProblem(`it is a version ${version} signature packet; txrepo reads versions 3, 4 and 6`, true);
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Bounds-checked reads over a packet body. */
class Cursor {
  pos = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get left(): number {
    return this.bytes.length - this.pos;
  }
  take(n: number, what: string): Uint8Array {
    if (n > this.left) throw new PacketProblem(`the packet is truncated: its ${what} needs ${n} bytes, ${this.left} are left`);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }
  u8(what: string): number {
    return this.take(1, what)[0];
  }
  uint(size: 2 | 4, what: string): number {
    const b = this.take(size, what);
    return size === 2 ? (b[0] << 8) | b[1] : ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }
}

/** The body of the single signature packet `bytes` holds (RFC 9580 4.2: both framings). */
function unframe(bytes: Uint8Array): Uint8Array {
  const c = new Cursor(bytes);
  const first = c.u8('packet header');
  if (!(first & 0x80)) throw new PacketProblem(`it is not an OpenPGP packet (first byte 0x${first.toString(16).padStart(2, '0')})`);
  let tag: number;
  let length: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    const o1 = c.u8('packet length');
    if (o1 < 192) length = o1;
    else if (o1 < 224) length = ((o1 - 192) << 8) + c.u8('packet length') + 192;
    else if (o1 === 255) length = c.uint(4, 'packet length');
    else throw new PacketProblem('its packet uses a partial body length, which a signature packet may not');
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    // Type 3: indeterminate length, the packet runs to the end of the data.
    length = lengthType === 0 ? c.u8('packet length') : lengthType === 1 ? c.uint(2, 'packet length') : lengthType === 2 ? c.uint(4, 'packet length') : c.left;
  }
  if (tag !== 2) throw new PacketProblem(`it is an OpenPGP packet of type ${tag}, not a signature (type 2)`);
  const body = c.take(length, 'body');
  if (c.left) throw new PacketProblem(`${c.left} bytes follow its signature packet`);
  return body;
}

/** RFC 4880 5.2.2: a fixed 5-byte hashed part (type and time), then the MPIs. */
function readV3(c: Cursor): SignaturePacketFacts {
  const hashedLength = c.u8('hashed length');
  if (hashedLength !== 5) throw new PacketProblem(`its version 3 hashed length is ${hashedLength}, not 5`);
  const signatureType = c.u8('signature type');
  const created = c.uint(4, 'creation time');
  const keyId = hex(c.take(8, 'issuer key id'));
  const publicKeyAlgorithm = c.u8('public-key algorithm');
  const hashAlgorithm = c.u8('hash algorithm');
  const hashPrefix = c.take(2, 'hash prefix');
  const mpis: Uint8Array[] = [];
  while (c.left) mpis.push(readMpi(c));
  if (!mpis.length) throw new PacketProblem('it holds no signature value');
  return { version: 3, signatureType, publicKeyAlgorithm, hashAlgorithm, created, keyId, hashPrefix, mpis };
}

/** An MPI: a 2-byte bit count, then that many bits, big-endian. */
function readMpi(c: Cursor): Uint8Array {
  const bits = c.uint(2, 'MPI length');
  return c.take(Math.ceil(bits / 8), 'MPI');
}

/** RFC 9580 5.2.3: hashed and unhashed subpackets (lengths of 2 bytes in v4, 4 in v6). */
function readV4orV6(c: Cursor, version: 4 | 6): SignaturePacketFacts {
  const signatureType = c.u8('signature type');
  const publicKeyAlgorithm = c.u8('public-key algorithm');
  const hashAlgorithm = c.u8('hash algorithm');
  const lengthSize = version === 4 ? 2 : 4;
  const hashed = readSubpackets(c.take(c.uint(lengthSize, 'hashed subpacket length'), 'hashed subpacket area'));
  const unhashed = readSubpackets(c.take(c.uint(lengthSize, 'unhashed subpacket length'), 'unhashed subpacket area'));
  const hashPrefix = c.take(2, 'hash prefix');
  if (version === 6) c.take(c.u8('salt length'), 'salt');
  if (!c.left) throw new PacketProblem('it holds no signature value');
  // Creation and expiration times count only when signed; the issuer is a hint either way.
  if (hashed.created === undefined) throw new PacketProblem('it has no signed creation time');
  const issuer = oneIssuer(issuerOf(hashed), issuerOf(unhashed));
  const facts: SignaturePacketFacts = { version, signatureType, publicKeyAlgorithm, hashAlgorithm, created: hashed.created, hashPrefix, ...issuer };
  if (hashed.expiresAfter) facts.expiresAfter = hashed.expiresAfter;
  return facts;
}

interface Subpackets {
  created?: number;
  expiresAfter?: number;
  keyId?: string;
  fingerprint?: Uint8Array;
  fingerprintVersion?: number;
}

const SUBPACKET = { CREATED: 2, EXPIRES: 3, ISSUER: 16, ISSUER_FINGERPRINT: 33 } as const;

/** The subpackets this reader uses, from one area. */
function readSubpackets(area: Uint8Array): Subpackets {
  const c = new Cursor(area);
  const found: Subpackets = {};
  while (c.left) {
    const o1 = c.u8('subpacket length');
    const length = o1 < 192 ? o1 : o1 < 255 ? ((o1 - 192) << 8) + c.u8('subpacket length') + 192 : c.uint(4, 'subpacket length');
    if (length === 0) throw new PacketProblem('it has a subpacket of length 0');
    const type = c.u8('subpacket type') & 0x7f;
    const data = c.take(length - 1, `subpacket ${type}`);
    readSubpacket(type, data, found);
  }
  return found;
}

function readSubpacket(type: number, data: Uint8Array, found: Subpackets): void {
  const sized = (n: number) => {
    if (data.length !== n) throw new PacketProblem(`its subpacket ${type} has ${data.length} bytes, not ${n}`);
    return new Cursor(data);
  };
  switch (type) {
    case SUBPACKET.CREATED:
      found.created = sized(4).uint(4, 'creation time');
      break;
    case SUBPACKET.EXPIRES:
      found.expiresAfter = sized(4).uint(4, 'expiration time');
      break;
    case SUBPACKET.ISSUER:
      found.keyId = hex(sized(8).bytes);
      break;
    case SUBPACKET.ISSUER_FINGERPRINT: {
      const fingerprintVersion = data[0];
      const expected = fingerprintVersion === 6 ? 33 : fingerprintVersion === 4 ? 21 : data.length;
      found.fingerprint = sized(expected).bytes.subarray(1);
      found.fingerprintVersion = fingerprintVersion;
      break;
    }
  }
}

/**
 * The issuer both areas name: the hashed one's, else the unhashed one's. Naming two
 * is refused: readers differ on which counts (OpenPGP.js takes the last, rpm 4.18 the
 * first key id), so such a signature means different things to different verifiers.
 */
function oneIssuer(hashed: Issuer, unhashed: Issuer): Issuer {
  for (const field of ['keyId', 'fingerprint'] as const) {
    if (hashed[field] && unhashed[field] && hashed[field] !== unhashed[field]) {
      throw new PacketProblem(`it names two issuers: ${hashed[field]} (signed) and ${unhashed[field]} (unsigned)`);
    }
  }
  return hashed.keyId ? hashed : unhashed;
}

interface Issuer {
  keyId?: string;
  fingerprint?: string;
}

/** Key id and fingerprint from an area's subpackets; they must agree (RFC 9580 5.5.4). */
function issuerOf(area: Subpackets): Issuer {
  if (!area.fingerprint) return area.keyId ? { keyId: area.keyId } : {};
  const fp = area.fingerprint;
  // A v4 key id is the fingerprint's last 8 bytes, a v6 one its first 8.
  const derived = hex(area.fingerprintVersion === 6 ? fp.subarray(0, 8) : fp.subarray(fp.length - 8));
  // Fingerprints of other key versions (v5) are not read: the key id subpacket still names the key.
  if (area.fingerprintVersion !== 4 && area.fingerprintVersion !== 6) return area.keyId ? { keyId: area.keyId } : {};
  if (area.keyId && area.keyId !== derived) throw new PacketProblem(`its issuer key id ${area.keyId} does not match its issuer fingerprint ${hex(fp)}`);
  return { keyId: derived, fingerprint: hex(fp) };
}
