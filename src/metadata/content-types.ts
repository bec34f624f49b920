// The Content-Type each file of a yum tree is served with, by its name: one table for
// `txrepo serve` and for publish's object-storage target (whose web front serves what
// the upload said). Never a Content-Encoding: yum wants the .gz as it is.

const TYPES: [RegExp, string][] = [
  [/\.rpm$/, 'application/x-rpm'],
  [/\.xml$/, 'application/xml'],
  [/\.gz$/, 'application/gzip'],
  [/\.xz$/, 'application/x-xz'],
  [/\.zst$/, 'application/zstd'],
  [/\.bz2$/, 'application/x-bzip2'],
  [/\.(yaml|yml)$/, 'application/yaml'],
  [/\.json$/, 'application/json'],
  [/\.sqlite$/, 'application/vnd.sqlite3'],
  [/\.asc$/, 'application/pgp-signature'],
  [/\.key$/, 'application/pgp-keys'],
];

export function contentTypeOf(href: string): string {
  return TYPES.find(([re]) => re.test(href))?.[1] ?? 'application/octet-stream';
}
