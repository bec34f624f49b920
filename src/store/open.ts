// Opens a store, or makes one. A store is a catalog plus blob storage, and a local
// directory that names them and holds what this machine stages:
//   STORE/txrepo-store.json   format marker, and which catalog and blobs the store uses:
//                             {"format": 1} (the embedded defaults, below), or
//                             {"format": 1, "catalog": "postgres://…", "blobs": "s3://…"}
//   STORE/catalog.sqlite      the embedded catalog (plus -wal and -shm files)
//   STORE/blobs/sha256/..     the local blobs
//   STORE/tmp/                blobs being written, downloads being staged
//   STORE/cache/              (blobs in object storage) small blobs read before
//
// A directory is a store when it has the marker, whatever its backends. A store is
// made only when asked for (`create`), and only in a directory that does not exist or
// is empty: a mistyped path, or a directory of someone else's files, must not gain a
// catalog and blobs/ (and its tmp/ would be swept by gc). Opening without `create`
// writes nothing where there is no store.
//
// The marker is written when the store is made, with the catalog and blob URLs given
// then (passwords left out: they come from the environment, PGPASSWORD or
// AWS_SECRET_ACCESS_KEY). Later opens may leave them out, and may not give other ones:
// a command that silently opened an empty embedded catalog beside a shared blob store
// would see no snapshots, and its gc would take every blob.

import { mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { replaceFile } from '../common/index.ts';
import { join, resolve } from 'node:path';
import type { BlobStore } from './blobs.ts';
import { StoreError, type Catalog } from './catalog.ts';
import { LocalBlobStore } from './local-blobs.ts';
import { SqliteCatalog } from './sqlite-catalog.ts';

export const STORE_FORMAT = 1;
const MARKER = 'txrepo-store.json';

export interface Store {
  dir: string;
  catalog: Catalog;
  blobs: BlobStore;
  /** Where the catalog and blobs are, for messages (no passwords). */
  backends: { catalog: string; blobs: string };
  /** Whether this open made the store. */
  created: boolean;
  close(): Promise<void>;
}

/** Where a store keeps its catalog and blobs; unset: the embedded defaults in its directory. */
export interface Backends {
  /** postgres://USER@HOST:PORT/DATABASE[?schema=NAME] */
  catalog?: string;
  /** s3://BUCKET/PREFIX */
  blobs?: string;
}

export interface OpenOptions {
  /**
   * Make the store if there is none: the directory does not exist or is empty. Default
   * true, for programs that make their own stores (tests, the demo); a command that
   * only reads gives false, and then no store is an error (NoStoreError).
   */
  create?: boolean;
}

export { StoreError };

/** There is no store at `dir`, and none was to be made. */
export class NoStoreError extends StoreError {
  override name = 'NoStoreError';
  readonly dir: string;
  constructor(dir: string, why: string) {
    super(`no txrepo store at ${dir}: ${why}`, 'not_found');
    this.dir = dir;
  }
}

/** A store was to be made at `dir`, which holds other things. */
export class NotAStoreError extends StoreError {
  override name = 'NotAStoreError';
  readonly dir: string;
  constructor(dir: string, what: string) {
    super(`${dir} ${what}; a store is made only in a new or empty directory`, 'invalid_input');
    this.dir = dir;
  }
}

/** A URL without its password: what the marker records, and what is compared. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

interface Marker {
  format: number;
  catalog?: string;
  blobs?: string;
}

async function readMarker(path: string, dir: string): Promise<Marker | undefined> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw new StoreError(`${path}: cannot read the store marker (${e.code ?? e.message})`);
  });
  if (text === undefined) return undefined;
  let marker: Marker;
  try {
    marker = JSON.parse(text) as Marker;
  } catch {
    throw new StoreError(`${path}: not a txrepo store marker; is ${dir} a txrepo store?`);
  }
  if (marker?.format !== STORE_FORMAT) throw new StoreError(`${dir}: store format ${String(marker?.format)} is not supported by this txrepo (format ${STORE_FORMAT})`);
  for (const k of ['catalog', 'blobs'] as const) {
    if (marker[k] !== undefined && typeof marker[k] !== 'string') throw new StoreError(`${path}: "${k}" is not a string; is ${dir} a txrepo store?`);
  }
  return marker;
}

/**
 * What making a store writes before its marker (see openStore), so what a making that was
 * cut off (a SIGKILL), or one still under way in another process, leaves: such a
 * directory is finished, not refused. Directories count only while they hold no files.
 */
const MAKING_FILES = /^(catalog\.sqlite(-wal|-shm|-journal)?|txrepo-store\.json\.\d+\.tmp)$/;
const MAKING_DIRS = new Set(['blobs', 'tmp', 'cache']);

async function holdsOnlyDirs(path: string): Promise<boolean> {
  for (const e of await readdir(path, { withFileTypes: true })) {
    if (!e.isDirectory() || !(await holdsOnlyDirs(join(path, e.name)))) return false;
  }
  return true;
}

/** What is at a store's path: a store, room for one (nothing, or a making's leftovers), or other things. */
type Site = { kind: 'store'; marker: Marker } | { kind: 'vacant'; exists: boolean; empty: boolean } | { kind: 'file' } | { kind: 'occupied'; names: string[] };

/** A few of a directory's entries, for a message. */
function some(names: string[]): string {
  const shown = names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

async function survey(root: string, dir: string): Promise<Site> {
  const marker = await readMarker(join(root, MARKER), dir);
  if (marker) return { kind: 'store', marker };
  const st = await stat(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new StoreError(`${dir}: cannot look at the store directory (${e.code ?? e.message})`);
  });
  if (!st) return { kind: 'vacant', exists: false, empty: true };
  if (!st.isDirectory()) return { kind: 'file' };
  const entries = await readdir(root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`${dir}: cannot list the store directory (${e.code ?? e.message})`);
  });
  const foreign: string[] = [];
  for (const e of entries) {
    const ours = e.isDirectory() ? MAKING_DIRS.has(e.name) && (await holdsOnlyDirs(join(root, e.name))) : MAKING_FILES.test(e.name);
    if (!ours) foreign.push(e.name);
  }
  if (foreign.length === 0) return { kind: 'vacant', exists: true, empty: entries.length === 0 };
  return { kind: 'occupied', names: foreign.sort() };
}

