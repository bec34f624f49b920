// Signing test packages as a build system does, and as it cannot: keys are made at
// run time with `gpg --batch` in a throw-away GNUPGHOME (RSA, EdDSA, DSA, a signing
// subkey, keys that expire or are revoked, with `--faked-system-time` for the past)
// and packages are signed with `rpmsign --addsign` (and `--rpmv3` for the header +
// payload signature). Signatures rpmsign cannot make (version 3, version 6 in rpm 6's
// OPENPGP tag, ECDSA, one by an encryption subkey, hostile bytes) are written into
// the signature header by `editSignatureHeader`, which leaves the main header and
// payload byte for byte as they were, so the package's digests still hold.

import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, sign as rsaSign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { headerLayout } from '../../src/rpm/index.ts';
import { readHeader, writeHeader, type Entry } from './legacy-rpm.ts';

const exec = promisify(execFile);

/** A key made by Gpg: what the tests refer to it by. */
export interface TestKey {
  email: string;
  /** Primary key fingerprint, lowercase hex. */
  fingerprint: string;
  /** Primary key id, 16 lowercase hex digits. */
  keyId: string;
  /** The armored public key, as `gpg --armor --export` writes it (refreshed by revoke and setExpiry). */
  armored: string;
}

export interface SubkeyInfo {
  fingerprint: string;
  keyId: string;
}

export interface PackageSigning {
  /** `rpmsign --rpmv3`: also a header + payload signature (PGP or GPG tag). */
  rpmv3?: boolean;
  /** gpg's clock while signing, e.g. '20200301T000000' (frozen). */
  fakedTime?: string;
  /** gpg's --digest-algo, e.g. 'sha1'. */
  digestAlgo?: string;
  /** Extra gpg arguments, e.g. ['--default-sig-expire', '1d']. */
  gpgArgs?: string[];
}

/** A GNUPGHOME of its own, with gpg run in batch mode and no passphrases. */
export class Gpg {
  readonly home: string;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(home: string) {
    this.home = home;
    this.env = { ...process.env, GNUPGHOME: home, TZ: 'UTC', LC_ALL: 'C' };
  }

  static async create(home: string): Promise<Gpg> {
    await mkdir(home, { recursive: true, mode: 0o700 });
    return new Gpg(home);
  }

  /** Stops the gpg-agent this home started. */
  async close(): Promise<void> {
    await exec('gpgconf', ['--kill', 'gpg-agent'], { env: this.env }).catch(() => {});
  }

  async gpg(args: string[], fakedTime?: string): Promise<string> {
    const time = fakedTime ? ['--faked-system-time', `${fakedTime}!`] : [];
    const { stdout } = await exec('gpg', ['--batch', '--passphrase', '', '--pinentry-mode', 'loopback', ...time, ...args], { env: this.env, maxBuffer: 16 << 20 });
    return stdout;
  }

