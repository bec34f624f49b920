// txrepo modifyrepo FILE DIR/repodata: add, replace or remove an extra metadata file.

import { modifyrepo } from '../../createrepo/index.ts';
import { oneOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo modifyrepo FILE DIR/repodata [--mdtype TYPE]
       txrepo modifyrepo --remove TYPE DIR/repodata

Adds FILE to the repo's metadata (replacing any record of the same type), like
modifyrepo_c, but switches repomd.xml atomically and under the repo lock.

Options:
      --mdtype TYPE        record type (default: FILE's name up to the first dot, so
                           updateinfo.xml gives "updateinfo"; use "group" for comps)
      --remove TYPE        remove the record of TYPE and its file
      --compress-type T    gz, xz, zstd (default gz, readable by EL7 yum)
      --no-compress        store FILE uncompressed
  -s, --checksum TYPE      checksum type (default: the repo's)
      --ignore-lock        run even if the repo lock (DIR/.repodata) exists
      --json               print a JSON summary on stdout (or the error, as JSON)
  -h, --help               this help`;

const options = {
  mdtype: { type: 'string' },
  remove: { type: 'string' },
  'compress-type': { type: 'string' },
  'no-compress': { type: 'boolean' },
  checksum: { type: 'string', short: 's' },
  'ignore-lock': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('modifyrepo', argv, options);
  const want = v.remove ? 1 : 2;
  if (positionals.length !== want) {
    throw new UsageError(v.remove ? 'give the repodata directory: txrepo modifyrepo --remove TYPE DIR/repodata' : 'give FILE and DIR/repodata: txrepo modifyrepo FILE DIR/repodata');
  }
  const compression = v['no-compress'] ? 'none' : oneOf('compress-type', v['compress-type'], ['gz', 'xz', 'zstd'] as const);
  const result = await modifyrepo({
    file: v.remove ? undefined : positionals[0],
    repodata: positionals[want - 1],
    mdtype: v.mdtype,
    remove: v.remove,
    compression,
    checksum: oneOf('checksum', v.checksum, ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const),
    ignoreLock: v['ignore-lock'],
  });
  print(v.json, result, () => (result.added ? `${result.repodata}: ${result.added.type} -> ${result.added.href}` : `${result.repodata}: removed ${result.removed}`));
  return 0;
}
