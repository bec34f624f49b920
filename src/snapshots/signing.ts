// Which keys sign a store's new snapshots (docs/signing.md): the store's own signing
// keys (`txrepo key import`, in the catalog, so every server of a shared store signs
// with them) and any a process was given for its life (`serve --signing-key`). The
// catalog's keys are listed again at every commit, so an import or removal takes
// effect at once, on every server; unlocking a key is done once per process.
//
// The signing layer (OpenPGP.js) is loaded only when there is a key: a store without
// one pays nothing for it.

import type { SigningKey, Store } from '../store/index.ts';

/** The part of the signing layer's RepomdSigner a commit uses. */
export interface Signer {
  fingerprints: string[];
  sign(repomd: Uint8Array): Promise<string>;
  publicKeys(): string;
}

interface SigningSetup {
  /** Unlocks the store's keys that are protected. */
  passphrase?: string;
  /** How to give a missing passphrase, in the words of this process (a server: restart it with one). */
  howToGive?: string;
  /** Keys given to this process (already unlocked), beside the store's. */
  keys: Awaited<ReturnType<typeof unlock>>[];
}

const setups = new WeakMap<Store, SigningSetup>();

const signingLayer = () => import('../signing/index.ts');

async function unlock(k: SigningKey, setup: Pick<SigningSetup, 'passphrase' | 'howToGive'>) {
  const { unlockPrivateKey } = await signingLayer();
  return unlockPrivateKey(k.privateKey, `signing key ${k.fingerprint}`, setup.passphrase, setup.howToGive);
}

/** Unlocked store keys, by fingerprint and stored form (a re-imported key is unlocked again). */
const unlocked = new Map<string, ReturnType<typeof unlock>>();

/**
 * Tells how this process signs for `store`: the passphrase of the store's protected
 * keys, and keys of its own (serve --signing-key: armoured private keys, unlocked
 * here). Refuses a key file that cannot sign.
 */
export async function configureSigning(store: Store, opts: { passphrase?: string; howToGive?: string; keyFiles?: { bytes: Uint8Array; source: string; passphrase?: string }[] }): Promise<SigningSetup['keys']> {
  const keys = [];
  if (opts.keyFiles?.length) {
    const { unlockPrivateKey } = await signingLayer();
    for (const f of opts.keyFiles) keys.push(await unlockPrivateKey(f.bytes, f.source, f.passphrase ?? opts.passphrase));
  }
  setups.set(store, { passphrase: opts.passphrase, howToGive: opts.howToGive, keys });
  return keys;
}

/**
 * Starts getting the signer ready (loading OpenPGP.js, unlocking the keys), for an
 * operation that will commit: begun before it reads and stores its packages, it
 * overlaps their I/O. A failure shows at the commit, which asks again.
 */
export function warmSigning(store: Store): void {
  snapshotSigner(store).catch(() => {});
}

/** The signer of the snapshots committed now, or undefined: they are not signed. */
export async function snapshotSigner(store: Store): Promise<Signer | undefined> {
  const setup = setups.get(store) ?? { keys: [] };
  const stored = await store.catalog.listSigningKeys();
  if (!stored.length && !setup.keys.length) return undefined;
  const keys = [...setup.keys];
  for (const k of stored) {
    if (keys.some((x) => x.info.fingerprint === k.fingerprint)) continue;
    const id = `${k.fingerprint}\0${k.privateKey}`;
    if (!unlocked.has(id)) unlocked.set(id, unlock(k, setup));
    try {
      keys.push(await unlocked.get(id)!);
    } catch (e) {
      unlocked.delete(id); // a passphrase given later may do
      throw e;
    }
  }
  const { RepomdSigner } = await signingLayer();
  return new RepomdSigner(keys);
}

/**
 * Every public key the store vouches for, by fingerprint (armoured): the keys that
 * sign its snapshots (the store's and this process's) and those its repositories
 * require their packages to be signed by. Served at /keys/<fingerprint>.asc.
 */
export async function publicKeys(store: Store): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const k of setups.get(store)?.keys ?? []) keys.set(k.info.fingerprint, k.publicKey);
  for (const k of await store.catalog.listSigningKeys()) keys.set(k.fingerprint, k.publicKey);
  for (const r of await store.catalog.listRepos()) for (const k of r.requireSigned ?? []) keys.set(k.fingerprint, k.publicKey);
  return keys;
}
