// Store benchmarks, side by side with the reference tools:
//  - deploying 10 new packages into a repo of ~20,000 packages vs createrepo_c --update
//    of the same directory (the cost of a snapshot should follow the change);
//  - the same deploys with a signing key vs without, from the CLI and through a server
//    (signing each snapshot's repomd.xml should cost little: signingBench);
//  (sync vs dnf reposync is in bench/sync.ts.)

import { cp, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { mustRun } from '../test/helpers/run.ts';
import { serve } from '../test/helpers/serve.ts';
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

/** Kinds of deploy signingBench measures, besides the plain local one. */
const SIGNING_KINDS = 4;

/**
 * Deploys of 10 with a signing key (RSA 3072, as docs/signing.md advises) vs the same
 * deploys without, on the store of storeBench: from the CLI with a key stored without
 * a passphrase, with one (its key derivation is slow on purpose, and a CLI process
 * pays it each time), and through `txrepo serve`, which unlocks the key once. The
 * signed deploys follow the unsigned ones: alternating would need a key removed each
 * time. `local` are the plain local deploys measured before.
 */
async function signingBench(work: string, store: string, batchesOf: (k: number) => string[][], local: Measure[]): Promise<Row[]> {
  const pass = join(work, 'pass');
  await writeFile(pass, 'bench\n');
  const keyFile = async (name: string, passphrase?: string) => {
    const { privateKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: 3072, userIDs: [{ name }], format: 'armored', ...(passphrase && { passphrase }) });
    await writeFile(join(work, `${name}.sec`), privateKey);
    return join(work, `${name}.sec`);
  };
  const deploys = async (k: number, extra: string[], env = process.env) => {
    const out: Measure[] = [];
    for (const batch of batchesOf(k)) out.push(await measure(TXREPO, ['deploy', 'big', ...batch, ...extra], env));
    return out;
  };
  const served = async <T>(args: string[], fn: (server: string[]) => Promise<T>): Promise<T> => {
    const s = await serve(store, args);
    try {
      const token = (await mustRun(TXREPO, ['token', 'create', `bench-${Date.now()}`, '--scope', 'admin', '--store', store])).stdout.trim();
      return await fn(['--server', s.url, '--token', token]);
    } finally {
      await s.stop();
    }
  };
  const viaServer = await served([], (server) => deploys(1, server));
  const plainKey = await keyFile('plain');
  await run(TXREPO, ['key', 'import', plainKey, '--store', store]);
  const unprotected = await deploys(2, ['--store', store]);
  await run(TXREPO, ['key', 'remove', await fingerprintOf(plainKey), '--store', store]);
  await run(TXREPO, ['key', 'import', await keyFile('protected', 'bench'), '--passphrase-file', pass, '--store', store]);
  const protectedLocal = await deploys(3, ['--store', store], { ...process.env, TXREPO_SIGNING_PASSPHRASE_FILE: pass });
  const signedViaServer = await served(['--signing-passphrase-file', pass], (server) => deploys(4, server));
  const unsigned = 'the same deploy unsigned';
  return [
    { scenario: 'deploy 10, signed, plain key', txrepo: median(unprotected), reference: median(local), referenceName: unsigned },
    { scenario: 'deploy 10, signed, protected key', txrepo: median(protectedLocal), reference: median(local), referenceName: unsigned },
    { scenario: 'deploy 10 via serve, signed', txrepo: median(signedViaServer), reference: median(viaServer), referenceName: `${unsigned}, via serve` },
  ];
}

async function fingerprintOf(keyFile: string): Promise<string> {
  return (await openpgp.readKey({ armoredKey: await readFile(keyFile, 'utf8') })).getFingerprint();
}

export async function storeBench(opts: { smallDir: string; work: string; runs: number; replicas: number }): Promise<Row[]> {
  const { work, runs } = opts;
  const small = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort();
  // Held back: 10 per run for each kind of deploy measured (SIGNING_KINDS + unsigned).
  const heldBack = small.slice(0, 10 * runs * (SIGNING_KINDS + 1));
  const base = small.slice(10 * runs * (SIGNING_KINDS + 1));

  // A directory of base x replicas packages (hard links under distinct names).
  const bigDir = join(work, 'big');
  for (let r = 0; r < opts.replicas; r++) {
    await mkdir(join(bigDir, `r${r}`), { recursive: true });
    for (const f of base) await link(join(opts.smallDir, f), join(bigDir, `r${r}`, `r${r}-${f}`));
  }
  const total = base.length * opts.replicas;
  const batchesOf = (k: number) => Array.from({ length: runs }, (_, i) => heldBack.slice((k * runs + i) * 10, (k * runs + i) * 10 + 10).map((f) => join(opts.smallDir, f)));
  const batches = batchesOf(0);
  process.stderr.write(`store bench: a repo of ${total} packages\n`);

  // txrepo: deploy everything once, then measure deploys of 10 new packages each.
  const store = join(work, 'store');
  await run(TXREPO, ['repo', 'create', 'big', '--store', store]);
  await run(TXREPO, ['deploy', 'big', bigDir, '--store', store]);
  const tx: Measure[] = [];
  for (const batch of batches) tx.push(await measure(TXREPO, ['deploy', 'big', ...batch, '--store', store]));
  const signing = await signingBench(work, store, batchesOf, tx);
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
  const rows: Row[] = [{ scenario: `deploy 10 into ${total} packages`, txrepo: median(tx), reference: median(cr), referenceName: 'createrepo_c --update' }, ...signing];
  for (const r of rows) process.stderr.write(`  ${r.scenario}: txrepo ${r.txrepo.wall} s, ${r.referenceName} ${r.reference.wall} s\n`);

  return rows;
}
