// Worker thread body: reads packages and renders their XML chunks, so the main thread
// only orders and compresses. Messages: ReadTask in, ReadResult out.

import { parentPort } from 'node:worker_threads';
import { renderPackage, type RenderedPackage } from '../metadata/index.ts';
import { readPackageSync, type ChecksumType } from '../rpm/index.ts';

export interface ReadTask {
  id: number;
  path: string;
  href: string;
  base?: string;
  checksumType: ChecksumType;
  changelogLimit: number;
}

export type ReadResult =
  | ({ id: number; ok: true } & RenderedPackage)
  | { id: number; ok: false; name: string; message: string };

export function renderTask(t: ReadTask): ReadResult {
  try {
    const r = readPackageSync(t.path, { checksumType: t.checksumType, locationHref: t.href, locationBase: t.base });
    return { id: t.id, ok: true, ...renderPackage(r, t.changelogLimit) };
  } catch (e) {
    const err = e as Error;
    return { id: t.id, ok: false, name: err.name, message: err.message };
  }
}

parentPort?.on('message', (batch: ReadTask[]) => {
  parentPort!.postMessage(batch.map(renderTask));
});
