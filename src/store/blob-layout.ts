// Where a blob is kept, in every blob store (docs/store.md, "Blobs"): under the store's
// blob root (STORE/blobs/ for a blob directory, PREFIX/ in a bucket) at
// sha256/<first two hex digits>/<the 64 hex digits of its sha256>. A blob is named by
// its content, and fanned out so that no directory, or listing, holds more than about
// 1/256 of them.

const DIGEST = /^[0-9a-f]{64}$/;

export function assertDigest(digest: string): void {
  if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
}

/** The directory, under the blob root, that every blob is in. */
export const BLOBS_DIR = 'sha256';

/** The first two hex digits of a digest: the fan-out directory (in STORE/cache/ too). */
export function fanOut(digest: string): string {
  assertDigest(digest);
  return digest.slice(0, 2);
}

/** A blob's directory under the blob root: sha256/ab. */
export function blobDir(digest: string): string {
  return `${BLOBS_DIR}/${fanOut(digest)}`;
}

/** A blob's path under the blob root: sha256/ab/abcd… */
export function blobPath(digest: string): string {
  return `${blobDir(digest)}/${digest}`;
}

/** The blob a path under the blob root names, if it is where blobPath() puts one. */
export function blobAt(path: string): string | undefined {
  const digest = path.slice(path.lastIndexOf('/') + 1);
  return DIGEST.test(digest) && path === blobPath(digest) ? digest : undefined;
}

/**
 * The directory, under the blob root, of quarantined blobs: a blob fsck found damaged
 * is moved here (not under sha256/, so gc, list() and every read ignore it), kept for
 * whoever looks into the damage, while the store answers for it as for a missing blob
 * that is known to be damaged.
 */
export const QUARANTINE_DIR = 'quarantine';

/** A quarantined blob's path under the blob root: quarantine/abcd… */
export function quarantinePath(digest: string): string {
  assertDigest(digest);
  return `${QUARANTINE_DIR}/${digest}`;
}
