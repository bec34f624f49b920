// Benchmark corpus generator: real RPMs built with rpmbuild.
//
//   node bench/corpus.ts DIR [small=5000] [large=40]
//
// Produces `small` small packages (a handful of files, a few dependencies)
// and `large` "real-size" packages (thousands of files, several MB of
// incompressible payload, long changelogs, hundreds of dependencies) in
// DIR/small/ and DIR/large/.
//
// rpmbuild is not run once per package: each spec holds many subpackages
// (`%package -n NAME` with its own Version/Release/Epoch/BuildArch and
// %files), SMALL_PER_SPEC small or LARGE_PER_SPEC large ones, and two specs are
// built at a time. The buildroot tree is written by this script and moved
// into place by %install, so rpmbuild only packages. Everything is derived
// from a seeded PRNG, so a given (small, large) always yields the same
// package set.
//
// The result is cached in <repo>/.cache/corpus-<small>-<large>/ (published by
// an atomic rename) and hard-linked (or copied) into DIR. The files in DIR
// may be hard links into the cache: delete or replace them, never modify
// them in place.

import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** Bump whenever the generated corpus changes for the same parameters. */
const CORPUS_VERSION = 2;
const SMALL_PER_SPEC = 500;
const LARGE_PER_SPEC = 10;
const PARALLEL = 2;
/** 2023-06-01T00:00:00Z; each spec's build time is offset from it. */
const BASE_EPOCH = 1685577600;
const DAY = 86400;

// ---------------------------------------------------------------------------
// Deterministic randomness

/** sfc32 seeded with sha256(seed). */
class Rng {
  a: number;
  b: number;
  c: number;
  d: number;

  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)];
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
}

