// Opens (creating on first use) a store directory:
//   STORE/txrepo-store.json   format marker: {"format": 1}
//   STORE/catalog.sqlite      the catalog (plus -wal and -shm files)
//   STORE/blobs/sha256/..     the blobs
//   STORE/tmp/                blobs being written

import { mkdir, readFile } from 'node:fs/promises';
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
  close(): Promise<void>;
}

export { StoreError };

export async function openStore(dir: string): Promise<Store> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`--store ${dir}: cannot create the store directory (${e.code ?? e.message})`);
  });
  const marker = join(root, MARKER);
  const text = await readFile(marker, 'utf8').catch(() => undefined);
  if (text === undefined) {
    await replaceFile(`${marker}.${process.pid}.tmp`, marker, JSON.stringify({ format: STORE_FORMAT }) + '\n');
  } else {
    let format: unknown;
    try {
      format = (JSON.parse(text) as { format?: unknown }).format;
    } catch {
      throw new StoreError(`${marker}: not a txrepo store marker; is ${dir} a txrepo store?`);
    }
    if (format !== STORE_FORMAT) throw new StoreError(`${dir}: store format ${String(format)} is not supported by this txrepo (format ${STORE_FORMAT})`);
  }
  const blobs = new LocalBlobStore(root);
  await blobs.init();
  const catalog = new SqliteCatalog(join(root, 'catalog.sqlite'));
  return { dir: root, catalog, blobs, close: () => catalog.close() };
}
