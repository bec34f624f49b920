import { Failure } from '../common/index.ts';

/**
 * A file is not a readable RPM package. The message names the file and says what is
 * wrong with it, so a CLI can print it as is.
 */
export class RpmFormatError extends Failure {
  readonly kind = 'bad_package';
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path}: not a valid RPM package: ${problem}`);
    this.name = 'RpmFormatError';
    this.path = path;
  }
}

/**
 * A well-formed package whose own digests do not match its bytes: damaged (rpm -K says
 * "DIGESTS NOT OK" and dnf refuses to install it). Its name stays RpmFormatError, so
 * the CLI and the API report it like any bad package.
 */
export class RpmDigestError extends RpmFormatError {
  /** Which digest failed, e.g. "the header's SHA256 digest". */
  readonly digest: string;
  constructor(path: string, digest: string) {
    super(path, `${digest} does not match`);
    this.message = `${path}: ${digest} does not match (the file is damaged); rebuild or re-download it`;
    this.digest = digest;
  }
}

/** Internal: thrown by pure parsers that do not know the file name; the reader adds it. */
export class HeaderError extends Error {
  override name = 'HeaderError';
}

const IO_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
};

/** A package file could not be read at all (permissions, I/O); names the file. */
export class PackageFileError extends Failure {
  readonly kind = 'bad_package';
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: NodeJS.ErrnoException) {
    super(`${path}: cannot read the file: ${IO_PROBLEMS[cause.code ?? ''] ?? cause.message}`);
    this.name = 'PackageFileError';
    this.path = path;
    this.code = cause.code;
  }
}
