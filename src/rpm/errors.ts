/**
 * A file is not a readable RPM package. The message names the file and says what is
 * wrong with it, so a CLI can print it as is.
 */
export class RpmFormatError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path}: not a valid RPM package: ${problem}`);
    this.name = 'RpmFormatError';
    this.path = path;
  }
}

/** Internal: thrown by pure parsers that do not know the file name; the reader adds it. */
export class HeaderError extends Error {
  override name = 'HeaderError';
}
