// `txrepo createrepo DIR`: turns a directory of RPMs into a yum repo, compatible with
// createrepo_c's output and options, and switches its repodata atomically.

import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import {
  DEFAULT_CHANGELOG_LIMIT,
  MetadataFileWriter,
  parseDistro,
  SUFFIX,
  writePackageMetadata,
  type RenderedPackage,
  type CompressionType,
  type Distro,
  type Repomd,
  type RepomdRecord,
} from '../metadata/index.ts';
import type { ChecksumType } from '../rpm/index.ts';
import { commitRepodata, pruneOldMetadata } from './commit.ts';
import { loadPrevious, type PreviousMetadata } from './previous.ts';
import { acquireLock } from './lock.ts';
import { orderedMap } from './ordered.ts';
import { threadsFor } from '../common/worker-pool.ts';
import { INLINE_BELOW, startReaders, type ReadPool } from './read-pool.ts';
import { scanPackages, type FoundPackage } from './scan.ts';
import { Failure } from '../common/index.ts';

/**
 * Old generations kept by default. createrepo_c keeps none, so a client that read
 * repomd.xml just before a run switched it then fails on the files it lists; keeping
 * the previous generation lets it finish.
 */
export const DEFAULT_RETAIN_OLD_MD = 1;

export interface CreaterepoOptions {
  dir: string;
  update?: boolean;
  retainOldMd?: number;
  checksum?: ChecksumType;
  changelogLimit?: number;
  baseurl?: string;
  locationPrefix?: string;
  revision?: string;
  distro?: string[];
  content?: string[];
  repo?: string[];
  excludes?: string[];
  pkglist?: string;
  workers?: number;
  groupfile?: string;
  compression?: CompressionType;
  skipSymlinks?: boolean;
  ignoreLock?: boolean;
  /** Carry the old repomd's other records (updateinfo, modules, ...) forward. */
  keepAllMetadata?: boolean;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

export interface CreaterepoResult {
  dir: string;
  packages: number;
  /** Packages whose headers were read. */
  read: number;
  /** Packages whose old record --update reused. */
  reused: number;
  revision: string;
  records: RepomdRecord[];
  removedOldMetadata: string[];
}

/** Some packages could not be read; nothing was changed. */
export class PackageErrors extends Failure {
  readonly kind = 'bad_package';
  readonly errors: Error[];
  constructor(errors: Error[]) {
    const head = errors.slice(0, 20).map((e) => `  ${e.message}`).join('\n');
    const more = errors.length > 20 ? `\n  ... and ${errors.length - 20} more` : '';
    super(`${errors.length} package${errors.length === 1 ? '' : 's'} could not be read, so the repodata was left unchanged:\n${head}${more}\nRemove or replace these files (or --excludes them) and run again.`);
    this.name = 'PackageErrors';
    this.errors = errors;
  }
}

export class CreaterepoInputError extends Failure {
  override name = 'CreaterepoInputError';
  readonly kind = 'invalid_input';
}

/** The previous primary/filelists/other records, if the package list and format are the same. */
function previousFilesIfUnchanged(repomd: Repomd, hrefs: string[], old: PreviousMetadata, compression: CompressionType, checksumType: string): RepomdRecord[] | undefined {
  if (hrefs.length !== old.order.length || hrefs.some((h, i) => h !== old.order[i])) return undefined;
  const recs = ['primary', 'filelists', 'other'].map((t) => repomd.records.find((r) => r.type === t));
  const suffix = SUFFIX[compression];
  if (recs.some((r) => !r || r.base || r.checksum.type !== checksumType || !r.href.endsWith(`.xml${suffix}`))) return undefined;
  return recs as RepomdRecord[];
}

/**
 * The comps file, as is ("group", which EL7 yum reads) and compressed ("group_gz"), like
 * createrepo_c; and the module metadata found in the tree, as one YAML stream
 * (createrepo_c re-serialises it through libmodulemd; the documents stay the same).
 */
async function writeExtraMetadata(o: { dir: string; groupfile?: string; moduleFiles: string[]; compression: CompressionType; checksumType: string; timestamp: number }): Promise<RepomdRecord[]> {
  const common = { dir: o.dir, checksumType: o.checksumType, uniqueName: true, timestamp: o.timestamp, fsync: true };
  const out: RepomdRecord[] = [];
  if (o.groupfile) {
    const name = basename(o.groupfile).replace(/\.(gz|xz|zst|bz2)$/, '');
    const comps = await readFile(o.groupfile, 'utf8');
    const variants: [string, CompressionType][] = o.compression === 'none' ? [['group', 'none']] : [['group', 'none'], ['group_gz', o.compression]];
    for (const [type, compression] of variants) {
      const w = await MetadataFileWriter.create({ ...common, type, name, compression });
      w.write(comps);
      out.push(await w.finish());
    }
  }
  if (o.moduleFiles.length) {
    const w = await MetadataFileWriter.create({ ...common, type: 'modules', name: 'modules.yaml', compression: o.compression });
    for (const file of o.moduleFiles) {
      const text = await readFile(file, 'utf8');
      w.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    }
    out.push(await w.finish());
  }
  return out;
}

/** The href under which a package is listed: --location-prefix joined in front. */
function locationOf(found: FoundPackage, prefix: string | undefined): string {
  return prefix ? posix.join(prefix, found.href) : found.href;
}

export async function createrepo(opts: CreaterepoOptions): Promise<CreaterepoResult> {
  const dir = opts.dir;
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`txrepo: warning: ${m}\n`));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CreaterepoInputError(`${dir}: ${st ? 'not a directory' : 'no such directory'}; give the directory that holds the RPM files`);
  const workers = opts.workers ?? 5;
  if (!Number.isInteger(workers) || workers < 1 || workers > 100) throw new CreaterepoInputError(`--workers ${workers}: give a whole number from 1 to 100`);
  if (opts.groupfile) {
    const g = await stat(opts.groupfile).catch(() => undefined);
    if (!g?.isFile()) throw new CreaterepoInputError(`--groupfile ${opts.groupfile}: no such file`);
  }
  const checksumType = opts.checksum ?? 'sha256';
  const compression = opts.compression ?? 'gz';
  const changelogLimit = opts.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT;
  const distros: Distro[] = [];
  for (const d of opts.distro ?? []) {
    const parsed = parseDistro(d);
    if (parsed) distros.push(parsed);
  }

  const lock = await acquireLock(dir, { ignoreLock: opts.ignoreLock });
  let pool: ReadPool | undefined;
  try {
    const { packages: found, broken, moduleFiles } = await scanPackages(dir, { excludes: opts.excludes, skipSymlinks: opts.skipSymlinks, pkglist: opts.pkglist });
    // A package that cannot be read fails the run, a broken link to one included.
    if (broken.length) throw new PackageErrors(broken.map((b) => new Error(`${b.path}: ${b.problem}; fix or remove it, or pass --skip-symlinks`)));
    const old: PreviousMetadata = opts.update || opts.keepAllMetadata ? await loadPrevious(dir, Boolean(opts.update), warn) : { packages: new Map(), order: [] };
    let read = 0;
    let reused = 0;
    let done = 0;
    const errors: Error[] = [];

    // Reader threads only where they pay: a thread costs start-up time and memory that
    // a small repo never earns back. A full run starts them now (the main thread reads
    // while they start); an --update once it has read a few packages (most are reused).
    const readers = found.length < INLINE_BELOW ? 0 : threadsFor(workers);
    const readPool = (pool = startReaders(readers, opts.update ? INLINE_BELOW : 0));
    // An unchanged package (same size and mtime, listed under the same location and
    // checksum type) keeps its previous metadata, like createrepo_c's --update.
    const unchangedPrevious = (f: FoundPackage, href: string) => {
      const prev = old.packages.get(href);
      if (!prev || prev.checksumType !== checksumType || prev.base !== opts.baseurl) return undefined;
      const s = statSync(f.path);
      return Math.floor(s.mtimeMs / 1000) === prev.timeFile && s.size === prev.sizePackage ? prev : undefined;
    };

    const load = async (f: FoundPackage): Promise<RenderedPackage> => {
      const href = locationOf(f, opts.locationPrefix);
      const prev = unchangedPrevious(f, href);
      if (prev) {
        reused++;
        return prev.rendered;
      }
      read++;
      return readPool.run({ path: f.path, href, base: opts.baseurl, checksumType, changelogLimit });
    };

    async function* rendered(): AsyncGenerator<RenderedPackage> {
      // With threads, many tasks in flight keep them busy; the window bounds memory.
      // Without, reading ahead gains nothing and would hold every rendered package
      // (all of a small repo's metadata), so packages are read one at a time.
      const inFlight = readers > 0 ? 256 : 1;
      for await (const result of orderedMap(found, inFlight, load, 2 * inFlight)) {
        opts.onProgress?.(++done, found.length);
        if (result.status === 'rejected') {
          errors.push(result.reason instanceof Error ? result.reason : new Error(String(result.reason)));
          continue;
        }
        // Once a package failed, the run is lost: keep reading only to report them all.
        if (errors.length === 0) yield result.value;
      }
      if (errors.length) throw new PackageErrors(errors);
    }

    const timestamp = Math.floor(Date.now() / 1000);
    // Nothing changed (same packages, same order, same file format): the previous
    // files are byte for byte what we would write, so they stay as they are.
    const hrefs = found.map((f) => locationOf(f, opts.locationPrefix));
    const previousFiles = opts.update && old.repomd ? previousFilesIfUnchanged(old.repomd, hrefs, old, compression, checksumType) : undefined;
    const unchanged = previousFiles !== undefined && found.every((f, i) => unchangedPrevious(f, hrefs[i]) !== undefined);
    if (unchanged) {
      reused = found.length;
      opts.onProgress?.(found.length, found.length);
    }
    const recs = unchanged ? previousFiles : await writePackageMetadata(rendered(), found.length, {
      dir: lock.dir,
      compression,
      checksumType,
      uniqueNames: true,
      timestamp,
      fsync: true,
    });

    recs.push(...(await writeExtraMetadata({ dir: lock.dir, groupfile: opts.groupfile, moduleFiles, compression, checksumType, timestamp })));
    if (opts.keepAllMetadata && old.repomd) {
      const regenerated = new Set(recs.map((r) => r.type));
      for (const r of old.repomd.records) if (!regenerated.has(r.type) && !/^(primary|filelists|other)(_db|_zck)?$/.test(r.type)) recs.push(r);
    }

    const repomd: Repomd = {
      revision: opts.revision ?? String(timestamp),
      content: opts.content ?? [],
      repo: opts.repo ?? [],
      distro: distros,
      records: recs,
    };
    const generation = await commitRepodata({ repoDir: dir, stagingDir: lock.dir, repomd });
    const removed = await pruneOldMetadata(join(dir, 'repodata'), generation, opts.retainOldMd ?? DEFAULT_RETAIN_OLD_MD);
    return { dir, packages: found.length, read, reused, revision: repomd.revision, records: repomd.records, removedOldMetadata: removed };
  } finally {
    await pool?.close();
    await lock.release();
  }
}
