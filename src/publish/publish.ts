// txrepo publish: keeps a static yum tree (for a public web server, or a bucket behind
// a CDN) at a snapshot, with history. Outside consumers cache metadata and keep
// downloading for a while after it changed, so the tree keeps the last N metadata
// generations (and any younger than D days) and every file they list; only
// repomd.xml (with its signature and keys) is replaced in place, last. See
// docs/publish.md.
//
//   repodata/repomd.xml              the current generation (with repomd.xml.asc
//                                    and repomd.xml.key when it is signed)
//   repodata/..., Packages/...       the files of every kept generation
//   .txrepo-publish/state.json       the kept generations, newest last
//   .txrepo-publish/<repomd sha256>.json   the files of one generation
//
// This file is the rule: what to write, in which order, what to keep and prune. Where
// the tree is (a directory, an S3 prefix) is a PublishTarget's business (target.ts).

import { isRepomdFile, REPOMD_HREF, REPOMD_KEY_HREF, REPOMD_SIGNATURE_HREF } from '../metadata/index.ts';
import { DirTarget } from './dir-target.ts';
import { PublishError, readVerified, STATE_DIR, type PublishedFile, type PublishSource, type PublishTarget } from './target.ts';

export { PublishError, type PublishedFile, type PublishSource, type PublishTarget } from './target.ts';

export interface PublishOptions {
  /** Metadata generations kept, the new one included (default 10). */
  keepMd?: number;
  /** Generations younger than this are kept too (default 0). */
  keepDays?: number;
  now?: Date;
  /** Bytes of the files this run writes (those the tree lacks), as they are written. */
  onProgress?: (done: number, total: number) => void;
}

interface Generation {
  repo: string;
  snapshot: string;
  repomd: string;
  publishedAt: string;
}

interface State {
  format: 1;
  generations: Generation[];
}

export interface PublishResult {
  /** The tree: the directory (absolute) or the s3:// URL. */
  dir: string;
  repo: string;
  snapshot: string;
  /** False when the tree already was at this snapshot. */
  changed: boolean;
  written: number;
  linked: number;
  removed: number;
  generations: number;
}

const STATE = `${STATE_DIR}/state.json`;
const listOf = (g: Generation) => `${STATE_DIR}/${g.repomd}.json`;

/** The switch's files, in their order: the key file first (it only adds keys a client may import), then repomd.xml, then at once its signature. */
const SWITCH_ORDER = [REPOMD_KEY_HREF, REPOMD_HREF, REPOMD_SIGNATURE_HREF];

function safeHref(href: string): string {
  const parts = href.split('/');
  if (href.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || /[\0\\]/.test(href) || parts[0] === STATE_DIR || parts[0] === '.repodata') {
    throw new PublishError(`the snapshot lists a file outside its tree: ${JSON.stringify(href)}`);
  }
  return href;
}

async function readJson<T>(target: PublishTarget, href: string): Promise<T | undefined> {
  const data = await target.read(href);
  if (data === undefined) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    throw new PublishError(`${target.name}/${href} is damaged (not JSON); move ${target.name}/${STATE_DIR} away to start the history afresh`);
  }
}

export interface History {
  generations: Generation[];
  files(g: Generation): Promise<PublishedFile[]>;
}

