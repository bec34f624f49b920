// Sync benchmarks: `txrepo sync` of an upstream that nginx serves on loopback (a static
// copy of a createrepo_c'd repo, as a mirror is) vs `dnf reposync` of the same upstream:
//  - the small packages of the corpus, side by side (wall, CPU, peak RSS);
//  - a large upstream (50,000 packages by default, --sync-large) for txrepo's peak RSS
//    against its budget (300 MiB). Its packages are the small corpus hard-linked again
//    under distinct file names in r0/, r1/, ... (as bench/store.ts and bench/backends.ts
//    reach their sizes): the same NEVRAs at distinct locations, distinct records to
//    download, verify and catalog, though the store keeps each blob once.

import { link, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, median, spread, type Measure } from './measure.ts';
import { startNginx } from './nginx.ts';

const TXREPO = join(import.meta.dirname, '..', 'bin', 'txrepo');

export interface SyncRow {
  scenario: string;
  packages: number;
  txrepo: Measure;
  /** dnf reposync of the same upstream; absent for the large upstream. */
  reference?: Measure;
  /** (slowest - fastest) / median wall of txrepo's and of the reference's runs. */
  spread: { txrepo: number; reference?: number };
}

/** The sync RSS budget of issue 19, for the large upstream. */
export const SYNC_RSS_BUDGET_MIB = 300;

/** A repo directory of `count` packages from the corpus, r0/, r1/, ... as needed, createrepo_c'd. */
async function upstreamOf(dir: string, smallDir: string, corpus: string[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const f = corpus[i % corpus.length];
    const r = Math.floor(i / corpus.length);
    if (i % corpus.length === 0) await mkdir(join(dir, `r${r}`), { recursive: true });
    await link(join(smallDir, f), join(dir, `r${r}`, count <= corpus.length ? f : `r${r}-${f}`));
  }
  await measure('createrepo_c', ['--no-database', '--quiet', '--workers', '2', dir]);
}

// What each run wrote (a store, a reposync tree: thousands of new files) is left in
// `work` until the whole benchmark ends, not removed between runs. On ext4 without a
// journal (these machines' file system), creating a file within minutes of deleting
// thousands walks past every recently deleted inode of its group (the kernel's
// recently_deleted(), seen with perf: most of a run's system time), so each tool's
// run paid for the other's cleanup: a sync of 5,000 packages took 1.5-1.8 s of system
// time after nothing was deleted and 3.5-5.7 s after a run's output was, for both tools.

async function txrepoSync(work: string, url: string, name: string): Promise<Measure> {
  const store = join(work, `store-${name}`);
  await measure(TXREPO, ['repo', 'create', 'up', '--store', store]);
  return measure(TXREPO, ['sync', 'up', '--quiet', '--from', url, '--store', store]);
}

async function reposync(work: string, url: string, name: string): Promise<Measure> {
  const dest = join(work, `reposync-${name}`);
  const root = join(work, `reposync-root-${name}`);
  await mkdir(root, { recursive: true });
  return measure('dnf', [
    'reposync', '-q', `--installroot=${root}`, '--releasever=1', '--setopt=reposdir=/nonexistent',
    `--repofrompath=up,${url}`, '--repoid=up', '--download-metadata', '--norepopath', '-p', dest,
  ]);
}

export async function syncBench(opts: { smallDir: string; work: string; runs: number; small: number; large: number }): Promise<SyncRow[]> {
  const { work, runs } = opts;
  const corpus = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort();
  const rows: SyncRow[] = [];

  const small = Math.min(opts.small, corpus.length);
  const up = join(work, 'upstream-small');
  await upstreamOf(up, opts.smallDir, corpus, small);
  let nginx = await startNginx(join(work, 'nginx-small'), up);
  try {
    // One unmeasured reposync to warm the page cache for both.
    await reposync(work, nginx.url, 'warm');
    const t: Measure[] = [];
    const r: Measure[] = [];
    for (let i = 0; i < runs; i++) {
      r.push(await reposync(work, nginx.url, String(i)));
      t.push(await txrepoSync(work, nginx.url, String(i)));
    }
    rows.push({ scenario: `sync ${small} small packages from nginx`, packages: small, txrepo: median(t), reference: median(r), spread: { txrepo: spread(t), reference: spread(r) } });
    process.stderr.write(`  sync ${small}: txrepo ${median(t).wall} s, dnf reposync ${median(r).wall} s\n`);
  } finally {
    await nginx.stop();
    await rm(up, { recursive: true, force: true });
  }

  if (opts.large > 0) {
    const big = join(work, 'upstream-large');
    process.stderr.write(`sync bench: an upstream of ${opts.large} packages\n`);
    await upstreamOf(big, opts.smallDir, corpus, opts.large);
    nginx = await startNginx(join(work, 'nginx-large'), big);
    try {
      const t = await txrepoSync(work, nginx.url, 'large');
      rows.push({ scenario: `sync ${opts.large} packages from nginx`, packages: opts.large, txrepo: t, spread: { txrepo: 0 } });
      process.stderr.write(`  sync ${opts.large}: txrepo ${t.wall} s, ${(t.rssKiB / 1024).toFixed(0)} MiB\n`);
    } finally {
      await nginx.stop();
      await rm(big, { recursive: true, force: true });
    }
  }
  return rows;
}
