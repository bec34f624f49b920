// The world of the crash and power-loss scenarios: a template store holding two repos
// with snapshots, tags, sets and a published tree, and the operations of the
// write paths of docs/design.md run against a copy of it. For each operation: its command
// line, and what "before", "after" and "done" mean, so that a trial can check that a
// crash left either the state before or the state after, never a mix.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { asset, assetRpms, cloneTree, mustTx, staticServer, storeState, upstreamRepo, withLocal, type StoreState } from './world.ts';

export interface World {
  /** The template: STORE (the store), PUBLIC (a published tree), never touched by trials. */
  template: string;
  ids: Record<'S1' | 'S2' | 'S3' | 'S4' | 'A1' | 'A2' | 'A3' | 'SET1' | 'SET2', string>;
  upstreamUrl: string;
  /** An upstream of every sample package: more than a batch fsyncs file by file (a sync's blobs made durable by syncfs). */
  manyUpstreamUrl: string;
  before: StoreState;
  close(): Promise<void>;
}

const head = (r: { stdout: string }) => r.stdout.trim().split(/\s/)[0]!;

/**
 * el9 (--retain-last 1): S1 ⊂ S2 ⊂ S3 ⊂ S4, latest.tested → S1.
 * app (--keep 1 --retain-last 1): A1 duck-0.6, A2 duck-0.7, A3 duck-0.8; latest.tested → A1.
 * SET1 pins el9@S2 app@A1 (so gc must keep them); SET2 pins el9@S4 app@A3 (promote).
 * mirror: empty, synced by the sync operation from a small upstream with comps and
 * updateinfo. mirror-many: empty, synced by 'sync many' from an upstream of all 35
 * sample packages (its blobs made durable by one syncfs, src/store/local-blobs.ts). PUBLIC holds el9@S1, published.
 * gc (grace 1 s) therefore removes S3 and A2 and their unique blobs, and nothing else.
 */
export async function buildWorld(work: string): Promise<World> {
  const template = join(work, 'template');
  const store = join(template, 'STORE');
  const tx = (args: string[]) => mustTx(store, args);
  await tx(['repo', 'create', 'el9', '--retain-last', '1']);
  const deploy = async (repo: string, files: string[]) => head(await tx(['deploy', repo, ...files.map(asset)]));
  const S1 = await deploy('el9', ['bear-4.1-1.noarch.rpm', 'camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm', 'cheetah-1.25.3-5.noarch.rpm']);
  const S2 = await deploy('el9', ['chimpanzee-0.21-1.noarch.rpm', 'cockateel-3.1-1.noarch.rpm']);
  const S3 = await deploy('el9', ['cow-2.2-3.noarch.rpm', 'crow-0.8-1.noarch.rpm']);
  const S4 = await deploy('el9', ['giraffe-0.67-2.noarch.rpm']);
  await tx(['tag', 'el9', 'latest.tested', S1]);
  await tx(['repo', 'create', 'app', '--keep', '1', '--retain-last', '1']);
  const A1 = await deploy('app', ['dog-4.23-1.noarch.rpm', 'dolphin-3.10.232-1.noarch.rpm', 'duck-0.6-1.noarch.rpm']);
  const A2 = await deploy('app', ['duck-0.7-1.noarch.rpm']);
  const A3 = await deploy('app', ['duck-0.8-1.noarch.rpm']);
  await tx(['tag', 'app', 'latest.tested', A1]);
  const SET1 = head(await tx(['set', 'create', `el9@${S2}`, `app@${A1}`, '--ttl', '1d', '--label', 'pinned']));
  const SET2 = head(await tx(['set', 'create', `el9@${S4}`, `app@${A3}`, '--ttl', '1d', '--label', 'candidate']));
  await tx(['repo', 'create', 'mirror']);
  await tx(['publish', `el9@${S1}`, join(template, 'PUBLIC')]);
  const up = await upstreamRepo(join(work, 'upstream'), ['elephant-8.3-1.noarch.rpm', 'fox-1.1-2.noarch.rpm', 'frog-0.1-1.noarch.rpm', 'gorilla-0.62-1.noarch.rpm', 'horse-0.22-2.noarch.rpm'], { comps: true });
  const server = await staticServer(up);
  await tx(['repo', 'create', 'mirror-many']);
  const many = await staticServer(await upstreamRepo(join(work, 'upstream-many'), await assetRpms()));
  // gc's grace is 1 s in the trials: the template's blobs and moves must be older.
  await sleep(1100);
  return { template, ids: { S1, S2, S3, S4, A1, A2, A3, SET1, SET2 }, upstreamUrl: server.url, manyUpstreamUrl: many.url, before: await storeState(store), close: async () => {
    await server.close();
    await many.close();
  } };
}

export interface Operation {
  name: string;
  /** The command line, on the trial's copy at `root` (STORE and PUBLIC inside). */
  args(root: string, w: World): string[];
  /**
   * Checks a store after the operation was interrupted: returns what is wrong, if
   * anything. `after` is the state a clean run of the operation leaves.
   */
  interrupted(root: string, w: World, after: StoreState): Promise<string | undefined>;
  /** Which side of the operation an interrupted run left (default: by the store's state). */
  outcome?(root: string, w: World): Promise<'before' | 'after'>;
  /** After the retry (which must succeed): is the operation's effect there? */
  done(root: string, w: World, after: StoreState): Promise<string | undefined>;
}

const json = (v: unknown) => JSON.stringify(v);

/** The state is the state before or the state after (never a mix). */
async function beforeOrAfter(root: string, w: World, after: StoreState): Promise<string | undefined> {
  const now = await storeState(join(root, 'STORE'));
  const strip = (s: StoreState) => json({ ...s, ids: {} });
  if (strip(now) === strip(w.before) || strip(now) === strip(after)) return undefined;
  return `the store is neither in the state before nor in the state after the operation:\n now ${strip(now)}\n before ${strip(w.before)}\n after ${strip(after)}`;
}

