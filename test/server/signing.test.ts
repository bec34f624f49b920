// What a server and the configs it writes say about signed repos (docs/signing.md):
// /keys/<fingerprint>.asc; repos.repo and all_latest.json with the client checks of
// client-config.ts; inject writing them into configs; a tag path serving only its
// current snapshot's repomd.xml.asc (never an older snapshot's signature within the
// grace window), revalidated; serve --signing-key; publish switching a signed
// generation in and dropping a stale signature. (Real dnf: test/e2e/signed-dnf.)

import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { injectMirrors, loadMirrorList, MirrorsError } from '../../src/inject/index.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let dir: string;
let store: string;
let tx: ReturnType<typeof inStore>;
let served: Served;
const keys: Record<string, { sec: string; pub: string; fingerprint: string }> = {};

async function makeKey(name: string, passphrase?: string) {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'armored', ...(passphrase && { passphrase }) });
  const sec = join(dir, `${name}.sec`);
  const pub = join(dir, `${name}.pub`);
  await writeFile(sec, privateKey);
  await writeFile(pub, publicKey);
  keys[name] = { sec, pub, fingerprint: (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint() };
}

const get = (path: string) => fetch(served.url + path);
const latestOf = async (repo: string) => JSON.parse((await tx(['show', `${repo}@latest`, '--json'])).stdout).id as string;

before(async () => {
  dir = await tempDir('txrepo-server-signing-');
  store = join(dir, 'store');
  tx = inStore(store);
  await makeKey('store-key');
  await makeKey('package-key');
  await makeKey('server-key', 'server secret');
  await writeFile(join(dir, 'pass'), 'server secret\n');
  await tx(['repo', 'create', 'plain']);
  await tx(['deploy', 'plain', sample('bear-4.1-1.noarch.rpm')]);
  await tx(['key', 'import', keys['store-key'].sec]);
  // Its (unsigned) packages come before its policy, which applies to what comes after; its snapshot is signed.
  await tx(['repo', 'create', 'policy']);
  await tx(['deploy', 'policy', sample('bear-4.1-1.noarch.rpm')]);
  await tx(['repo', 'update', 'policy', '--require-signed', keys['package-key'].pub]);
  await tx(['repo', 'create', 'signed']);
  await tx(['deploy', 'signed', sample('bear-4.1-1.noarch.rpm')]);
  // plain's latest predates the key: unsigned. A deploy now would sign it.
  served = await serve(store);
});

after(async () => {
  await served?.stop();
  await removeDir(dir);
});

