// needs: dnf rpm rpmsign gpg root
// The real dnf against signed txrepo repos, with its own checks on: repo_gpgcheck=1
// (librepo verifies repodata/repomd.xml.asc against the keys of the gpgkey URLs) and
// gpgcheck=1 (rpm verifies each package against them). Keys are made when the test
// runs (test/helpers/gpg.ts): an RSA 3072 key A and an ed25519 key B, protected by a
// passphrase, sign snapshots; an ed25519 key signs packages (rpmsign); a key C only a
// server holds (serve --signing-key).
//
//   1. dnf installs a signed package from a tag path, a snapshot path, a set's
//      repos.repo as served, configs `txrepo inject` rewrote (--mirrors, --set) and a
//      published tree on a plain static server, each with the keys the config names.
//   2. A published tree whose repomd.xml or repomd.xml.asc was tampered with: dnf
//      refuses it and `txrepo fsck --published` names the file (by its signature
//      alone when the tree's history was rewritten to match).
//   3. A repo that requires signed packages (gpgcheck=1 from repos.repo): dnf refuses
//      an unsigned package of it; a repo with no keys and no policy stays gpgcheck=0.
//   4. Key rotation, as docs/signing.md tells it: A; A and B; B. Old snapshots keep
//      their signatures; a client that trusts only A stops at the first snapshot
//      signed by B only, while one whose gpgkey is the tag's repomd.xml.key follows.
//      And `serve --signing-key` signs what the server makes.
//   5. `txrepo fsck` names a snapshot whose repomd.xml.asc blob was tampered with.
//
// Each dnf runs in a fresh installroot, but for the rotation's clients, which keep
// theirs (and the keys they imported) from one snapshot to the next.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { blobPath } from '../../src/store/blob-layout.ts';
import { LOCAL_ONLY } from '../helpers/backends.ts';
import { describe as describeRun, dnfArgs, dnfEnv, installedPackages, type DnfResult } from '../helpers/dnf.ts';
import { generateKey, gpgHome, rpmSign, stopAgents, verifyDetached, type GpgHome, type TestKey } from '../helpers/gpg.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, run, txrepo, waitFor } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

const PASSPHRASE = 'a passphrase for key B';
const SIGNATURE_ERROR = /repomd\.xml GPG signature verification error/;

let dir: string;
let store: string;
let home: GpgHome;
let keyA: TestKey;
let keyB: TestKey;
let keyC: TestKey;
let pkgKey: TestKey;
let passphraseFile: string;
/** rpmsign'ed copies of bear, cat and tiger. */
let signedRpms: string[];
let setId: string;
let readToken: string;
let served: Served;
let www: string;
let statics: StaticServer;
let tx: ReturnType<typeof inStore>;

/** txrepo on the store with the passphrase of key B in the environment. */
const withPassphrase = (args: string[]) => txrepo([...args, '--store', store], { env: { ...process.env, TXREPO_SIGNING_PASSPHRASE_FILE: passphraseFile } });

before(async () => {
  assert.equal(process.getuid?.(), 0, 'dnf installs into installroots: run this test as root, as CI does');
  dir = await tempDir('txrepo-signed-dnf-');
  store = join(dir, 'store');
  tx = inStore(store);
  home = await gpgHome(join(dir, 'gnupg'));
  const keys = join(dir, 'keys');
  keyA = await generateKey(home, keys, { name: 'txrepo test repo key A', email: 'repo-a@example.org', algo: 'rsa3072' });
  keyB = await generateKey(home, keys, { name: 'txrepo test repo key B', email: 'repo-b@example.org', algo: 'ed25519', passphrase: PASSPHRASE });
  keyC = await generateKey(home, keys, { name: 'txrepo test server key C', email: 'server-c@example.org', algo: 'ed25519' });
  pkgKey = await generateKey(home, keys, { name: 'txrepo test packages', email: 'packages@example.org', algo: 'ed25519' });
  passphraseFile = join(keys, 'passphrase');
  await writeFile(passphraseFile, PASSPHRASE + '\n', { mode: 0o600 });
  const signed = join(dir, 'signed-rpms');
  await mkdir(signed);
  signedRpms = [];
  for (const f of ['bear-4.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm', 'tiger-1.0-4.noarch.rpm']) {
    signedRpms.push(join(signed, f));
    await copyFile(sample(f), signedRpms.at(-1)!);
  }
  await rpmSign(home, pkgKey, signedRpms);

  // plain: made while the store has no key, and no package policy.
  await tx(['repo', 'create', 'plain']);
  await tx(['deploy', 'plain', sample('crow-0.8-1.noarch.rpm')]);
  await tx(['key', 'import', keyA.secretFile]);
  // signed: snapshots signed by A, packages by the package key.
  await tx(['repo', 'create', 'signed', '--require-signed', pkgKey.publicFile]);
  await tx(['deploy', 'signed', ...signedRpms]);
  // strict: unsigned packages, deployed before the repo required signatures.
  await tx(['repo', 'create', 'strict']);
  await tx(['deploy', 'strict', sample('cow-2.2-3.noarch.rpm'), sample('dog-4.23-1.noarch.rpm')]);
  await tx(['repo', 'update', 'strict', '--require-signed', pkgKey.publicFile]);
  setId = (await tx(['set', 'create', '--label', 'signed-dnf', 'signed', 'strict', 'plain'])).stdout.trim();
  readToken = (await tx(['token', 'create', 'reader', '--scope', 'read'])).stdout.trim();
  served = await serve(store);
  www = join(dir, 'www');
  await mkdir(www);
  statics = await serveDirectory(www);
});