/** Deterministic incompressible bytes (AES-128-CTR keystream). */
function randomData(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(`data:${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return cipher.update(Buffer.alloc(size));
}

// ---------------------------------------------------------------------------
// Vocabulary

const WORDS = [
  'alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima',
  'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey',
  'xray', 'yankee', 'zulu', 'acorn', 'birch', 'cedar', 'dune', 'ember', 'fjord', 'glacier', 'harbor', 'island',
  'jasper', 'kestrel', 'lagoon', 'meadow', 'nebula', 'orchid', 'prairie', 'quartz', 'raven', 'summit', 'tundra',
  'umber', 'valley', 'willow', 'yarrow', 'zephyr', 'xml', 'http', 'json', 'crypt', 'zlib', 'gtk', 'qt', 'ssl',
];
const PREFIXES = ['', '', '', 'lib', 'python3-', 'perl-', 'golang-github-', 'rust-', 'nodejs-', 'php-', 'ruby-', 'ghc-', 'texlive-', 'R-'];
const SUFFIXES = ['', '', '', '', '-devel', '-libs', '-common', '-doc', '-tools', '-data', '-server', '-client', '-plugins', '-static', '-tests'];
const LARGE_NAMES = ['kernel-modules', 'llvm-libs', 'texlive-base', 'firefox', 'libreoffice-core', 'qt6-qtbase', 'gcc-gfortran',
  'java-21-openjdk-headless', 'golang-bin', 'rust-std-static', 'mesa-dri-drivers', 'ghc-compiler', 'thunderbird', 'chromium',
  'webkit2gtk4.1', 'boost-devel', 'clang-libs', 'samba-libs', 'podman', 'emacs-common'];
const LICENSES = ['MIT', 'GPL-2.0-or-later', 'LGPL-2.1-or-later', 'Apache-2.0', 'BSD-3-Clause', 'MPL-2.0',
  'GPL-3.0-only AND (MIT OR Apache-2.0)', 'Artistic-1.0-Perl OR GPL-1.0-or-later', 'ISC', 'Public Domain'];
const GROUPS = ['Unspecified', 'Development/Libraries', 'System Environment/Base', 'Applications/Internet', 'Development/Tools'];
const AUTHORS = ['Fixture Bot <bot@example.com>', 'Zoë Ågren <zoe@example.org>', 'Jürgen Müller <jm@example.de>',
  'Tom & Jerry <tj@example.com>', '山田太郎 <yamada@example.jp>', 'Ana-María Núñez <anm@example.es>',
  'Release Engineering <releng@example.net>', 'O\'Brien "Bob" <bob@example.ie>'];
const PHRASES = ['Update to upstream release', 'Fix build with newer compiler', 'Rebuilt for mass rebuild', 'Fix CVE-2023-',
  'Backport upstream fix for crash on startup', 'Drop obsolete patch', 'Add missing Requires', 'Split out -devel subpackage',
  'Convert license to SPDX', 'Fix <html> & "quoted" escaping', 'Enable tests on aarch64', 'Résumé of changes: naïve fix',
  'Resolves: rhbz#', 'Use %%autosetup', 'Rebuild for new libffi soname'];
const SUMMARY_EXTRA = ['', '', '', '', ' (development files)', ' <with> & "special" chars', ' – ünïcödé 日本語', ' 🚀'];

// ---------------------------------------------------------------------------
// Package model

interface Pkg {
  kind: 'small' | 'large';
  /** Index within its kind. */
  idx: number;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  noarch: boolean;
  /** Executables it ships in /usr/bin (file requires may point at them). */
  bins: string[];
  /** Soname it provides, for arch packages with a library. */
  soname: string | null;
}

function makeVersion(r: Rng): string {
  switch (r.int(0, 9)) {
    case 0: return `${r.int(0, 3)}.${r.int(0, 30)}~rc${r.int(1, 4)}`;
    case 1: return `${r.int(1, 9)}.${r.int(0, 20)}^${2020 + r.int(0, 4)}${String(r.int(1, 12)).padStart(2, '0')}${String(r.int(1, 28)).padStart(2, '0')}git${r.hex(7)}`;
    case 2: return `${2019 + r.int(0, 5)}${String(r.int(1, 12)).padStart(2, '0')}${String(r.int(1, 28)).padStart(2, '0')}`;
    case 3: return `${r.int(0, 5)}.${r.int(0, 99)}.${r.int(0, 20)}.${r.int(0, 9999)}`;
    case 4: return `${r.int(1, 3)}.${r.int(0, 9)}${r.pick(['a', 'b', 'c', 'p1', 'pre'])}`;
    case 5: return `0.${r.int(1, 400)}`;
    default: return `${r.int(0, 12)}.${r.int(0, 40)}.${r.int(0, 30)}`;
  }
}

function makeRelease(r: Rng): string {
  switch (r.int(0, 7)) {
    case 0: return `${r.int(1, 30)}.el9`;
    case 1: return `${r.int(1, 9)}.fc${r.int(38, 41)}`;
    case 2: return `0.${r.int(1, 9)}.beta${r.int(1, 3)}`;
    case 3: return `${r.int(1, 5)}~bootstrap`;
    case 4: return `${r.int(1, 40)}.${r.int(1, 9)}`;
    default: return `${r.int(1, 12)}`;
  }
}

function makeEpoch(r: Rng): number | null {
  if (r.chance(0.8)) return null;
  return r.chance(0.25) ? 0 : r.int(1, 5);
}

function buildModel(small: number, large: number): Pkg[] {
  const used = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}${k}`;
    used.add(name);
    return name;
  };
  const pkgs: Pkg[] = [];
  for (let i = 0; i < small; i++) {
    const r = new Rng(`model:small:${i}`);
    const name = unique(`${r.pick(PREFIXES)}${r.pick(WORDS)}-${i.toString(36)}${r.pick(SUFFIXES)}`);
    const noarch = r.chance(0.4);
    const bins = r.chance(0.3) ? [name] : [];
    const soname = !noarch && r.chance(0.3) ? `lib${name.replace(/[^a-z0-9]/g, '')}.so.${r.int(0, 9)}` : null;
    pkgs.push({ kind: 'small', idx: i, name, epoch: makeEpoch(r), version: makeVersion(r), release: makeRelease(r), noarch, bins, soname });
  }
  for (let i = 0; i < large; i++) {
    const r = new Rng(`model:large:${i}`);
    const name = unique(`${LARGE_NAMES[i % LARGE_NAMES.length]}-${Math.floor(i / LARGE_NAMES.length) + 1}`);
    const noarch = r.chance(0.15);
    const bins = Array.from({ length: r.int(3, 25) }, (_, k) => `${name}-${r.pick(WORDS)}${k}`);
    const soname = noarch ? null : `lib${name.replace(/[^a-z0-9]/g, '')}.so.${r.int(1, 9)}`;
    pkgs.push({ kind: 'large', idx: i, name, epoch: makeEpoch(r), version: makeVersion(r), release: makeRelease(r), noarch, bins, soname });
  }
  return pkgs;
}

const evr = (p: Pkg) => `${p.epoch !== null ? `${p.epoch}:` : ''}${p.version}-${p.release}`;