describe('a server of signed repos', () => {
  test('/keys/<fingerprint>.asc: the signing keys and the package keys; nothing else', async () => {
    for (const name of ['store-key', 'package-key']) {
      const r = await get(`/keys/${keys[name].fingerprint}.asc`);
      assert.equal(r.status, 200, name);
      assert.equal(r.headers.get('content-type'), 'application/pgp-keys');
      const key = await openpgp.readKey({ armoredKey: await r.text() });
      assert.equal(key.getFingerprint(), keys[name].fingerprint);
      assert.ok(!key.isPrivate());
    }
    assert.equal((await get(`/keys/${keys['server-key'].fingerprint}.asc`)).status, 404, 'a key the store does not know');
    assert.equal((await get(`/keys/${keys['store-key'].fingerprint.toUpperCase()}.asc`)).status, 404);
    assert.equal((await get(`/keys/a/${keys['store-key'].fingerprint}.asc`)).status, 404);
    assert.equal((await get('/keys/x.asc')).status, 404);
  });

  test("repos.repo and all_latest.json carry each repo's checks; inject writes them", async () => {
    const set = JSON.parse((await tx(['set', 'create', 'plain', 'signed', 'policy', '--json'])).stdout).id as string;
    const repoFile = await (await get(`/sets/${set}/repos.repo`)).text();
    const section = (id: string) => repoFile.slice(repoFile.indexOf(`[${id}]`)).split('\n\n')[0];
    assert.match(section('plain'), /\ngpgcheck=0\n/);
    assert.doesNotMatch(section('plain'), /repo_gpgcheck|gpgkey/);
    const base = `${new URL(served.url).origin.replace('127.0.0.1', 'localhost')}`;
    assert.ok(/^http:\/\//.test(base));
    assert.match(section('signed'), /\ngpgcheck=0\nrepo_gpgcheck=1\ngpgkey=http:\/\/[^/]+\/sets\/[^/]+\/signed\/repodata\/repomd\.xml\.key\n/);
    // policy was deployed after the key came: signed too, and its packages must be.
    assert.match(section('policy'), new RegExp(`\\ngpgcheck=1\\nrepo_gpgcheck=1\\ngpgkey=http://[^/]+/sets/[^/]+/policy/repodata/repomd\\.xml\\.key http://[^/]+/keys/${keys['package-key'].fingerprint}\\.asc\\n`));

    const index = (await (await get('/repos/all_latest.json')).json()) as { latest_ci_repos: Record<string, string>; gpg: Record<string, { gpgkey: string[] }> };
    assert.deepEqual(Object.keys(index.gpg).sort(), ['policy', 'signed']);
    assert.deepEqual(index.gpg.signed, { gpgcheck: false, repoGpgcheck: true, gpgkey: [`${index.latest_ci_repos.signed}repodata/repomd.xml.key`] });

    // inject --mirrors: the gpg lines replace a section's own; a plain repo keeps its own.
    const conf = join(dir, 'ci.repo');
    await writeFile(conf, '[signed]\nbaseurl=http://old/\ngpgcheck=1\ngpgkey=http://old/key\nrepo_gpgcheck=0\n\n[plain]\nbaseurl=http://old/\ngpgcheck=1\n');
    const r = await txrepo(['inject', conf, '--mirrors', `${served.url}/repos/all_latest.json`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      await readFile(conf, 'utf8'),
      `[signed]\nbaseurl=${index.latest_ci_repos.signed}\nproxy=_none_\ngpgcheck=0\nrepo_gpgcheck=1\ngpgkey=${index.gpg.signed.gpgkey[0]}\n\n[plain]\nbaseurl=${index.latest_ci_repos.plain}\nproxy=_none_\ngpgcheck=1\n`,
    );
  });

  test('a hostile gpg member of a mirror list is refused, naming the entry', async () => {
    const bad = [
      { signed: { gpgcheck: 'yes', repoGpgcheck: true, gpgkey: [] } },
      { signed: { gpgcheck: true, repoGpgcheck: true, gpgkey: ['http://a/k\nrepo_gpgcheck=0'] } },
      { signed: { gpgcheck: true, repoGpgcheck: true, gpgkey: ['http://a/k b'] } },
      { signed: { gpgcheck: true, repoGpgcheck: true, gpgkey: ['javascript:alert(1)'] } },
      [],
    ];
    for (const gpg of bad) {
      const uri = `data:application/json,${encodeURIComponent(JSON.stringify({ latest_ci_repos: { signed: 'http://a/' }, gpg }))}`;
      await assert.rejects(loadMirrorList(uri), (e: Error) => e instanceof MirrorsError && /gpg/.test(e.message), JSON.stringify(gpg));
    }
    // Unit: the lines a section gets, and a section without checks left alone.
    const text = '[a]\nbaseurl=x\ngpgcheck=0\n[b]\ngpgcheck=1\n';
    const out = injectMirrors(text, new Map([['a', 'http://n/a/'], ['b', 'http://n/b/']]), { checks: new Map([['a', { gpgcheck: true, repoGpgcheck: false, gpgkey: ['http://n/k1', 'http://n/k2'] }]]) });
    assert.equal(out.text, '[a]\nbaseurl=http://n/a/\nproxy=_none_\ngpgcheck=1\nrepo_gpgcheck=0\ngpgkey=http://n/k1 http://n/k2\n[b]\ngpgcheck=1\nbaseurl=http://n/b/\nproxy=_none_\n');
  });

  test("a tag path serves only its current snapshot's signature, revalidated", async () => {
    const signedId = await latestOf('signed');
    const asc = await get('/repos/signed/tags/latest/repodata/repomd.xml.asc');
    assert.equal(asc.status, 200);
    assert.equal(asc.headers.get('cache-control'), 'no-cache');
    assert.equal(asc.headers.get('content-type'), 'application/pgp-signature');
    const key = await get('/repos/signed/tags/latest/repodata/repomd.xml.key');
    assert.equal(key.headers.get('cache-control'), 'no-cache');
    // latest moves on to an unsigned snapshot.
    await tx(['key', 'remove', keys['store-key'].fingerprint]);
    await tx(['deploy', 'signed', sample('cat-1.0-1.noarch.rpm')]);
    const unsignedId = await latestOf('signed');
    assert.notEqual(unsignedId, signedId);
    // Within the grace window (1h) other files of the old snapshot are still served, but not its signature.
    assert.equal((await get('/repos/signed/tags/latest/repodata/repomd.xml.asc')).status, 404);
    assert.equal((await get('/repos/signed/tags/latest/repodata/repomd.xml.key')).status, 404);
    assert.equal((await get(`/repos/signed/snapshots/${signedId}/repodata/repomd.xml.asc`)).status, 200, 'the snapshot keeps its own');
    await tx(['key', 'import', keys['store-key'].sec]);
  });
});

describe('serve --signing-key', () => {
  test('signs with a key it holds; refuses at start a key it cannot use', async () => {
    const other = join(dir, 'server-store');
    const t = inStore(other);
    await t(['repo', 'create', 'app']);
    const locked = await txrepo(['serve', '--listen', '127.0.0.1:0', '--store', other, '--signing-key', keys['server-key'].sec]);
    assert.notEqual(locked.code, 0);
    assert.match(locked.stderr, /--signing-key .*server-key\.sec: the key is protected by a passphrase/);
    const pub = await txrepo(['serve', '--listen', '127.0.0.1:0', '--store', other, '--signing-key', keys['server-key'].pub]);
    assert.match(pub.stderr, /server-key\.pub: a public key/);
    const s = await serve(other, ['--signing-key', keys['server-key'].sec, '--signing-passphrase-file', join(dir, 'pass')]);
    try {
      const token = (await t(['token', 'create', 'ci', '--scope', 'deploy:*'])).stdout.trim();
      const r = await txrepo(['deploy', 'app', sample('bear-4.1-1.noarch.rpm'), '--server', s.url, '--token', token]);
      assert.equal(r.code, 0, r.stderr);
      const id = await (await fetch(`${s.url}/repos/app/tags/latest/repodata/repomd.xml`)).text();
      const sig = await (await fetch(`${s.url}/repos/app/tags/latest/repodata/repomd.xml.asc`)).text();
      const verified = await openpgp.verify({ message: await openpgp.createMessage({ text: id }), signature: await openpgp.readSignature({ armoredSignature: sig }), verificationKeys: await openpgp.readKey({ armoredKey: await readFile(keys['server-key'].pub, 'utf8') }) });
      await verified.signatures[0].verified;
      assert.equal((await fetch(`${s.url}/keys/${keys['server-key'].fingerprint}.asc`)).status, 200);
    } finally {
      await s.stop();
    }
  });
});

describe('publish of signed snapshots', () => {
  test('writes the signature and key with repomd.xml; an unsigned generation drops them; fsck --published checks', async () => {
    const tree = join(dir, 'tree');
    await tx(['deploy', 'signed', sample('dog-4.23-1.noarch.rpm')]);
    await tx(['publish', 'signed@latest', tree]);
    for (const f of ['repomd.xml', 'repomd.xml.asc', 'repomd.xml.key']) assert.ok((await stat(join(tree, 'repodata', f))).isFile(), f);
    assert.equal((await txrepo(['fsck', '--published', tree])).code, 0);
    // A signature of another repomd.xml is a problem.
    const first = await readFile(join(tree, 'repodata/repomd.xml.asc'));
    await tx(['deploy', 'signed', sample('cow-2.2-3.noarch.rpm')]);
    await tx(['publish', 'signed@latest', tree]);
    assert.equal((await txrepo(['fsck', '--published', tree])).code, 0);
    const good = await readFile(join(tree, 'repodata/repomd.xml.asc'));
    await writeFile(join(tree, 'repodata/repomd.xml.asc'), first);
    const r = await txrepo(['fsck', '--published', tree]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /problem: repodata\/repomd\.xml\.asc: /);
    await writeFile(join(tree, 'repodata/repomd.xml.asc'), good);
    // An unsigned snapshot published over it takes the signature away.
    await tx(['publish', 'plain@latest', tree]);
    await assert.rejects(stat(join(tree, 'repodata/repomd.xml.asc')), { code: 'ENOENT' });
    await assert.rejects(stat(join(tree, 'repodata/repomd.xml.key')), { code: 'ENOENT' });
    assert.equal((await txrepo(['fsck', '--published', tree])).code, 0);
  });
});
