// The commit loop (src/snapshots/commit.ts), in this process, on this pass's backends:
// each kind of change gives exactly the pages a full cut of the new list would, says
// what it added and removed, makes no snapshot when nothing changes, and commits that
// race all land, one on top of the other.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commitOnLatest, fsck, ingestFiles, type CommitRequest, type IngestedPackage } from '../../src/snapshots/index.ts';
import { BlobMismatchError, paginate, type Store } from '../../src/store/index.ts';
import { openTestStore } from '../helpers/backends.ts';
import { SAMPLES } from '../helpers/samples.ts';

let dir: string;
let store: Store;
/** The sample packages, ingested once: their blobs and records. */
let samples: IngestedPackage[];
let repos = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrepo-commit-'));
  store = await openTestStore(join(dir, 'store'));
  const files = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).sort();
  samples = await ingestFiles(store, files.map((f) => join(SAMPLES, f)));
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** `n` packages under hrefs of their own (the samples' blobs and records, many times over): many pages. */
function many(prefix: string, n: number): IngestedPackage[] {
  return Array.from({ length: n }, (_, i) => {
    const p = samples[i % samples.length];
    const name = `${prefix}${i}-${p.href.slice(p.href.lastIndexOf('/') + 1)}`;
    return { ...p, href: `Packages/${name[0]}/${name}` };
  });
}

async function newRepo(): Promise<string> {
  const name = `r${repos++}`;
  await store.catalog.createRepo({ name, createdBy: 'test' });
  return name;
}

const commit = (repo: string, change: CommitRequest['change'], extra: Partial<CommitRequest> = {}) => commitOnLatest(store, { repo, change, actor: 'test', message: 'test', ...extra });

/** The snapshot's pages are those a full cut of `expected` gives, and the store is sound. */
async function assertPagesOf(id: string, expected: IngestedPackage[]) {
  const full = paginate(expected.map((p) => ({ href: p.href, digest: p.digest, size: p.size, kind: 'package' as const })));
  assert.deepEqual((await store.catalog.snapshotPages(id)).map((p) => p.key), full.map((p) => p.key));
  assert.deepEqual((await fsck(store, {})).problems, []);
}

const hrefs = (list: { href: string }[]) => list.map((p) => p.href).sort();

/** Another package (blob and record) under the href of `p`: a rebuild. */
const rebuildOf = (p: IngestedPackage): IngestedPackage => ({ ...samples.find((s) => s.digest !== p.digest)!, href: p.href, source: 'elsewhere' });

describe('the commit loop', () => {
  test('remove: pages as a full cut gives them, whichever packages go (the last of a page too)', async () => {
    const repo = await newRepo();
    const all = many('', 400);
    const first = await commit(repo, { kind: 'add', packages: all, sameHref: 'refuse' });
    const pages = await store.catalog.snapshotPages(first.latest);
    assert.ok(pages.length >= 8, `${pages.length} pages`);
    // The last package of pages (a boundary gone: the page runs on into the next), of
    // two pages in a row, every package of one page, the list's very last, one inside
    // a page, and one the list lacks.
    const whole = new Set((await store.catalog.getPages([pages[5].key])).get(pages[5].key)!.map((f) => f.href));
    const gone = new Set([pages[0].last, pages[2].last, pages[3].last, pages.at(-1)!.last, ...whole, all[7].href]);
    const r = await commit(repo, { kind: 'remove', hrefs: [...gone, 'Packages/n/not-there-1-1.noarch.rpm'] }, { message: ({ removed }) => `remove ${removed.length}` });
    assert.deepEqual(hrefs(r.removed.map((href) => ({ href }))), [...gone].sort());
    assert.deepEqual(r.added, []);
    assert.equal(r.packages, all.length - gone.size);
    assert.equal(r.snapshot?.message, `remove ${gone.size}`);
    assert.equal(r.snapshot?.parent, first.latest);
    await assertPagesOf(r.latest, all.filter((p) => !gone.has(p.href)));
    // Nothing left to remove: no snapshot.
    const again = await commit(repo, { kind: 'remove', hrefs: [pages[0].last] });
    assert.equal(again.unchanged, true);
    assert.equal(again.latest, r.latest);
  });

  test('replace: the list becomes the one given; added and removed say what changed', async () => {
    const repo = await newRepo();
    const all = many('', 300);
    await commit(repo, { kind: 'add', packages: all, sameHref: 'refuse' });
    const rebuilt = rebuildOf(all[50]);
    const next = [...all.slice(40), ...many('new', 5)].map((p) => (p.href === rebuilt.href ? rebuilt : p));
    const r = await commit(repo, { kind: 'replace', packages: next });
    assert.deepEqual(hrefs(r.added.map((href) => ({ href }))), hrefs([...many('new', 5), rebuilt]));
    assert.deepEqual(hrefs(r.removed.map((href) => ({ href }))), hrefs(all.slice(0, 40)));
    await assertPagesOf(r.latest, next);
    const same = await commit(repo, { kind: 'replace', packages: [...next].reverse() });
    assert.equal(same.unchanged, true);
    assert.equal(same.packages, next.length);
  });

  test("add: an href already there takes the new content where the change says so, and is refused where not", async () => {
    const repo = await newRepo();
    const all = many('', 100);
    await commit(repo, { kind: 'add', packages: all, sameHref: 'refuse' });
    const other = rebuildOf(all[3]);
    await assert.rejects(commit(repo, { kind: 'add', packages: [other], sameHref: 'refuse' }), /is already in r\d+ with different content/);
    await assert.rejects(commit(repo, { kind: 'add', packages: [all[3], other], sameHref: 'refuse' }), /two different files named/);
    const r = await commit(repo, { kind: 'add', packages: [other, all[4]], sameHref: 'replace' });
    assert.deepEqual(r.added, [other.href]);
    await assertPagesOf(r.latest, all.map((p) => (p.href === other.href ? other : p)));
  });

  test('extra metadata: a change of it alone makes a snapshot, the same again none', async () => {
    const repo = await newRepo();
    const extra = async (text: string) => {
      const blob = await store.blobs.putBytes(Buffer.from(text));
      const href = `repodata/${blob.digest}-comps.xml`;
      return { record: { type: 'group', href, checksum: { type: 'sha256', value: blob.digest }, timestamp: 1, size: blob.size }, file: { href, digest: blob.digest, size: blob.size, kind: 'metadata' as const } };
    };
    const change = { kind: 'add', packages: samples.slice(0, 3), sameHref: 'replace' } as const;
    const first = await commit(repo, change, { extras: [await extra('<comps>1</comps>')] });
    const same = await commit(repo, change, { extras: [await extra('<comps>1</comps>')] });
    assert.equal(same.unchanged, true);
    const other = await commit(repo, change, { extras: [await extra('<comps>2</comps>')] });
    assert.equal(other.unchanged, false);
    assert.equal(other.snapshot?.parent, first.latest);
    assert.ok((await store.catalog.snapshotMetadata(other.latest)).some((f) => f.href.endsWith('-comps.xml')));
    assert.deepEqual((await fsck(store, {})).problems, []);
  });

  test('commits that race all land: each builds again on top of the one that won', async () => {
    const repo = await newRepo();
    await commit(repo, { kind: 'add', packages: many('base', 50), sameHref: 'refuse' });
    const batches = Array.from({ length: 6 }, (_, i) => many(`b${i}-`, 3));
    const results = await Promise.all(batches.map((b) => commit(repo, { kind: 'add', packages: b, sameHref: 'refuse' })));
    assert.equal(new Set(results.map((r) => r.latest)).size, batches.length, 'each commit made its own snapshot');
    const snapshots = await store.catalog.listSnapshots(repo);
    for (let i = 1; i < snapshots.length; i++) assert.equal(snapshots[i].parent, snapshots[i - 1].id, 'the parents form one chain');
    await assertPagesOf(snapshots.at(-1)!.id, [...many('base', 50), ...batches.flat()]);
  });
});

describe('ingest of local files', () => {
  test('a file that changes after it was read is refused, naming it, and the store stays sound', async () => {
    // Enough files for the blob batch to make them durable with one syncfs (SYNCFS_FROM).
    const src = join(dir, 'changing');
    await mkdir(src);
    const names = (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm'));
    const paths: string[] = [];
    for (let i = 0; paths.length < 40; i++) {
      const path = join(src, `c${i}-${names[i % names.length]}`);
      await copyFile(join(SAMPLES, names[i % names.length]), path);
      paths.push(path);
    }
    const victim = paths[17];
    const changed = await readFile(victim);
    changed[changed.length - 1] ^= 0xff; // the payload's last byte: same size, other content
    await assert.rejects(
      // Every file is read before any is stored: its last read is the moment to change one.
      ingestFiles(store, paths, (done, total) => {
        if (done === total) writeFileSync(victim, changed);
      }),
      (e: unknown) => e instanceof BlobMismatchError && e.message.startsWith(`${victim}: sha256 is `),
    );
    assert.deepEqual((await fsck(store, {})).problems, []);
  });
});
