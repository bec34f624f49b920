// How the store reads a package it takes in, from a file or from memory: its record
// from its own headers, its own digests verified as `rpm -K --nosignature` does. Its
// own module, with nothing but the RPM reader under it, because a sync's inspector
// thread loads it (src/sync/inspect-worker.ts) and should not load the store.

import { readPackage, readPackageBytes, type PackageRecord } from '../rpm/index.ts';

const VERIFIED = { checksumType: 'sha256', verifyDigests: true } as const;

/** Reads a package's record, verifying its own digests. */
export function readVerified(path: string, locationHref: string): Promise<PackageRecord> {
  return readPackage(path, { ...VERIFIED, locationHref });
}

/**
 * readVerified() of a package held in memory (`name` in errors), whose sha256 the
 * caller took as the bytes arrived.
 */
export function readVerifiedBytes(bytes: Uint8Array, name: string, known: { pkgid: string; timeFile: number }): PackageRecord {
  return readPackageBytes(bytes, name, { ...VERIFIED, locationHref: '', ...known });
}
