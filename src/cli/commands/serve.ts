// txrepo serve [--listen HOST:PORT]

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseDuration } from '../../snapshots/index.ts';
import { byteSize, integer, parse } from '../args.ts';
import { messageWithAdvice } from '../advice.ts';
import { UsageError } from '../errors.ts';
import { readKeyFile } from '../key-files.ts';
import { LOCAL_HELP, LOCAL_OPTION, openLocalStore, signingPassphrase, storeDir, withStore } from '../store.ts';
import type { Store } from '../../store/index.ts';

export const help = `Usage: txrepo serve [--listen HOST:PORT] [--public-url URL] [--grace DURATION]

Serves the store over HTTP until stopped (Ctrl-C, SIGTERM). The store must exist
('txrepo init' makes one; so does the first command that writes to it, such as
'txrepo token create NAME'):

  /repos/<repo>/snapshots/<id>/      a snapshot (immutable: cached forever)
  /repos/<repo>/tags/<tag>/          follows the tag (latest, latest.tested, ...)
  /repos/<repo>/at/<time>/           the snapshot latest pointed at, at TIME
  /sets/<set>/<repo>/                the snapshot a set pins; /sets/<set>/repos.repo
  /repos/all_latest.json             {"latest_ci_repos": {"<repo>": "<snapshot URL>"}}
  /api/v1/...                        every txrepo operation as JSON (changes need a
                                     token with their scope: 'txrepo token create
                                     NAME --scope SCOPE'; see docs/security.md)
  /metrics                           metrics for Prometheus (docs/http-api.md)

Reads are anonymous, but for the audit log, tag history, fsck and set manifests
(any token); with --private every read needs a token too (dnf: username= and
password=TOKEN in the .repo file).

Options:
      --listen HOST:PORT   where to listen (default 127.0.0.1:8080; port 0: any)
      --public-url URL     the URL clients reach this server at, for the absolute
                           links of all_latest.json and repos.repo (default: the
                           request's Host header)
      --grace DURATION     how long a tag path still serves the files of the
                           snapshots the tag left (default 1h: a dnf client that read
                           repomd.xml just before a move finishes its downloads;
                           0s: only the current snapshot's)
      --workers N          server processes sharing the port (default: one per core,
                           at most 8, since one process keeps one core busy; 1:
                           a single process); each serves reads and takes
                           writes, which the catalog serialises
      --redirect-downloads DURATION
                           with blobs in object storage (--blobs s3://...): answer
                           package downloads with a redirect to a presigned URL of
                           the blob, valid for DURATION (such as 15m), so that the
                           object store (or a CDN before it) carries them
      --private            every read needs a token, the yum paths' too: a token as
                           the password of HTTP Basic (dnf's username= and
                           password=), or Authorization: Bearer TOKEN
      --fetch-allow HOST|ADDRESS|CIDR
                           what the server may fetch from for a client (deploy
                           URLs, sync upstreams, their redirects) although it is
                           loopback, link-local or private, which it refuses by
                           default (repeat, or separate by commas); see
                           docs/security.md
      --idle-timeout DURATION
                           close a connection that sends nothing, or reads
                           nothing of its answer, this long (default 60s)
      --header-timeout DURATION
                           close a connection whose request head has not all
                           arrived this long after it began (default 20s)
      --max-connections N  connections at once, in all (default 512; each of the
                           --workers holds as many)
      --max-connections-per-client N
                           connections at once from one address (default 32, in
                           each of the --workers; raise it for many clients
                           behind one NAT address)
      --max-upload SIZE    the largest package a client may upload ('txrepo deploy
                           --server'), such as 512M (default 4G; at most 64G);
                           a larger one is refused before a byte of it is stored
      --signing-key FILE   also sign the snapshots this server makes with this
                           OpenPGP private key (repeat for more), beside the
                           store's own ('txrepo key import'); held in memory only
      --signing-passphrase-file FILE
                           the passphrase of protected signing keys, the store's
                           and --signing-key's (default: $TXREPO_SIGNING_PASSPHRASE
                           or the file $TXREPO_SIGNING_PASSPHRASE_FILE names)
      --quiet              no access log on stdout
${LOCAL_HELP}
                           (serve writes one JSON object a line instead: the
                           start-up's, then one per request, the access log)
  -h, --help               this help`;

const options = {
  ...LOCAL_OPTION,
  listen: { type: 'string' },
  'public-url': { type: 'string' },
  grace: { type: 'string' },
  workers: { type: 'string' },
  quiet: { type: 'boolean' },
  private: { type: 'boolean' },
  'fetch-allow': { type: 'string', multiple: true },
  'idle-timeout': { type: 'string' },
  'header-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-client': { type: 'string' },
  'max-upload': { type: 'string' },
  'redirect-downloads': { type: 'string' },
  'signing-key': { type: 'string', multiple: true },
  'signing-passphrase-file': { type: 'string' },
} as const;

