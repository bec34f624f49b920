// txrepo init [--store DIR] [--catalog URL] [--blobs URL]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';
import { LOCAL_HELP, LOCAL_OPTION, withStore } from '../store.ts';

export const help = `Usage: txrepo init [--store DIR] [--catalog URL] [--blobs URL]

Makes a store: DIR (which must not exist, or be empty) gets the store's marker, and
the catalog and blobs (by default a SQLite catalog and a blob directory in DIR; with
--catalog and --blobs, PostgreSQL and S3-compatible storage that several servers
share, each with a directory of its own). Prints where. Running it again on the same
store changes nothing.

Commands that write (repo create, deploy, sync, token create, ...) make the store too
when there is none; commands that only read, and 'txrepo serve', need one to exist.

Options:
${LOCAL_HELP}
  -h, --help               this help`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('init', argv, LOCAL_OPTION);
  if (positionals.length) throw new UsageError(`init takes no arguments (got ${positionals.join(' ')}); give the directory with --store DIR`);
  return withStore(v, 'writes', async (store) => {
    const value = { dir: store.dir, created: store.created, catalog: store.backends.catalog, blobs: store.backends.blobs };
    print(v.json, value, () => `${store.created ? 'made a txrepo store' : 'a txrepo store is already'} at ${store.dir} (catalog ${value.catalog}, blobs ${value.blobs})`);
    return 0;
  });
}
