// needs: rpm rpmbuild rpmsign rpmkeys gpg createrepo_c
// Package signatures (issue 16): the OpenPGP signatures an RPM carries are read from
// its signature header (src/rpm/signatures.ts, the record's `signer`) and checked
// against a repo's allowed keys (src/signing). Keys are made at run time with gpg and
// packages signed with rpmsign as a build system does (test/helpers/signing.ts);
// signatures rpmsign cannot make (version 3, version 6 in rpm 6's OPENPGP tag,
// ECDSA, by an encryption subkey, hostile bytes) are written into the signature header.
//
// Every package of the corpus is also given to `rpmkeys -K` with the same keys
// imported, and the two verdicts must agree, but for the cases listed in RPM_DIFFERS,
// where the policy parts ways with rpm 4.18 on purpose.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { readPackage, verifyDigests } from '../../src/rpm/index.ts';
import { loadPolicyKeys, PackageSignatureError, PolicyKeyError, verifyPackageSignatures, type PolicyKey, type SignatureProblem } from '../../src/signing/index.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { copyTree, mdcompare, metadataText, removeDir, tempDir } from '../helpers/repo.ts';
import { mustRun, txrepo } from '../helpers/run.ts';
import { sample, SAMPLES, sampleRpms } from '../helpers/samples.ts';
import {
  binaryTag,
  buildLargeRpm,
  editSignatureHeader,
  Gpg,
  headerAndPayload,
  mainHeader,
  openpgpRsaKey,
  openpgpSignature,
  openpgpTag,
  signatureByKeyPacket,
  SIGTAG,
  tagOffset,
  v3RsaSignature,
  v3SignaturePacket,
  withSignatureTags,
  type TestKey,
} from '../helpers/signing.ts';

const exec = promisify(execFile);

/** What the policy must say of a package of the corpus. */
interface Case {
  file: string;
  /** Accepted when absent; else the problem it is refused for, and the reason its message gives. */
  problem?: SignatureProblem;
  reason?: RegExp;
  /** Accepted: the signer's key id; and how many signatures were checked. */
  signer?: string;
  checked?: number;
  /** The record's `signer` (the key id the package names, verified or not); absent when undefined. */
  recordSigner: string | undefined;
}

const cases = new Map<string, Case>();
let wrongTypeFile: string;
let dir: string;
let gpg: Gpg;
/** The allowed keys: every key made here but `other`. */
let policy: PolicyKey[];
const armoredPolicy: { name: string; armored: string }[] = [];
const k = {} as Record<'rsa3072' | 'rsa2048' | 'ed' | 'dsa' | 'ecdsa' | 'sub' | 'expiring' | 'late' | 'revoked' | 'other', TestKey>;
let subSigning: { fingerprint: string; keyId: string };

const pkg = (name: string) => join(dir, 'pkgs', `${name}.rpm`);
const accepted = (file: string, signer: string, checked = 1): Case => ({ file, signer, checked, recordSigner: signer });
const refused = (file: string, problem: SignatureProblem, reason: RegExp, recordSigner?: string): Case => ({ file, problem, reason, recordSigner });

/** A copy of `from` with the byte at `offset` changed (xor `bit`). */
async function flipped(from: string, to: string, offset: (b: Buffer) => number, bit = 0x01): Promise<string> {
  const bytes = await readFile(from);
  bytes[offset(bytes)] ^= bit;
  await writeFile(to, bytes);
  return to;
}

/** `from` with its signature header's tags replaced (null removes one); main header and payload unchanged. */
async function crafted(from: string, to: string, replace: Parameters<typeof withSignatureTags>[1]): Promise<string> {
  await writeFile(to, editSignatureHeader(await readFile(from), (entries) => withSignatureTags(entries, replace)));
  return to;
}

/** A new-format signature packet (tag 2) around `body`. */
function newFormat(body: number[] | Uint8Array): Buffer {
  const b = Buffer.from(body);
  const length = b.length < 192 ? Buffer.from([b.length]) : Buffer.from([0xff, ...Buffer.alloc(4).fill(0)]);
  if (b.length >= 192) length.writeUInt32BE(b.length, 1);
  return Buffer.concat([Buffer.from([0xc2]), length, b]);
}

/** Where a packet's body starts (after its framing). */
function bodyStart(packet: Uint8Array): number {
  if (!(packet[0] & 0x40)) return 1 + [1, 2, 4, 0][packet[0] & 3];
  return packet[1] < 192 ? 2 : packet[1] < 224 ? 3 : 6;
}

async function makeKeys() {
  gpg = await Gpg.create(join(dir, 'gnupg'));
  k.rsa3072 = await gpg.generateKey('rsa3072@example.org', 'rsa3072');
  k.rsa2048 = await gpg.generateKey('rsa2048@example.org', 'rsa2048');
  k.ed = await gpg.generateKey('ed@example.org', 'ed25519');
  k.dsa = await gpg.generateKey('dsa@example.org', 'dsa2048');
  k.ecdsa = await gpg.generateKey('ecdsa@example.org', 'nistp256');
  // An RSA primary that may only certify, with an RSA subkey that signs.
  k.sub = await gpg.generateKey('sub@example.org', 'rsa3072', { usage: 'cert' });
  subSigning = await gpg.addSubkey(k.sub, 'rsa2048', 'sign');
  // Made on 2020-01-01, expired on 2020-06-01: what it signed before then still counts.
  k.expiring = await gpg.generateKey('expiring@example.org', 'rsa2048', { expire: '2020-06-01', fakedTime: '20200101T000000' });
  // Made on 2020-01-01 without expiry; its packages are signed in 2021, and then a newer
  // self-signature (dated 2020-06-01) says it expired on 2020-07-01.
  k.late = await gpg.generateKey('late@example.org', 'rsa2048', { fakedTime: '20200101T000000' });
  k.revoked = await gpg.generateKey('revoked@example.org', 'rsa2048');
  k.other = await gpg.generateKey('other@example.org', 'ed25519');
}

