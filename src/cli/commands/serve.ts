// txrepo serve [--listen HOST:PORT]

import { parseDuration } from '../../snapshots/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { LOCAL_HELP, storeDir } from '../store.ts';

export const help = `Usage: txrepo serve [--listen HOST:PORT] [--public-url URL] [--grace DURATION]

Serves the store over HTTP until stopped (Ctrl-C, SIGTERM):

  /repos/<repo>/snapshots/<id>/      a snapshot (immutable: cached forever)
  /repos/<repo>/tags/<tag>/          follows the tag (latest, latest.tested, ...)
  /repos/<repo>/at/<time>/           the snapshot latest pointed at, at TIME
  /sets/<set>/<repo>/                the snapshot a set pins; /sets/<set>/repos.repo
  /repos/all_latest.json             {"latest_ci_repos": {"<repo>": "<snapshot URL>"}}
  /api/v1/...                        every txrepo operation as JSON (changes need a
                                     token: 'txrepo token create NAME')

Options:
      --listen HOST:PORT   where to listen (default 127.0.0.1:8080; port 0: any)
      --public-url URL     the URL clients reach this server at, for the absolute
                           links of all_latest.json and repos.repo (default: the
                           request's Host header)
      --grace DURATION     how long a tag path still serves the files of the
                           snapshots the tag left (default 1h: a dnf client that read
                           repomd.xml just before a move finishes its downloads)
      --quiet              no access log on stdout
${LOCAL_HELP}
  -h, --help               this help`;

const options = { store: { type: 'string' }, json: { type: 'boolean' }, listen: { type: 'string' }, 'public-url': { type: 'string' }, grace: { type: 'string' }, quiet: { type: 'boolean' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('serve', argv, options);
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals.join(' ')})`);
  if (v['public-url'] !== undefined && !/^https?:\/\/[^/]+/.test(v['public-url'])) throw new UsageError(`--public-url ${JSON.stringify(v['public-url'])}: give an http(s) URL`);
  const graceMs = parseDuration(v.grace ?? '1h');
  const { openStore } = await import('../../store/index.ts');
  const { startServer } = await import('../../server/index.ts');
  const store = await openStore(storeDir(v.store));
  const running = await startServer({
    store,
    listen: v.listen ?? '127.0.0.1:8080',
    graceMs,
    publicUrl: v['public-url'],
    accessLog: v.quiet ? undefined : (line) => process.stdout.write(line + '\n'),
  }).catch(async (e: NodeJS.ErrnoException) => {
    await store.close();
    if (e.code === 'EADDRINUSE') throw new UsageError(`--listen ${v.listen ?? '127.0.0.1:8080'}: the address is in use; pick another port`);
    throw e;
  });
  process.stderr.write(`txrepo serve: listening on ${running.url} (store ${store.dir})\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await running.close();
  await store.close();
  return 0;
}