/** The signing setup of this server process: the store's keys' passphrase, and keys of its own. */
async function configureServerSigning(store: Store, v: { 'signing-key'?: string[]; 'signing-passphrase-file'?: string }): Promise<void> {
  const passphrase = signingPassphrase(v['signing-passphrase-file']);
  const keyFiles = [];
  for (const path of v['signing-key'] ?? []) {
    const bytes = await readKeyFile(path, '--signing-key ');
    keyFiles.push({ bytes, source: `--signing-key ${path}` });
  }
  const { configureSigning, snapshotSigner } = await import('../../snapshots/index.ts');
  // A key imported into the store after the server started, protected: its clients cannot give the passphrase.
  const howToGive = 'this server was started without it: its operator restarts it with --signing-passphrase-file FILE';
  const keys = await configureSigning(store, { passphrase, keyFiles, howToGive });
  for (const k of keys) if (k.caveat) process.stderr.write(`txrepo serve: warning: signing key ${k.info.fingerprint}: ${k.caveat}\n`);
  // The store's keys unlock now, or the server does not start: not at its first deploy.
  await snapshotSigner(store);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A duration flag's value, within `range` ([least, most, as said]) if given; else a usage error naming the flag. */
function duration(flag: string, value: string, range?: [number, number, string]): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (e) {
    throw new UsageError(`--${flag} ${(e as Error).message}`);
  }
  if (range && !(ms >= range[0] && ms <= range[1])) throw new UsageError(`--${flag} ${value}: give a duration from ${range[2]}`);
  return ms;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('serve', argv, options);
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals.join(' ')})`);
  if (v['public-url'] !== undefined && !/^https?:\/\/[^/]+/.test(v['public-url'])) throw new UsageError(`--public-url ${JSON.stringify(v['public-url'])}: give an http(s) URL`);
  const graceMs = duration('grace', v.grace ?? '1h');
  const workers = integer('workers', v.workers, 1, 64) ?? defaultWorkers();
  // S3 presigns for at most 7 days.
  const redirectMs = v['redirect-downloads'] === undefined ? undefined : duration('redirect-downloads', v['redirect-downloads'], [1000, 7 * DAY, '1s to 7d']);
  const fetchAllow = (v['fetch-allow'] ?? []).flatMap((a) => a.split(',')).filter(Boolean);
  // Checked now, not at the first fetch: a mistyped range is the operator's, at start-up.
  const { fetchPolicy } = await import('../../sync/index.ts');
  try {
    fetchPolicy(fetchAllow);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const idleMs = v['idle-timeout'] === undefined ? undefined : duration('idle-timeout', v['idle-timeout'], [1000, HOUR, '1s to 1h']);
  const headersMs = v['header-timeout'] === undefined ? undefined : duration('header-timeout', v['header-timeout'], [1000, HOUR, '1s to 1h']);
  const limits = {
    ...(idleMs !== undefined && { idleMs }),
    ...(headersMs !== undefined && { headersMs }),
    ...(v['max-connections'] !== undefined && { maxConnections: integer('max-connections', v['max-connections'], 1, 1_000_000) }),
    ...(v['max-connections-per-client'] !== undefined && { maxPerClient: integer('max-connections-per-client', v['max-connections-per-client'], 1, 1_000_000) }),
  };
  const maxUpload = byteSize('max-upload', v['max-upload'], 2 ** 10, 64 * 2 ** 30);
  const listen = v.listen ?? '127.0.0.1:8080';
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(listen) || Number(listen.slice(listen.lastIndexOf(':') + 1)) > 65535) {
    throw new UsageError(`--listen ${JSON.stringify(listen)}: give HOST:PORT, such as 127.0.0.1:8080 (port 0: any free port)`);
  }
  // Several processes share the listening socket (node:cluster): the process that
  // runs this command starts them and reports; each runs the server on the store.
  if (workers > 1 && cluster.isPrimary) {
    // Refused here, once, rather than by every worker as it starts.
    await withStore(v, 'reads', async (store) => {
      await configureServerSigning(store, v);
      await checkRedirects(store, redirectMs);
    });
    await checkListen(listen);
    return supervise(workers, listen, storeDir(v.store), v.json, v.private);
  }
  const { accessLogLine, startServer } = await import('../../server/index.ts');
  const store = await openLocalStore(v, 'reads');
  try {
    await configureServerSigning(store, v);
  } catch (e) {
    await store.close();
    throw e;
  }
  try {
    await checkRedirects(store, redirectMs);
  } catch (e) {
    await store.close();
    throw e;
  }
  const running = await startServer({
    store,
    listen,
    graceMs,
    publicUrl: v['public-url'],
    private: v.private,
    fetchAllow,
    limits,
    maxUpload,
    redirectSeconds: redirectMs === undefined ? undefined : Math.floor(redirectMs / 1000),
    // The server's messages read as the CLI's: a remote CLI shows them as they come.
    explain: messageWithAdvice,
    accessLog: v.quiet ? undefined : (entry) => process.stdout.write((v.json ? JSON.stringify({ event: 'request', ...entry }) : accessLogLine(entry)) + '\n'),
  }).catch(async (e: NodeJS.ErrnoException) => {
    await store.close();
    if (e.code === 'EADDRINUSE') throw new UsageError(`--listen ${listen}: the address is in use; pick another port`);
    throw e;
  });
  if (cluster.isPrimary) started(v.json, running.url, store.dir, 1, v.private);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await running.close();
  await store.close();
  // A worker's channel to the supervisor would keep it alive.
  cluster.worker?.disconnect();
  return 0;
}

/**
 * The number of server processes when --workers is not given: one per core the process
 * may use, at most 8. One Node process spends most of a small package's request in its
 * one thread (HTTP parsing, the lookup, the syscalls), so a single process leaves the
 * other cores idle while clients wait (docs/deployment.md, "Server processes").
 */
function defaultWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** --redirect-downloads needs blobs in object storage, which have URLs to redirect to. */
async function checkRedirects(store: Store, redirectMs: number | undefined): Promise<void> {
  if (redirectMs !== undefined && (await store.blobs.downloadUrl('0'.repeat(64), { expiresIn: 1 })) === undefined) {
    throw new UsageError(`--redirect-downloads: the store's blobs are in a local directory (${store.backends.blobs}), which has no URLs to redirect to; it needs blobs in object storage (--blobs s3://BUCKET/PREFIX)`);
  }
}

