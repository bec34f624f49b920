// The kinds of failure. Every error txrepo throws says what kind of failure it is (its
// `kind`, set by its class: a Failure, below), and one table gives what follows from a
// kind: the `type` scripts branch on (the CLI's `--json` errors and the server's error
// bodies, listed in docs/cli.md), the CLI's exit status, the server's HTTP status and
// whether a remote client retries. No layer decides any of these from a class name or
// a message text.

/** The types of failure scripts see: stable, documented in docs/cli.md ("Error types"). */
export const FAILURE_TYPES = [
  'usage',
  'invalid_input',
  'not_found',
  'conflict',
  'already_exists',
  'bad_package',
  'bad_metadata',
  'locked',
  'auth',
  'forbidden',
  'upstream',
  'unavailable',
  'io',
  'internal',
] as const;

export type FailureType = (typeof FAILURE_TYPES)[number];

/**
 * What a remote client does about a failure of the server's: nothing (report it), or
 * upload the packages the server lacks and send the request again.
 */
export type Retry = 'no' | 'upload-again';

interface KindRow {
  type: FailureType;
  http: number;
  retry?: Retry;
  /** The server tells the client only that it failed: the message may name its insides (paths, hosts). */
  withheld?: true;
}

/**
 * The one table: each kind, its type, its HTTP status (and what a client retries). A
 * kind finer than its type keeps the type's meaning for scripts and says more to
 * programs (the status; a retry): a full disk is still `io` or `unavailable`.
 */
const KINDS = {
  usage: { type: 'usage', http: 400 },
  invalid_input: { type: 'invalid_input', http: 400 },
  method_not_allowed: { type: 'invalid_input', http: 405 },
  length_required: { type: 'invalid_input', http: 411 },
  too_large: { type: 'invalid_input', http: 413 },
  path_too_long: { type: 'invalid_input', http: 414 },
  range_not_satisfiable: { type: 'invalid_input', http: 416 },
  /** A deploy names an uploaded package the server no longer has (gc took it): upload it again. */
  upload_missing: { type: 'invalid_input', http: 400, retry: 'upload-again' },
  not_found: { type: 'not_found', http: 404 },
  /** What was there and is no more: a set's snapshot gc removed, a file gone from the store. */
  gone: { type: 'not_found', http: 410 },
  conflict: { type: 'conflict', http: 409 },
  already_exists: { type: 'already_exists', http: 409 },
  bad_package: { type: 'bad_package', http: 400 },
  bad_metadata: { type: 'bad_metadata', http: 400 },
  locked: { type: 'locked', http: 409 },
  auth: { type: 'auth', http: 401 },
  forbidden: { type: 'forbidden', http: 403 },
  upstream: { type: 'upstream', http: 502 },
  unavailable: { type: 'unavailable', http: 503, withheld: true },
  /** The store's catalog has no room: not the server's fault, the request may succeed later. */
  storage_full: { type: 'unavailable', http: 507 },
  storage_read_only: { type: 'unavailable', http: 503 },
  /**
   * A file whose blob is damaged (another size than the catalog's) or quarantined by
   * fsck --repair: the server answers this, with its message, rather than wrong bytes.
   */
  damaged: { type: 'unavailable', http: 503 },
  io: { type: 'io', http: 500, withheld: true },
  disk_full: { type: 'io', http: 507 },
  read_only: { type: 'io', http: 503 },
  internal: { type: 'internal', http: 500, withheld: true },
} as const satisfies Record<string, KindRow>;

export type FailureKind = keyof typeof KINDS;

export const FAILURE_KINDS = Object.keys(KINDS) as FailureKind[];

export function isFailureKind(s: unknown): s is FailureKind {
  return typeof s === 'string' && Object.hasOwn(KINDS, s);
}

/** The type scripts see for a kind. */
export function typeOf(kind: FailureKind): FailureType {
  return KINDS[kind].type;
}

/** The server's HTTP status for a kind. */
export function httpStatusOf(kind: FailureKind): number {
  return KINDS[kind].http;
}

/** What a remote client does when the server fails with this kind. */
export function retryOf(kind: FailureKind): Retry {
  return (KINDS[kind] as KindRow).retry ?? 'no';
}

/** Whether the server keeps a failure's message to its log (the client hears only its type). */
export function isWithheld(kind: FailureKind): boolean {
  return (KINDS[kind] as KindRow).withheld === true;
}

/** Exit status of the CLI: 2 for usage (like createrepo_c), 70 (EX_SOFTWARE) for a bug, else 1. */
export function exitStatusOf(kind: FailureKind): number {
  const type = typeOf(kind);
  return type === 'usage' ? 2 : type === 'internal' ? 70 : 1;
}

/** The kind of an HTTP status (0: no answer), for answers that carry no kind of ours (a proxy's, say). */
const KIND_OF_STATUS: Record<number, FailureKind> = {
  0: 'unavailable',
  401: 'auth',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  410: 'gone',
  411: 'length_required',
  412: 'conflict',
  413: 'too_large',
  414: 'path_too_long',
  416: 'range_not_satisfiable',
  502: 'upstream',
  503: 'unavailable',
  504: 'upstream',
  507: 'storage_full',
};

export function kindOfStatus(status: number): FailureKind {
  return KIND_OF_STATUS[status] ?? (status >= 400 && status < 500 ? 'invalid_input' : 'internal');
}

/**
 * An error that knows its kind. Each class of the layers sets its kind once (`kind =
 * 'not_found'`); the kind travels with the error across worker threads and the
 * network (as a field), so nothing downstream reads class names or messages.
 */
export abstract class Failure extends Error {
  abstract readonly kind: FailureKind;
}

/** A system error's kind: a full disk and a read-only file system are the user's to fix. */
function kindOfSystemError(e: NodeJS.ErrnoException): FailureKind | undefined {
  if (typeof e.code !== 'string') return undefined;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'disk_full';
  if (e.code === 'EROFS') return 'read_only';
  return e.path ? 'io' : undefined;
}

/**
 * The kind of any thrown value: the kind it carries (every error of txrepo's, and a
 * server's answer), else a system error's (the file system failed), else a bug.
 */
export function kindOf(e: unknown): FailureKind {
  if (!(e instanceof Error)) return 'internal';
  const carried = (e as { kind?: unknown }).kind;
  if (isFailureKind(carried)) return carried;
  return kindOfSystemError(e as NodeJS.ErrnoException) ?? 'internal';
}

export interface ErrorDocument {
  error: { type: FailureType; message: string; kind?: FailureKind };
}

/**
 * The JSON document of a failure, the same from the CLI (--json) and the server: its
 * type and message, and its kind when that says more than the type.
 */
export function errorDocument(kind: FailureKind, message: string): ErrorDocument {
  const type = typeOf(kind);
  return { error: type === kind ? { type, message } : { type, message, kind } };
}
