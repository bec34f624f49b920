// Opens (creating on first use) a store. A store is a catalog plus blob storage, and a
// local directory that names them and holds what this machine stages:
//   STORE/txrepo-store.json   format marker, and which catalog and blobs the store uses:
//                             {"format": 1} (the embedded defaults, below), or
//                             {"format": 1, "catalog": "postgres://…", "blobs": "s3://…"}
//   STORE/catalog.sqlite      the embedded catalog (plus -wal and -shm files)
//   STORE/blobs/sha256/..     the local blobs
//   STORE/tmp/                blobs being written, downloads being staged
//
// The marker is written when the directory is first used, with the catalog and blob
// URLs given then (passwords left out: they come from the environment, PGPASSWORD or
// AWS_SECRET_ACCESS_KEY). Later opens may leave them out, and may not give other ones:
// a command that silently opened an empty embedded catalog beside a shared blob store
// would see no snapshots, and its gc would take every blob.

import { mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
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
  close(): Promise<void>;
}

/** Where a store keeps its catalog and blobs; unset: the embedded defaults in its directory. */
export interface Backends {
  /** postgres://USER@HOST:PORT/DATABASE[?schema=NAME] */
  catalog?: string;
  /** s3://BUCKET/PREFIX */
  blobs?: string;
}

export { StoreError };

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
  const text = await readFile(path, 'utf8').catch(() => undefined);
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

/** Removes what a failed first open created: the directory, or the files in it. */
async function forget(root: string, existed: boolean): Promise<void> {
  if (!existed) {
    await rm(root, { recursive: true, force: true });
    return;
  }
  for (const name of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']) await rm(join(root, name), { force: true });
  for (const name of ['tmp', 'blobs/sha256', 'blobs']) await rmdir(join(root, name)).catch(() => {});
}

export async function openStore(dir: string, given: Backends = {}): Promise<Store> {
  // URLs checked before anything is opened or created.
  if (given.catalog !== undefined) (await import('./pg-catalog.ts')).parseCatalogUrl(given.catalog);
  if (given.blobs !== undefined) (await import('./s3-blobs.ts')).parseBlobsUrl(given.blobs);
  const root = resolve(dir);
  const existed = (await stat(root).catch(() => undefined)) !== undefined;
  await mkdir(root, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`--store ${dir}: cannot create the store directory (${e.code ?? e.message})`);
  });
  const markerPath = join(root, MARKER);
  let marker = await readMarker(markerPath, dir);
  const fresh = marker === undefined;
  if (marker === undefined) {
    marker = { format: STORE_FORMAT };
    if (given.catalog !== undefined) marker.catalog = withoutPassword(given.catalog);
    if (given.blobs !== undefined) marker.blobs = withoutPassword(given.blobs);
  }
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