/** A tree's publish history, as publish keeps it; undefined: the tree has none. */
export async function readGenerations(target: PublishTarget): Promise<History | undefined> {
  const state = await readJson<State>(target, STATE);
  if (!state) return undefined;
  if (!Array.isArray(state.generations) || state.generations.some((g) => typeof g?.repomd !== 'string' || !/^[0-9a-f]{64}$/.test(g.repomd))) {
    throw new PublishError(`${target.name}/${STATE} is damaged (not a list of generations); move ${target.name}/${STATE_DIR} away to start the history afresh`);
  }
  const files = async (g: Generation) => {
    const list = (await readJson<PublishedFile[]>(target, listOf(g))) ?? [];
    if (!Array.isArray(list)) throw new PublishError(`${target.name}/${listOf(g)} is damaged (not a list of files)`);
    for (const f of list) safeHref(String(f?.href));
    return list;
  };
  return { generations: state.generations, files };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n');

/** Publishes `source` to `where` (a PublishTarget, or a directory's path). */
export async function publish(source: PublishSource, where: PublishTarget | string, opts: PublishOptions = {}): Promise<PublishResult> {
  const target = typeof where === 'string' ? new DirTarget(where) : where;
  const keepMd = opts.keepMd ?? 10;
  const keepDays = opts.keepDays ?? 0;
  const now = opts.now ?? new Date();
  const repomdFile = source.files.find((f) => f.href === REPOMD_HREF);
  if (!repomdFile) throw new PublishError(`snapshot ${source.snapshot} has no repodata/repomd.xml`);
  for (const f of source.files) safeHref(f.href);

  await target.lock();
  try {
    const history = await readGenerations(target);
    const previous = history?.generations ?? [];
    const genFiles = async (g: Generation) => (history ? await history.files(g) : []);
    // What the kept generations say each href holds (newest wins).
    const known = new Map<string, string>();
    for (const g of previous) for (const f of await genFiles(g)) known.set(f.href, f.sha256);

    // 1. The files the tree lacks, first: their bytes are the run's progress.
    const replaced = new Set<string>();
    const missing: PublishedFile[] = [];
    for (const f of source.files) {
      if (isRepomdFile(f.href)) continue;
      const size = await target.size(f.href);
      // A file the history says has this content is trusted; any other is checked.
      if (size === f.size && (known.get(f.href) === f.sha256 || (!known.has(f.href) && (await target.sha256(f.href)) === f.sha256))) continue;
      if (size !== undefined) replaced.add(f.href);
      missing.push(f);
    }
    const { written, linked } = await putFiles(source, target, missing, opts.onProgress);
    // 2. Every new file in place, durable and checked; then the generation's list.
    await target.settle();
    const last = previous.at(-1);
    const changed = last?.repomd !== repomdFile.sha256 || written + linked > 0;
    // Publishing the current snapshot again changes nothing, not even its age.
    const gen: Generation = { repo: source.repo, snapshot: source.snapshot, repomd: repomdFile.sha256, publishedAt: changed || !last ? now.toISOString() : last.publishedAt };
    // A tree already at this generation is left alone, unless its repomd.xml (or
    // signature, or keys) was changed or lost since: the switch puts them back.
    if (changed || !(await servesSwitchFiles(source, target))) {
      await target.replace([{ href: listOf(gen), data: Buffer.from(JSON.stringify(source.files)) }]);
      // 3. The switch, last: the commit point.
      await target.replace(await switchEntries(source));
    }

    // 4. History: the newest keepMd generations and those younger than keepDays, minus
    // any whose files this run replaced with other content (they no longer verify).
    const cutoff = now.getTime() - keepDays * 86_400_000;
    const kept: Generation[] = [];
    for (const [i, g] of previous.filter((p) => p.repomd !== gen.repomd).reverse().entries()) {
      const files = await genFiles(g);
      if (files.some((f) => replaced.has(f.href) && source.files.find((s) => s.href === f.href)?.sha256 !== f.sha256)) continue;
      if (i + 1 < keepMd || Date.parse(g.publishedAt) >= cutoff) kept.unshift(g);
    }
    const next: State = { format: 1, generations: [...kept, gen] };
    if (changed || JSON.stringify(next.generations) !== JSON.stringify(previous)) await target.replace([{ href: STATE, data: json(next) }]);

    // 5. Files only dropped generations listed go; files txrepo never published stay.
    const wanted = new Set<string>();
    for (const g of next.generations) for (const f of g === gen ? source.files : await genFiles(g)) wanted.add(f.href);
    let removed = 0;
    for (const g of previous) {
      if (next.generations.some((k) => k.repomd === g.repomd)) continue;
      for (const f of await genFiles(g)) {
        if (wanted.has(f.href) || isRepomdFile(f.href)) continue;
        if (await target.remove(f.href)) removed++;
        wanted.add(f.href); // listed by several dropped generations: once
      }
      await target.remove(listOf(g));
    }
    return { dir: target.name, repo: source.repo, snapshot: source.snapshot, changed, written, linked, removed, generations: next.generations.length };
  } finally {
    await target.unlock();
  }
}

/** Puts the files the tree lacks, counting their bytes as they go. */
async function putFiles(source: PublishSource, target: PublishTarget, missing: PublishedFile[], onProgress: PublishOptions['onProgress']): Promise<{ written: number; linked: number }> {
  const total = missing.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  let written = 0;
  let linked = 0;
  for (const f of missing) {
    const how = await target.put(f, source, (bytes) => onProgress?.((done += bytes), total));
    if (how === 'linked') linked++;
    else written++;
  }
  return { written, linked };
}

/** The switch's files with their content (verified), in their order; undefined: a generation without a signature takes away the one before it. */
async function switchEntries(source: PublishSource): Promise<{ href: string; data: Buffer | undefined }[]> {
  const entries = [];
  for (const href of SWITCH_ORDER) {
    const f = source.files.find((x) => x.href === href);
    entries.push({ href, data: f ? await readVerified(source, f) : undefined });
  }
  return entries;
}

/** Whether the tree's repomd.xml, signature and keys are the source's (absent where it has none). */
async function servesSwitchFiles(source: PublishSource, target: PublishTarget): Promise<boolean> {
  for (const href of SWITCH_ORDER) {
    if ((await target.sha256(href)) !== source.files.find((f) => f.href === href)?.sha256) return false;
  }
  return true;
}
