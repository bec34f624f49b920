// npm start: the main job on the embedded defaults. Makes a store in .cache/demo-store
// (SQLite catalog, local blobs), deploys the sample RPMs (samples/zoo, the project's
// own) into a repository "demo", pins a set, then serves it all with `txrepo serve`
// and prints the URLs and a ready dnf command line. The store gets a signing key made
// for it (docs/signing.md), so its snapshots are signed and dnf checks them
// (repo_gpgcheck). Ctrl-C stops it.
//
//   npm start [-- --listen HOST:PORT] [--store DIR]   (default 127.0.0.1:8080, else a free port)

import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalTxrepo } from '../src/core/index.ts';
import { messageWithAdvice } from '../src/cli/advice.ts';
import { startServer } from '../src/server/index.ts';
import { LATEST_INDEX_PATH, setRepoFilePath, snapshotPath, tagPath } from '../src/snapshots/index.ts';
import { openStore } from '../src/store/index.ts';
import { REPOMD_KEY_HREF } from '../src/metadata/index.ts';
import { unlockPrivateKey } from '../src/signing/index.ts';
import * as openpgp from 'openpgp';

const { values } = parseArgs({ options: { listen: { type: 'string' }, store: { type: 'string' } } });
const root = resolve(import.meta.dirname, '..');
const samples = join(root, 'samples/zoo');
const dir = resolve(values.store ?? join(root, '.cache/demo-store'));

const rpms = (await readdir(samples).catch(() => [] as string[])).filter((f) => f.endsWith('.rpm'));
if (rpms.length === 0) {
  process.stderr.write(`npm start: the sample packages are missing (${samples}); run it from a complete checkout of txrepo\n`);
  process.exit(1);
}

await rm(dir, { recursive: true, force: true });
const store = await openStore(dir);
// A key of the demo's own, made now (a real store imports one: txrepo key import).
// EdDSA as GnuPG 2.2 knows it (the RFC 9580 Ed25519 is beyond the gpg that dnf's
// librepo uses on many distributions: docs/signing.md).
const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'txrepo demo', email: 'demo@txrepo.invalid' }], format: 'object' });
const { fingerprint, publicKey } = await unlockPrivateKey(privateKey.armor(), 'the demo key').then((k) => ({ fingerprint: k.info.fingerprint, publicKey: k.publicKey }));
await store.catalog.addSigningKey({ fingerprint, publicKey, privateKey: privateKey.armor(), addedBy: 'demo' });
const tx = new LocalTxrepo(store, 'demo');
await tx.createRepo({ name: 'demo' });
// Two deploys, as two CI builds would make them: two snapshots, latest on the second.
const half = Math.floor(rpms.length / 2);
const first = await tx.deploy({ repo: 'demo', sources: rpms.slice(0, half).map((f) => join(samples, f)), message: 'first build' });
const second = await tx.deploy({ repo: 'demo', sources: rpms.slice(half).map((f) => join(samples, f)), message: 'second build' });
await tx.tag({ repo: 'demo', tag: 'latest.tested', ref: first.snapshot, reason: 'the demo tests passed' });
const set = await tx.createSet({ refs: ['demo'], label: 'demo run', ttl: 'forever' });

const listen = async (address: string) => startServer({ store, listen: address, graceMs: 3_600_000, explain: messageWithAdvice });
let running;
try {
  running = await listen(values.listen ?? '127.0.0.1:8080');
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || values.listen) throw e;
  running = await listen('127.0.0.1:0');
}
const url = running.url;
console.log(`txrepo demo: store ${dir}, serving on ${url}

  repository demo: ${second.packages} packages in 2 snapshots (${first.snapshot}, ${second.snapshot})
  latest           ${url}${tagPath('demo', 'latest')}
  latest.tested    ${url}${tagPath('demo', 'latest.tested')}
  a snapshot       ${url}${snapshotPath('demo', first.snapshot)}
  a set            ${url}${setRepoFilePath(set.id)}
  the index        ${url}${LATEST_INDEX_PATH}

Install from it with dnf (into a throw-away root), checking the snapshot's signature
(repo_gpgcheck; signed by ${fingerprint}):
  dnf --installroot="$(mktemp -d)" --releasever=1 --setopt=reposdir=/nonexistent --setopt=gpgcheck=0 \\
      --setopt=demo.repo_gpgcheck=1 --setopt=demo.gpgkey=${url}${tagPath('demo', 'latest')}${REPOMD_KEY_HREF} \\
      --repofrompath=demo,${url}${tagPath('demo', 'latest')} --repo=demo -y install bear

Or work on the store with the CLI:
  bin/txrepo snapshots demo --store ${dir}
  bin/txrepo diff demo@${first.snapshot} demo@${second.snapshot} --store ${dir}

Ctrl-C stops the server.`);

await new Promise<void>((done) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
});
await running.close();
await store.close();