async function signedByGpg(cat: string, complex: string, large: string) {
  const sign = (name: string, from: string, signer: string, opts = {}) => gpg.signPackage(from, pkg(name), signer, opts);
  cases.set('rsa3072', accepted(await sign('rsa3072', cat, k.rsa3072.email), k.rsa3072.keyId));
  cases.set('rsa2048-complex', accepted(await sign('rsa2048-complex', complex, k.rsa2048.email), k.rsa2048.keyId));
  cases.set('ed25519', accepted(await sign('ed25519', cat, k.ed.email), k.ed.keyId));
  cases.set('dsa', accepted(await sign('dsa', cat, k.dsa.email), k.dsa.keyId));
  cases.set('subkey', accepted(await sign('subkey', cat, `${subSigning.fingerprint.toUpperCase()}!`), subSigning.keyId));
  cases.set('rpmv3-rsa', accepted(await sign('rpmv3-rsa', cat, k.rsa3072.email, { rpmv3: true }), k.rsa3072.keyId, 2));
  cases.set('rpmv3-ed-large', accepted(await sign('rpmv3-ed-large', large, k.ed.email, { rpmv3: true }), k.ed.keyId, 2));
  cases.set('expired-since', accepted(await sign('expired-since', cat, k.expiring.email, { fakedTime: '20200301T000000' }), k.expiring.keyId));
  const late = await sign('expired-before', cat, k.late.email, { fakedTime: '20210101T000000' });
  await gpg.setExpiry(k.late, '2020-07-01', '20200601T000000');
  cases.set('expired-before', refused(late, 'expired_key', new RegExp(`was made on 2021-01-01 00:00:00 UTC, but key ${k.late.fingerprint} expired on 2020-07-01`), k.late.keyId));
  const revoked = await sign('revoked', cat, k.revoked.email);
  await gpg.revoke(k.revoked);
  cases.set('revoked', refused(revoked, 'revoked_key', new RegExp(`cannot be trusted: key ${k.revoked.fingerprint} was revoked on \\d{4}-`), k.revoked.keyId));
  cases.set('other-key', refused(await sign('other-key', cat, k.other.email), 'unknown_key', new RegExp(`is signed by key ${k.other.keyId}, which is not among the repo's allowed keys \\([0-9a-f]{40}, `), k.other.keyId));
  cases.set('sha1', refused(await sign('sha1', cat, k.rsa2048.email, { digestAlgo: 'sha1' }), 'unsupported', /cannot be checked: it uses the hash SHA1, which is too weak to trust/, k.rsa2048.keyId));
  // A signature that expired a day after it was made (rpmsign refuses to add one: gpg's own).
  const expiring = await gpg.detachSign(mainHeader(await readFile(cat)), k.expiring.email, { fakedTime: '20200301T000000', gpgArgs: ['--default-sig-expire', '1d'] });
  const expiredSig = await crafted(cat, pkg('expired-signature'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, expiring) });
  cases.set('expired-signature', refused(expiredSig, 'expired_signature', /by key [0-9a-f]{16} expired on 2020-03-02 00:00:00 UTC$/, k.expiring.keyId));
}

async function damaged() {
  const rsa = cases.get('rsa3072')!.file;
  const rpmv3 = cases.get('rpmv3-rsa')!.file;
  // 20 bytes before the packet's end, inside the RSA value: it still parses, the value is wrong.
  const mpiByte = (b: Buffer) => {
    const at = tagOffset(b, 'signature', SIGTAG.RSAHEADER);
    return at + 3 + b.readUInt16BE(at + 1) - 20; // old framing: tag byte, 2-byte length
  };
  const badSig = (covers: string, tag: string, keyId: string) => new RegExp(`its ${covers.replace('+', '\\+')} signature \\(${tag}\\) by key ${keyId} does not verify \\(the header or payload was changed after signing, or the signature is damaged\\)$`);
  cases.set('damaged', refused(await flipped(rsa, pkg('damaged'), mpiByte), 'bad_signature', badSig('header', 'RSAHEADER', k.rsa3072.keyId), k.rsa3072.keyId));
  // A letter of the summary (main header tag 1004) becomes another: the header no longer matches.
  cases.set('header-changed', refused(await flipped(rsa, pkg('header-changed'), (b) => tagOffset(b, 'main', 1004) + 1), 'bad_signature', badSig('header', 'RSAHEADER', k.rsa3072.keyId), k.rsa3072.keyId));
  // The payload's last byte: the header signature holds, the header + payload one does not.
  cases.set('payload-changed', refused(await flipped(rpmv3, pkg('payload-changed'), (b) => b.length - 1, 0x80), 'bad_signature', badSig('header+payload', 'PGP', k.rsa3072.keyId), k.rsa3072.keyId));
  // Every signature must verify: a good header signature and a header + payload one by a key not allowed.
  const rpmv3Bytes = await readFile(rpmv3);
  const byOther = await gpg.detachSign(headerAndPayload(rpmv3Bytes), k.other.email);
  cases.set(
    'second-signature-unknown',
    refused(await crafted(rpmv3, pkg('second-signature-unknown'), { [SIGTAG.PGP]: binaryTag(SIGTAG.PGP, byOther) }), 'unknown_key', new RegExp(`is signed by key ${k.other.keyId}, which is not among`), k.rsa3072.keyId),
  );
}

