// From parsed headers to a package record, following createrepo_c's rules
// (createrepo_c: src/parsehdr.c) so that our metadata matches its output.

import { HeaderError } from './errors.ts';
import type { Header } from './header.ts';
import { FILE_GHOST, Sense, Sig, Tag } from './tags.ts';
import { isPrimaryFile } from './record.ts';
import type { ChangelogEntry, Dependency, DependencyFlags, PackageFile, PackageRecord } from './record.ts';
import { rpmvercmp } from './vercmp.ts';

/** The header-derived part of a record; the reader adds what comes from the file. */
export type HeaderFacts = Omit<PackageRecord, 'pkgid' | 'checksumType' | 'timeFile' | 'sizePackage' | 'locationHref' | 'locationBase' | 'headerStart' | 'headerEnd'>;

export function flagsToString(flags: number): DependencyFlags | undefined {
  switch (flags & 0xf) {
    case 2:
      return 'LT';
    case 4:
      return 'GT';
    case 8:
      return 'EQ';
    case 10:
      return 'LE';
    case 12:
      return 'GE';
    default:
      return undefined;
  }
}

/**
 * Splits [epoch:]version[-release] like createrepo_c's cr_str_to_evr. Returns undefined
 * for a non-numeric epoch, which createrepo_c reports and drops.
 */
export function splitEvr(evr: string): { epoch?: string; ver?: string; rel?: string } | undefined {
  if (evr === '') return {};
  let epoch = '0';
  let rest = evr;
  const colon = evr.indexOf(':');
  if (colon !== -1) {
    const e = evr.slice(0, colon);
    // strtol semantics: optional blanks and sign, then at least one digit, nothing after.
    if (e !== '') {
      if (!/^[ \t\n\v\f\r]*[+-]?[0-9]+$/.test(e)) return undefined;
      epoch = e;
    }
    rest = evr.slice(colon + 1);
  }
  const dash = rest.indexOf('-');
  if (dash === -1) return { epoch, ver: rest };
  return { epoch, ver: rest.slice(0, dash), rel: rest.slice(dash + 1) };
}

function dependency(name: string, flags: number, version: string): Dependency | undefined {
  const f = flagsToString(flags);
  const evr = splitEvr(version);
  if (evr === undefined) return undefined;
  const dep: Dependency = { name };
  if (f) {
    dep.flags = f;
    if (evr.epoch) dep.epoch = evr.epoch;
    if (evr.ver) dep.ver = evr.ver;
    if (evr.rel) dep.rel = evr.rel;
  }
  return dep;
}

interface Triplet {
  names: string[];
  flags: number[];
  versions: string[];
}

function triplet(h: Header, nameTag: number, flagsTag: number, versionTag: number): Triplet {
  const names = h.strings(nameTag);
  const flags = h.numbers(flagsTag);
  const versions = h.strings(versionTag);
  if (!names || !flags || !versions) return NO_TRIPLET;
  return { names, flags, versions };
}

const NO_TRIPLET: Triplet = { names: [], flags: [], versions: [] };

function size(t: Triplet): number {
  return Math.min(t.names.length, t.flags.length, t.versions.length);
}

/**
 * The libc.so.6 ordering of createrepo_c's cr_compare_dependency: true when `b` is
 * a higher libc requirement than `a`, comparing the first parenthesised part from its
 * first digit with rpmvercmp.
 */
function libcHigher(a: string, b: string): boolean {
  const pa = a.indexOf('(');
  const pb = b.indexOf('(');
  if (pa === -1 && pb === -1) return false;
  if (pa === -1) return true;
  if (pb === -1) return false;
  const ea = a.indexOf(')', pa);
  const eb = b.indexOf(')', pb);
  if (ea === -1 && eb === -1) return false;
  if (ea === -1) return true;
  if (eb === -1) return false;
  let va = pa + 1;
  let vb = pb + 1;
  if (va === ea && vb === eb) return false;
  if (va === ea) return true;
  if (vb === eb) return false;
  const isDigit = (c: string) => c >= '0' && c <= '9';
  while (va < a.length && !isDigit(a[va])) va++;
  while (vb < b.length && !isDigit(b[vb])) vb++;
  if (va > ea && vb > eb) return false;
  if (va > ea) return true;
  if (vb > eb) return false;
  return rpmvercmp(a.slice(va, ea), b.slice(vb, eb)) < 0;
}

/**
 * More characters than this in a package's file paths, once each file's directory
 * name is joined to its base name, are refused. A header stores a directory name once
 * for all the files in it: 65,000 files in one directory named with a million
 * characters is a 2 MB package whose paths take 65 GB (we ran for minutes, 2 GB and
 * growing; createrepo_c fails its allocation). The largest real file lists take a few
 * MB: this is 500,000 paths of 128 characters.
 */
export const MAX_FILE_PATHS_CHARS = 64 * 1024 * 1024;

