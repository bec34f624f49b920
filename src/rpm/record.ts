// The package record: everything YUM metadata says about one package, derived from
// its headers once at ingest. The metadata writers and the store work from records
// only; nothing downstream re-reads an RPM file.

export type DependencyFlags = 'EQ' | 'LT' | 'GT' | 'LE' | 'GE';

export interface Dependency {
  name: string;
  /** Absent for unversioned dependencies; then epoch/ver/rel are absent too. */
  flags?: DependencyFlags;
  epoch?: string;
  ver?: string;
  rel?: string;
  /** Requires only: needed by a scriptlet (pre="1"). */
  pre?: boolean;
}

export type FileType = 'file' | 'dir' | 'ghost';

export interface PackageFile {
  path: string;
  type: FileType;
}

export interface ChangelogEntry {
  author: string;
  /** Seconds since the epoch, as in the header (before any de-duplication). */
  date: number;
  text: string;
}

export const DEPENDENCY_KINDS = [
  'provides',
  'requires',
  'conflicts',
  'obsoletes',
  'suggests',
  'enhances',
  'recommends',
  'supplements',
] as const;

export type DependencyKind = (typeof DEPENDENCY_KINDS)[number];

export interface PackageRecord {
  /** Checksum of the whole file, lowercase hex. */
  pkgid: string;
  checksumType: string;
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  /** mtime of the file, seconds. */
  timeFile: number;
  timeBuild: number;
  sizePackage: number;
  sizeInstalled: number;
  sizeArchive: number;
  /** Path of the file relative to the repo root, '/'-separated. */
  locationHref: string;
  locationBase?: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  headerStart: number;
  headerEnd: number;
  /**
   * Issuer key id (16 lowercase hex digits) of the package's OpenPGP signature: its
   * first readable header signature, else its header + payload one (src/rpm/signatures.ts).
   * Absent when the package is unsigned. What the package claims, not verified:
   * src/signing checks signatures against keys. Not part of the YUM metadata.
   */
  signer?: string;
  provides: Dependency[];
  requires: Dependency[];
  conflicts: Dependency[];
  obsoletes: Dependency[];
  suggests: Dependency[];
  enhances: Dependency[];
  recommends: Dependency[];
  supplements: Dependency[];
  /** Every file, in header order. */
  files: PackageFile[];
  /** Every changelog entry, in header order (newest first). */
  changelogs: ChangelogEntry[];
}

/** name-[epoch:]version-release.arch, as rpm and dnf print it. */
export function nevra(p: Pick<PackageRecord, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string {
  const e = p.epoch && p.epoch !== '0' ? `${p.epoch}:` : '';
  return `${p.name}-${e}${p.version}-${p.release}.${p.arch}`;
}

/**
 * The names a package goes by in a package spec, as dnf takes them, and so what a glob
 * of remove, copy or a mirror filter is matched against: NAME, NAME.ARCH, NAME-VERSION,
 * NAME-VERSION-RELEASE, NAME-VERSION-RELEASE.ARCH, NAME-EPOCH:VERSION-RELEASE and
 * NAME-EPOCH:VERSION-RELEASE.ARCH (the epoch written even when 0).
 */
export function specForms(p: Pick<PackageRecord, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string[] {
  const vr = `${p.version}-${p.release}`;
  const evr = `${p.epoch || '0'}:${vr}`;
  return [p.name, `${p.name}.${p.arch}`, `${p.name}-${p.version}`, `${p.name}-${vr}`, `${p.name}-${vr}.${p.arch}`, `${p.name}-${evr}`, `${p.name}-${evr}.${p.arch}`];
}

/**
 * createrepo_c's "primary file" rule: paths listed in primary.xml because dependency
 * solvers commonly need them.
 */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}