/** Signatures made with OpenPGP.js keys and node:crypto (v3), and by gpg outside rpmsign (ECDSA). */
async function craftedSignatures(cat: string, large: string) {
  const header = mainHeader(await readFile(cat));
  const v3key = await openpgpRsaKey('v3@example.org');
  armoredPolicy.push({ name: 'v3', armored: v3key.armored });
  // Not before the key was made (both in this second): OpenPGP.js refuses a signature older than its key.
  const created = Math.floor(v3key.privateKey.getCreationTime().getTime() / 1000);
  // As rpm 4.x signed for RHEL 6 and older: v3 signatures of the header and of header + payload (3 MB here).
  const largeBytes = await readFile(large);
  const v3header = v3SignaturePacket(v3RsaSignature(v3key.privateKey, mainHeader(largeBytes), created));
  const v3whole = v3SignaturePacket(v3RsaSignature(v3key.privateKey, headerAndPayload(largeBytes), created));
  cases.set('v3', accepted(await crafted(large, pkg('v3'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, v3header), [SIGTAG.PGP]: binaryTag(SIGTAG.PGP, v3whole) }), v3key.keyId, 2));
  // Dated an hour before its key was made: a signature cannot be older than its key.
  const early = v3SignaturePacket(v3RsaSignature(v3key.privateKey, header, created - 3600));
  cases.set('v3-before-key', refused(await crafted(cat, pkg('v3-before-key'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, early) }), 'bad_signature', /by key [0-9a-f]{16} claims to be made on .* UTC, before the key was created \(.* UTC\)$/, v3key.keyId));
  // Made by an allowed key, but naming as issuer another fingerprint with the same key id
  // (what a key id collision looks like): the key is not the one the signature names.
  const impostor = Buffer.concat([Buffer.alloc(12, 0xee), Buffer.from(v3key.keyId, 'hex')]);
  const collision = await signatureByKeyPacket(v3key.privateKey.keyPacket as openpgp.SecretKeyPacket, header, impostor);
  cases.set('key-id-collision', refused(await crafted(cat, pkg('key-id-collision'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, collision) }), 'unknown_key', new RegExp(`is signed by key ${v3key.keyId}, which is not among`), v3key.keyId));
  // A v3 signature, which names its key by id only, by a key the repo does not allow.
  const stranger = await openpgpRsaKey('stranger@example.org');
  const foreignV3 = v3SignaturePacket(v3RsaSignature(stranger.privateKey, header, Math.floor(stranger.privateKey.getCreationTime().getTime() / 1000)));
  cases.set('v3-other-key', refused(await crafted(cat, pkg('v3-other-key'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, foreignV3) }), 'unknown_key', new RegExp(`is signed by key ${stranger.keyId}, which is not among`), stranger.keyId));
  // An RSA value with a leading zero byte, which its MPI drops (1 signature in 256): found by trying times.
  let short = v3RsaSignature(v3key.privateKey, header, created);
  for (let t = created + 1; short.mpis[0][0] !== 0; t++) short = v3RsaSignature(v3key.privateKey, header, t);
  cases.set('v3-short-value', accepted(await crafted(cat, pkg('v3-short-value'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, v3SignaturePacket(short)) }), v3key.keyId));
  // The signature value is right, the 2-byte hash prefix before it is not.
  const badPrefix = v3SignaturePacket({ ...v3RsaSignature(v3key.privateKey, header, created), hashPrefix: Buffer.from([0x00, 0x00]) });
  cases.set('v3-bad-prefix', refused(await crafted(cat, pkg('v3-bad-prefix'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, badPrefix) }), 'bad_signature', /RSAHEADER\) by key [0-9a-f]{16} does not verify/, v3key.keyId));

  // A signature of canonical text (type 0x01, gpg --textmode), which rpm never makes.
  const text = await gpg.detachSign(header, k.rsa3072.email, { gpgArgs: ['--textmode'] });
  cases.set('text-signature', refused(await crafted(cat, pkg('text-signature'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, text) }), 'unsupported', /cannot be checked: its signature type is 0x01, not a signature of binary data \(0x00\) as rpm makes$/, k.rsa3072.keyId));

  const ecdsa = await gpg.detachSign(header, k.ecdsa.email);
  cases.set('ecdsa', accepted(await crafted(cat, pkg('ecdsa'), { [SIGTAG.DSAHEADER]: binaryTag(SIGTAG.DSAHEADER, ecdsa) }), k.ecdsa.keyId));

  const { privateKey: v6 } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'v6@example.org' }], format: 'object', config: { v6Keys: true } });
  armoredPolicy.push({ name: 'v6', armored: v6.toPublic().armor() });
  const v6sig = await openpgpSignature(v6, header);
  const v6id = v6.getKeyID().toHex();
  cases.set('v6', accepted(await crafted(cat, pkg('v6'), { [SIGTAG.OPENPGP]: openpgpTag([v6sig]) }), v6id));
  // rpm 6's way: the OPENPGP tag holds every signature (here a v4 and a v6), RSAHEADER the v4 one.
  const rsa = await readFile(cases.get('rsa3072')!.file);
  const v4sig = rsa.subarray(tagOffset(rsa, 'signature', SIGTAG.RSAHEADER), tagOffset(rsa, 'signature', SIGTAG.RSAHEADER) + 3 + rsa.readUInt16BE(tagOffset(rsa, 'signature', SIGTAG.RSAHEADER) + 1));
  cases.set('rpm6-style', accepted(await crafted(cases.get('rsa3072')!.file, pkg('rpm6-style'), { [SIGTAG.OPENPGP]: openpgpTag([v4sig, v6sig]) }), k.rsa3072.keyId, 3));
  // Post-quantum: a v6 packet naming ML-DSA-65+Ed25519 (30).
  const pq = Buffer.from(v6sig);
  pq[bodyStart(pq) + 2] = 30;
  cases.set('post-quantum', refused(await crafted(cat, pkg('post-quantum'), { [SIGTAG.OPENPGP]: openpgpTag([pq]) }), 'unsupported', /cannot be checked: it uses the post-quantum algorithm ML-DSA-65\+Ed25519 \(30\), which txrepo cannot verify yet/, v6id));

  const { privateKey: enc } = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ email: 'enc@example.org' }], subkeys: [{ sign: false }], format: 'object' });
  armoredPolicy.push({ name: 'encryption-subkey', armored: enc.toPublic().armor() });
  const encSig = await signatureByKeyPacket(enc.subkeys[0].keyPacket as openpgp.SecretSubkeyPacket, header);
  const encId = enc.subkeys[0].getKeyID().toHex();
  cases.set('encryption-subkey', refused(await crafted(cat, pkg('encryption-subkey'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, encSig) }), 'not_signing_key', new RegExp(`its subkey ${encId} of key ${enc.getFingerprint()} is not valid for signing`), encId));

  const v3dsa = v3SignaturePacket({ keyId: k.dsa.keyId, created, hashAlgorithm: 8, hashPrefix: Buffer.from([1, 2]), mpis: [Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6])], publicKeyAlgorithm: 17 });
  cases.set('v3-dsa', refused(await crafted(cat, pkg('v3-dsa'), { [SIGTAG.DSAHEADER]: binaryTag(SIGTAG.DSAHEADER, v3dsa) }), 'unsupported', /it is a version 3 signature made with DSA \(17\); txrepo verifies version 3 signatures made with RSA only/, k.dsa.keyId));
}