after(async () => {
  await served?.stop();
  await statics?.close();
  if (dir) {
    await stopAgents(dir);
    await removeDir(dir);
  }
});

/** GETs a URL of a server, as bytes; fails unless 200. */
async function get(url: string): Promise<Buffer> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `GET ${url}: ${r.status} ${await r.clone().text()}`);
  return Buffer.from(await r.arrayBuffer());
}

/** The lines of the section [ID] of an INI text (header excluded, up to the next section). */
function section(text: string, id: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`[${id}]`);
  assert.ok(start >= 0, `no [${id}] in\n${text}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('['));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => l.trim() !== '');
}

const option = (lines: string[], key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

let roots = 0;
/** A fresh installroot. */
const newRoot = (name: string) => join(dir, 'roots', `${name}-${roots++}`);

/**
 * dnf in INSTALLROOT with only the repositories of the .repo text REPOFILE, and dnf's
 * own signature checks as that file sets them: unlike helpers/dnf.ts's dnf(), no
 * --nogpgcheck (the main section's gpgcheck and repo_gpgcheck stay off: the repo
 * file is what turns them on). --refresh: a kept root reads the current repomd.xml.
 */
async function dnfChecked(root: string, repoFile: string, args: string[]): Promise<DnfResult> {
  const reposdir = join(root, '..', `${root.split('/').at(-1)}.repos.d`);
  await mkdir(reposdir, { recursive: true });
  await writeFile(join(reposdir, 'test.repo'), repoFile);
  const conf = join(root, 'etc/dnf/dnf.conf');
  await mkdir(join(root, 'etc/dnf'), { recursive: true });
  await writeFile(conf, '[main]\n');
  const argv = dnfArgs(root, {}, ['--refresh', ...args], { setopt: { reposdir } }).filter((a) => a !== '--nogpgcheck');
  assert.ok(!argv.includes('--nogpgcheck') && argv.includes('--setopt=gpgcheck=False') && argv.includes('--setopt=repo_gpgcheck=False'), argv.join(' '));
  const r = await run('dnf', argv, { env: dnfEnv(), timeout: 120_000 });
  return { ...r, argv: ['dnf', ...argv] };
}

/** The packages installed in ROOT, without the keys rpm imported (gpg-pubkey-*). */
async function installed(root: string): Promise<string[]> {
  return (await installedPackages(root).catch(() => [])).filter((p) => !p.startsWith('gpg-pubkey-'));
}

/** dnf installed NEVRA (alone), having imported key A for the repo's signature and the package key for the package's. */
async function assertInstalledChecked(root: string, r: DnfResult, nevra: string): Promise<void> {
  assert.equal(r.code, 0, describeRun(r));
  assert.deepEqual(await installed(root), [nevra]);
  const out = r.stdout + r.stderr;
  // dnf imported the repo key (for repomd.xml.asc) and the package key (for rpm).
  for (const k of [keyA, pkgKey]) assert.match(out, new RegExp(`Importing GPG key 0x${k.shortId}`, 'i'), describeRun(r));
  assert.ok((await installedPackages(root)).some((p) => p.startsWith(`gpg-pubkey-${pkgKey.shortId}-`)), 'the package key is in the rpmdb');
}

/** The server answered GET PATH with 200 (its access log comes through a pipe: soon, not at once). */
const logged = (path: string) => waitFor(`"GET ${path}" 200 in the access log`, () => served.log.some((l) => l.includes(`"GET ${path}" 200 `)), 5_000);

const repoLines = (id: string, baseurl: string, lines: string[]) => [`[${id}]`, `name=${id}`, `baseurl=${baseurl}`, 'enabled=1', ...lines, ''].join('\n');

describe('dnf with repo_gpgcheck=1 and gpgcheck=1 installs a signed package', () => {
  test('from a tag path, the keys from its repomd.xml.key and /keys/<fingerprint>.asc', async () => {
    const tag = `${served.url}/repos/signed/tags/latest/`;
    const root = newRoot('tag');
    const r = await dnfChecked(root, repoLines('signed', tag, ['gpgcheck=1', 'repo_gpgcheck=1', `gpgkey=${tag}repodata/repomd.xml.key ${served.url}/keys/${pkgKey.fingerprint}.asc`]), ['install', 'bear']);
    await assertInstalledChecked(root, r, 'bear-4.1-1.noarch');
    for (const path of ['/repos/signed/tags/latest/repodata/repomd.xml.asc', '/repos/signed/tags/latest/repodata/repomd.xml.key', `/keys/${pkgKey.fingerprint}.asc`]) await logged(path);
  });

  test('from a snapshot path, with the checks all_latest.json gives for it', async () => {
    const index = JSON.parse((await get(`${served.url}/repos/all_latest.json`)).toString());
    const url: string = index.latest_ci_repos.signed;
    const checks = index.gpg?.signed;
    assert.deepEqual(checks, { gpgcheck: true, repoGpgcheck: true, gpgkey: [`${url}repodata/repomd.xml.key`, `${served.url}/keys/${pkgKey.fingerprint}.asc`] });
    assert.match(url, /\/repos\/signed\/snapshots\/[^/]+\/$/);
    const root = newRoot('snapshot');
    const r = await dnfChecked(root, repoLines('signed', url, [`gpgcheck=${checks.gpgcheck ? 1 : 0}`, `repo_gpgcheck=${checks.repoGpgcheck ? 1 : 0}`, `gpgkey=${checks.gpgkey.join(' ')}`]), ['install', 'cat']);
    await assertInstalledChecked(root, r, 'cat-1.0-1.noarch');
  });

  test("from a set's repos.repo, used as served", async () => {
    const repos = (await get(`${served.url}/sets/${setId}/repos.repo`)).toString();
    const signed = section(repos, 'signed');
    const base = `${served.url}/sets/${setId}/signed/`;
    assert.deepEqual(option(signed, 'gpgcheck'), ['1'], repos);
    assert.deepEqual(option(signed, 'repo_gpgcheck'), ['1'], repos);
    assert.deepEqual(option(signed, 'gpgkey'), [`${base}repodata/repomd.xml.key ${served.url}/keys/${pkgKey.fingerprint}.asc`], repos);
    const root = newRoot('set');
    const r = await dnfChecked(root, repos, ['install', 'tiger']);
    await assertInstalledChecked(root, r, 'tiger-1.0-4.noarch');
    await logged(`/sets/${setId}/signed/repodata/repomd.xml.asc`);
  });

  /** A reposync-style config: the signed section as a distribution ships it (no checks), and a section txrepo does not know. */
  const CONF = [
    '# reposync configuration',
    '[signed]',
    'name=signed packages',
    'mirrorlist=https://mirrors.example.org/?repo=signed&arch=$basearch',
    'gpgcheck=0',
    'enabled=1',
    '',
    '[elsewhere]',
    'name=not a txrepo repository',
    'baseurl=http://127.0.0.1:9/nothing/',
    'gpgcheck=0',
    'enabled=0',
    '',
  ].join('\n');

  test('from a config `txrepo inject --mirrors all_latest.json` rewrote, with the gpg lines', async () => {
    const conf = join(dir, 'inject-mirrors.repo');
    await writeFile(conf, CONF);
    const r = await txrepo(['inject', conf, '--mirrors', `${served.url}/repos/all_latest.json`]);
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(conf, 'utf8');
    const index = JSON.parse((await get(`${served.url}/repos/all_latest.json`)).toString());
    assert.deepEqual(section(text, 'signed'), [
      'name=signed packages',
      `baseurl=${index.latest_ci_repos.signed}`,
      'proxy=_none_',
      'gpgcheck=1',
      'repo_gpgcheck=1',
      `gpgkey=${index.gpg.signed.gpgkey.join(' ')}`,
      'enabled=1',
    ]);
    assert.deepEqual(section(text, 'elsewhere'), section(CONF, 'elsewhere'));
    const root = newRoot('inject-mirrors');
    const d = await dnfChecked(root, text, ['install', 'bear']);
    await assertInstalledChecked(root, d, 'bear-4.1-1.noarch');
  });

  test('from a config `txrepo inject --set ID --server URL` rewrote, with the gpg lines', async () => {
    const conf = join(dir, 'inject-set.repo');
    await writeFile(conf, CONF);
    const r = await txrepo(['inject', conf, '--set', setId, '--server', served.url, '--token', readToken]);
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(conf, 'utf8');
    const base = `${served.url}/sets/${setId}/signed/`;
    assert.deepEqual(section(text, 'signed'), [
      'name=signed packages',
      `baseurl=${base}`,
      'proxy=_none_',
      'gpgcheck=1',
      'repo_gpgcheck=1',
      `gpgkey=${base}repodata/repomd.xml.key ${served.url}/keys/${pkgKey.fingerprint}.asc`,
      'enabled=1',
    ]);
    const root = newRoot('inject-set');
    const d = await dnfChecked(root, text, ['install', 'cat']);
    await assertInstalledChecked(root, d, 'cat-1.0-1.noarch');
  });

  test('from a published tree on a plain static server, the key from its repodata/repomd.xml.key', async () => {
    const tree = join(www, 'published');
    const p = await tx(['publish', 'signed@latest', tree, '--json']);
    assert.equal(JSON.parse(p.stdout).repo, 'signed');
    const url = `${statics.url}/published/`;
    const root = newRoot('published');
    // The package key travels apart from the tree (a file the client has).
    const r = await dnfChecked(root, repoLines('published', url, ['gpgcheck=1', 'repo_gpgcheck=1', `gpgkey=${url}repodata/repomd.xml.key file://${pkgKey.publicFile}`]), ['install', 'tiger']);
    await assertInstalledChecked(root, r, 'tiger-1.0-4.noarch');
    assert.ok(statics.requests.includes('/published/repodata/repomd.xml.asc'), statics.requests.join('\n'));
    const fsck = await txrepo(['fsck', '--published', tree]);
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    assert.match(fsck.stdout, new RegExp(`signed by ${keyA.fingerprint}: no problems`));
  });
});

