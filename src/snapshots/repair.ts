// txrepo fsck --repair: what to do about each damaged blob fsck found. A good copy
// (a file under --from DIR, or the file under --from URL, by the hrefs that use the
// blob) is verified by its sha256 and size, then replaces the damaged blob through the
// blob store, as any write of a blob does (staged, verified, installed atomically and
// durably). Without one, a damaged blob is quarantined (BlobStore.quarantine): the
// server then answers an error for its files rather than wrong bytes. One rule orders
// it: the damaged blob is moved aside before the good copy is stored, since a blob of
// the right size is taken for the right content by every write (a re-hash on every
// deploy would cost a read of each package stored).

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Failure } from '../common/index.ts';
import { BlobMismatchError, type Expected, type Store } from '../store/index.ts';
import type { BlobRepair, DamagedBlob } from './fsck.ts';

export class RepairSourceError extends Failure {
  override name = 'RepairSourceError';
  readonly kind = 'invalid_input';
}

/** Where good copies may be found: a directory of files, or a base URL the hrefs are under. */
type Source = { dir: string; files: Map<string, string[]>; bySize: Map<number, string[]> } | { url: string };

/** A verified good copy of a blob, ready to be stored. */
interface GoodCopy {
  from: string;
  store(expect: Expected): Promise<void>;
  discard(): Promise<void>;
}

/** How long one download of a good copy may take. */
const FETCH_TIMEOUT_MS = 120_000;

/**
 * Repairs each damaged blob: restored from a good copy of `from` (a directory or an
 * http(s) URL), else quarantined when it is present, else left (missing, no copy).
 */
export async function repairBlobs(store: Store, damaged: DamagedBlob[], opts: { from?: string } = {}): Promise<BlobRepair[]> {
  const source = opts.from === undefined ? undefined : await openSource(opts.from);
  const repairs: BlobRepair[] = [];
  for (const d of damaged) repairs.push(await repairOne(store, d, source));
  return repairs;
}

async function repairOne(store: Store, d: DamagedBlob, source: Source | undefined): Promise<BlobRepair> {
  // On a live store a deploy may have put the good bytes back since fsck looked: a
  // sound blob is left alone (quarantining it would take it from its snapshots).
  if (!(await stillDamaged(store, d))) return { digest: d.digest, outcome: 'sound' };
  const size = d.size ?? d.storedSize;
  const copy = source && size !== undefined ? await goodCopy(store, source, d, { digest: d.digest, size }) : undefined;
  // Moved aside first, also when a good copy is at hand: see the head of this file.
  if (d.damage !== 'missing') await store.blobs.quarantine(d.digest);
  if (!copy) return { digest: d.digest, outcome: d.damage === 'missing' ? 'unrepaired' : 'quarantined' };
  try {
    await copy.store({ digest: d.digest, size });
  } catch (e) {
    // The file changed since it was hashed: no good copy after all.
    if (e instanceof BlobMismatchError) return { digest: d.digest, outcome: d.damage === 'missing' ? 'unrepaired' : 'quarantined' };
    throw e;
  } finally {
    await copy.discard();
  }
  return { digest: d.digest, outcome: 'restored', from: copy.from };
}

/** Whether the blob is still as fsck found it: missing, of another size, or not hashing to its name. */
async function stillDamaged(store: Store, d: DamagedBlob): Promise<boolean> {
  const stored = await store.blobs.stat(d.digest);
  if (d.damage === 'missing' || !stored) return !stored;
  if (d.damage === 'wrong-size') return stored.size !== d.size;
  const hash = createHash('sha256');
  try {
    for await (const chunk of await store.blobs.open(d.digest)) hash.update(chunk as Buffer);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
  return hash.digest('hex') !== d.digest;
}

async function openSource(from: string): Promise<Source> {
  if (/^https?:\/\//i.test(from)) {
    try {
      new URL(from);
    } catch {
      throw new RepairSourceError(`--from ${JSON.stringify(from)}: not a URL; give a yum repo's (or a txrepo snapshot's) base URL, or a directory`);
    }
    return { url: from.endsWith('/') ? from : `${from}/` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) throw new RepairSourceError(`--from ${JSON.stringify(from)}: only http(s) URLs and directories hold good copies`);
  const st = await stat(from).catch(() => undefined);
  if (!st?.isDirectory()) throw new RepairSourceError(`--from ${JSON.stringify(from)}: no such directory; give a directory holding good copies of the files, or an http(s) base URL`);
  const files = new Map<string, string[]>();
  const bySize = new Map<number, string[]>();
  for (const entry of await readdir(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue; // symbolic links too: nothing outside DIR is read
    const path = join(entry.parentPath, entry.name);
    const size = (await stat(path)).size;
    push(files, entry.name, path);
    push(bySize, size, path);
  }
  return { dir: from, files, bySize };
}

/** Adds `value` to the list of `key` (a list per key, grown in place: a copy per file was quadratic). */
function push<K>(map: Map<K, string[]>, key: K, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A copy of the blob from `source` that hashes to its digest, or undefined. */
async function goodCopy(store: Store, source: Source, d: DamagedBlob, expect: Required<Expected>): Promise<GoodCopy | undefined> {
  const names = [...new Set(d.users.flatMap((u) => u.hrefs))];
  if ('url' in source) {
    for (const href of names) {
      const copy = await download(store, new URL(href, source.url).toString(), expect);
      if (copy) return copy;
    }
    return undefined;
  }
  // Files named as the blob's files first, then any file of its size: each verified by hash.
  const byName = names.flatMap((href) => source.files.get(basename(href)) ?? []);
  for (const path of new Set([...byName, ...(source.bySize.get(expect.size) ?? [])])) {
    if ((await stat(path)).size !== expect.size || (await sha256Of(path)) !== expect.digest) continue;
    // putFile copies, hashes and verifies again: the file may change after this check.
    return { from: path, store: (e) => store.blobs.putFile(path, e).then(() => {}), discard: async () => {} };
  }
  return undefined;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads `url` into the store's staging area, hashing as it writes; undefined when
 * the answer is not 200, larger than expected, or not the blob. No more than the
 * expected size is ever written.
 */
async function download(store: Store, url: string, expect: Required<Expected>): Promise<GoodCopy | undefined> {
  const staging = store.blobs.stagingPath() ?? join(process.env.TMPDIR ?? '/tmp', `txrepo-repair-${randomBytes(8).toString('hex')}`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch {
    return undefined;
  }
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    return undefined;
  }
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(staging, 'wx', 0o600);
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > expect.size) break;
      hash.update(chunk);
      await fh.write(chunk);
    }
    await fh.close();
  } catch {
    await fh.close().catch(() => {});
    await rm(staging, { force: true });
    return undefined;
  }
  if (size !== expect.size || hash.digest('hex') !== expect.digest) {
    await rm(staging, { force: true });
    return undefined;
  }
  return {
    from: url,
    // Consumed by adopt(), which takes the hash just taken for the truth.
    store: (e) => store.blobs.adopt(staging, e, { hashed: true }).then(() => {}),
    discard: () => rm(staging, { force: true }),
  };
}