/**
 * The backends to open: those given (with their passwords, if any), checked against
 * those the marker recorded.
 */
function settle(marker: Marker, given: Backends, dir: string): Backends {
  const out: Backends = {};
  for (const k of ['catalog', 'blobs'] as const) {
    const recorded = marker[k];
    const wanted = given[k];
    const flag = `--${k}`;
    const embedded = k === 'catalog' ? `its own SQLite catalog (${dir}/catalog.sqlite)` : `its own blob directory (${dir}/blobs)`;
    if (wanted === undefined) {
      out[k] = recorded;
    } else if (recorded === undefined) {
      throw new StoreError(`--store ${dir} uses ${embedded}, not ${flag} ${withoutPassword(wanted)}; leave ${flag} out, or give another --store directory for that ${k}`);
    } else if (withoutPassword(wanted) !== recorded) {
      throw new StoreError(`--store ${dir} uses ${flag} ${recorded}, not ${withoutPassword(wanted)}; leave ${flag} out, or give another --store directory for that ${k}`);
    } else {
      out[k] = wanted;
    }
  }
  return out;
}

/** Removes what a failed making created: the directory, or the files in it. */
async function forget(root: string, existed: boolean): Promise<void> {
  if (!existed) {
    await rm(root, { recursive: true, force: true });
    return;
  }
  for (const name of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']) await rm(join(root, name), { force: true });
  for (const name of ['tmp', 'blobs/sha256', 'blobs', 'cache']) await rmdir(join(root, name)).catch(() => {});
}

function whyNone(site: Exclude<Site, { kind: 'store' }>): string {
  switch (site.kind) {
    case 'file':
      return 'it is a file';
    case 'occupied':
      return `the directory holds ${some(site.names)}, and no ${MARKER}`;
    default:
      return !site.exists ? 'no such directory' : site.empty ? 'the directory is empty' : `the directory has no ${MARKER}`;
  }
}

/**
 * The marker of the store at `root`: the one there, or, where a store may be made
 * (`create`, and nothing else there), the one to write once its backends opened, its
 * directory made. Anything else is refused before a thing is written.
 */
async function markerFor(root: string, dir: string, given: Backends, create: boolean): Promise<{ marker: Marker; fresh: boolean; existed: boolean }> {
  const site = await survey(root, dir);
  if (site.kind === 'store') return { marker: site.marker, fresh: false, existed: true };
  if (!create) throw new NoStoreError(dir, whyNone(site));
  if (site.kind === 'file') throw new NotAStoreError(dir, 'is a file, not a txrepo store');
  if (site.kind === 'occupied') throw new NotAStoreError(dir, `is not a txrepo store (it has no ${MARKER}) and is not empty: it holds ${some(site.names)}`);
  await mkdir(root, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`--store ${dir}: cannot create the store directory (${e.code ?? e.message})`);
  });
  const marker: Marker = { format: STORE_FORMAT };
  if (given.catalog !== undefined) marker.catalog = withoutPassword(given.catalog);
  if (given.blobs !== undefined) marker.blobs = withoutPassword(given.blobs);
  return { marker, fresh: true, existed: site.exists };
}

export async function openStore(dir: string, given: Backends = {}, opts: OpenOptions = {}): Promise<Store> {
  // URLs checked before anything is opened or created.
  if (given.catalog !== undefined) (await import('./pg-catalog.ts')).parseCatalogUrl(given.catalog);
  if (given.blobs !== undefined) (await import('./s3-blobs.ts')).parseBlobsUrl(given.blobs);
  const root = resolve(dir);
  const { marker, fresh, existed } = await markerFor(root, dir, given, opts.create ?? true);
  const markerPath = join(root, MARKER);
  const backends = settle(marker, given, dir);

  let catalog: Catalog | undefined;
  let blobs: BlobStore;
  try {
    if (backends.catalog !== undefined) {
      const { PgCatalog } = await import('./pg-catalog.ts');
      catalog = await PgCatalog.open(backends.catalog);
    } else {
      catalog = new SqliteCatalog(join(root, 'catalog.sqlite'));
    }
    if (backends.blobs !== undefined) {
      const { S3BlobStore } = await import('./s3-blobs.ts');
      blobs = await S3BlobStore.open(backends.blobs, join(root, 'tmp'), catalog);
    } else {
      const local = new LocalBlobStore(root);
      await local.init();
      blobs = local;
    }
  } catch (e) {
    await catalog?.close();
    // A store being created that could not open leaves nothing behind.
    if (fresh) await forget(root, existed);
    throw e;
  }
  // Written once both opened: a URL that does not work leaves no store behind.
  if (fresh) await replaceFile(`${markerPath}.${process.pid}.tmp`, markerPath, JSON.stringify(marker) + '\n');
  return {
    dir: root,
    catalog,
    blobs,
    created: fresh,
    backends: {
      catalog: marker.catalog ?? join(root, 'catalog.sqlite'),
      blobs: marker.blobs ?? join(root, 'blobs'),
    },
    close: async () => {
      blobs.close();
      await catalog.close();
    },
  };
}