describe('a tampered published tree', () => {
  /** A fresh tree of signed@latest under www/NAME, its URL, and a .repo for it. */
  async function published(name: string) {
    const tree = join(www, name);
    await tx(['publish', 'signed@latest', tree]);
    const url = `${statics.url}/${name}/`;
    return { tree, repo: repoLines(name, url, ['gpgcheck=1', 'repo_gpgcheck=1', `gpgkey=${url}repodata/repomd.xml.key file://${pkgKey.publicFile}`]) };
  }

  /** Replaces a file of the tree by a new one (publish may have hard-linked it to a blob). */
  async function replace(path: string, data: string | Uint8Array): Promise<void> {
    await writeFile(`${path}.new`, data);
    await rename(`${path}.new`, path);
  }

  async function refused(name: string, repo: string, tree: string, file: string): Promise<void> {
    const root = newRoot(name);
    const r = await dnfChecked(root, repo, ['install', 'bear']);
    assert.notEqual(r.code, 0, describeRun(r));
    assert.match(r.stdout + r.stderr, SIGNATURE_ERROR, describeRun(r));
    assert.deepEqual(await installed(root), []);
    const fsck = await txrepo(['fsck', '--published', tree]);
    assert.equal(fsck.code, 1, fsck.stdout + fsck.stderr);
    assert.match(fsck.stdout, new RegExp(`^problem: ${file.replaceAll('.', '\\.')}: `, 'm'), fsck.stdout);
  }

  test('repomd.xml changed (still valid XML, another revision): dnf refuses it, fsck --published names it', async () => {
    const { tree, repo } = await published('tampered-repomd');
    const path = join(tree, 'repodata/repomd.xml');
    const xml = await readFile(path, 'utf8');
    const changed = xml.replace(/<revision>(\d+)<\/revision>/, (_, n: string) => `<revision>${Number(n) + 1}</revision>`);
    assert.notEqual(changed, xml);
    await replace(path, changed);
    await refused('tampered-repomd', repo, tree, 'repodata/repomd.xml');
    // Whoever can write the tree can rewrite its history to match: then the signature
    // alone tells, and fsck --published checks it.
    const state = JSON.parse(await readFile(join(tree, '.txrepo-publish/state.json'), 'utf8'));
    const list = join(tree, '.txrepo-publish', `${state.generations.at(-1).repomd}.json`);
    const files: { href: string; sha256: string; size: number }[] = JSON.parse(await readFile(list, 'utf8'));
    const entry = files.find((f) => f.href === 'repodata/repomd.xml')!;
    entry.sha256 = createHash('sha256').update(changed).digest('hex');
    entry.size = Buffer.byteLength(changed);
    await writeFile(list, JSON.stringify(files));
    const fsck = await txrepo(['fsck', '--published', tree]);
    assert.equal(fsck.code, 1, fsck.stdout + fsck.stderr);
    const problems = fsck.stdout.split('\n').filter((l) => l.startsWith('problem: '));
    assert.equal(problems.length, 1, fsck.stdout);
    assert.match(problems[0], new RegExp(`^problem: repodata/repomd\\.xml\\.asc: the signature by key ${keyA.fingerprint.slice(-16)} does not verify`));
  });

  test("repomd.xml.asc replaced by another snapshot's (a good signature of other bytes): dnf refuses it, fsck --published names it", async () => {
    const { tree, repo } = await published('tampered-asc');
    const other = await get(`${served.url}/repos/strict/tags/latest/repodata/repomd.xml.asc`);
    assert.notDeepEqual(other, await readFile(join(tree, 'repodata/repomd.xml.asc')));
    await replace(join(tree, 'repodata/repomd.xml.asc'), other);
    await refused('tampered-asc', repo, tree, 'repodata/repomd.xml.asc');
  });
});

