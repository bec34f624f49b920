// Reads one RPM file: lead, signature header and main header are parsed from the
// front of the file while the whole file streams once through the checksum (and, when
// asked, through the package's own digests: digests.ts). The payload is never
// interpreted.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { deriveHeaderFacts } from './derive.ts';
import { DigestVerifier } from './digests.ts';
import { HeaderError, PackageFileError, RpmFormatError } from './errors.ts';
import { Header, headerSize } from './header.ts';
import { packageSignatures, signerOf, type PackageSignature } from './signatures.ts';
import { Sig } from './tags.ts';
import type { PackageRecord } from './record.ts';

const LEAD_SIZE = 96;
const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb];
const CHUNK = 1 << 20;

export const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

export interface ReadOptions {
  checksumType?: ChecksumType;
  /** Path relative to the repo root, recorded as location href. */
  locationHref: string;
  locationBase?: string;
  /**
   * Also check the package's own digests (header and payload, as `rpm -K` does) in
   * the same pass over the file; a mismatch is an RpmDigestError. What the store
   * ingests is verified; createrepo, like createrepo_c, does not verify.
   */
  verifyDigests?: boolean;
  /**
   * Decode only the newest N changelog entries (other.xml lists no more, and a package's
   * changelog is often most of its header's text); negative or absent: all of them.
   */
  changelogLimit?: number;
}

/** Where the headers lie in a file (createrepo_c's header-range). */
export interface HeaderLayout {
  /** Offset of the main header (after the signature and its padding). */
  headerStart: number;
  /** Offset where the payload begins. */
  headerEnd: number;
}

/**
 * Given the first bytes of a file, returns the header layout, or the number of bytes
 * needed before it can tell. Throws HeaderError on anything malformed.
 */
export function headerLayout(prefix: Uint8Array): HeaderLayout | { need: number } {
  if (prefix.length < LEAD_SIZE + 16) return { need: LEAD_SIZE + 16 };
  for (let i = 0; i < 4; i++) {
    if (prefix[i] !== LEAD_MAGIC[i]) throw new HeaderError('bad lead magic (the file does not start with ED AB EE DB)');
  }
  const sig = headerSize(prefix, LEAD_SIZE, 'signature');
  const headerStart = LEAD_SIZE + sig.size + ((8 - (sig.dataLength % 8)) % 8);
  if (prefix.length < headerStart + 16) return { need: headerStart + 16 };
  const main = headerSize(prefix, headerStart, 'main');
  return { headerStart, headerEnd: headerStart + main.size };
}

/** Parses the headers of a complete prefix of an RPM file into record facts. */
export function parseHeaders(prefix: Uint8Array, layout: HeaderLayout, changelogLimit?: number) {
  const sig = new Header(prefix, LEAD_SIZE, 'signature');
  const main = new Header(prefix, layout.headerStart, 'main');
  const facts = deriveHeaderFacts(main, sig, changelogLimit !== undefined && changelogLimit >= 0 ? changelogLimit : undefined);
  sig.checkLayout();
  main.checkLayout();
  main.checkSignatureTagsAbsent(sig);
  return { sig, main, facts, signedSize: sig.number(Sig.LONGSIZE) ?? sig.number(Sig.SIZE) };
}

/**
 * Reads a package file into a record. Any problem with the file (unreadable, not an
 * RPM, truncated, corrupt header) is an RpmFormatError or a PackageFileError naming it.
 *
 * The I/O is synchronous on purpose: packages are read in worker threads (see
 * pool.ts), where blocking is free and a promise per read(2) would cost more than the
 * read itself for the many small files of a typical repo.
 */
export function readPackageSync(path: string, options: ReadOptions): PackageRecord {
  const checksumType = options.checksumType ?? 'sha256';
  return withFile(path, (fd) => read(fd, path, checksumType, options));
}

export async function readPackage(path: string, options: ReadOptions): Promise<PackageRecord> {
  return readPackageSync(path, options);
}

/**
 * Checks a package file's own digests (see digests.ts) without making a record:
 * returns what was checked, e.g. ["the header's SHA256 digest", ...]; throws
 * RpmDigestError on a mismatch, RpmFormatError or PackageFileError like readPackage.
 * (readPackage with `verifyDigests` does the same in its one pass.)
 */
export function verifyDigests(path: string): string[] {
  return withFile(path, (fd) => {
    const { size } = checkFile(fd, path);
    const { prefix, have, layout } = readHeaders(fd, path, size, () => {});
    const { signedSize, verifier } = parse(path, prefix, layout, true);
    checkSignedSize(path, signedSize, layout, size);
    verifier!.update(prefix.subarray(0, have), 0);
    streamRest(fd, path, have, size, (bytes, offset) => verifier!.update(bytes, offset));
    return verifier!.finish(path, size);
  });
}

