// Errors the CLI reports as a plain message (no stack): they describe the input, not a bug.

/** Wrong command-line usage; exit status 2 like createrepo_c and most tools. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const KNOWN = new Set([
  'UsageError',
  'RpmFormatError',
  'PackageFileError',
  'PackageErrors',
  'CreaterepoInputError',
  'LockedError',
  'ScanError',
  'RepomdError',
  'MetadataParseError',
  'DecompressionLimitError',
  'StoreError',
  'NoStoreError',
  'NotAStoreError',
  'BlobMismatchError',
  'NotFoundError',
  'ConflictError',
  'AlreadyExistsError',
  'InvalidNameError',
  'RefError',
  'DeployInputError',
  'ExportError',
  'UpstreamError',
  'UnsafeHrefError',
  'ChecksumMismatchError',
  'RemoteError',
  'AuthError',
  'RequestError',
  'IniError',
  'MirrorsError',
  'PublishError',
]);

/** Turns any failure into a one-screen message and an exit status. */
export function describeFailure(e: unknown): { message: string; status: number } {
  if (e instanceof Error && KNOWN.has(e.name)) return { message: e.message, status: e.name === 'UsageError' ? 2 : 1 };
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.path) {
    const what: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
      ENOSPC: 'no space left on the device',
      EDQUOT: 'disk quota exceeded',
      EROFS: 'read-only file system',
      EIO: 'input/output error',
    };
    // A copy's error names its source, but a full or read-only disk is its destination's.
    const dest = (err as { dest?: string }).dest;
    const where = dest && ['ENOSPC', 'EDQUOT', 'EROFS'].includes(err.code) ? dest : err.path;
    return { message: `${where}: ${what[err.code] ?? err.code}`, status: 1 };
  }
  const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return { message: `unexpected failure (this is a bug in txrepo, please report it):\n${msg}`, status: 70 };
}