/** Hostile signature data: each refused with a clear reason; the package still reads. */
async function hostile(cat: string) {
  const rsa = await readFile(cases.get('rsa3072')!.file);
  const at = tagOffset(rsa, 'signature', SIGTAG.RSAHEADER);
  const packet = rsa.subarray(at, at + 3 + rsa.readUInt16BE(at + 1));
  const bin = (name: string, tag: number, data: Uint8Array) => crafted(cat, pkg(name), { [tag]: binaryTag(tag, data) });
  const add = (name: string, file: string, problem: SignatureProblem, reason: RegExp, recordSigner?: string) => cases.set(name, refused(file, problem, reason, recordSigner));

  add('truncated', await bin('truncated', SIGTAG.RSAHEADER, packet.subarray(0, 100)), 'unreadable', /its header signature \(RSAHEADER\) cannot be read: the packet is truncated: its body needs \d+ bytes, 97 are left$/);
  add('huge-length', await bin('huge-length', SIGTAG.RSAHEADER, Buffer.from([0xc2, 0xff, 0xff, 0xff, 0xff, 0xf0, 4, 0, 1, 8])), 'unreadable', /the packet is truncated: its body needs 4294967280 bytes, 4 are left$/);
  const v7 = Buffer.from(packet);
  v7[bodyStart(v7)] = 7;
  add('unknown-version', await bin('unknown-version', SIGTAG.RSAHEADER, v7), 'unsupported', /its header signature \(RSAHEADER\) cannot be checked: it is a version 7 signature packet; txrepo reads versions 3, 4 and 6$/);
  add('not-a-signature', await bin('not-a-signature', SIGTAG.RSAHEADER, Buffer.from([0xc6, 1, 4])), 'unreadable', /it is an OpenPGP packet of type 6, not a signature \(type 2\)$/);
  add('partial-length', await bin('partial-length', SIGTAG.RSAHEADER, Buffer.from([0xc2, 0xe1, 4, 0])), 'unreadable', /partial body length/);
  // A hashed subpacket area that claims more than the packet holds, and a subpacket that overruns its area.
  add('subpackets-overflow', await bin('subpackets-overflow', SIGTAG.RSAHEADER, newFormat([4, 0, 1, 8, 0xff, 0xf0, 5, 2, 0, 0, 0, 0])), 'unreadable', /its hashed subpacket area needs 65520 bytes, 6 are left$/);
  add('subpacket-overrun', await bin('subpacket-overrun', SIGTAG.RSAHEADER, newFormat([4, 0, 1, 8, 0, 6, 40, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])), 'unreadable', /its subpacket 2 needs 39 bytes, 4 are left/);
  add('no-issuer', await bin('no-issuer', SIGTAG.RSAHEADER, newFormat([4, 0, 1, 8, 0, 6, 5, 2, 0x60, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 8, 0xff])), 'unreadable', /names no key \(it has no issuer subpacket\)$/);
  // Creation time and issuer in the unhashed area only: a time nobody signed is not read.
  const unhashedOnly = [4, 0, 1, 8, 0, 0, 0, 16, 5, 2, 0x60, 0, 0, 0, 9, 16, ...Buffer.from(k.rsa3072.keyId, 'hex'), 0xab, 0xcd, 0, 8, 0xff];
  add('unsigned-time', await bin('unsigned-time', SIGTAG.RSAHEADER, newFormat(unhashedOnly)), 'unreadable', /its header signature \(RSAHEADER\) cannot be read: it has no signed creation time$/);
  // gpg's packet: issuer fingerprint signed, issuer key id unsigned; the unsigned one now names another key.
  const twoIssuers = Buffer.from(packet);
  const unhashedArea = 3 + 6 + twoIssuers.readUInt16BE(3 + 4);
  assert.deepEqual([...twoIssuers.subarray(unhashedArea + 2, unhashedArea + 4)], [9, 16], 'gpg writes the issuer key id first in the unhashed area');
  Buffer.from(k.other.keyId, 'hex').copy(twoIssuers, unhashedArea + 4);
  add('two-issuers', await bin('two-issuers', SIGTAG.RSAHEADER, twoIssuers), 'unreadable', new RegExp(`cannot be read: it names two issuers: ${k.rsa3072.keyId} \\(signed\\) and ${k.other.keyId} \\(unsigned\\)$`));
  add('trailing-bytes', await bin('trailing-bytes', SIGTAG.RSAHEADER, Buffer.concat([packet, Buffer.from([0, 0, 0])])), 'unreadable', /3 bytes follow its signature packet$/);
  // Not a case of the signature policy: a package rpm refuses outright, and so does readPackage.
  wrongTypeFile = await crafted(cat, pkg('wrong-type'), { [SIGTAG.RSAHEADER]: { tag: SIGTAG.RSAHEADER, type: 6, count: 1, data: Buffer.from('not binary\0') } });
  add('garbage-base64', await crafted(cat, pkg('garbage-base64'), { [SIGTAG.OPENPGP]: openpgpTag(['this is not base64!', 'AAAA']) }), 'unreadable', /its header signature \(OPENPGP\[0\]\) cannot be read: it is not base64 text$/);
  add('too-many', await crafted(cat, pkg('too-many'), { [SIGTAG.OPENPGP]: openpgpTag(Array.from({ length: 1000 }, () => 'AAAA')) }), 'unreadable', /the tag holds 1000 signatures; txrepo reads at most 16$/);
}

