// `txrepo modifyrepo FILE DIR/repodata`: adds or replaces one extra metadata file
// (updateinfo, comps, modules, ...) in a repo, or removes one, with the same lock and
// atomic repomd.xml switch as createrepo. Unlike modifyrepo_c, which rewrites
// repomd.xml in place, a reader never sees a half-written index.

import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MetadataFileWriter, parseRepomd, stripCompressionSuffix, type CompressionType, type Repomd, type RepomdRecord } from '../metadata/index.ts';
import { commitRepodata } from './commit.ts';
import { CreaterepoInputError } from './createrepo.ts';
import { acquireLock } from './lock.ts';

export interface ModifyrepoOptions {
  /** The file to add; absent with `remove`. */
  file?: string;
  /** The repodata directory. */
  repodata: string;
  mdtype?: string;
  /** Remove the record of this type instead of adding. */
  remove?: string;
  compression?: CompressionType;
  checksum?: string;
  ignoreLock?: boolean;
}

export interface ModifyrepoResult {
  repodata: string;
  added?: RepomdRecord;
  removed?: string;
}

const TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** modifyrepo_c's default type: the file name up to its first dot. */
export function defaultMdType(file: string): string {
  return basename(file).split('.')[0];
}

export async function modifyrepo(opts: ModifyrepoOptions): Promise<ModifyrepoResult> {
  const repodata = resolve(opts.repodata);
  const repomdPath = join(repodata, 'repomd.xml');
  if (basename(repodata) !== 'repodata') {
    throw new CreaterepoInputError(`${opts.repodata}: give the repodata directory of a repo (DIR/repodata)`);
  }
  const xml = await readFile(repomdPath, 'utf8').catch(() => undefined);
  if (xml === undefined) throw new CreaterepoInputError(`${repomdPath}: no such file; run 'txrepo createrepo ${dirname(repodata)}' first`);
  let content: Buffer | undefined;
  let type = opts.remove;
  if (!opts.remove) {
    if (!opts.file) throw new CreaterepoInputError('give the metadata FILE to add, or --remove TYPE');
    const st = await stat(opts.file).catch(() => undefined);
    if (!st?.isFile()) throw new CreaterepoInputError(`${opts.file}: no such file`);
    content = await readFile(opts.file);
    type = opts.mdtype ?? defaultMdType(opts.file);
  }
  if (!type || !TYPE.test(type)) throw new CreaterepoInputError(`--mdtype ${JSON.stringify(type)}: a type is letters, digits, '_', '-' and '.'`);
  if (/^(primary|filelists|other)(_db|_zck)?$/.test(type)) {
    throw new CreaterepoInputError(`--mdtype ${type}: package metadata is made by 'txrepo createrepo', not added by modifyrepo`);
  }

  const lock = await acquireLock(dirname(repodata), { ignoreLock: opts.ignoreLock });
  try {
    // Read repomd.xml again under the lock: a createrepo may have replaced it meanwhile.
    const current = parseRepomd(await readFile(repomdPath, 'utf8'), repomdPath);
    const old = current.records.find((r) => r.type === type);
    if (opts.remove && !old) throw new CreaterepoInputError(`${repomdPath} has no ${type} record to remove`);
    const records = current.records.filter((r) => r.type !== type);
    let added: RepomdRecord | undefined;
    if (content) {
      const checksumType = opts.checksum ?? old?.checksum.type ?? current.records[0]?.checksum.type ?? 'sha256';
      const w = await MetadataFileWriter.create({
        dir: lock.dir,
        type: type,
        name: stripCompressionSuffix(basename(opts.file!)),
        compression: opts.compression ?? 'gz',
        checksumType,
        uniqueName: true,
        fsync: true,
      });
      w.write(content.toString('utf8'));
      added = await w.finish();
      records.push(added);
    }
    const repomd: Repomd = { ...current, records };
    await commitRepodata({ repoDir: dirname(repodata), stagingDir: lock.dir, repomd });
    // The replaced file goes, unless another record still lists it or it lives elsewhere (xml:base).
    if (old && !old.base && !records.some((r) => r.href === old.href)) {
      await rm(join(dirname(repodata), old.href), { force: true });
    }
    return { repodata, added, removed: old?.href };
  } finally {
    await lock.release();
  }
}
