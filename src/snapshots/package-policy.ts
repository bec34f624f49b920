// A repository's package signature policy (docs/signing.md), applied where every
// change of a package list passes: the commit loop. A repo with `requireSigned` takes
// only packages whose every OpenPGP signature verifies against one of its keys (the
// signing layer says which signatures and algorithms: package-signatures.ts). Every
// package a change brings in is checked (a deploy's files, uploads and repo URLs, a
// sync's packages, a copy's); those already in the parent stay, as they were taken.
// One refusal refuses the whole change, before anything is committed.

import type { Repository, Store } from '../store/index.ts';
import type { IngestedPackage } from './ingest.ts';

/** Packages verified already in this process, by policy and digest: a commit that goes round again does not verify them twice. */
const verified = new Set<string>();

/** Refuses, naming the package as its sender knows it, the first of `packages` the repo's policy does not accept. */
export async function requireSigned(store: Store, repo: Repository, packages: IngestedPackage[]): Promise<void> {
  if (!repo.requireSigned?.length || !packages.length) return;
  const policy = repo.requireSigned.map((k) => k.fingerprint).sort().join(',');
  const todo = packages.filter((p) => !verified.has(`${policy}\0${p.digest}`));
  if (!todo.length) return;
  const { loadPolicyKeys, verifyPackageSignatures } = await import('../signing/index.ts');
  const keys = (await Promise.all(repo.requireSigned.map((k) => loadPolicyKeys(k.publicKey, `${repo.name}'s package key ${k.fingerprint}`)))).flat();
  for (const p of todo) {
    const copy = await store.blobs.localCopy(p.digest);
    if (!copy) throw new Error(`${p.source}: its blob ${p.digest} is gone from the store before its signature was checked; deploy it again`);
    try {
      await verifyPackageSignatures(copy.path, keys);
    } catch (e) {
      // The blob's path means nothing to whoever sent the package: its source does.
      if (e instanceof Error) e.message = e.message.replaceAll(copy.path, p.source);
      throw e;
    } finally {
      await copy.release();
    }
    verified.add(`${policy}\0${p.digest}`);
  }
}
