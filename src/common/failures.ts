// The kinds of failure txrepo reports to scripts: the `type` of the CLI's JSON errors
// (`--json`) and of the server's error bodies (/api/v1). One table maps every error
// class the layers throw (by name: classes cross worker threads and the network as
// names) to a kind; a kind gives the CLI's exit status and the server's HTTP status.
// A script branches on the kind, never on a message. docs/cli.md lists them.

export const FAILURE_KINDS = [
  'usage',
  'invalid_input',
  'not_found',
  'conflict',
  'already_exists',
  'bad_package',
  'bad_metadata',
  'locked',
  'auth',
  'upstream',
  'unavailable',
  'io',
  'internal',
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Error class name -> kind. A class not listed is a bug: 'internal'. */
const KIND_OF_CLASS: Record<string, FailureKind> = {
  UsageError: 'usage',
  InvalidNameError: 'invalid_input',
  RequestError: 'invalid_input',
  RefError: 'invalid_input',
  DeployInputError: 'invalid_input',
  CreaterepoInputError: 'invalid_input',
  ScanError: 'invalid_input',
  ExportError: 'invalid_input',
  IniError: 'invalid_input',
  MirrorsError: 'invalid_input',
  NotFoundError: 'not_found',
  NoStoreError: 'not_found',
  NotAStoreError: 'invalid_input',
  ConflictError: 'conflict',
  AlreadyExistsError: 'already_exists',
  RpmFormatError: 'bad_package',
  PackageFileError: 'bad_package',
  PackageErrors: 'bad_package',
  BlobMismatchError: 'bad_package',
  ChecksumMismatchError: 'bad_package',
  RepomdError: 'bad_metadata',
  MetadataParseError: 'bad_metadata',
  DecompressionLimitError: 'bad_metadata',
  UnsafeHrefError: 'bad_metadata',
  LockedError: 'locked',
  AuthError: 'auth',
  UpstreamError: 'upstream',
  StoreError: 'unavailable',
  PublishError: 'io',
};

/** Exit status of the CLI: 2 for usage (like createrepo_c), 70 (EX_SOFTWARE) for a bug. */
export function exitStatusOf(kind: FailureKind): number {
  return kind === 'usage' ? 2 : kind === 'internal' ? 70 : 1;
}

/** HTTP status of the server's answer for a kind. */
export const HTTP_STATUS: Record<FailureKind, number> = {
  usage: 400,
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  already_exists: 409,
  bad_package: 400,
  bad_metadata: 400,
  locked: 409,
  auth: 401,
  upstream: 502,
  unavailable: 503,
  io: 500,
  internal: 500,
};

/** The kind of an HTTP status, for answers that carry no kind of ours. */
export function kindOfStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 502 || status === 504) return 'upstream';
  if (status === 503 || status === 507 || status === 0) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid_input';
  return 'internal';
}

export function isFailureKind(s: unknown): s is FailureKind {
  return typeof s === 'string' && (FAILURE_KINDS as readonly string[]).includes(s);
}

/**
 * The kind of any thrown value: an error that carries its kind (a server's answer,
 * an HTTP refusal), else its class, else a system error with a path (the file system
 * failed: 'io'), else a bug.
 */
export function kindOf(e: unknown): FailureKind {
  if (!(e instanceof Error)) return 'internal';
  const carried = (e as { kind?: unknown }).kind;
  if (isFailureKind(carried)) return carried;
  if (Object.hasOwn(KIND_OF_CLASS, e.name)) return KIND_OF_CLASS[e.name];
  const err = e as NodeJS.ErrnoException;
  if (typeof err.code === 'string' && err.path) return 'io';
  return 'internal';
}

/** The kind of an error class name (an older server's `type`), if it is one of ours. */
export function kindOfClassName(name: string): FailureKind | undefined {
  return Object.hasOwn(KIND_OF_CLASS, name) ? KIND_OF_CLASS[name] : undefined;
}

/** The JSON document of a failure, the same from the CLI (--json) and the server. */
export function errorDocument(type: FailureKind, message: string): { error: { type: FailureKind; message: string } } {
  return { error: { type, message } };
}