/** What a package's OpenPGP signatures cover, and the signatures (see signatures.ts). */
export interface SignedParts {
  layout: HeaderLayout;
  /** Size of the file: header + payload signatures cover [layout.headerStart, size). */
  size: number;
  /** The main header's bytes, [headerStart, headerEnd): what header signatures cover. */
  header: Uint8Array;
  signatures: PackageSignature[];
}

/**
 * Reads the headers of the package open as `fd` (named `path` in errors) for a
 * signature check: a format problem is an RpmFormatError, as for readPackage; errno
 * failures are left to the caller, who opened the file. The caller streams the
 * payload from the same descriptor, so both come from one file.
 */
export function readSignedParts(fd: number, path: string): SignedParts {
  const { size } = checkFile(fd, path);
  const { prefix, layout } = readHeaders(fd, path, size, () => {});
  const { sig, signedSize } = parse(path, prefix, layout, false);
  checkSignedSize(path, signedSize, layout, size);
  // A copy: the prefix may be the scratch buffer, which the next read reuses.
  const header = new Uint8Array(prefix.subarray(layout.headerStart, layout.headerEnd));
  return { layout, size, header, signatures: packageSignatures(sig) };
}

/** Opens `path` for `fn`; errno failures become a PackageFileError naming the file. */
function withFile<T>(path: string, fn: (fd: number) => T): T {
  let fd: number | undefined;
  try {
    // Non-blocking: opening a named pipe for reading waits for a writer, maybe forever;
    // this way it opens at once, and checkFile() refuses it as not a regular file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return fn(fd);
  } catch (e) {
    if (e instanceof RpmFormatError || !(e as NodeJS.ErrnoException).code) throw e;
    throw new PackageFileError(path, e as NodeJS.ErrnoException);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One reusable read buffer per thread: most packages fit in it whole. */
const scratch = Buffer.allocUnsafe(CHUNK);

/** The stats of an open package file; refuses what is not a regular file or too short. */
function checkFile(fd: number, path: string): Stats {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new RpmFormatError(path, 'not a regular file');
  checkLeadFits(path, st.size);
  return st;
}

/** Refuses a file too short to hold an RPM lead (and the start of its signature). */
function checkLeadFits(path: string, size: number): void {
  if (size < LEAD_SIZE + 16) {
    throw new RpmFormatError(path, size === 0 ? 'the file is empty' : `the file is only ${size} bytes, too short for an RPM lead`);
  }
}

/**
 * Reads the front of a `size`-byte file until its headers are complete: prefix[0, have)
 * holds them (and maybe some payload). `onBytes` sees each read, in order.
 */
function readHeaders(fd: number, path: string, size: number, onBytes: (bytes: Uint8Array) => void): { prefix: Buffer; have: number; layout: HeaderLayout } {
  // The first read usually covers the whole header; a larger header gets its own buffer.
  let prefix: Buffer = scratch;
  let have = 0;
  let layout: HeaderLayout | undefined;
  while (!layout) {
    const bytesRead = readSync(fd, prefix, have, Math.min(prefix.length - have, size - have), have);
    if (bytesRead === 0) throw new RpmFormatError(path, `truncated: the file ends at ${have} bytes, inside its headers`);
    onBytes(prefix.subarray(have, have + bytesRead));
    have += bytesRead;
    let result;
    try {
      result = headerLayout(prefix.subarray(0, have));
    } catch (e) {
      if (e instanceof HeaderError) throw new RpmFormatError(path, e.message);
      throw e;
    }
    const need = 'need' in result ? result.need : result.headerEnd;
    if (need > size) {
      throw new RpmFormatError(path, `truncated: its headers need ${need} bytes, the file has ${size}`);
    }
    if (have < need) {
      if (prefix.length < need) prefix = grow(prefix, have, need);
      continue;
    }
    if (!('need' in result)) layout = result;
  }
  return { prefix, have, layout };
}

/** Parses the headers, and builds the digest verifier when asked. */
function parse(path: string, prefix: Buffer, layout: HeaderLayout, verify: boolean | undefined, changelogLimit?: number) {
  let parsed;
  let verifier: DigestVerifier | undefined;
  try {
    parsed = parseHeaders(prefix.subarray(0, layout.headerEnd), layout, changelogLimit);
    if (verify) verifier = new DigestVerifier(parsed.sig, parsed.main, layout);
  } catch (e) {
    if (e instanceof HeaderError) throw new RpmFormatError(path, e.message);
    throw e;
  }
  return { ...parsed, verifier };
}

/**
 * The signature records the size of header + payload: a cheap check that catches
 * truncated downloads, which a header-only reader would otherwise accept.
 */
function checkSignedSize(path: string, signedSize: number | undefined, layout: HeaderLayout, size: number): void {
  if (signedSize !== undefined && layout.headerStart + signedSize !== size) {
    const cut = layout.headerStart + signedSize > size ? 'truncated: ' : '';
    throw new RpmFormatError(path, `${cut}its signature says header and payload take ${signedSize} bytes, the file holds ${size - layout.headerStart} after the signature`);
  }
}

/** Reads [from, size) of the file in chunks of the scratch buffer, in order. */
function streamRest(fd: number, path: string, from: number, size: number, onBytes: (bytes: Uint8Array, offset: number) => void): void {
  let pos = from;
  while (pos < size) {
    const bytesRead = readSync(fd, scratch, 0, scratch.length, pos);
    if (bytesRead === 0) break;
    onBytes(scratch.subarray(0, bytesRead), pos);
    pos += bytesRead;
  }
  if (pos !== size) throw new RpmFormatError(path, `the file changed while it was read (${pos} bytes read, ${size} expected)`);
}

function read(fd: number, path: string, checksumType: ChecksumType, options: ReadOptions): PackageRecord {
  const st = checkFile(fd, path);
  const size = st.size;
  const hash = createHash(checksumType);
  const { prefix, have, layout } = readHeaders(fd, path, size, (bytes) => hash.update(bytes));
  const { sig, facts, signedSize, verifier } = parse(path, prefix, layout, options.verifyDigests, options.changelogLimit);
  checkSignedSize(path, signedSize, layout, size);
  // Now: `sig` reads the prefix, which may be the scratch buffer the rest of the file reuses.
  const signer = signerOf(packageSignatures(sig));
  // The prefix is usually the scratch buffer, which the rest of the file reuses.
  verifier?.update(prefix.subarray(0, have), 0);
  // Stream the rest of the file through the checksum (and the package's digests).
  streamRest(fd, path, have, size, (bytes, offset) => {
    hash.update(bytes);
    verifier?.update(bytes, offset);
  });
  verifier?.finish(path, size);
  return recordOf({ pkgid: hash.digest('hex'), checksumType, facts, timeFile: Math.floor(st.mtimeMs / 1000), size, layout, signer }, options);
}

/** The record of a package read whole, from its file or from memory. */
function recordOf(
  read: { pkgid: string; checksumType: ChecksumType; facts: ReturnType<typeof deriveHeaderFacts>; timeFile: number; size: number; layout: HeaderLayout; signer: ReturnType<typeof signerOf> },
  options: ReadOptions,
): PackageRecord {
  const record: PackageRecord = {
    pkgid: read.pkgid,
    checksumType: read.checksumType,
    ...read.facts,
    timeFile: read.timeFile,
    sizePackage: read.size,
    locationHref: options.locationHref,
    headerStart: read.layout.headerStart,
    headerEnd: read.layout.headerEnd,
  };
  if (options.locationBase) record.locationBase = options.locationBase;
  if (read.signer) record.signer = read.signer;
  return record;
}

/**
 * Reads a package held whole in memory (a small download, which never needs a file to
 * be read back), as readPackage reads a file: the same checks, errors naming `name`.
 * `pkgid`: the checksum of these bytes when the caller already hashed them with
 * `checksumType` as they arrived (the pass over them is then not made again);
 * `timeFile`: the file time to record.
 */
export function readPackageBytes(bytes: Uint8Array, name: string, options: ReadOptions & { pkgid?: string; timeFile: number }): PackageRecord {
  const size = bytes.length;
  checkLeadFits(name, size);
  let layout: HeaderLayout | { need: number };
  try {
    layout = headerLayout(bytes); // all of the file: a need is past its end
  } catch (e) {
    if (e instanceof HeaderError) throw new RpmFormatError(name, e.message);
    throw e;
  }
  if ('need' in layout || layout.headerEnd > size) {
    const need = 'need' in layout ? layout.need : layout.headerEnd;
    throw new RpmFormatError(name, `truncated: its headers need ${need} bytes, the file has ${size}`);
  }
  const prefix = Buffer.from(bytes.buffer, bytes.byteOffset, size);
  const { sig, facts, signedSize, verifier } = parse(name, prefix, layout, options.verifyDigests, options.changelogLimit);
  checkSignedSize(name, signedSize, layout, size);
  const signer = signerOf(packageSignatures(sig));
  verifier?.update(bytes, 0);
  verifier?.finish(name, size);
  const checksumType = options.checksumType ?? 'sha256';
  const pkgid = options.pkgid ?? createHash(checksumType).update(bytes).digest('hex');
  return recordOf({ pkgid, checksumType, facts, timeFile: options.timeFile, size, layout, signer }, options);
}

function grow(buf: Buffer, used: number, size: number): Buffer {
  const bigger = Buffer.allocUnsafe(size);
  buf.copy(bigger, 0, 0, used);
  return bigger;
}