/**
 * Whether the address can be listened on, tried by the supervisor before it starts its
 * workers: a port in use is then said once, as a single process says it, not as a
 * worker that died.
 */
async function checkListen(listen: string): Promise<void> {
  const { createServer } = await import('node:net');
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new UsageError(`--listen ${listen}: the address is in use; pick another port`) : e));
    probe.listen(Number(listen.slice(at + 1)), host, () => probe.close(() => resolve()));
  });
}

/**
 * Reports where the server listens: on stderr for people (and for whoever waits for
 * the line), and with --json also as the first line of stdout, before the requests'.
 */
function started(json: boolean | undefined, url: string, store: string, processes: number, isPrivate: boolean | undefined): void {
  process.stderr.write(`txrepo serve: listening on ${url} (store ${store}${processes > 1 ? `, ${processes} processes` : ''}${isPrivate ? ', private: every read needs a token' : ''})\n`);
  if (json) process.stdout.write(JSON.stringify({ event: 'listening', url, store, processes, ...(isPrivate && { private: true }) }) + '\n');
}

/** Starts the workers, reports where they listen, and stops them on SIGINT/SIGTERM. */
async function supervise(count: number, listen: string, store: string, json: boolean | undefined, isPrivate: boolean | undefined): Promise<number> {
  let stopping = false;
  // A scrape of /metrics, whichever worker takes it, adds up every worker's counts.
  await (await import('../../server/index.ts')).gatherWorkerMetrics();
  const fork = () => cluster.fork();
  for (let i = 0; i < count; i++) fork();
  const ready = new Promise<string>((resolve, reject) => {
    // Reported once every worker listens: before, the first would take every
    // connection, and a client its limit of connections from that one alone.
    let listening = 0;
    const onListening = (_w: unknown, address: { address?: string | null; port: number }) => {
      if (++listening < count) return;
      cluster.off('listening', onListening);
      const host = address.address?.includes(':') ? `[${address.address}]` : (address.address ?? '127.0.0.1');
      resolve(`http://${host}:${address.port}`);
    };
    cluster.on('listening', onListening);
    cluster.on('exit', (_w, code) => {
      // A worker that dies before any listens (bad store, port in use): give up.
      if (!stopping) reject(new UsageError(`a server process exited with status ${code} before listening on ${listen}`));
    });
  });
  const url = await ready.catch((e: Error) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    throw e;
  });
  started(json, url, resolve(store), count, isPrivate);
  // A worker that dies later is replaced: the others serve meanwhile.
  cluster.on('exit', () => {
    if (!stopping) fork();
  });
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((done) => {
          w.once('exit', () => done());
          w.process.kill('SIGTERM');
        }),
    ),
  );
  return 0;
}
