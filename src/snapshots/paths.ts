// Where the server serves what yum and dnf read: the URL scheme of docs/http-api.md
// ("Repository paths"), written once. Results carry these paths (a deploy's `path`, a
// set's manifest), the server serves them (src/server/yum.ts reads the same shapes),
// and clients build URLs from them. Repository and tag names are of a safe alphabet
// (names.ts); a file's href is encoded segment by segment.

/** A snapshot's root: immutable. */
export const snapshotPath = (repo: string, id: string): string => `/repos/${repo}/snapshots/${id}/`;

/** A tag's root: follows the tag (and its grace window). */
export const tagPath = (repo: string, tag: string): string => `/repos/${repo}/tags/${tag}/`;

/** The snapshot `latest` pointed at, at TIME. */
export const atPath = (repo: string, time: string): string => `/repos/${repo}/at/${encodeURIComponent(time)}/`;

/** A set's member: the snapshot the set pins for `repo`. */
export const setMemberPath = (set: string, repo: string): string => `/sets/${set}/${repo}/`;

/** A set's ready yum .repo file. */
export const setRepoFilePath = (set: string): string => `/sets/${set}/repos.repo`;

/** A set's mirror index: LATEST_INDEX_PATH's shape, of the set's snapshots. */
export const setIndexPath = (set: string): string => `/sets/${set}/all_latest.json`;

/** A public key (a snapshot signing key or a repository's package key), by fingerprint. */
export const keyPath = (fingerprint: string): string => `/keys/${fingerprint}.asc`;

/** The index of every repository's latest snapshot, in the CI mirror client's shape. */
export const LATEST_INDEX_PATH = '/repos/all_latest.json';

/** A file of a snapshot tree under a root path, its href encoded segment by segment. */
export const fileUnder = (root: string, href: string): string => root + href.split('/').map(encodeURIComponent).join('/');