before(async () => {
  dir = await tempDir('txrepo-pkgsig-');
  await mkdir(join(dir, 'pkgs'));
  const cat = sample('cat-1.0-1.noarch.rpm');
  const [complex, large] = await Promise.all([complexRpm(), buildLargeRpm(join(dir, 'large'), 3 << 20)]);
  await makeKeys();
  cases.set('unsigned', refused(await copyFile(cat, pkg('unsigned')).then(() => pkg('unsigned')), 'unsigned', /^\S+unsigned\.rpm is not signed; the repo requires packages signed by [0-9a-f]{40}(, [0-9a-f]{40,64})+$/));
  await signedByGpg(cat, complex, large);
  await damaged();
  await craftedSignatures(cat, large);
  await hostile(cat);
  for (const name of ['rsa3072', 'rsa2048', 'ed', 'dsa', 'ecdsa', 'sub', 'expiring', 'late', 'revoked'] as const) armoredPolicy.push({ name, armored: k[name].armored });
  policy = [];
  for (const key of armoredPolicy) policy.push(...(await loadPolicyKeys(key.armored, `${key.name}.asc`)));
});
after(async () => {
  await gpg?.close();
  await removeDir(dir);
});

/** The policy's verdict: the signer's key id and labels, or the error. */
async function verdict(file: string) {
  return verifyPackageSignatures(file, policy).then(
    (r) => ({ ok: true as const, ...r }),
    (e: unknown) => ({ ok: false as const, error: e }),
  );
}

