// needs: gpg
// The store's signing keys (docs/signing.md): `txrepo key import|list|remove`, and the
// signature every new snapshot then carries. Keys are made at run time; real gpg
// checks the signatures. A key that cannot sign, a wrong or missing passphrase, a
// public key or garbage is refused naming the file, and changes nothing; a protected
// key without its passphrase makes no snapshot; the passphrase and the private key
// never show in any output or the audit log.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { loadPolicyKeys } from '../../src/signing/index.ts';
import { blobPath } from '../../src/store/blob-layout.ts';
import { LOCAL_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';

const exec = promisify(execFile);
const PASSPHRASE = 'correct horse battery staple';

let dir: string;
let store: string;
let tx: ReturnType<typeof inStore>;
/** Key files: unprotected EdDSA, protected RSA, a public key, an expired key, garbage, empty. */
const files: Record<string, string> = {};
const fingerprints: Record<string, string> = {};

type KeyOptions = Omit<Parameters<typeof openpgp.generateKey>[0], 'format' | 'userIDs'>;

async function makeKey(name: string, opts: KeyOptions) {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: `txrepo ${name}`, email: `${name}@example.test` }], ...opts, format: 'armored' });
  files[name] = join(dir, `${name}.sec`);
  files[`${name}.pub`] = join(dir, `${name}.pub`);
  await writeFile(files[name], privateKey);
  await writeFile(files[`${name}.pub`], publicKey);
  fingerprints[name] = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint();
}

/** What a snapshot's repodata holds: the files of `txrepo show --files`. */
async function repodataOf(ref: string): Promise<Map<string, string>> {
  const shown = JSON.parse((await tx(['show', ref, '--files', '--json'])).stdout) as { files: { href: string; sha256: string }[] };
  return new Map(shown.files.filter((f) => f.href.startsWith('repodata/')).map((f) => [f.href, f.sha256]));
}

/** gpg --verify of a snapshot's repomd.xml.asc, in a keyring holding only `keys`: the good signatures' key ids. */
async function gpgVerify(ref: string, keys: string[]): Promise<string[]> {
  const out = join(dir, `export-${Math.random().toString(36).slice(2)}`);
  await tx(['export', ref, out]);
  const home = await tempDir('txrepo-gpg-');
  try {
    const env = { ...process.env, GNUPGHOME: home };
    for (const k of keys) await exec('gpg', ['--batch', '--import', files[`${k}.pub`]], { env });
    const r = await exec('gpg', ['--batch', '--status-fd', '1', '--verify', join(out, 'repodata/repomd.xml.asc'), join(out, 'repodata/repomd.xml')], { env }).catch((e: { stdout: string }) => e);
    return [...r.stdout.matchAll(/^\[GNUPG:\] GOODSIG ([0-9A-F]{16})/gm)].map((m) => m[1].toLowerCase());
  } finally {
    await removeDir(home);
  }
}

const keyIdOf = (name: string) => fingerprints[name].slice(-16);

before(async () => {
  dir = await tempDir('txrepo-signing-keys-');
  store = join(dir, 'store');
  tx = inStore(store);
  await makeKey('ed', {});
  await makeKey('rsa', { type: 'rsa', rsaBits: 2048, passphrase: PASSPHRASE });
  // RFC 9580's Ed25519 (algorithm 27), which GnuPG 2.2 cannot check.
  await makeKey('modern', { type: 'curve25519' });
  // Made two days ago, valid for one.
  await makeKey('expired', { date: new Date(Date.now() - 2 * 86_400_000), keyExpirationTime: 86_400 });
  files.garbage = join(dir, 'garbage.asc');
  await writeFile(files.garbage, '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot base64 at all!\n-----END PGP PRIVATE KEY BLOCK-----\n');
  files.empty = join(dir, 'empty.asc');
  await writeFile(files.empty, '');
  files.pass = join(dir, 'pass.txt');
  await writeFile(files.pass, `${PASSPHRASE}\n`);
  files.wrong = join(dir, 'wrong.txt');
  await writeFile(files.wrong, 'not it\n');
  await tx(['repo', 'create', 'app']);
  await tx(['deploy', 'app', sample('bear-4.1-1.noarch.rpm')]);
});

