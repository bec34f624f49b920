// An RPM's own digests (rpm: docs/manual/signatures_digests.md), the checks of
// `rpm -K --nosignature`: the signature header holds digests of the main header
// (SHA256, SHA1, SHA3-256 in rpm 6) and an MD5 of main header + payload; the main
// header holds a digest of the compressed payload. Every one present is checked, so
// a flipped bit anywhere in the header or payload is caught. OpenPGP signatures are
// not checked (that needs keys). The verifier is fed the file's bytes as they stream
// by, so a reader that hashes the whole file anyway reads it only once.

import { createHash, type Hash } from 'node:crypto';
import { RpmDigestError } from './errors.ts';
import type { Header } from './header.ts';
import type { HeaderLayout } from './read.ts';
import { Sig, Tag } from './tags.ts';

/** OpenPGP hash algorithm ids (RFC 4880, 9580) that RPMTAG_PAYLOADDIGESTALGO uses. */
const PGP_HASHES: Record<number, { label: string; hash: string }> = {
  1: { label: 'MD5', hash: 'md5' },
  2: { label: 'SHA1', hash: 'sha1' },
  8: { label: 'SHA256', hash: 'sha256' },
  9: { label: 'SHA384', hash: 'sha384' },
  10: { label: 'SHA512', hash: 'sha512' },
  11: { label: 'SHA224', hash: 'sha224' },
  12: { label: 'SHA3-256', hash: 'sha3-256' },
  14: { label: 'SHA3-512', hash: 'sha3-512' },
};
/** rpm's default when a payload digest has no algorithm tag. */
const DEFAULT_PAYLOAD_ALGO = 8;

interface Check {
  /** For messages: "the header's SHA256 digest". */
  label: string;
  /** File range hashed: [start, end), end undefined for the end of the file. */
  start: number;
  end: number | undefined;
  hash: Hash;
  /** Expected digest, lowercase hex (rpm compares case-insensitively). */
  expected: string;
}

/**
 * Checks the digests a package carries against its bytes. Build it from the parsed
 * headers, give it every byte of the file in order (`update`), then `finish`.
 * Throws HeaderError (from the constructor) when a digest tag is of the wrong type.
 */
export class DigestVerifier {
  private readonly checks: Check[] = [];
  private next = 0;

  constructor(sig: Header, main: Header, layout: HeaderLayout) {
    const { headerStart, headerEnd } = layout;
    const add = (label: string, hash: string, start: number, end: number | undefined, expected: string) =>
      this.checks.push({ label, start, end, hash: createHash(hash), expected: expected.toLowerCase() });
    const headerDigests: [number, string, string][] = [
      [Sig.SHA256, 'SHA256', 'sha256'],
      [Sig.SHA3_256, 'SHA3-256', 'sha3-256'],
      [Sig.SHA1, 'SHA1', 'sha1'],
    ];
    for (const [tag, label, hash] of headerDigests) {
      const value = sig.string(tag);
      if (value !== undefined) add(`the header's ${label} digest`, hash, headerStart, headerEnd, value);
    }
    const payload = main.strings(Tag.PAYLOADDIGEST)?.[0];
    if (payload !== undefined) {
      // An algorithm this reader does not know cannot be checked; the other digests still are.
      const algo = PGP_HASHES[main.number(Tag.PAYLOADDIGESTALGO) ?? DEFAULT_PAYLOAD_ALGO];
      if (algo) add(`the payload's ${algo.label} digest`, algo.hash, headerEnd, undefined, payload);
    }
    const md5 = sig.binary(Sig.MD5);
    if (md5 !== undefined) add('the MD5 digest of header and payload', 'md5', headerStart, undefined, Buffer.from(md5).toString('hex'));
  }

  /** What is checked, e.g. ["the header's SHA256 digest", ...]. */
  get labels(): string[] {
    return this.checks.map((c) => c.label);
  }

  /** Feeds `bytes`, found at `offset` in the file; calls must cover the file in order. */
  update(bytes: Uint8Array, offset: number): void {
    if (offset !== this.next) throw new Error(`DigestVerifier: bytes at ${offset}, expected ${this.next}`);
    const end = offset + bytes.length;
    this.next = end;
    for (const c of this.checks) {
      const from = Math.max(c.start, offset);
      const to = c.end === undefined ? end : Math.min(c.end, end);
      if (from < to) c.hash.update(bytes.subarray(from - offset, to - offset));
    }
  }

  /**
   * After the whole file (`size` bytes) went through `update`: throws RpmDigestError
   * naming `path` and the first digest that does not match; returns the labels checked.
   */
  finish(path: string, size: number): string[] {
    if (this.next !== size) throw new Error(`DigestVerifier: ${this.next} of ${size} bytes given`);
    for (const c of this.checks) {
      if (c.hash.digest('hex') !== c.expected) throw new RpmDigestError(path, c.label);
    }
    return this.labels;
  }
}