// A check that never settles (a stream left undrained) must fail, not hang.
describe('package signatures', { timeout: 180_000 }, () => {
  test('packages signed by an allowed key are accepted, with their signer', async () => {
    const names = [...cases].filter(([, c]) => !c.problem).map(([n]) => n);
    assert.deepEqual(names.sort(), ['dsa', 'ecdsa', 'ed25519', 'expired-since', 'rpm6-style', 'rpmv3-ed-large', 'rpmv3-rsa', 'rsa2048-complex', 'rsa3072', 'subkey', 'v3', 'v3-short-value', 'v6']);
    for (const name of names) {
      const c = cases.get(name)!;
      const r = await verdict(c.file);
      assert.ok(r.ok, `${name}: ${!r.ok && (r.error as Error).message}`);
      assert.equal(r.signer.keyId, c.signer, name);
      assert.equal(r.checked.length, c.checked, `${name}: ${r.checked.join('; ')}`);
      assert.ok(policy.some((p) => p.fingerprint === r.signer.primaryFingerprint), name);
    }
    // A signing subkey signs for its primary key; the signer is the subkey.
    const sub = await verifyPackageSignatures(cases.get('subkey')!.file, policy);
    assert.deepEqual(sub.signer, { keyId: subSigning.keyId, fingerprint: subSigning.fingerprint, primaryFingerprint: k.sub.fingerprint });
    assert.deepEqual((await verifyPackageSignatures(cases.get('rpmv3-rsa')!.file, policy)).checked, [
      `the header signature (RSAHEADER): V4 RSA/SHA512 by key ${k.rsa3072.keyId}`,
      `the header+payload signature (PGP): V4 RSA/SHA512 by key ${k.rsa3072.keyId}`,
    ]);
    assert.match((await verifyPackageSignatures(cases.get('v3')!.file, policy)).checked.join('; '), /^the header signature \(RSAHEADER\): V3 RSA\/SHA256 by key \w+; the header\+payload signature \(PGP\): V3 RSA\/SHA256 by key \w+$/);
    assert.match((await verifyPackageSignatures(cases.get('v6')!.file, policy)).checked[0], /^the header signature \(OPENPGP\[0\]\): V6 Ed25519\/SHA\d+ by key \w{16}$/);
    assert.match((await verifyPackageSignatures(cases.get('ed25519')!.file, policy)).checked[0], /\(DSAHEADER\): V4 EdDSA\/SHA256/);
    // Only the keys that signed count: with the policy of one other key, each is refused.
    const [edOnly] = await loadPolicyKeys(k.ed.armored, 'ed.asc');
    await assert.rejects(verifyPackageSignatures(cases.get('rsa3072')!.file, [edOnly]), { name: 'PackageSignatureError', problem: 'unknown_key' });
  });

  test('the record names the signing key id; unsigned packages have none', async () => {
    for (const [name, c] of cases) {
      const record = await readPackage(c.file, { locationHref: 'x.rpm', verifyDigests: !['header-changed', 'payload-changed'].includes(name) });
      if (c.recordSigner === undefined) assert.ok(!('signer' in record), `${name}: signer ${record.signer}`);
      else assert.equal(record.signer, c.recordSigner, name);
    }
    for (const f of await sampleRpms()) assert.ok(!('signer' in (await readPackage(sample(f), { locationHref: f }))), f);
  });

  test('unsigned, foreign, damaged, expired and revoked packages are refused, naming the file and the cause', async () => {
    const refusals = [...cases].filter(([, c]) => c.problem);
    for (const name of ['unsigned', 'other-key', 'damaged', 'header-changed', 'payload-changed', 'expired-before', 'revoked', 'sha1', 'encryption-subkey', 'v3-bad-prefix', 'second-signature-unknown', 'expired-signature']) {
      assert.ok(refusals.some(([n]) => n === name), name);
    }
    for (const [name, c] of refusals) {
      const r = await verdict(c.file);
      assert.ok(!r.ok, `${name} was accepted`);
      const e = r.error;
      assert.ok(e instanceof PackageSignatureError, `${name}: ${(e as Error)?.stack}`);
      assert.equal(e.kind, 'bad_package', name);
      assert.equal(e.problem, c.problem, `${name}: ${e.message}`);
      assert.equal(e.path, c.file);
      assert.ok(e.message.startsWith(c.file), `${name}: ${e.message}`);
      assert.match(e.message, c.reason!, name);
    }
  });

  test('a file that is missing or not an RPM is reported as for readPackage', async () => {
    await assert.rejects(verifyPackageSignatures(join(dir, 'missing.rpm'), policy), { name: 'PackageFileError', kind: 'bad_package', message: `${join(dir, 'missing.rpm')}: cannot read the file: no such file` });
    const text = join(dir, 'notes.rpm');
    await writeFile(text, 'not an rpm at all, but long enough to hold a lead: '.repeat(4));
    await assert.rejects(verifyPackageSignatures(text, policy), { name: 'RpmFormatError', message: `${text}: not a valid RPM package: bad lead magic (the file does not start with ED AB EE DB)` });
    await assert.rejects(verifyPackageSignatures(join(dir, 'pkgs'), policy), { name: 'RpmFormatError', message: `${join(dir, 'pkgs')}: not a valid RPM package: not a regular file` });
  });

  test('the package digests still hold where only the signature header was rewritten', () => {
    // The crafted packages changed only the signature header: rpm's digests of header and payload hold.
    for (const name of ['v3', 'v6', 'ecdsa', 'rpm6-style', 'truncated', 'too-many']) assert.ok(verifyDigests(cases.get(name)!.file).length >= 3, name);
  });

  test('a signature tag of another type than rpm verifies is refused on reading, as rpm refuses it', async () => {
    const rpm = await promisify(execFile)('rpm', ['-qp', wrongTypeFile]).then(() => 'read', (e: { stderr: string }) => e.stderr);
    assert.match(rpm, /RSA signature: BAD|invalid|BAD/, 'rpm refuses it');
    await assert.rejects(readPackage(wrongTypeFile, { locationHref: 'x.rpm' }), (e: Error) => /signature header tag 268 has type 6, count 1, 11 bytes; rpm reads it only as type 7/.test(e.message));
  });

  test('hostile signature data is refused quickly, and the package still reads', async () => {
    for (const name of ['truncated', 'huge-length', 'unknown-version', 'not-a-signature', 'partial-length', 'subpackets-overflow', 'subpacket-overrun', 'no-issuer', 'unsigned-time', 'two-issuers', 'trailing-bytes', 'garbage-base64', 'too-many', 'post-quantum', 'v3-dsa']) {
      const c = cases.get(name)!;
      const started = performance.now();
      await readPackage(c.file, { locationHref: 'x.rpm', verifyDigests: true });
      const r = await verdict(c.file);
      assert.ok(!r.ok && r.error instanceof PackageSignatureError, `${name}: ${r.ok ? 'accepted' : (r.error as Error).stack}`);
      assert.ok(performance.now() - started < 2000, `${name} took ${performance.now() - started} ms`);
    }
  });

  test('rpmkeys -K agrees, package by package', async () => {
    const db = join(dir, 'rpmdb');
    await mkdir(db);
    // rpm 4.18 cannot import ECDSA or v6 keys: the packages they signed are in RPM_DIFFERS.
    const notImported: string[] = [];
    for (const key of armoredPolicy) {
      const file = join(dir, `${key.name}.asc`);
      await writeFile(file, key.armored);
      await exec('rpmkeys', ['--dbpath', db, '--import', file]).catch(() => notImported.push(key.name));
    }
    assert.deepEqual(notImported.sort(), ['ecdsa', 'v6']);
    const corpus: [string, string][] = [...[...cases].map(([n, c]): [string, string] => [n, c.file]), ...(await sampleRpms()).map((f): [string, string] => [`samples/${f}`, join(SAMPLES, f)])];
    const disagreements: string[] = [];
    const rows: string[] = [];
    for (const [name, file] of corpus) {
      const ours = (await verdict(file)).ok ? 'accepted' : 'refused';
      const rpm = await rpmVerdict(db, file);
      rows.push(`${name}: ours ${ours}, rpm ${rpm}`);
      const differs = RPM_DIFFERS[name];
      if (differs) {
        if (rpm !== differs.rpm || ours === (rpm === 'accepted' ? 'accepted' : 'refused')) disagreements.push(`${name}: expected rpm ${differs.rpm} against our ${ours} (${differs.why}); rpm says ${rpm}`);
      } else if (!agree(ours, rpm)) {
        disagreements.push(`${name}: ours ${ours}, rpm ${rpm}`);
      }
    }
    assert.deepEqual(disagreements, [], rows.join('\n'));
    assert.ok(corpus.length >= 70, `${corpus.length} packages`);
  });

  test("createrepo's metadata for signed packages is createrepo_c's (the signer is not metadata)", async () => {
    const repo = join(dir, 'repo');
    await mkdir(repo);
    for (const [name, c] of cases) await copyFile(c.file, join(repo, `${name}.rpm`));
    const ours = join(dir, 'repo-ours');
    const theirs = join(dir, 'repo-theirs');
    await copyTree(repo, ours);
    await copyTree(repo, theirs);
    await mustRun('createrepo_c', ['--no-database', theirs]);
    const r = await txrepo(['createrepo', '--quiet', ours]);
    assert.equal(r.code, 0, r.stderr);
    const cmp = await mdcompare(ours, theirs);
    assert.ok(cmp.same, cmp.output);
    for (const type of ['primary', 'filelists', 'other']) assert.equal(await metadataText(ours, type), await metadataText(theirs, type), type);
  });
});