// ---------------------------------------------------------------------------
// Dependencies

function makeDeps(r: Rng, p: Pkg, all: Pkg[], n: { req: number; prov: number; weak: number; conf: number }) {
  const other = () => all[r.int(0, all.length - 1)];
  const op = () => r.pick(['<', '<=', '=', '>=', '>', '>=', '>=']);
  const requires = new Set<string>();
  const provides = new Set<string>();
  const conflicts = new Set<string>();
  const obsoletes = new Set<string>();
  const weak: Record<'Recommends' | 'Suggests' | 'Supplements' | 'Enhances', Set<string>> = {
    Recommends: new Set(), Suggests: new Set(), Supplements: new Set(), Enhances: new Set(),
  };
  const pre: string[] = [];

  for (let k = 0; k < n.req; k++) {
    const o = other();
    if (o === p) continue;
    switch (r.int(0, 11)) {
      case 0: requires.add(`${o.name} = ${evr(o)}`); break;
      case 1: requires.add(`${o.name} >= ${o.version}`); break;
      case 2: if (o.bins.length) requires.add(`/usr/bin/${r.pick(o.bins)}`); break;
      case 3: if (o.soname && !p.noarch) requires.add(`${o.soname}()(64bit)`); break;
      case 4: requires.add(`perl(${r.pick(WORDS)}::${r.pick(WORDS)})${r.chance(0.3) ? ` >= ${r.int(0, 3)}.${r.int(0, 99)}` : ''}`); break;
      case 5: requires.add(`python3dist(${r.pick(WORDS)}-${r.pick(WORDS)})${r.chance(0.5) ? ` ${op()} ${r.int(0, 9)}.${r.int(0, 9)}` : ''}`); break;
      case 6: requires.add(`pkgconfig(${r.pick(WORDS)}-${r.int(1, 4)}.0)`); break;
      case 7: if (!p.noarch) requires.add(`libc.so.6(GLIBC_2.${r.int(2, 38)})(64bit)`); break;
      case 8: if (r.chance(0.3)) requires.add(`(${o.name} if ${other().name})`); else requires.add(o.name); break;
      default: requires.add(r.chance(0.3) ? `${o.name} ${op()} ${o.version}` : o.name);
    }
  }
  if (!p.noarch && r.chance(0.5)) {
    requires.add('libc.so.6()(64bit)');
    requires.add('rtld(GNU_HASH)');
  }
  if (r.chance(0.15)) pre.push(`Requires(pre): ${r.pick(['shadow-utils', '/usr/sbin/useradd', 'systemd'])}`);
  if (r.chance(0.15)) pre.push(`Requires(post): ${r.pick(['coreutils', '/sbin/ldconfig', 'systemd'])}`);
  if (r.chance(0.05)) pre.push(`Requires(postun): systemd`);
  if (r.chance(0.03)) pre.push(`Requires(pretrans): ${other().name}`);

  if (p.soname) {
    provides.add(`${p.soname}()(64bit)`);
    const sym = p.soname.replace(/\.so\..*/, '').toUpperCase();
    const syms = Math.max(1, Math.floor(n.prov / 4));
    for (let k = 0; k < syms; k++) provides.add(`${p.soname}(${sym}_${k % 5}.${k})(64bit)`);
  }
  for (let k = 0; k < n.prov; k++) {
    switch (r.int(0, 5)) {
      case 0: provides.add(`perl(${r.pick(WORDS)}::${r.pick(WORDS)}${k}) = ${r.int(0, 3)}.${r.int(0, 99)}`); break;
      case 1: provides.add(`python3dist(${p.name}-${r.pick(WORDS)}${k}) = ${p.version}`); break;
      case 2: provides.add(`bundled(${r.pick(WORDS)}${k}) = ${r.int(0, 9)}.${r.int(0, 9)}`); break;
      case 3: provides.add(`${p.name}-${r.pick(WORDS)}${k}`); break;
      case 4: provides.add(`pkgconfig(${p.name}-${k}) = ${p.version}`); break;
      default: provides.add(`config(${p.name}) = ${evr(p)}`);
    }
  }
  for (let k = 0; k < n.conf; k++) {
    const o = other();
    if (o === p) continue;
    if (r.chance(0.5)) conflicts.add(`${o.name} < ${o.version}`);
    else obsoletes.add(`${p.name.replace(/-[^-]*$/, '')}-old${k} < ${p.version}`);
  }
  for (let k = 0; k < n.weak; k++) {
    const o = other();
    if (o === p) continue;
    const kind = r.pick(['Recommends', 'Recommends', 'Suggests', 'Supplements', 'Enhances'] as const);
    if (kind === 'Supplements' && r.chance(0.5)) weak[kind].add(`(${o.name} and ${other().name})`);
    else if (kind === 'Recommends' && r.chance(0.2)) weak[kind].add(`(${o.name} or ${other().name})`);
    else weak[kind].add(r.chance(0.3) ? `${o.name} >= ${o.version}` : o.name);
  }

  const lines: string[] = [];
  for (const x of provides) lines.push(`Provides: ${x}`);
  for (const x of requires) lines.push(`Requires: ${x}`);
  lines.push(...pre);
  for (const x of conflicts) lines.push(`Conflicts: ${x}`);
  for (const x of obsoletes) lines.push(`Obsoletes: ${x}`);
  for (const [k, set] of Object.entries(weak)) for (const x of set) lines.push(`${k}: ${x}`);
  return lines;
}

