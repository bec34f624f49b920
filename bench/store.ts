// Store benchmarks, side by side with the reference tools:
//  - deploying 10 new packages into a repo of ~20,000 packages vs createrepo_c --update
//    of the same directory (the cost of a snapshot should follow the change);
//  - the same deploys with a signing key in the store vs without (signing each
//    snapshot's repomd.xml should cost little: issue 16's goal, within 10%);
//  - syncing an upstream served on loopback vs dnf reposync of the same upstream.

import { cp, link, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { serveDirectory } from '../test/helpers/http.ts';
import { measure, median, type Measure } from './measure.ts';

export interface Row {
  scenario: string;
  txrepo: Measure;
  reference: Measure;
  referenceName: string;
}

const TXREPO = join(import.meta.dirname, '..', 'bin', 'txrepo');

async function run(cmd: string, args: string[]): Promise<void> {
  await measure(cmd, args);
}

export async function storeBench(opts: { smallDir: string; work: string; runs: number; replicas: number }): Promise<Row[]> {
  const { work, runs } = opts;
  const small = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort();
  // Held back: 10 per run unsigned, 10 per run signed.
  const heldBack = small.slice(0, 20 * runs);
  const base = small.slice(20 * runs);

  // A directory of base x replicas packages (hard links under distinct names).
  const bigDir = join(work, 'big');
  for (let r = 0; r < opts.replicas; r++) {
    await mkdir(join(bigDir, `r${r}`), { recursive: true });
    for (const f of base) await link(join(opts.smallDir, f), join(bigDir, `r${r}`, `r${r}-${f}`));
  }
  const total = base.length * opts.replicas;
  const batches = Array.from({ length: runs }, (_, i) => heldBack.slice(i * 10, i * 10 + 10).map((f) => join(opts.smallDir, f)));
  const signedBatches = Array.from({ length: runs }, (_, i) => heldBack.slice((runs + i) * 10, (runs + i) * 10 + 10).map((f) => join(opts.smallDir, f)));
  process.stderr.write(`store bench: a repo of ${total} packages\n`);

  // txrepo: deploy everything once, then measure deploys of 10 new packages each.
  const store = join(work, 'store');
  await run(TXREPO, ['repo', 'create', 'big', '--store', store]);
  await run(TXREPO, ['deploy', 'big', bigDir, '--store', store]);
  const tx: Measure[] = [];
  for (const batch of batches) tx.push(await measure(TXREPO, ['deploy', 'big', ...batch, '--store', store]));
  // The same store with a signing key (RSA 3072, as docs/signing.md advises; protected,
  // as a real one is): alternating signed and unsigned deploys would need a key
  // removed each time, so the signed ones follow the unsigned ones.
  const key = join(work, 'signing.sec');
  const { privateKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: 3072, userIDs: [{ name: 'bench' }], passphrase: 'bench', format: 'armored' });
  await writeFile(key, privateKey);
  await writeFile(join(work, 'pass'), 'bench\n');
  await run(TXREPO, ['key', 'import', key, '--passphrase-file', join(work, 'pass'), '--store', store]);
  const env = { ...process.env, TXREPO_SIGNING_PASSPHRASE_FILE: join(work, 'pass') };
  const signed: Measure[] = [];
  for (const batch of signedBatches) signed.push(await measure(TXREPO, ['deploy', 'big', ...batch, '--store', store], env));

  // createrepo_c --update: the same directory plus the 10 new packages, from the same baseline.
  await run('createrepo_c', ['--no-database', '--quiet', bigDir]);
  const baseline = join(work, 'baseline-repodata');
  await cp(join(bigDir, 'repodata'), baseline, { recursive: true, preserveTimestamps: true });
  const cr: Measure[] = [];
  for (const batch of batches) {
    await mkdir(join(bigDir, 'added'), { recursive: true });
    for (const f of batch) await link(f, join(bigDir, 'added', f.slice(f.lastIndexOf('/') + 1)));
    cr.push(await measure('createrepo_c', ['--no-database', '--quiet', '--update', bigDir]));
    await rm(join(bigDir, 'added'), { recursive: true });
    await rm(join(bigDir, 'repodata'), { recursive: true });
    await cp(baseline, join(bigDir, 'repodata'), { recursive: true, preserveTimestamps: true });
  }
  const rows: Row[] = [
    { scenario: `deploy 10 into ${total} packages`, txrepo: median(tx), reference: median(cr), referenceName: 'createrepo_c --update' },
    { scenario: `deploy 10 into ${total}, signed`, txrepo: median(signed), reference: median(tx), referenceName: 'the same deploy unsigned' },
  ];
  for (const r of rows) process.stderr.write(`  ${r.scenario}: txrepo ${r.txrepo.wall} s, ${r.referenceName} ${r.reference.wall} s\n`);

  // Sync vs reposync, of an upstream of the small packages served on loopback.
  const upstream = join(work, 'upstream');
  await mkdir(upstream);
  for (const f of small) await link(join(opts.smallDir, f), join(upstream, f));
  await run('createrepo_c', ['--no-database', '--quiet', upstream]);
  const server = await serveDirectory(upstream);
  try {
    const syncs: Measure[] = [];
    const reposyncs: Measure[] = [];
    for (let i = 0; i < runs; i++) {
      const s = join(work, `sync-store-${i}`);
      await run(TXREPO, ['repo', 'create', 'up', '--store', s]);
      syncs.push(await measure(TXREPO, ['sync', 'up', '--from', server.url, '--store', s]));
      await rm(s, { recursive: true, force: true });
      const dest = join(work, `reposync-${i}`);
      const root = join(work, `reposync-root-${i}`);
      await mkdir(root, { recursive: true });
      reposyncs.push(
        await measure('dnf', [
          'reposync', '-q', `--installroot=${root}`, '--releasever=1', '--setopt=reposdir=/nonexistent',
          `--repofrompath=up,${server.url}`, '--repoid=up', '--download-metadata', '--norepopath', '-p', dest,
        ]),
      );
      await rm(dest, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    }
    rows.push({ scenario: `sync ${small.length} packages over loopback`, txrepo: median(syncs), reference: median(reposyncs), referenceName: 'dnf reposync' });
    process.stderr.write(`  ${rows.at(-1)!.scenario}: txrepo ${rows.at(-1)!.txrepo.wall} s, dnf reposync ${rows.at(-1)!.reference.wall} s\n`);
  } finally {
    await server.close();
  }
  return rows;
}
