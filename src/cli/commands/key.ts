// txrepo key import|list|remove

import { actionOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { readKeyFile } from '../key-files.ts';
import { auditScope, type AuditScope, type SigningKey } from '../../store/index.ts';
import { actor, LOCAL_HELP, LOCAL_OPTION, signingPassphrase, withStore } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo key import FILE [--passphrase-file FILE]
       txrepo key list
       txrepo key remove FINGERPRINT

The store's signing keys (docs/signing.md). With at least one, every new snapshot's
repodata/repomd.xml is signed: repodata/repomd.xml.asc (a detached, armoured
OpenPGP signature by each key) and repodata/repomd.xml.key (the public keys) become
files of the snapshot, served on every path and published with it. Two keys at once
is a key rotation: both sign until the old one is removed.

'import' takes an OpenPGP private key, as gpg exports it (export-secret-keys). The
store keeps it as given: a key protected by a passphrase stays protected, and every
command that makes snapshots needs the passphrase, from $TXREPO_SIGNING_PASSPHRASE or
the file $TXREPO_SIGNING_PASSPHRASE_FILE names (serve: --signing-passphrase-file).
The passphrase is checked at import, never stored, printed or logged. Works on the
store directly (whoever can write the store is its administrator).

Options:
      --passphrase-file FILE   the passphrase of the key being imported (first line)
${LOCAL_HELP}
  -h, --help                   this help`;

const options = { ...LOCAL_OPTION, 'passphrase-file': { type: 'string' } } as const;

/** The audit row of a key change, written in the change's transaction. */
function audited(command: string, args: Record<string, unknown>): AuditScope {
  return { entry: (result) => ({ at: new Date().toISOString(), actor: actor(), command, args: JSON.stringify(args), result }), written: false };
}

/** A key as listed: its public facts, never the private key. */
async function shown(k: SigningKey) {
  const { describeKey } = await import('../../signing/index.ts');
  const openpgp = await import('openpgp');
  const info = await describeKey(await openpgp.readKey({ armoredKey: k.publicKey }));
  return { ...info, addedAt: k.addedAt, addedBy: k.addedBy, publicKey: k.publicKey };
}

const line = (k: Awaited<ReturnType<typeof shown>>) => [k.fingerprint, k.algorithm, k.userIds.join(', ') || '-', `added ${k.addedAt} by ${k.addedBy}`, k.expires ? `expires ${k.expires}` : 'no expiry'].join('\t');

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('key', argv, options);
  const [given, arg, ...rest] = positionals;
  const action = actionOf('key', given, ['import', 'list', 'remove']);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (action !== 'list' && !arg) throw new UsageError(action === 'import' ? 'give the private key file: txrepo key import FILE' : 'give the fingerprint: txrepo key remove FINGERPRINT (see txrepo key list)');
  if (action !== 'import' && v['passphrase-file'] !== undefined) throw new UsageError(`--passphrase-file is for 'txrepo key import'; 'key ${action}' does not take it`);
  const signing = await import('../../signing/index.ts');
  // The key is read and unlocked before the store is opened: a bad one changes nothing.
  let unlocked: Awaited<ReturnType<typeof signing.unlockPrivateKey>> | undefined;
  if (action === 'import') {
    const bytes = await readKeyFile(arg!);
    unlocked = await signing.unlockPrivateKey(bytes, arg!, signingPassphrase(v['passphrase-file']));
    if (unlocked.caveat) process.stderr.write(`txrepo: warning: ${arg}: ${unlocked.caveat}\n`);
  }
  return withStore(v, action === 'list' ? 'reads' : 'writes', async ({ catalog }) => {
    switch (action) {
      case 'import': {
        const { fingerprint } = unlocked!.info;
        const k = await auditScope.run(audited('key import', { fingerprint }), () => catalog.addSigningKey({ fingerprint, publicKey: unlocked!.publicKey, privateKey: unlocked!.stored, addedBy: actor() }));
        const view = await shown(k);
        print(v.json, view, () => `imported signing key ${k.fingerprint} (${view.userIds.join(', ') || 'no user id'}); new snapshots are signed with it`);
        return 0;
      }
      case 'list': {
        const keys = await Promise.all((await catalog.listSigningKeys()).map(shown));
        print(v.json, keys, () => keys.map(line).join('\n') || 'no signing keys: snapshots are not signed');
        return 0;
      }
      default: {
        const fingerprint = signing.normalFingerprint(arg!);
        const k = await auditScope.run(audited('key remove', { fingerprint }), () => catalog.removeSigningKey(fingerprint));
        print(v.json, await shown(k), () => `removed signing key ${k.fingerprint}; snapshots it signed keep their signatures`);
        return 0;
      }
    }
  });
}