function files(h: Header): PackageFile[] {
  let basenames = h.strings(Tag.BASENAMES);
  let dirnames = h.strings(Tag.DIRNAMES);
  let dirindexes = h.numbers(Tag.DIRINDEXES);
  if (!basenames) {
    // Old (v3) packages list full paths; rpm splits them the same way on load.
    const old = h.strings(Tag.OLDFILENAMES);
    if (!old) return [];
    const dirs = new Map<string, number>();
    basenames = [];
    dirindexes = [];
    for (const path of old) {
      const slash = path.lastIndexOf('/');
      const dir = path.slice(0, slash + 1);
      let idx = dirs.get(dir);
      if (idx === undefined) dirs.set(dir, (idx = dirs.size));
      basenames.push(path.slice(slash + 1));
      dirindexes.push(idx);
    }
    dirnames = [...dirs.keys()];
  }
  const flags = h.numbers(Tag.FILEFLAGS);
  const modes = h.numbers(Tag.FILEMODES);
  if (!dirindexes || !flags || !modes) return [];
  const dirs = dirnames ?? [];
  const n = Math.min(basenames.length, dirindexes.length, flags.length, modes.length);
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const di = dirindexes[i];
    if (di >= dirs.length) throw new HeaderError(`file ${i} has directory index ${di}, but there are ${dirs.length} directories`);
    chars += dirs[di].length + basenames[i].length;
  }
  if (chars > MAX_FILE_PATHS_CHARS) {
    throw new HeaderError(`its ${n} file paths would take ${chars} characters, more than the ${MAX_FILE_PATHS_CHARS} any real package comes near (its directory names are shared by many files)`);
  }
  const out: PackageFile[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const di = dirindexes[i];
    const type = (modes[i] & 0xf000) === 0x4000 ? 'dir' : flags[i] & FILE_GHOST ? 'ghost' : 'file';
    out[i] = { path: dirs[di] + basenames[i], type };
  }
  return out;
}