  /** Fingerprints of a key's primary and subkeys, in order, from gpg's colon listing. */
  async fingerprints(email: string): Promise<string[]> {
    const out = await this.gpg(['--with-colons', '--list-keys', `<${email}>`]);
    return out.split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9].toLowerCase());
  }

  /**
   * A new key: `algo` as gpg's quick-gen-key takes it (rsa2048, rsa3072, ed25519,
   * dsa2048, nistp256), `usage` 'sign' or 'cert' (a primary that cannot sign, for a
   * signing subkey), `expire` 'never' or an ISO date, made at `fakedTime` if given.
   */
  async generateKey(email: string, algo: string, opts: { usage?: string; expire?: string; fakedTime?: string } = {}): Promise<TestKey> {
    await this.gpg(['--quick-gen-key', `${email.split('@')[0]} <${email}>`, algo, opts.usage ?? 'sign', opts.expire ?? 'never'], opts.fakedTime);
    const [fingerprint] = await this.fingerprints(email);
    return { email, fingerprint, keyId: fingerprint.slice(-16), armored: await this.exportPublic(fingerprint) };
  }

  /** Adds a subkey (`usage` 'sign' or 'encr'); refreshes the key's export. */
  async addSubkey(key: TestKey, algo: string, usage: string): Promise<SubkeyInfo> {
    await this.gpg(['--quick-add-key', key.fingerprint, algo, usage, 'never']);
    const fingerprint = (await this.fingerprints(key.email)).at(-1)!;
    key.armored = await this.exportPublic(key.fingerprint);
    return { fingerprint, keyId: fingerprint.slice(-16) };
  }

  /** Gives the key a new self-signature, made at `fakedTime`, that has it expire on `date`. */
  async setExpiry(key: TestKey, date: string, fakedTime: string): Promise<void> {
    await this.gpg(['--quick-set-expire', key.fingerprint, date], fakedTime);
    key.armored = await this.exportPublic(key.fingerprint);
  }

  /** Imports the revocation certificate gpg made with the key: the key is revoked from now. */
  async revoke(key: TestKey): Promise<void> {
    const cert = await readFile(join(this.home, 'openpgp-revocs.d', `${key.fingerprint.toUpperCase()}.rev`), 'utf8');
    // gpg guards the certificate against accidental import with a colon before its armor.
    const file = join(this.home, `${key.fingerprint}.rev`);
    await writeFile(file, cert.replace(/^:-----BEGIN/m, '-----BEGIN'));
    await this.gpg(['--import', file]);
    key.armored = await this.exportPublic(key.fingerprint);
  }

  async exportPublic(fingerprint: string, armor = true): Promise<string> {
    return this.gpg([...(armor ? ['--armor'] : []), '--export', fingerprint]);
  }

  async exportBinary(fingerprint: string): Promise<Buffer> {
    const { stdout } = await execBuffer('gpg', ['--batch', '--export', fingerprint], this.env);
    return stdout;
  }

  async exportSecret(fingerprint: string): Promise<string> {
    return this.gpg(['--armor', '--export-secret-keys', fingerprint]);
  }

  /** A binary detached signature of `data`, as rpmsign would have gpg make it. */
  async detachSign(data: Uint8Array, signer: string, opts: Omit<PackageSigning, 'rpmv3'> = {}): Promise<Buffer> {
    const file = join(this.home, `data-${process.hrtime.bigint()}`);
    await writeFile(file, data);
    await this.gpg(['--no-armor', '-u', signer, '--digest-algo', opts.digestAlgo ?? 'sha256', ...(opts.gpgArgs ?? []), '--detach-sign', '-o', `${file}.sig`, file], opts.fakedTime);
    return readFile(`${file}.sig`);
  }

  /**
   * Copies `from` to `to` and signs the copy with rpmsign as `signer` (gpg's -u: an
   * email, or a fingerprint; `FPR!` for exactly that subkey). Returns `to`.
   */
  async signPackage(from: string, to: string, signer: string, opts: PackageSigning = {}): Promise<string> {
    await writeFile(to, await readFile(from));
    const extra = [...(opts.fakedTime ? ['--faked-system-time', `${opts.fakedTime}!`] : []), ...(opts.gpgArgs ?? [])];
    const args = ['--addsign', ...(opts.rpmv3 ? ['--rpmv3'] : [])];
    args.push('--define', `_gpg_name ${signer}`, '--define', `__gpg ${await gpgPath()}`);
    if (opts.digestAlgo) args.push('--define', `_gpg_digest_algo ${opts.digestAlgo}`);
    if (extra.length) args.push('--define', `_gpg_sign_cmd_extra_args ${extra.join(' ')}`);
    await exec('rpmsign', [...args, to], { env: this.env });
    return to;
  }
}

function execBuffer(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, encoding: 'buffer', maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve({ stdout })));
  });
}

let gpgBinary: Promise<string> | undefined;
/** rpmsign runs %__gpg by absolute path only. */
function gpgPath(): Promise<string> {
  gpgBinary ??= exec('sh', ['-c', 'command -v gpg']).then((r) => r.stdout.trim());
  return gpgBinary;
}

// Crafting signature headers.

/** Signature header tags (rpm: include/rpm/rpmtag.h). */
export const SIGTAG = { DSAHEADER: 267, RSAHEADER: 268, OPENPGP: 278, PGP: 1002, GPG: 1005 } as const;

/** The main header's bytes, what header signatures cover. */
export function mainHeader(rpm: Buffer): Buffer {
  const layout = headerLayout(rpm);
  if ('need' in layout) throw new Error('not a complete package');
  return rpm.subarray(layout.headerStart, layout.headerEnd);
}

/** Main header and payload, what header + payload signatures cover. */
export function headerAndPayload(rpm: Buffer): Buffer {
  const layout = headerLayout(rpm);
  if ('need' in layout) throw new Error('not a complete package');
  return rpm.subarray(layout.headerStart);
}

/**
 * The package with its signature header's entries edited by `edit`: a new signature
 * header, its padding, then the main header and payload exactly as they were.
 */
export function editSignatureHeader(rpm: Buffer, edit: (entries: Entry[]) => Entry[]): Buffer {
  const sig = readHeader(rpm, 96);
  const mainStart = sig.end + ((8 - (sig.end % 8)) % 8);
  const signature = writeHeader(edit(sig.entries), sig.region ?? 62);
  const pad = Buffer.alloc((8 - (signature.length % 8)) % 8);
  return Buffer.concat([rpm.subarray(0, 96), signature, pad, rpm.subarray(mainStart)]);
}

