// txrepo createrepo DIR: createrepo_c-compatible yum metadata for a directory of RPMs.

import { createrepo } from '../../createrepo/index.ts';
import { COMPRESSION_TYPES } from '../../metadata/index.ts';
import { CHECKSUM_TYPES } from '../../rpm/index.ts';
import { integer, list, oneOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';
import { progressBar, showsProgress } from '../progress.ts';

export const help = `Usage: txrepo createrepo DIR [options]

Scans DIR for *.rpm files and writes DIR/repodata/ (primary, filelists, other and
repomd.xml) the way createrepo_c does. The new metadata replaces the old atomically:
readers see the old repomd.xml or the new one, never a mix. A second run on the same
DIR at the same time is refused.

Options:
      --update                 reuse the records of packages whose size and mtime did not change
      --retain-old-md N        keep N older generations of each metadata file (default 1, so
                               clients that read repomd.xml just before a switch can finish)
  -s, --checksum TYPE          package and metadata checksum: ${CHECKSUM_TYPES.join(', ')} (default sha256)
      --changelog-limit N      changelog entries per package, -1 for all (default 10)
  -u, --baseurl URL            xml:base of every package location
      --location-prefix P      prefix every package href with P
      --revision REV           <revision> of repomd.xml (default: the current time)
      --distro CPEID,NAME      a distro tag (repeatable; CPEID, optional)
      --content TAG            a content tag (repeatable)
      --repo TAG               a repo tag (repeatable)
  -x, --excludes GLOB          skip files and directories matching GLOB (* and ?; repeatable)
  -i, --pkglist FILE           index only the packages listed in FILE (one relative path a line)
      --workers N              packages read in parallel, 1-100 (default 5)
  -g, --groupfile FILE         comps file to include (as "group" and compressed "group_gz")
      --general-compress-type T  compression of the metadata: ${COMPRESSION_TYPES.filter((c) => c !== 'none').join(', ')} (default gz)
      --skip-symlinks          skip every symlink (otherwise symlinks are followed, and a
                               *.rpm one that leads nowhere fails the run)
      --keep-all-metadata      keep the other records (updateinfo, modules, ...) of the old repomd.xml
      --ignore-lock            run even if DIR/.repodata (the lock) exists
      --no-database            accepted for compatibility; txrepo never writes sqlite databases
      --json                   print a JSON summary on stdout (or the error, as JSON)
  -q, --quiet                  no progress bar
  -h, --help                   this help

Exit status: 0 on success, 1 when a package (a *.rpm symlink that leads nowhere too) or
the directory cannot be used (nothing is changed then), 2 on a usage error.`;

const options = {
  update: { type: 'boolean' },
  'retain-old-md': { type: 'string' },
  checksum: { type: 'string', short: 's' },
  'changelog-limit': { type: 'string' },
  baseurl: { type: 'string', short: 'u' },
  'location-prefix': { type: 'string' },
  revision: { type: 'string' },
  distro: { type: 'string', multiple: true },
  content: { type: 'string', multiple: true },
  repo: { type: 'string', multiple: true },
  excludes: { type: 'string', short: 'x', multiple: true },
  pkglist: { type: 'string', short: 'i' },
  workers: { type: 'string' },
  groupfile: { type: 'string', short: 'g' },
  'general-compress-type': { type: 'string' },
  'skip-symlinks': { type: 'boolean' },
  'keep-all-metadata': { type: 'boolean' },
  'ignore-lock': { type: 'boolean' },
  'no-database': { type: 'boolean' },
  database: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('createrepo', argv, options);
  if (positionals.length !== 1) throw new UsageError(`give exactly one directory (got ${positionals.length}).\nUsage: txrepo createrepo DIR [options]`);
  if (v.database) throw new UsageError('--database: txrepo does not write sqlite databases (dnf and yum build their own from the XML); drop the option');
  const progress = progressBar('reading packages', showsProgress(v));
  const result = await createrepo({
    dir: positionals[0],
    update: v.update,
    retainOldMd: integer('retain-old-md', v['retain-old-md'], 0, 100000),
    checksum: oneOf('checksum', v.checksum, CHECKSUM_TYPES),
    changelogLimit: integer('changelog-limit', v['changelog-limit'], -1, 1000000),
    baseurl: v.baseurl,
    locationPrefix: v['location-prefix'],
    revision: v.revision,
    distro: list(v.distro),
    content: list(v.content),
    repo: list(v.repo),
    excludes: list(v.excludes),
    pkglist: v.pkglist,
    workers: integer('workers', v.workers, 1, 100),
    groupfile: v.groupfile,
    compression: oneOf('general-compress-type', v['general-compress-type'], ['gz', 'xz', 'zstd'] as const),
    skipSymlinks: v['skip-symlinks'],
    keepAllMetadata: v['keep-all-metadata'],
    ignoreLock: v['ignore-lock'],
    onProgress: (done, total) => progress.update(done, total),
  }).finally(() => progress.finish());
  if (v.json || !v.quiet) {
    const reuse = result.reused ? ` (${result.reused} reused from the old metadata)` : '';
    print(v.json, result, () => `${result.dir}: ${result.packages} packages${reuse}, revision ${result.revision}`);
  }
  return 0;
}