describe('the package signature policy reaches dnf', () => {
  test('repos.repo says gpgcheck=1 for a repo that requires signed packages: dnf refuses its unsigned one', async () => {
    const repos = (await get(`${served.url}/sets/${setId}/repos.repo`)).toString();
    const strict = section(repos, 'strict');
    assert.deepEqual(option(strict, 'gpgcheck'), ['1'], repos);
    assert.deepEqual(option(strict, 'repo_gpgcheck'), ['1'], repos);
    const root = newRoot('unsigned');
    const r = await dnfChecked(root, repos, ['install', 'cow']);
    assert.notEqual(r.code, 0, describeRun(r));
    // dnf read the repo (its signature is good), then rpm found no signature on cow.
    assert.match(r.stdout + r.stderr, /cow-2\.2-3\.noarch\.rpm is not signed/, describeRun(r));
    assert.doesNotMatch(r.stdout + r.stderr, SIGNATURE_ERROR, describeRun(r));
    assert.deepEqual(await installed(root), []);
  });

  test('a repo with no keys and no policy: gpgcheck=0 and nothing else, as before signing; dnf installs from it', async () => {
    const repos = (await get(`${served.url}/sets/${setId}/repos.repo`)).toString();
    const plain = section(repos, 'plain');
    assert.deepEqual(option(plain, 'gpgcheck'), ['0'], repos);
    assert.deepEqual(option(plain, 'repo_gpgcheck'), [], repos);
    assert.deepEqual(option(plain, 'gpgkey'), [], repos);
    const index = JSON.parse((await get(`${served.url}/repos/all_latest.json`)).toString());
    assert.ok(index.latest_ci_repos.plain);
    assert.deepEqual(Object.keys(index.gpg).sort(), ['signed', 'strict']);
    const root = newRoot('plain');
    const r = await dnfChecked(root, repos, ['install', 'crow']);
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(await installed(root), ['crow-0.8-1.noarch']);
  });
});