after(async () => removeDir(dir));

describe('txrepo key', () => {
  test('refuses what cannot sign, naming the file, and stores nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['key', 'import', files['ed.pub']], /ed\.pub: a public key; signing needs the private key/],
      [['key', 'import', files.garbage], /garbage\.asc: not an OpenPGP key/],
      [['key', 'import', files.empty], /empty\.asc: not an OpenPGP key/],
      [['key', 'import', join(dir, 'missing.sec')], /missing\.sec: cannot read the key file \(ENOENT\)/],
      [['key', 'import', files.rsa], /rsa\.sec: the key is protected by a passphrase; give it/],
      [['key', 'import', files.rsa, '--passphrase-file', files.wrong], /rsa\.sec: the passphrase does not unlock the key/],
      [['key', 'import', files.expired], /expired\.sec: cannot sign/],
      [['key', 'import', '/dev/zero'], /\/dev\/zero: larger than 1 MiB, which no OpenPGP key file is/],
      [['key', 'import', dir], /: cannot read the key file \(EISDIR\)/],
      [['repo', 'create', 'x', '--require-signed', '/dev/zero'], /--require-signed \/dev\/zero: larger than 1 MiB/],
      [['repo', 'create', 'x', '--require-signed', files.ed], /ed\.sec: .*private key/],
    ];
    for (const [args, message] of cases) {
      const r = await txrepo([...args, '--store', store]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal((await tx(['key', 'list'])).stdout.trim(), 'no signing keys: snapshots are not signed');
    assert.ok(!(await repodataOf('app@latest')).has('repodata/repomd.xml.asc'), 'no key: no signature');
  });

  test('a key many dnf clients cannot check is imported with a warning that says why', async () => {
    const r = await txrepo(['key', 'import', files.modern, '--json', '--store', join(dir, 'store-modern')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).algorithm, 'Ed25519');
    assert.match(r.stderr, /warning: .*modern\.sec: an Ed25519 key \(RFC 9580\), which GnuPG before 2\.4 \(and so dnf on RHEL 8 and 9, Debian 12\) cannot check/);
    assert.doesNotMatch((await txrepo(['key', 'import', files.ed, '--store', join(dir, 'store-modern')])).stderr, /warning/, 'EdDSA of GnuPG 2.2 (ed25519Legacy) works everywhere');
  });

  test('import, list, sign, rotate, remove', async () => {
    const imported = JSON.parse((await tx(['key', 'import', files.ed, '--json'])).stdout);
    assert.equal(imported.fingerprint, fingerprints.ed);
    assert.deepEqual(imported.userIds, ['txrepo ed <ed@example.test>']);
    assert.match((await txrepo(['key', 'import', files.ed, '--store', store])).stderr, /already in the store/);

    // One key: the next snapshot is signed by it, and real gpg agrees.
    await tx(['deploy', 'app', sample('cat-1.0-1.noarch.rpm')]);
    const first = await repodataOf('app@latest');
    assert.ok(first.has('repodata/repomd.xml.asc') && first.has('repodata/repomd.xml.key'));
    assert.deepEqual(await gpgVerify('app@latest', ['ed']), [keyIdOf('ed')]);
    const firstId = JSON.parse((await tx(['show', 'app@latest', '--json'])).stdout).id;

    // A protected second key (a rotation): imported with its passphrase from a file.
    await tx(['key', 'import', files.rsa, '--passphrase-file', files.pass]);
    const listed = JSON.parse((await tx(['key', 'list', '--json'])).stdout) as { fingerprint: string; publicKey: string; algorithm: string }[];
    assert.deepEqual(listed.map((k) => k.fingerprint), [fingerprints.ed, fingerprints.rsa]);
    // Described as a package policy describes the same keys (signing/keys.ts keyFacts).
    const policyKeys = await loadPolicyKeys(await readFile(files['ed.pub']!, 'utf8') + (await readFile(files['rsa.pub']!, 'utf8')), 'both.asc');
    assert.deepEqual(listed.map((k) => k.algorithm), ['EdDSA (ed25519Legacy)', 'RSA 2048']);
    assert.deepEqual(policyKeys.map((k) => k.algorithm), ['EdDSA (ed25519Legacy)', 'RSA 2048']);
    assert.ok(listed.every((k) => k.publicKey.includes('PUBLIC KEY BLOCK') && !JSON.stringify(k).includes('PRIVATE')));

    // Without the passphrase nothing is committed; with it, both keys sign.
    const refused = await txrepo(['deploy', 'app', sample('dog-4.23-1.noarch.rpm'), '--store', store]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signing key [0-9a-f]{40}: the key is protected by a passphrase; give it/);
    assert.equal(JSON.parse((await tx(['show', 'app@latest', '--json'])).stdout).id, firstId, 'a refused deploy made no snapshot');
    const withPass = await txrepo(['deploy', 'app', sample('dog-4.23-1.noarch.rpm'), '--store', store], { env: { ...process.env, TXREPO_SIGNING_PASSPHRASE_FILE: files.pass } });
    assert.equal(withPass.code, 0, withPass.stderr);
    assert.deepEqual((await gpgVerify('app@latest', ['ed', 'rsa'])).sort(), [keyIdOf('ed'), keyIdOf('rsa')].sort());
    // A client that has either key alone accepts it.
    assert.deepEqual(await gpgVerify('app@latest', ['rsa']), [keyIdOf('rsa')]);
    assert.deepEqual(await gpgVerify('app@latest', ['ed']), [keyIdOf('ed')]);

    // The old key goes: new snapshots are signed by the new one only; old ones keep theirs.
    await tx(['key', 'remove', fingerprints.ed.toUpperCase().replace(/(.{4})/g, '$1 ')]);
    const env = { ...process.env, TXREPO_SIGNING_PASSPHRASE: PASSPHRASE };
    assert.equal((await txrepo(['deploy', 'app', sample('duck-0.6-1.noarch.rpm'), '--store', store], { env })).code, 0);
    assert.deepEqual(await gpgVerify('app@latest', ['rsa', 'ed']), [keyIdOf('rsa')]);
    assert.deepEqual(await gpgVerify(`app@${firstId}`, ['ed']), [keyIdOf('ed')]);
    assert.match((await txrepo(['key', 'remove', fingerprints.ed, '--store', store])).stderr, /no signing key [0-9a-f]{40}; see 'txrepo key list'/);
    assert.equal((await tx(['fsck'])).code, 0);

    // Neither the passphrase nor private key material is in the audit log.
    const log = (await tx(['log', '--json'])).stdout;
    assert.match(log, /"command": "key import"/);
    assert.match(log, /"command": "key remove"/);
    assert.ok(!log.includes(PASSPHRASE) && !log.includes('PRIVATE KEY'), 'no secret in the log');
    assert.ok(!withPass.stdout.includes(PASSPHRASE) && !withPass.stderr.includes(PASSPHRASE));
  });
});