/**
 * rpmkeys -K's verdict with the allowed keys imported: 'accepted' ("digests signatures
 * OK"), 'unsigned' ("digests OK": rpm found no signature it knows), or 'refused' (exit
 * status 1: a signature or digest is NOT OK, or the key is missing).
 */
async function rpmVerdict(db: string, file: string): Promise<RpmVerdict> {
  const r = await exec('rpmkeys', ['--dbpath', db, '-K', file]).then(
    (x) => ({ code: 0, out: x.stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
  );
  if (r.code !== 0) return 'refused';
  if (/: digests signatures OK$/m.test(r.out)) return 'accepted';
  if (/: digests OK$/m.test(r.out)) return 'unsigned';
  throw new Error(`rpmkeys -K ${file}: ${r.out}`);
}

type RpmVerdict = 'accepted' | 'unsigned' | 'refused';

/**
 * The two agree when both accept, or we refuse what rpm refuses or finds no signature
 * in: a repo that requires signatures refuses an unsigned package, as dnf with
 * gpgcheck=1 does (rpm -K itself only checks what is there).
 */
const agree = (ours: 'accepted' | 'refused', rpm: RpmVerdict) => (ours === 'accepted' ? rpm === 'accepted' : rpm !== 'accepted');

/**
 * Where this machine's rpm (4.18, with its built-in OpenPGP parser) and the policy
 * part ways on purpose, and why. Each must still happen as written: if rpm changes its
 * mind, the test says so.
 */
const RPM_DIFFERS: Record<string, { rpm: RpmVerdict; why: string }> = {
  'expired-before': { rpm: 'accepted', why: 'rpm 4.18 does not check key expiry; OpenPGP.js and rpm-sequoia (rpm 4.19 and later) refuse a signature made after its key expired' },
  revoked: { rpm: 'accepted', why: 'rpm 4.18 does not check revocations; a revoked key is not trusted' },
  sha1: { rpm: 'accepted', why: 'rpm 4.18 accepts SHA1 signatures; the policy refuses them, as OpenPGP.js, rpm-sequoia and RHEL 9 do' },
  'v3-before-key': { rpm: 'accepted', why: 'rpm 4.18 does not compare the signature and key creation times; OpenPGP.js refuses a signature older than its key' },
  'key-id-collision': { rpm: 'accepted', why: 'rpm 4.18 finds keys by key id only; the policy also holds the issuer fingerprint a signature names to its key' },
  ecdsa: { rpm: 'refused', why: 'rpm 4.18 reads neither ECDSA keys (their import fails) nor ECDSA signatures; OpenPGP.js verifies them' },
  v6: { rpm: 'unsigned', why: "rpm 4.18 predates rpm 6's OPENPGP tag and v6 signatures: it sees no signature" },
};

describe('the keys a repo allows', () => {
  test('armored and binary public keys, one or several to a file', async () => {
    const [rsa] = await loadPolicyKeys(k.rsa3072.armored, 'rsa.asc');
    assert.equal(rsa.fingerprint, k.rsa3072.fingerprint);
    assert.equal(rsa.keyId, k.rsa3072.keyId);
    assert.deepEqual(rsa.userIds, ['rsa3072 <rsa3072@example.org>']);
    assert.equal(rsa.algorithm, 'RSA 3072');
    assert.ok(rsa.created instanceof Date && Date.now() - rsa.created.getTime() < 3600_000);
    assert.equal(rsa.expires, undefined);
    assert.equal(rsa.revoked, false);
    assert.ok(rsa.key instanceof openpgp.PublicKey);
    const [ed] = await loadPolicyKeys(k.ed.armored, 'ed.asc');
    assert.match(ed.algorithm, /^EdDSA \(ed25519/);
    const [sub] = await loadPolicyKeys(Buffer.from(k.sub.armored), 'sub.asc');
    assert.deepEqual(sub.subkeys, [{ keyId: subSigning.keyId, fingerprint: subSigning.fingerprint }]);
    const both = await loadPolicyKeys(`${k.rsa3072.armored}\n${k.ed.armored}`, 'both.asc');
    assert.deepEqual(both.map((x) => x.fingerprint), [k.rsa3072.fingerprint, k.ed.fingerprint]);
    const binary = Buffer.concat([await gpg.exportBinary(k.dsa.fingerprint), await gpg.exportBinary(k.rsa2048.fingerprint)]);
    assert.deepEqual((await loadPolicyKeys(binary, 'keys.gpg')).map((x) => [x.fingerprint, x.algorithm]), [[k.dsa.fingerprint, 'DSA 2048'], [k.rsa2048.fingerprint, 'RSA 2048']]);
    // The same key twice is one key.
    assert.equal((await loadPolicyKeys(`${k.ed.armored}${k.ed.armored}`, 'twice.asc')).length, 1);
    const [expiring] = await loadPolicyKeys(k.expiring.armored, 'expiring.asc');
    assert.ok(expiring.expires && expiring.expires.toISOString().startsWith('2020-06-01'), String(expiring.expires));
    const [revoked] = await loadPolicyKeys(k.revoked.armored, 'revoked.asc');
    assert.equal(revoked.revoked, true);
    const v6 = policy.find((p) => p.fingerprint.length === 64);
    assert.equal(v6?.algorithm, 'Ed25519');
  });

  test('a private key, garbage, a signature or an empty file is refused, naming the file', async () => {
    const refusedWith = async (contents: string | Uint8Array, message: RegExp) => {
      await assert.rejects(loadPolicyKeys(contents, '/etc/txrepo/keys/k.asc'), (e: unknown) => {
        assert.ok(e instanceof PolicyKeyError, String(e));
        assert.equal(e.kind, 'invalid_input');
        assert.ok(e.message.startsWith('/etc/txrepo/keys/k.asc: '), e.message);
        assert.match(e.message, message);
        assert.match(e.message, /gpg --armor --export/);
        return true;
      });
    };
    await refusedWith(await gpg.exportSecret(k.ed.fingerprint), /holds a private key; a repo needs only the public key/);
    await refusedWith(`${k.rsa3072.armored}${await gpg.exportSecret(k.ed.fingerprint)}`, /holds a private key/);
    const secretBinary = (await promisify(execFile)('gpg', ['--batch', '--export-secret-keys', k.ed.fingerprint], { env: { ...process.env, GNUPGHOME: gpg.home }, encoding: 'buffer' })).stdout;
    await refusedWith(secretBinary, new RegExp(`holds a private key \\(${k.ed.fingerprint}\\)`));
    await refusedWith('', /the file is empty, it holds no key/);
    await refusedWith('\n  \n', /the file is empty/);
    await refusedWith(new Uint8Array(0), /the file is empty/);
    await refusedWith('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB user@host\n', /holds no armored OpenPGP key/);
    await refusedWith(Buffer.from([0x00, 0x01, 0x02, 0xff, 0x10]), /is not an OpenPGP public key \(/);
    const signature = await openpgp.armor(openpgp.enums.armor.signature, await readFile(cases.get('ecdsa')!.file).then((b) => b.subarray(tagOffset(b, 'signature', SIGTAG.DSAHEADER), tagOffset(b, 'signature', SIGTAG.DSAHEADER) + 10)));
    await refusedWith(signature, /holds a PGP signature, not a public key/);
    await refusedWith(k.rsa3072.armored.replace(/^([A-Za-z0-9+/]{20})[A-Za-z0-9+/]{10}/m, '$1!!!!!!!!!!'), /holds a public key block OpenPGP.js cannot read/);
  });
});