/** The first `most` changelog entries (all when undefined): the newest, in header order. */
function changelogs(h: Header, author: (a: string) => string, most: number | undefined): ChangelogEntry[] {
  const times = h.numbers(Tag.CHANGELOGTIME);
  const names = h.strings(Tag.CHANGELOGNAME, most);
  const texts = h.strings(Tag.CHANGELOGTEXT, most);
  if (!times || !names || !texts) return [];
  const n = Math.min(times.length, names.length, texts.length);
  const out: ChangelogEntry[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { author: author(names[i]), date: times[i], text: texts[i] };
  return out;
}

/**
 * Everything metadata needs from the main header and the signature header; with
 * `changelogLimit`, only that many changelog entries, the newest (createrepo renders no
 * more; the store keeps them all).
 */
export function deriveHeaderFacts(main: Header, sig: Header, changelogLimit?: number): HeaderFacts {
  const str = (tag: number) => main.string(tag) ?? '';
  const fileList = files(main);

  const primaryPaths = new Set<string>();
  for (const f of fileList) if (f.path.startsWith('/') && isPrimaryFile(f.path)) primaryPaths.add(f.path);

  const provides: Dependency[] = [];
  const provided = new Set<string>();
  const prov = triplet(main, Tag.PROVIDENAME, Tag.PROVIDEFLAGS, Tag.PROVIDEVERSION);
  for (let i = 0, n = size(prov); i < n; i++) {
    const name = prov.names[i];
    const flags = prov.flags[i];
    const version = prov.versions[i];
    const dep = dependency(name, flags, version);
    if (!dep) continue;
    provided.add(name + (flagsToString(flags) ?? '') + version);
    provides.push(dep);
  }

  const requires: Dependency[] = [];
  const recommends: Dependency[] = [];
  const lastKept = new Map<string, { flags: string; version: string; pre: boolean }>();
  let libc: Dependency | undefined;
  const req = triplet(main, Tag.REQUIRENAME, Tag.REQUIREFLAGS, Tag.REQUIREVERSION);
  for (let i = 0, n = size(req); i < n; i++) {
    const name = req.names[i];
    const flags = req.flags[i];
    const version = req.versions[i];
    if (name.startsWith('rpmlib(')) continue;
    if (primaryPaths.has(name)) continue;
    const f = flagsToString(flags) ?? '';
    if (provided.has(name + f + version)) continue;
    const pre = (flags & (Sense.PREREQ | Sense.SCRIPT_PRE | Sense.SCRIPT_POST)) !== 0;
    const prev = lastKept.get(name);
    if (prev && prev.flags === f && prev.version === version && prev.pre === pre) continue;
    const dep = dependency(name, flags, version);
    if (!dep) continue;
    // Legacy weak dependencies: rpm < 4.12 marked recommends as MISSINGOK requires.
    if (flags & Sense.MISSINGOK) {
      recommends.push(dep);
      continue;
    }
    if (pre) dep.pre = true;
    if (name.startsWith('libc.so.6')) {
      if (!libc || libcHigher(libc.name, name)) libc = dep;
      continue;
    }
    requires.push(dep);
    lastKept.set(name, { flags: f, version, pre });
  }
  if (libc) requires.push(libc);

  /** Every dependency of a kind, sent to `pick(flags)`'s list (dropping bad epochs). */
  const collect = (nameTag: number, flagsTag: number, versionTag: number, pick: (flags: number) => Dependency[]) => {
    const t = triplet(main, nameTag, flagsTag, versionTag);
    for (let i = 0, n = size(t); i < n; i++) {
      const dep = dependency(t.names[i], t.flags[i], t.versions[i]);
      if (dep) pick(t.flags[i]).push(dep);
    }
  };
  const plain = (n: number, f: number, v: number): Dependency[] => {
    const out: Dependency[] = [];
    collect(n, f, v, () => out);
    return out;
  };
  const conflicts = plain(Tag.CONFLICTNAME, Tag.CONFLICTFLAGS, Tag.CONFLICTVERSION);
  const obsoletes = plain(Tag.OBSOLETENAME, Tag.OBSOLETEFLAGS, Tag.OBSOLETEVERSION);
  const suggests = plain(Tag.SUGGESTNAME, Tag.SUGGESTFLAGS, Tag.SUGGESTVERSION);
  const enhances = plain(Tag.ENHANCENAME, Tag.ENHANCEFLAGS, Tag.ENHANCEVERSION);
  recommends.push(...plain(Tag.RECOMMENDNAME, Tag.RECOMMENDFLAGS, Tag.RECOMMENDVERSION));
  const supplements = plain(Tag.SUPPLEMENTNAME, Tag.SUPPLEMENTFLAGS, Tag.SUPPLEMENTVERSION);
  // Legacy (pre-4.12) weak dependency tags; STRONG marks the "hard" variant.
  collect(Tag.OLDSUGGESTSNAME, Tag.OLDSUGGESTSFLAGS, Tag.OLDSUGGESTSVERSION, (flags) => (flags & Sense.STRONG ? recommends : suggests));
  collect(Tag.OLDENHANCESNAME, Tag.OLDENHANCESFLAGS, Tag.OLDENHANCESVERSION, (flags) => (flags & Sense.STRONG ? supplements : enhances));

  // rpm's applyRetrofits: a header with neither SOURCERPM nor SOURCEPACKAGE is a source
  // package when its only directory is "" (the old SRPM layout), else a binary one.
  let sourcerpm = main.string(Tag.SOURCERPM);
  let isSource = (main.number(Tag.SOURCEPACKAGE) ?? 0) !== 0;
  if (sourcerpm === undefined && !main.has(Tag.SOURCEPACKAGE)) {
    const dirs = main.strings(Tag.DIRNAMES) ?? (main.has(Tag.OLDFILENAMES) ? [...new Set(fileList.map((f) => f.path.slice(0, f.path.lastIndexOf('/') + 1)))] : undefined);
    if (dirs?.length === 1 && dirs[0] === '') isSource = true;
    else sourcerpm = '(none)';
  }
  // createrepo_c strips trailing spaces from authors (but never the first character).
  // A loop, not / +$/: a regular expression tries every run of spaces to the end, in
  // time quadratic in its length (an author of 100,000 spaces then "b " took 3 s).
  const author = (a: string) => {
    let end = a.length;
    while (end > 1 && a.charCodeAt(end - 1) === 32) end--;
    return end === a.length ? a : a.slice(0, end);
  };
  return {
    name: str(Tag.NAME),
    arch: isSource ? 'src' : str(Tag.ARCH),
    epoch: String(main.number(Tag.EPOCH) ?? 0),
    version: str(Tag.VERSION),
    release: str(Tag.RELEASE),
    summary: str(Tag.SUMMARY),
    description: str(Tag.DESCRIPTION),
    packager: str(Tag.PACKAGER),
    url: str(Tag.URL),
    timeBuild: main.number(Tag.BUILDTIME) ?? 0,
    sizeInstalled: main.number(Tag.LONGSIZE) ?? main.number(Tag.SIZE) ?? 0,
    // rpm merges the signature's size tags into the main header (which may hold the
    // 32-bit one itself, never both: header.ts checkSignatureTagsAbsent).
    sizeArchive: sig.number(Sig.LONGARCHIVESIZE) ?? main.number(Tag.ARCHIVESIZE) ?? sig.number(Sig.PAYLOADSIZE) ?? 0,
    license: str(Tag.LICENSE),
    vendor: str(Tag.VENDOR),
    group: str(Tag.GROUP),
    buildhost: str(Tag.BUILDHOST),
    sourcerpm: sourcerpm ?? '',
    provides,
    requires,
    conflicts,
    obsoletes,
    suggests,
    enhances,
    recommends,
    supplements,
    files: fileList,
    changelogs: changelogs(main, author, changelogLimit),
  };
}