/** `entries` with the signature tags `replace` names set (a value of null removes the tag). */
export function withSignatureTags(entries: Entry[], replace: Record<number, Entry | null>): Entry[] {
  const kept = entries.filter((e) => !(e.tag in replace));
  return [...kept, ...Object.values(replace).filter((e): e is Entry => e !== null)];
}

/** A BIN entry holding one signature packet (RSAHEADER, DSAHEADER, PGP, GPG). */
export const binaryTag = (tag: number, data: Uint8Array): Entry => ({ tag, type: 7, count: data.length, data: Buffer.from(data) });

/** rpm 6's OPENPGP entry: base64 text of each signature packet (or raw strings, for hostile tests). */
export function openpgpTag(packets: (Uint8Array | string)[]): Entry {
  const texts = packets.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('base64')));
  return { tag: SIGTAG.OPENPGP, type: 8, count: texts.length, data: Buffer.from(texts.map((t) => `${t}\0`).join('')) };
}

/** Writes `rpm` with its signature header edited to `to`; returns `to`. */
export async function writeWithSignatures(from: string, to: string, replace: Record<number, Entry | null>): Promise<string> {
  await writeFile(to, editSignatureHeader(await readFile(from), (entries) => withSignatureTags(entries, replace)));
  return to;
}

// Signatures made here, not by gpg.

/** An RSA key made by OpenPGP.js (v4, with a signing primary), and node:crypto's form of its private half. */
export async function openpgpRsaKey(email: string, bits = 2048) {
  const { privateKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: bits, userIDs: [{ email }], format: 'object' });
  return { privateKey, armored: privateKey.toPublic().armor(), keyId: privateKey.getKeyID().toHex(), fingerprint: privateKey.getFingerprint() };
}

/** The node:crypto private key of an OpenPGP.js RSA key packet (JWK needs the CRT values RFC 4880 leaves out). */
export function rsaPrivateKey(packet: openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket) {
  const { n, e } = packet.publicParams as { n: Uint8Array; e: Uint8Array };
  const { d, p, q } = packet.privateParams as { d: Uint8Array; p: Uint8Array; q: Uint8Array };
  const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
  const bytes = (v: bigint) => Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex').toString('base64url');
  const [D, P, Q] = [big(d), big(p), big(q)];
  const jwk = { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: Buffer.from(e).toString('base64url'), d: bytes(D), p: bytes(P), q: bytes(Q), dp: bytes(D % (P - 1n)), dq: bytes(D % (Q - 1n)), qi: bytes(modInverse(Q, P)) };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

const NODE_HASH: Record<number, string> = { 2: 'sha1', 8: 'sha256', 10: 'sha512' };

export interface V3Fields {
  keyId: string;
  created: number;
  hashAlgorithm: number;
  hashPrefix: Uint8Array;
  mpis: Uint8Array[];
  publicKeyAlgorithm?: number;
  signatureType?: number;
}

/** A version 3 signature packet (RFC 4880 5.2.2) in old packet framing, as rpm 4.x's gpg wrote them. */
export function v3SignaturePacket(f: V3Fields): Buffer {
  const head = Buffer.alloc(19);
  head[0] = 3;
  head[1] = 5;
  head[2] = f.signatureType ?? 0;
  head.writeUInt32BE(f.created, 3);
  Buffer.from(f.keyId, 'hex').copy(head, 7);
  head[15] = f.publicKeyAlgorithm ?? 1;
  head[16] = f.hashAlgorithm;
  Buffer.from(f.hashPrefix).copy(head, 17);
  const body = Buffer.concat([head, ...f.mpis.map(mpi)]);
  const frame = Buffer.alloc(3);
  frame[0] = 0x89; // old format, tag 2, two-byte length
  frame.writeUInt16BE(body.length, 1);
  return Buffer.concat([frame, body]);
}

function mpi(value: Uint8Array): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const v = value.subarray(start);
  const bits = (v.length - 1) * 8 + (32 - Math.clz32(v[0]));
  const out = Buffer.alloc(2 + v.length);
  out.writeUInt16BE(bits);
  out.set(v, 2);
  return out;
}