describe('key rotation', () => {
  const tag = () => `${served.url}/repos/rot/tags/latest/`;
  /** A client of the tag path that trusts the key of one file (installed by an administrator): it imports nothing else. */
  const pinned = (key: TestKey) => repoLines('rot', tag(), ['gpgcheck=0', 'repo_gpgcheck=1', `gpgkey=file://${key.publicFile}`]);
  /** A client of the tag path as the server's gpgkey line makes it: the keys of the tag's repomd.xml.key. */
  const following = () => repoLines('rot', tag(), ['gpgcheck=0', 'repo_gpgcheck=1', `gpgkey=${tag()}repodata/repomd.xml.key`]);
  const snapshots: Record<string, string> = {};

  async function deploy(name: string, rpm: string): Promise<string> {
    const r = await withPassphrase(['deploy', 'rot', sample(rpm), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return (snapshots[name] = JSON.parse(r.stdout).snapshot);
  }

  /** The fingerprints of the good signatures of a snapshot's repomd.xml.asc, to gpg holding only KEYS. */
  async function goodBy(id: string, keys: TestKey[], base = served.url): Promise<string[]> {
    const at = `${base}/repos/rot/snapshots/${id}/repodata/`;
    const v = await verifyDetached(join(dir, 'verify'), keys.map((k) => k.publicFile), await get(`${at}repomd.xml`), await get(`${at}repomd.xml.asc`));
    assert.deepEqual(v.bad, [], v.status);
    return v.goodBy.sort();
  }

  const imports = (r: DnfResult, key: TestKey) => new RegExp(`Importing GPG key 0x${key.shortId}`, 'i').test(r.stderr);

  test('A, then A and B, then B: a client goes on while a key it trusts signs; old snapshots keep their signatures', async () => {
    // S1: the store signs with A.
    await tx(['repo', 'create', 'rot']);
    await deploy('S1', 'giraffe-0.67-2.noarch.rpm');
    assert.deepEqual(await goodBy(snapshots.S1, [keyA]), [keyA.fingerprint]);
    const oldRoot = newRoot('rotation-pinned-a');
    const followRoot = newRoot('rotation-following');
    let r = await dnfChecked(oldRoot, pinned(keyA), ['install', 'giraffe']);
    assert.equal(r.code, 0, describeRun(r));
    r = await dnfChecked(followRoot, following(), ['install', 'giraffe']);
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(imports(r, keyA) && !imports(r, keyB), describeRun(r));

    // B is protected: once it is in the store, making a snapshot needs its passphrase.
    const imported = await txrepo(['key', 'import', keyB.secretFile, '--passphrase-file', passphraseFile, '--store', store, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(JSON.parse(imported.stdout).fingerprint, keyB.fingerprint);
    const without = await txrepo(['deploy', 'rot', sample('gorilla-0.62-1.noarch.rpm'), '--store', store]);
    assert.notEqual(without.code, 0, without.stdout);
    assert.match(without.stderr, new RegExp(`signing key ${keyB.fingerprint}: the key is protected by a passphrase`));
    assert.equal(JSON.parse((await tx(['show', 'rot', '--json'])).stdout).id, snapshots.S1, 'no snapshot was made');

    // S2: A and B both sign: its .asc holds a signature by each, good to either alone.
    await deploy('S2', 'gorilla-0.62-1.noarch.rpm');
    assert.deepEqual(await goodBy(snapshots.S2, [keyB]), [keyB.fingerprint]);
    assert.deepEqual(await goodBy(snapshots.S2, [keyA]), [keyA.fingerprint]);
    assert.deepEqual(await goodBy(snapshots.S2, [keyA, keyB]), [keyA.fingerprint, keyB.fingerprint].sort());
    r = await dnfChecked(oldRoot, pinned(keyA), ['install', 'gorilla']);
    assert.equal(r.code, 0, describeRun(r));

    // S3: A removed; B alone signs.
    const removed = await tx(['key', 'remove', keyA.fingerprint]);
    assert.match(removed.stdout, /snapshots it signed keep their signatures/);
    await deploy('S3', 'kangaroo-0.3-1.noarch.rpm');
    assert.deepEqual(await goodBy(snapshots.S3, [keyB]), [keyB.fingerprint]);
    assert.deepEqual(await goodBy(snapshots.S3, [keyA]), []);

    // The client that trusts only A stops there, what it has is left alone...
    r = await dnfChecked(oldRoot, pinned(keyA), ['install', 'kangaroo']);
    assert.notEqual(r.code, 0, describeRun(r));
    assert.match(r.stdout + r.stderr, SIGNATURE_ERROR, describeRun(r));
    assert.deepEqual(await installed(oldRoot), ['giraffe-0.67-2.noarch', 'gorilla-0.62-1.noarch']);
    // ...one given B reads S3...
    const newRootB = newRoot('rotation-pinned-b');
    r = await dnfChecked(newRootB, pinned(keyB), ['install', 'kangaroo']);
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(await installed(newRootB), ['kangaroo-0.3-1.noarch']);
    // ...and one whose gpgkey is the tag's repomd.xml.key, which imported A at S1,
    // follows by itself: after a bad signature dnf imports the gpgkey URLs' keys again,
    // and the tag serves S3's key file with S3's repomd.xml and signature.
    r = await dnfChecked(followRoot, following(), ['install', 'kangaroo']);
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(imports(r, keyB), describeRun(r));
    assert.deepEqual(await installed(followRoot), ['giraffe-0.67-2.noarch', 'kangaroo-0.3-1.noarch']);

    // S1 still verifies with A, now out of the store; fsck checks every signed snapshot.
    assert.deepEqual(await goodBy(snapshots.S1, [keyA]), [keyA.fingerprint]);
    assert.match((await tx(['fsck'])).stdout, /no problems/);
  });

  test('serve --signing-key: a key only the server holds signs the snapshots made through its API', async () => {
    const admin = (await tx(['token', 'create', 'deployer', '--scope', 'admin'])).stdout.trim();
    // The store's B is protected: the server takes its passphrase from a file.
    const server = await serve(store, ['--signing-key', keyC.secretFile, '--signing-passphrase-file', passphraseFile]);
    try {
      const r = await txrepo(['--server', server.url, '--token', admin, 'deploy', 'rot', sample('shark-0.1-1.noarch.rpm'), '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const id: string = JSON.parse(r.stdout).snapshot;
      assert.deepEqual(await goodBy(id, [keyC], server.url), [keyC.fingerprint]);
      assert.deepEqual(await goodBy(id, [keyB], server.url), [keyB.fingerprint]);
    } finally {
      await server.stop();
    }
    // C stays the server's: the store does not keep it.
    const keys = JSON.parse((await tx(['key', 'list', '--json'])).stdout).map((k: { fingerprint: string }) => k.fingerprint);
    assert.deepEqual(keys, [keyB.fingerprint]);
  });
});

describe('txrepo fsck and the store', () => {
  test("a snapshot whose repomd.xml.asc blob was overwritten with another signature: fsck exits 1 and names the file", LOCAL_ONLY, async () => {
    assert.match((await tx(['fsck'])).stdout, /no problems/);
    const files = async (ref: string) => JSON.parse((await tx(['show', ref, '--files', '--json'])).stdout) as { id: string; files: { href: string; sha256: string; size: number }[] };
    const strict = await files('strict');
    const signed = await files('signed');
    const asc = strict.files.find((f) => f.href === 'repodata/repomd.xml.asc')!;
    const other = signed.files.find((f) => f.href === 'repodata/repomd.xml.asc')!;
    // Both signed by A alone (RSA 3072): most often of the same size.
    const blob = join(store, 'blobs', blobPath(asc.sha256));
    const content = await readFile(blob);
    assert.equal(createHash('sha256').update(content).digest('hex'), asc.sha256, `${blob} is the blob of strict's repomd.xml.asc`);
    await chmod(blob, 0o644);
    await writeFile(blob, await get(`${served.url}/repos/signed/snapshots/${signed.id}/${other.href}`));
    const fsck = await txrepo(['fsck', '--store', store]);
    assert.equal(fsck.code, 1, fsck.stdout + fsck.stderr);
    assert.match(fsck.stdout, new RegExp(`^problem: strict@${strict.id}: repodata/repomd\\.xml\\.asc: `, 'm'), fsck.stdout);
    // Of the same size (the usual case), only the signature check can tell.
    if (other.size === asc.size) assert.match(fsck.stdout, /repodata\/repomd\.xml\.asc: the signature by key [0-9a-f]+ does not verify/, fsck.stdout);
  });
});
