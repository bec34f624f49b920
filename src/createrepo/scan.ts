// Finds the packages of a repo directory the way createrepo_c does: a recursive walk
// for regular *.rpm files (following symlinks unless told not to), excludes applied
// to names and repo-relative paths, then sorted by file name and directory. Unlike
// createrepo_c, a *.rpm symlink that cannot be followed is reported, not skipped.

import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Failure, globMatcher } from '../common/index.ts';

export interface ScanOptions {
  excludes?: string[];
  skipSymlinks?: boolean;
  /** A file listing repo-relative package paths, one per line: no walk. */
  pkglist?: string;
}

export interface FoundPackage {
  /** Absolute (or root-joined) path on disk. */
  path: string;
  /** '/'-separated path relative to the repo root. */
  href: string;
}

/** A `*.rpm` symlink that leads to no file: a package the repo was meant to have. */
export interface BrokenLink {
  path: string;
  /** What is wrong, in words: "a symlink to X, which does not exist". */
  problem: string;
}

export interface ScanResult {
  /** Sorted by file name, then path. */
  packages: FoundPackage[];
  /** Package symlinks that cannot be followed (dangling, loops), sorted by path. */
  broken: BrokenLink[];
  /** Module metadata files found by the walk (modules.yaml, *.modulemd.yaml, ...), sorted. */
  moduleFiles: string[];
}

/** createrepo_c picks these up as the repo's "modules" metadata. */
export function isModuleMetadata(name: string): boolean {
  return name.endsWith('modules.yaml') || name.endsWith('.modulemd.yaml') || name.endsWith('.modulemd-defaults.yaml');
}

export class ScanError extends Failure {
  override name = 'ScanError';
  readonly kind = 'invalid_input';
}

const byNameThenDir = (x: FoundPackage, y: FoundPackage) => {
  const nx = x.href.slice(x.href.lastIndexOf('/') + 1);
  const ny = y.href.slice(y.href.lastIndexOf('/') + 1);
  if (nx !== ny) return nx < ny ? -1 : 1;
  return x.href < y.href ? -1 : x.href > y.href ? 1 : 0;
};

export async function scanPackages(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  // GLib's simple patterns (g_pattern_match_simple), as createrepo_c's: `*` and `?` only.
  const excludes = (opts.excludes ?? []).map((g) => globMatcher(g, { sets: false }));
  const excluded = (s: string) => excludes.some((matches) => matches(s));
  const found: FoundPackage[] = [];
  const moduleFiles: string[] = [];
  if (opts.pkglist) {
    let text: string;
    try {
      text = await readFile(opts.pkglist, 'utf8');
    } catch (e) {
      throw new ScanError(`--pkglist ${opts.pkglist}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const [i, raw] of text.split('\n').entries()) {
      const href = raw.trim().replace(/^(\.\/)+/, '');
      if (href === '') continue;
      if (href.startsWith('/') || href.split('/').includes('..')) {
        throw new ScanError(`--pkglist ${opts.pkglist}, line ${i + 1}: ${JSON.stringify(href)} is not a path inside the repo`);
      }
      if (excluded(href) || excluded(href.slice(href.lastIndexOf('/') + 1))) continue;
      found.push({ path: join(root, href), href });
    }
    return { packages: found.sort(byNameThenDir), broken: [], moduleFiles };
  }
  const broken: BrokenLink[] = [];
  const seenDirs = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const st = await stat(dir);
    const key = `${st.dev}:${st.ino}`;
    if (seenDirs.has(key)) return; // a symlink loop
    seenDirs.add(key);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (excluded(e.name)) continue;
      const path = join(dir, e.name);
      const href = relative(root, path).split(sep).join('/');
      if (excluded(href)) continue;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        if (opts.skipSymlinks) continue;
        const target = await stat(path).catch(async (err: NodeJS.ErrnoException) => {
          // A package name that leads nowhere is a package the repo would silently
          // lose; any other dangling link is no business of ours.
          if (e.name.endsWith('.rpm')) broken.push({ path, problem: await whyBroken(path, err) });
          return undefined;
        });
        if (!target) continue;
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) {
        // Our own staging area and old metadata are never packages.
        if (dir === root && (e.name === 'repodata' || e.name.startsWith('.repodata'))) continue;
        await walk(path);
      } else if (isFile && e.name.endsWith('.rpm')) {
        found.push({ path, href });
      } else if (isFile && isModuleMetadata(e.name)) {
        moduleFiles.push(path);
      }
    }
  };
  await walk(root);
  return { packages: found.sort(byNameThenDir), broken: broken.sort((a, b) => (a.path < b.path ? -1 : 1)), moduleFiles: moduleFiles.sort() };
}

/** Why a symlink cannot be followed, naming where it points. */
async function whyBroken(path: string, err: NodeJS.ErrnoException): Promise<string> {
  const target = await readlink(path).catch(() => '?');
  if (err.code === 'ELOOP') return `a symlink loop (${JSON.stringify(target)} leads back to itself)`;
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return `a symlink to ${JSON.stringify(target)}, which does not exist`;
  return `a symlink to ${JSON.stringify(target)}, which cannot be followed (${err.code ?? err.message})`;
}