describe('txrepo fsck and signatures', () => {
  // The blob is swapped on disk: the embedded store's own files.
  test("a snapshot's signature that no longer matches its repomd.xml is reported", LOCAL_ONLY, async () => {
    const other = join(dir, 'fsck-store');
    const t = inStore(other);
    await t(['key', 'import', files.ed]);
    await t(['repo', 'create', 'app']);
    await t(['deploy', 'app', sample('bear-4.1-1.noarch.rpm')]);
    await t(['deploy', 'app', sample('cat-1.0-1.noarch.rpm')]);
    assert.equal((await t(['fsck'])).code, 0);
    // The second snapshot's signature blob gets the first's signature (of another repomd.xml), same size or not.
    const [a, b] = JSON.parse((await t(['snapshots', 'app', '--json'])).stdout).map((s: { id: string }) => s.id);
    const sig = async (id: string) => (JSON.parse((await t(['show', `app@${id}`, '--files', '--json'])).stdout).files as { href: string; sha256: string }[]).find((f) => f.href === 'repodata/repomd.xml.asc')!.sha256;
    const blob = (digest: string) => join(other, 'blobs', blobPath(digest));
    const [sigA, sigB] = [await sig(a), await sig(b)];
    await writeFile(blob(sigB), await readFile(blob(sigA)));
    const r = await txrepo(['fsck', '--store', other]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`app@${b}: repodata/repomd.xml.asc`));
  });
});