// ---------------------------------------------------------------------------
// Spec and buildroot generation

interface SpecJob {
  id: string;
  kind: 'small' | 'large';
  pkgs: Pkg[];
  /** Build time and mtime clamp for this spec. */
  epoch: number;
  payload: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function changelog(r: Rng, entries: number, from: number): string {
  const out: string[] = [];
  let t = from - DAY;
  for (let k = 0; k < entries; k++) {
    // one gap in five is zero days: several entries on the same date
    if (!r.chance(0.2)) t -= DAY * r.int(1, 10);
    const d = new Date(t * 1000);
    const date = `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
    const ver = `${r.int(0, 9)}.${r.int(0, 30)}-${r.int(1, 20)}`;
    out.push(`* ${date} ${r.pick(AUTHORS)} - ${ver}`);
    for (let l = r.int(1, 6); l > 0; l--) {
      const phrase = r.pick(PHRASES);
      out.push(`- ${phrase}${phrase.endsWith('-') || phrase.endsWith('#') ? r.int(1000, 2_400_000) : ''}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function description(r: Rng, p: Pkg, lines: number): string {
  const out: string[] = [];
  for (let k = 0; k < lines; k++) {
    const words = Array.from({ length: r.int(4, 12) }, () => r.pick(WORDS));
    if (r.chance(0.1)) words.push(r.pick(['<tag>', '&amp;', 'a & b', '"quoted"', "it's", 'café', '日本語', '✓']));
    out.push(words.join(' '));
  }
  out.unshift(`The ${p.name} package (${p.kind} corpus package ${p.idx}).`);
  return out.join('\n');
}

class Tree {
  root: string;
  files = 0;
  bytes = 0;
  dirs = new Set<string>();

  constructor(root: string) {
    this.root = root;
  }

  private dir(rel: string) {
    const d = path.dirname(rel);
    if (!this.dirs.has(d)) {
      mkdirSync(path.join(this.root, d), { recursive: true });
      this.dirs.add(d);
    }
  }

  write(rel: string, data: string | Buffer, mode = 0o644) {
    this.dir(rel);
    writeFileSync(path.join(this.root, rel), data, { mode });
    this.files++;
    this.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }

  symlink(rel: string, target: string) {
    this.dir(rel);
    symlinkSync(target, path.join(this.root, rel));
    this.files++;
  }

  mkdir(rel: string) {
    mkdirSync(path.join(this.root, rel), { recursive: true });
    this.dirs.add(rel);
  }
}

function textBlob(r: Rng, lines: number): string {
  const out: string[] = [];
  for (let k = 0; k < lines; k++) out.push(Array.from({ length: r.int(3, 10) }, () => r.pick(WORDS)).join(' '));
  return out.join('\n') + '\n';
}

/** Writes one small package's files; returns its %files section body. */
function smallFiles(r: Rng, p: Pkg, tree: Tree): string[] {
  const files: string[] = [];
  if (r.chance(0.01)) return files; // metapackage without files
  const share = `/usr/share/${p.name}`;
  files.push(`%dir ${share}`);
  const n = r.int(1, 12);
  for (let k = 0; k < n; k++) {
    const rel = `${share}/${r.pick(WORDS)}-${k}${r.pick(['.txt', '.xml', '.json', '.dat', '.py', '.pl', '', '-données.txt'])}`;
    if (r.chance(0.1)) tree.write(rel, randomData(`${p.name}:${k}`, r.int(1024, 48 * 1024)));
    else tree.write(rel, textBlob(r, r.int(1, 40)));
    files.push(rel);
  }
  if (r.chance(0.2)) {
    const sub = `${share}/${r.pick(WORDS)}`;
    tree.mkdir(sub);
    files.push(`%dir ${sub}`);
  }
  for (const b of p.bins) {
    tree.write(`/usr/bin/${b}`, `#!/bin/sh\necho ${b}\n`, 0o755);
    files.push(`/usr/bin/${b}`);
    if (r.chance(0.2)) {
      tree.symlink(`/usr/bin/${b}-alias`, b);
      files.push(`/usr/bin/${b}-alias`);
    }
  }
  if (r.chance(0.05)) {
    tree.write(`/usr/sbin/${p.name}d`, `#!/bin/sh\nexec sleep 1\n`, 0o755);
    files.push(`%attr(0750,root,root) /usr/sbin/${p.name}d`);
  }
  if (p.soname) {
    const real = `/usr/lib64/${p.soname}.${r.int(0, 9)}.${r.int(0, 9)}`;
    tree.write(real, randomData(`${p.name}:so`, r.int(4096, 64 * 1024)), 0o755);
    tree.symlink(`/usr/lib64/${p.soname}`, path.basename(real));
    files.push(real, `/usr/lib64/${p.soname}`);
  }
  if (r.chance(0.2)) {
    tree.write(`/etc/${p.name}.conf`, `# ${p.name}\nkey = ${r.hex(8)}\n`);
    files.push(`%config(noreplace) /etc/${p.name}.conf`);
  }
  if (r.chance(0.5)) {
    tree.write(`/usr/share/doc/${p.name}/README`, textBlob(r, r.int(2, 30)));
    files.push(`%doc /usr/share/doc/${p.name}/README`);
  }
  if (r.chance(0.4)) {
    tree.write(`/usr/share/licenses/${p.name}/LICENSE`, 'Permission is hereby granted...\n');
    files.push(`%license /usr/share/licenses/${p.name}/LICENSE`);
  }
  if (r.chance(0.05)) {
    tree.write(`/var/log/${p.name}.log`, '');
    files.push(`%ghost /var/log/${p.name}.log`);
  }
  return files;
}

/** Writes one large package's files; returns its %files section body. */
function largeFiles(r: Rng, p: Pkg, tree: Tree): string[] {
  const files: string[] = [];
  const libdir = p.noarch ? `/usr/share/${p.name}` : `/usr/lib64/${p.name}`;
  // several MB of incompressible data in a few big files
  const blobs = r.int(1, 4);
  let budget = r.int(3, 8) * 1024 * 1024;
  for (let k = 0; k < blobs; k++) {
    const size = k === blobs - 1 ? budget : Math.floor(budget * (0.2 + r.float() * 0.5));
    budget -= size;
    tree.write(`${libdir}/blob-${k}.bin`, randomData(`${p.name}:blob:${k}`, size));
  }
  // a few thousand small files in module directories
  const count = r.int(2000, 4500);
  const perDir = r.int(40, 150);
  const noise = randomData(`${p.name}:noise`, 2048 * 64);
  for (let k = 0; k < count; k++) {
    const d = `${libdir}/mod${String(Math.floor(k / perDir)).padStart(3, '0')}`;
    const ext = r.pick(['.so', '.py', '.pm', '.js', '.h', '.mo', '.xml', '.dat', '']);
    const size = r.int(32, 2048);
    const off = r.int(0, noise.length - size);
    tree.write(`${d}/${r.pick(WORDS)}_${k}${ext}`, noise.subarray(off, off + size));
  }
  files.push(`${libdir}/`);
  const inc = `/usr/include/${p.name}`;
  for (let k = r.int(20, 120); k > 0; k--) tree.write(`${inc}/${r.pick(WORDS)}${k}.h`, textBlob(r, r.int(5, 60)));
  files.push(`${inc}/`);
  for (const b of p.bins) {
    tree.write(`/usr/bin/${b}`, `#!/bin/sh\nexec ${libdir}/blob-0.bin "$@"\n`, 0o755);
    files.push(`/usr/bin/${b}`);
  }
  if (p.soname) {
    tree.write(`/usr/lib64/${p.soname}.0.0`, randomData(`${p.name}:so`, 256 * 1024), 0o755);
    tree.symlink(`/usr/lib64/${p.soname}`, `${p.soname}.0.0`);
    files.push(`/usr/lib64/${p.soname}.0.0`, `/usr/lib64/${p.soname}`);
  }
  files.push(`%dir /etc/${p.name}`);
  for (let k = r.int(1, 10); k > 0; k--) {
    tree.write(`/etc/${p.name}/conf${k}.conf`, `setting${k} = ${r.hex(16)}\n`);
    files.push(`%config(noreplace) /etc/${p.name}/conf${k}.conf`);
  }
  tree.write(`/etc/${p.name}/generated.cache`, '');
  files.push(`%ghost /etc/${p.name}/generated.cache`);
  tree.write(`/usr/share/doc/${p.name}/README`, textBlob(r, 200));
  tree.write(`/usr/share/doc/${p.name}/NEWS`, textBlob(r, 800));
  files.push(`%doc /usr/share/doc/${p.name}/`);
  tree.write(`/usr/share/licenses/${p.name}/COPYING`, textBlob(r, 300));
  files.push(`%license /usr/share/licenses/${p.name}/COPYING`);
  return files;
}

/** Writes the buildroot tree for `job` under `treeDir` and returns the spec text. */
function generate(job: SpecJob, all: Pkg[], treeDir: string): { spec: string; files: number; bytes: number } {
  const r = new Rng(`spec:${job.id}`);
  const tree = new Tree(treeDir);
  mkdirSync(treeDir, { recursive: true });
  const head = [
    `# Generated by bench/corpus.ts (corpus version ${CORPUS_VERSION}); do not edit.`,
    '%global debug_package %{nil}',
    '%global __spec_install_post %{nil}',
    '%global __os_install_post %{nil}',
    '%global _build_id_links none',
    `%global _binary_payload ${job.payload}`,
    '',
    `Name: txcorpus-${job.id}`,
    `Version: ${CORPUS_VERSION}.${r.int(0, 99)}`,
    `Release: ${r.int(1, 9)}`,
    `Summary: txrepo benchmark corpus (${job.id})`,
    'License: MIT',
    'AutoReqProv: no',
    '',
    '%description',
    `Benchmark corpus source package ${job.id}.`,
    '',
  ];
  const pre: string[] = [];
  const post: string[] = [];
  for (const p of job.pkgs) {
    const pr = new Rng(`pkg:${p.kind}:${p.idx}`);
    const large = p.kind === 'large';
    pre.push(`%package -n ${p.name}`);
    pre.push(`Summary: ${p.name} ${pr.pick(WORDS)} ${pr.pick(WORDS)}${pr.pick(SUMMARY_EXTRA)}`);
    if (p.epoch !== null) pre.push(`Epoch: ${p.epoch}`);
    pre.push(`Version: ${p.version}`, `Release: ${p.release}`);
    if (p.noarch) pre.push('BuildArch: noarch');
    pre.push(`License: ${pr.pick(LICENSES)}`, `Group: ${pr.pick(GROUPS)}`, 'AutoReqProv: no');
    if (pr.chance(0.7)) pre.push(`URL: https://example.com/${p.name}?v=${p.version}&x=1`);
    pre.push(...makeDeps(pr, p, all, large
      ? { req: pr.int(100, 350), prov: pr.int(60, 250), weak: pr.int(5, 25), conf: pr.int(2, 12) }
      : { req: pr.int(0, 8), prov: pr.int(0, 4), weak: pr.chance(0.3) ? pr.int(1, 4) : 0, conf: pr.chance(0.15) ? pr.int(1, 2) : 0 }));
    pre.push('', `%description -n ${p.name}`, description(pr, p, large ? pr.int(10, 40) : pr.int(0, 4)), '');

    const files = large ? largeFiles(pr, p, tree) : smallFiles(pr, p, tree);
    if (pr.chance(large ? 0.6 : 0.15)) post.push(`%post -n ${p.name}`, `echo "post ${p.idx} $1"`, '');
    if (pr.chance(large ? 0.3 : 0.05)) post.push(`%postun -n ${p.name}`, `echo "postun ${p.idx} $1"`, '');
    post.push(`%files -n ${p.name}`, ...files, '');
  }
  const body = [
    '%prep', '', '%build', '',
    '%install',
    // the tree was written by bench/corpus.ts; move it into place
    'rm -rf "$RPM_BUILD_ROOT"',
    'mv "$RPM_SOURCE_DIR/tree" "$RPM_BUILD_ROOT"',
    '',
  ];
  const entries = job.kind === 'large' ? r.int(300, 1200) : r.int(1, 60);
  const spec = [...head, ...pre, ...body, ...post, '%changelog', changelog(r, entries, job.epoch)].join('\n');
  return { spec, files: tree.files, bytes: tree.bytes };
}

// ---------------------------------------------------------------------------
// Building

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      tail = (tail + s).slice(-16384);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${tail}`));
    });
  });
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

function plan(small: number, large: number): { jobs: SpecJob[]; model: Pkg[] } {
  const model = buildModel(small, large);
  const jobs: SpecJob[] = [];
  const smallPkgs = model.filter((p) => p.kind === 'small');
  const largePkgs = model.filter((p) => p.kind === 'large');
  // (zstd -19 costs ~0.3 s per package just for its context: avoid high levels)
  const smallPayloads = ['w9.gzdio', 'w2.xzdio', 'w3.zstdio', 'w6.gzdio', 'w7.zstdio'];
  const largePayloads = ['w3.zstdio', 'w1.gzdio', 'w3.zstdio', 'w2.zstdio'];
  // large specs first: they take longest, so the pool finishes evenly
  for (let i = 0; i * LARGE_PER_SPEC < largePkgs.length; i++) {
    jobs.push({ id: `large-${String(i).padStart(2, '0')}`, kind: 'large', pkgs: largePkgs.slice(i * LARGE_PER_SPEC, (i + 1) * LARGE_PER_SPEC),
      epoch: BASE_EPOCH + (100 + i) * DAY, payload: largePayloads[i % largePayloads.length] });
  }
  for (let i = 0; i * SMALL_PER_SPEC < smallPkgs.length; i++) {
    jobs.push({ id: `small-${String(i).padStart(2, '0')}`, kind: 'small', pkgs: smallPkgs.slice(i * SMALL_PER_SPEC, (i + 1) * SMALL_PER_SPEC),
      epoch: BASE_EPOCH + i * DAY, payload: smallPayloads[i % smallPayloads.length] });
  }
  return { jobs, model };
}

/**
 * rpmbuild classifies every packaged file with libmagic and (rpm 4.18) loads
 * the full system magic database once per *subpackage*: with the stock 8 MB
 * database that is most of the build time for 500 small subpackages. Point
 * libmagic (MAGIC env var) at a tiny database instead; this only changes the
 * FILECLASS strings recorded in the headers. Returns the path to use.
 */
function tinyMagic(work: string): string {
  const src = path.join(work, 'corpus.magic');
  writeFileSync(src, [
    '0\tstring\t#!/bin/sh\tPOSIX shell script, ASCII text executable',
    '0\tstring\t#!/usr/bin/python\tPython script, ASCII text executable',
    '0\tstring\t\\177ELF\tELF',
    '0\tstring\t\\<?xml\tXML document text', // a leading '<' would mean "less than"
    '',
  ].join('\n'));
  try {
    // `file -C` writes <name>.mgc into the current directory
    execFileSync('file', ['-C', '-m', 'corpus.magic'], { cwd: work, stdio: 'ignore' });
    if (existsSync(`${src}.mgc`)) return `${src}.mgc`;
  } catch {
    // no file(1): libmagic also loads text magic, with a warning per load
  }
  return src;
}

async function buildInto(staging: string, work: string, small: number, large: number): Promise<void> {
  const { jobs, model: all } = plan(small, large);
  const log = (s: string) => process.stderr.write(`corpus: ${s}\n`);
  await fs.mkdir(work, { recursive: true });
  const magic = tinyMagic(work);
  const t0 = performance.now();
  let done = 0;
  let pkgsDone = 0;
  await fs.mkdir(path.join(staging, 'small'), { recursive: true });
  await fs.mkdir(path.join(staging, 'large'), { recursive: true });

  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const topdir = path.join(work, job.id);
      const tg = performance.now();
      const { spec, files, bytes } = generate(job, all, path.join(topdir, 'SOURCES', 'tree'));
      const specFile = path.join(topdir, 'SPECS', `txcorpus-${job.id}.spec`);
      await fs.mkdir(path.dirname(specFile), { recursive: true });
      await fs.writeFile(specFile, spec);
      const tb = performance.now();
      await run('rpmbuild', ['-bb', '--quiet',
        '--define', `_topdir ${topdir}`,
        '--define', 'use_source_date_epoch_as_buildtime 1',
        '--define', 'clamp_mtime_to_source_date_epoch 1',
        '--define', '_buildhost corpus.txrepo.example',
        specFile,
      ], { ...process.env, SOURCE_DATE_EPOCH: String(job.epoch), TZ: 'UTC', LC_ALL: 'C.UTF-8', MAGIC: magic }, topdir);
      let n = 0;
      for await (const f of walk(path.join(topdir, 'RPMS'))) {
        if (!f.endsWith('.rpm')) continue;
        await fs.rename(f, path.join(staging, job.kind, path.basename(f)));
        n++;
      }
      if (n !== job.pkgs.length) throw new Error(`${job.id}: expected ${job.pkgs.length} RPMs, rpmbuild wrote ${n}`);
      await fs.rm(topdir, { recursive: true, force: true });
      done++;
      pkgsDone += n;
      const te = performance.now();
      log(`${job.id}: ${n} packages, ${files} files, ${(bytes / 1048576).toFixed(1)} MiB ` +
        `(generate ${((tb - tg) / 1000).toFixed(1)} s, rpmbuild ${((te - tb) / 1000).toFixed(1)} s) ` +
        `[${done}/${jobs.length} specs, ${pkgsDone}/${small + large} packages, ${((te - t0) / 1000).toFixed(0)} s]`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, worker));
  await fs.writeFile(path.join(staging, 'corpus.json'),
    JSON.stringify({ version: CORPUS_VERSION, small, large, seconds: (performance.now() - t0) / 1000 }, null, 2) + '\n');
}

function cacheIsCurrent(dir: string, small: number, large: number): boolean {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, 'corpus.json'), 'utf8'));
    return m.version === CORPUS_VERSION && m.small === small && m.large === large;
  } catch {
    return false;
  }
}

/** Builds (or reuses) the cached corpus and returns its directory. */
async function cachedCorpus(small: number, large: number): Promise<string> {
  const cacheRoot = path.join(REPO_ROOT, '.cache');
  const final = path.join(cacheRoot, `corpus-${small}-${large}`);
  if (cacheIsCurrent(final, small, large)) return final;
  await fs.mkdir(cacheRoot, { recursive: true });
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  if (existsSync(final)) {
    // built by an older generator: move it out of the way, then delete it
    process.stderr.write(`corpus: ${final} is stale, rebuilding\n`);
    const stale = path.join(cacheRoot, `.stale-corpus-${small}-${large}-${tag}`);
    await fs.rename(final, stale).catch(() => {});
    await fs.rm(stale, { recursive: true, force: true });
  }
  const staging = path.join(cacheRoot, `.tmp-corpus-${small}-${large}-${tag}`);
  const work = path.join(cacheRoot, `.work-corpus-${small}-${large}-${tag}`);
  try {
    await buildInto(staging, work, small, large);
    try {
      await fs.rename(staging, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // another process published first: use theirs
      if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && cacheIsCurrent(final, small, large))) throw err;
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
    await fs.rm(staging, { recursive: true, force: true });
  }
  return final;
}

/**
 * Fills `dir` with `small` generated small RPMs (in dir/small/) and `large`
 * real-size RPMs (in dir/large/), hard-linked from the cache when possible.
 */
export async function buildCorpus(dir: string, opts: { small: number; large: number }): Promise<void> {
  const { small, large } = opts;
  if (!Number.isInteger(small) || !Number.isInteger(large) || small < 0 || large < 0) {
    throw new Error(`buildCorpus: bad sizes ${JSON.stringify(opts)}`);
  }
  const src = await cachedCorpus(small, large);
  let linked = 0;
  let copied = 0;
  for (const sub of ['small', 'large']) {
    const from = path.join(src, sub);
    const to = path.join(dir, sub);
    await fs.mkdir(to, { recursive: true });
    for (const name of await fs.readdir(from)) {
      const target = path.join(to, name);
      await fs.rm(target, { force: true });
      try {
        await fs.link(path.join(from, name), target);
        linked++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV' && (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
        await fs.copyFile(path.join(from, name), target);
        copied++;
      }
    }
  }
  process.stderr.write(`corpus: ${linked + copied} RPMs in ${dir} (${linked} hard-linked, ${copied} copied) from ${src}\n`);
}

if (import.meta.main) {
  const [dir, smallArg, largeArg] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node bench/corpus.ts DIR [small=5000] [large=40]\n');
    process.exit(2);
  }
  const t0 = performance.now();
  await buildCorpus(path.resolve(dir), { small: smallArg ? Number(smallArg) : 5000, large: largeArg ? Number(largeArg) : 40 });
  process.stderr.write(`corpus: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