async function sameAs(root: string, after: StoreState, pick: (s: StoreState) => unknown): Promise<string | undefined> {
  const now = await storeState(join(root, 'STORE'));
  return json(pick(now)) === json(pick(after)) ? undefined : `expected ${json(pick(after))}, found ${json(pick(now))}`;
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Every file of snapshot `id` but repomd.xml is in the published tree, intact. */
async function snapshotFilesPresent(root: string, w: World, id: string): Promise<string | undefined> {
  return withLocal(join(w.template, 'STORE'), async (t) => {
    for (const f of (await t.showSnapshot('el9', id, { files: true })).files ?? []) {
      if (f.href === 'repodata/repomd.xml') continue;
      const path = join(root, 'PUBLIC', f.href);
      const st = await stat(path).catch(() => undefined);
      if (!st || st.size !== f.size || (await sha256(path)) !== f.sha256) return `PUBLIC: ${f.href} of the older generation (${id}) is ${st ? 'damaged' : 'missing'}`;
    }
    return undefined;
  });
}

/**
 * The published tree serves exactly one snapshot: its repomd.xml is that snapshot's, and
 * every file of the snapshot is in place with its checksum. Returns which, or a problem.
 */
async function publishedSnapshot(root: string, w: World, candidates: string[]): Promise<{ id?: string; problem?: string }> {
  const repomd = await readFile(join(root, 'PUBLIC/repodata/repomd.xml')).catch(() => undefined);
  if (!repomd) return { problem: 'PUBLIC/repodata/repomd.xml is missing' };
  const digest = createHash('sha256').update(repomd).digest('hex');
  return withLocal(join(w.template, 'STORE'), async (t) => {
    for (const id of candidates) {
      const s = await t.showSnapshot('el9', id, { files: true });
      if (s.repomd !== digest) continue;
      for (const f of s.files ?? []) {
        const path = join(root, 'PUBLIC', f.href);
        const st = await stat(path).catch(() => undefined);
        if (!st || st.size !== f.size || (await sha256(path)) !== f.sha256) return { problem: `PUBLIC serves ${id}, but ${f.href} is ${st ? 'damaged' : 'missing'}` };
      }
      return { id };
    }
    return { problem: `PUBLIC/repodata/repomd.xml (${digest}) is no snapshot's among ${candidates.join(', ')}` };
  });
}

const ALL_OPERATIONS: Operation[] = [
  {
    name: 'deploy',
    args: (root) => ['deploy', 'el9', ...['elephant-8.3-1.noarch.rpm', 'fox-1.1-2.noarch.rpm', 'frog-0.1-1.noarch.rpm', 'bear-4.1-1.noarch.rpm'].map(asset), '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => ({ latest: s.repos.el9!.latest, n: s.repos.el9!.packages[s.repos.el9!.latest!] })),
  },
  {
    name: 'sync',
    args: (root, w) => ['sync', 'mirror', '--from', w.upstreamUrl, '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => s.repos.mirror!.latest),
  },
  {
    name: 'sync many',
    args: (root, w) => ['sync', 'mirror-many', '--from', w.manyUpstreamUrl, '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => s.repos['mirror-many']!.latest),
  },
  {
    name: 'tag',
    args: (root, w) => ['tag', 'el9', 'latest.tested', w.ids.S2, '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => s.repos.el9!.tags),
  },
  {
    name: 'set create',
    args: (root) => ['set', 'create', 'el9@latest', 'app@latest', '--ttl', '1h', '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: async (root, _w, after) => {
      const now = await storeState(join(root, 'STORE'));
      const added = after.sets.filter((s) => !now.sets.includes(s));
      return added.length ? `the set ${added[0]} is missing` : undefined;
    },
  },
  {
    name: 'promote',
    args: (root, w) => ['promote', w.ids.SET2, '--tag', 'latest.tested', '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => [s.repos.el9!.tags, s.repos.app!.tags]),
  },
  {
    name: 'publish',
    args: (root, w) => ['publish', `el9@${w.ids.S4}`, join(root, 'PUBLIC'), '--store', join(root, 'STORE')],
    interrupted: async (root, w, after) => {
      const store = await beforeOrAfter(root, w, after);
      if (store) return store;
      const pub = await publishedSnapshot(root, w, [w.ids.S1, w.ids.S4]);
      // Either way, a client holding S1's metadata still finds S1's files.
      return pub.problem ?? (await snapshotFilesPresent(root, w, w.ids.S1));
    },
    outcome: async (root, w) => ((await publishedSnapshot(root, w, [w.ids.S4])).id ? 'after' : 'before'),
    done: async (root, w) => (await publishedSnapshot(root, w, [w.ids.S4])).problem ?? (await snapshotFilesPresent(root, w, w.ids.S1)),
  },
  {
    name: 'gc',
    args: (root) => ['gc', '--grace', '1s', '--store', join(root, 'STORE')],
    interrupted: beforeOrAfter,
    done: (root, _w, after) => sameAs(root, after, (s) => ({ ...s, ids: {} })),
  },
];

/** The operations under test; TXREPO_RELIABILITY_OPS=deploy,gc narrows them (while working on one). */
export const OPERATIONS: Operation[] = process.env.TXREPO_RELIABILITY_OPS ? ALL_OPERATIONS.filter((o) => process.env.TXREPO_RELIABILITY_OPS!.split(',').includes(o.name)) : ALL_OPERATIONS;

/** A fresh copy of the template for one trial. */
export async function trialCopy(w: World, root: string): Promise<void> {
  await cloneTree(w.template, root);
}