/** A version 3 RSA signature of `data` by an OpenPGP.js key, made with node:crypto. */
export function v3RsaSignature(key: openpgp.PrivateKey, data: Uint8Array, created: number, hashAlgorithm = 8): V3Fields {
  const trailer = Buffer.alloc(5);
  trailer.writeUInt32BE(created, 1);
  const hashed = Buffer.concat([data, trailer]);
  const hash = NODE_HASH[hashAlgorithm];
  const value = rsaSign(hash, hashed, rsaPrivateKey(key.keyPacket as openpgp.SecretKeyPacket));
  const hashPrefix = createHash(hash).update(hashed).digest().subarray(0, 2);
  return { keyId: key.getKeyID().toHex(), created, hashAlgorithm, hashPrefix, mpis: [value] };
}

/** A detached binary signature of `data` by an OpenPGP.js key (v4, or v6 for a v6 key). */
export async function openpgpSignature(key: openpgp.PrivateKey, data: Uint8Array, date?: Date): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.sign({ message, signingKeys: key, detached: true, format: 'binary', ...(date ? { date } : {}) });
}

/**
 * A detached signature made by one key packet, whatever its flags say (OpenPGP.js's
 * sign() would pick a signing key): for a signature by an encryption-only subkey, or
 * one that names another issuer fingerprint than its key's.
 */
export async function signatureByKeyPacket(packet: openpgp.SecretSubkeyPacket | openpgp.SecretKeyPacket, data: Uint8Array, issuerFingerprint?: Uint8Array): Promise<Uint8Array> {
  const sig = new openpgp.SignaturePacket();
  sig.signatureType = openpgp.enums.signature.binary;
  sig.publicKeyAlgorithm = packet.algorithm;
  sig.hashAlgorithm = openpgp.enums.hash.sha256;
  sig.issuerKeyID = packet.getKeyID();
  sig.issuerKeyVersion = packet.version;
  const literal = new openpgp.LiteralDataPacket() as unknown as { setBytes(b: Uint8Array, f: openpgp.enums.literal): void };
  literal.setBytes(data, openpgp.enums.literal.binary);
  // sign() takes the issuer from the key packet: a stand-in names another fingerprint
  // and no key id, which goes unsigned after it, as gpg lays a signature out.
  const KeyID = packet.getKeyID().constructor as new () => openpgp.KeyID;
  const signer = issuerFingerprint ? Object.create(packet, { getFingerprintBytes: { value: () => issuerFingerprint }, getKeyID: { value: () => new KeyID() } }) : packet;
  // sign() takes the config as a fifth argument its typings leave out.
  const sign = sig.sign as unknown as (...args: unknown[]) => Promise<void>;
  await sign.call(sig, signer, literal, new Date(), true, openpgp.config);
  if (issuerFingerprint) sig.unhashedSubpackets.push({ type: 16, critical: false, body: issuerFingerprint.subarray(-8) } as never);
  const list = new openpgp.PacketList<openpgp.SignaturePacket>();
  list.push(sig);
  return list.write();
}

/** Where a tag's data lies in the file: `header` 'signature' or 'main'. */
export function tagOffset(rpm: Buffer, header: 'signature' | 'main', tag: number): number {
  const sigEntries = rpm.readUInt32BE(96 + 8);
  const sigData = rpm.readUInt32BE(96 + 12);
  const start = header === 'signature' ? 96 : 96 + 16 + 16 * sigEntries + sigData + ((8 - (sigData % 8)) % 8);
  const entries = rpm.readUInt32BE(start + 8);
  for (let i = 0; i < entries; i++) {
    const at = start + 16 + 16 * i;
    if (rpm.readUInt32BE(at) === tag) return start + 16 + 16 * entries + rpm.readInt32BE(at + 8);
  }
  throw new Error(`no tag ${tag} in the ${header} header`);
}

/**
 * A noarch package whose payload is `bytes` of random data (incompressible), for
 * header + payload signatures over more than one read buffer. Returns its path.
 */
export async function buildLargeRpm(outDir: string, bytes: number): Promise<string> {
  const top = join(outDir, '.rpmbuild-large');
  await mkdir(join(top, 'SPECS'), { recursive: true });
  const spec = join(top, 'SPECS', 'large.spec');
  await writeFile(
    spec,
    `Name: txsig-large
Version: 1.0
Release: 1
Summary: a package with a large random payload
License: MIT
BuildArch: noarch

%description
Built by the txrepo signature tests.

%install
mkdir -p %{buildroot}/usr/share/txsig-large
head -c ${bytes} /dev/urandom > %{buildroot}/usr/share/txsig-large/random

%files
/usr/share/txsig-large/random
`,
  );
  await exec('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `_rpmdir ${outDir}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', spec], {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
    maxBuffer: 16 << 20,
  });
  return join(outDir, 'txsig-large-1.0-1.noarch.rpm');
}
