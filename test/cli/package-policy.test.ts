// needs: rpm rpmsign gpg createrepo_c
// A repository's package signature policy (docs/signing.md), end to end through the
// CLI: `repo create --require-signed KEYFILE`, then deploy and sync take a package
// signed by an allowed key and refuse, with a message naming the file (or URL) and
// the cause, one that is unsigned, signed by another key, whose signature is damaged,
// or signed after its key expired. After each refusal the repository's snapshots are
// as they were. Keys are made with gpg and packages signed with rpmsign at run time.

import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveDirectory } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve } from '../helpers/serve.ts';
import { Gpg, SIGTAG, tagOffset, type TestKey } from '../helpers/signing.ts';

let dir: string;
let store: string;
let tx: ReturnType<typeof inStore>;
let gpg: Gpg;
const keys = {} as Record<'allowed' | 'next' | 'other' | 'late', TestKey>;
/** Packages by case: each a copy of a sample. */
const pkgs = {} as Record<'good' | 'rotated' | 'unsigned' | 'other' | 'damaged' | 'expired', string>;
/** The refusal each bad case gets: the cause, as the message says it. */
const CAUSES: Record<'unsigned' | 'other' | 'damaged' | 'expired', RegExp> = {
  unsigned: /is not signed; the repo requires packages signed by/,
  other: /signed by key [0-9a-f]{16}, which is not among the repo's allowed keys|not among the allowed keys|not one of the repo's keys/,
  damaged: /does not verify \(the header or payload was changed after signing, or the signature is damaged\)/,
  expired: /key [0-9a-f]{40} expired on 2020-07-01/,
};

async function signed(name: keyof typeof pkgs, from: string, key: TestKey, opts = {}): Promise<void> {
  await mkdir(join(dir, 'pkgs', name), { recursive: true });
  pkgs[name] = await gpg.signPackage(from, join(dir, 'pkgs', name, basename(from)), key.email, opts);
}

before(async () => {
  dir = await tempDir('txrepo-package-policy-');
  store = join(dir, 'store');
  tx = inStore(store);
  gpg = await Gpg.create(join(dir, 'gnupg'));
  keys.allowed = await gpg.generateKey('allowed@example.org', 'rsa2048');
  keys.next = await gpg.generateKey('next@example.org', 'ed25519');
  keys.other = await gpg.generateKey('other@example.org', 'ed25519');
  // Made in 2020 without expiry; signs in 2021; then a newer self-signature says it expired in July 2020.
  keys.late = await gpg.generateKey('late@example.org', 'rsa2048', { fakedTime: '20200101T000000' });
  await signed('good', sample('bear-4.1-1.noarch.rpm'), keys.allowed);
  await signed('rotated', sample('tiger-1.0-4.noarch.rpm'), keys.next);
  await signed('other', sample('cow-2.2-3.noarch.rpm'), keys.other);
  await signed('expired', sample('dog-4.23-1.noarch.rpm'), keys.late, { fakedTime: '20210101T000000' });
  await gpg.setExpiry(keys.late, '2020-07-01', '20200601T000000');
  await signed('damaged', sample('fox-1.1-2.noarch.rpm'), keys.allowed);
  // A byte inside the RSA value of the header signature: it still parses, and no longer verifies.
  const bytes = await readFile(pkgs.damaged);
  const at = tagOffset(bytes, 'signature', SIGTAG.RSAHEADER);
  bytes[at + 3 + bytes.readUInt16BE(at + 1) - 20] ^= 1;
  await writeFile(pkgs.damaged, bytes);
  await mkdir(join(dir, 'pkgs', 'unsigned'));
  pkgs.unsigned = join(dir, 'pkgs', 'unsigned', 'cat-1.0-1.noarch.rpm');
  await copyFile(sample('cat-1.0-1.noarch.rpm'), pkgs.unsigned);
  for (const [name, key] of Object.entries(keys)) await writeFile(join(dir, `${name}.pub`), key.armored);
  await tx(['repo', 'create', 'el9', '--require-signed', join(dir, 'allowed.pub'), '--require-signed', join(dir, 'late.pub')]);
});

after(async () => {
  await gpg?.close();
  await removeDir(dir);
});

const snapshotsOf = async (repo: string) => JSON.parse((await tx(['snapshots', repo, '--json'])).stdout).map((s: { id: string }) => s.id) as string[];

describe('a repository that requires signed packages', () => {
  test('deploy takes a package signed by an allowed key, and shows its signer', async () => {
    await tx(['deploy', 'el9', pkgs.good]);
    const shown = JSON.parse((await tx(['show', 'el9@latest', '--files', '--json'])).stdout) as { files: { href: string; signer?: string }[] };
    assert.equal(shown.files.find((f) => f.href.endsWith('bear-4.1-1.noarch.rpm'))?.signer, keys.allowed.keyId);
    assert.match((await tx(['show', 'el9@latest', '--files'])).stdout, new RegExp(`bear-4\\.1-1\\.noarch\\.rpm  [0-9a-f]{64}  signed by ${keys.allowed.keyId}`));
  });

  test('deploy refuses each bad package, naming the file and the cause; the repo is unchanged', async () => {
    for (const name of ['unsigned', 'other', 'damaged', 'expired'] as const) {
      const before = await snapshotsOf('el9');
      // With a good package beside it: one refusal refuses the whole deploy.
      const r = await txrepo(['deploy', 'el9', pkgs.good, pkgs[name], '--store', store, '--json']);
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      const error = JSON.parse(r.stdout).error as { type: string; message: string };
      assert.equal(error.type, 'bad_package', name);
      assert.ok(error.message.includes(pkgs[name]), `${name}: the message names the file: ${error.message}`);
      assert.match(error.message, CAUSES[name], name);
      assert.deepEqual(await snapshotsOf('el9'), before, `${name}: no snapshot made`);
    }
  });

  test('sync refuses a bad package of the upstream, naming its URL; takes a signed upstream', async () => {
    for (const name of ['unsigned', 'other', 'damaged', 'expired'] as const) {
      const up = join(dir, `upstream-${name}`);
      await mkdir(up);
      await copyFile(pkgs.good, join(up, basename(pkgs.good)));
      await copyFile(pkgs[name], join(up, basename(pkgs[name])));
      await mustRun('createrepo_c', ['--no-database', '--quiet', up]);
      const server = await serveDirectory(up);
      try {
        const repo = `mirror-${name}`;
        await tx(['repo', 'create', repo, '--require-signed', join(dir, 'allowed.pub'), '--require-signed', join(dir, 'late.pub')]);
        const r = await txrepo(['sync', repo, '--from', `${server.url}/`, '--store', store]);
        assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
        assert.ok(r.stderr.includes(`${server.url}/${basename(pkgs[name])}`), `${name}: names the URL: ${r.stderr}`);
        assert.match(r.stderr, CAUSES[name], name);
        assert.deepEqual(await snapshotsOf(repo), [], `${name}: no snapshot made`);
      } finally {
        await server.close();
      }
    }
    const good = join(dir, 'upstream-good');
    await mkdir(good);
    await copyFile(pkgs.good, join(good, basename(pkgs.good)));
    await mustRun('createrepo_c', ['--no-database', '--quiet', good]);
    const server = await serveDirectory(good);
    try {
      await tx(['repo', 'create', 'mirror-good', '--require-signed', join(dir, 'allowed.pub')]);
      await tx(['sync', 'mirror-good', '--from', `${server.url}/`]);
      assert.equal((await snapshotsOf('mirror-good')).length, 1);
    } finally {
      await server.close();
    }
  });

  test('through a server: an upload the policy refuses is a 400 naming the file; a signed one is taken', async () => {
    const server = await serve(store);
    try {
      const token = (await tx(['token', 'create', 'ci', '--scope', 'deploy:*'])).stdout.trim();
      await tx(['repo', 'create', 'remote', '--require-signed', join(dir, 'allowed.pub')]);
      const remote = (args: string[]) => txrepo([...args, '--server', server.url, '--token', token]);
      const refused = await remote(['deploy', 'remote', pkgs.unsigned, '--json']);
      assert.equal(refused.code, 1, refused.stderr);
      const { error } = JSON.parse(refused.stdout) as { error: { type: string; message: string } };
      assert.equal(error.type, 'bad_package');
      assert.match(error.message, /^cat-1\.0-1\.noarch\.rpm is not signed; the repo requires packages signed by/);
      assert.ok(server.log.some((l) => / "POST \/api\/v1\/repos\/remote\/deploy" 400 /.test(l)), server.log.join('\n'));
      assert.deepEqual(await snapshotsOf('remote'), []);
      const taken = await remote(['deploy', 'remote', pkgs.good]);
      assert.equal(taken.code, 0, taken.stderr);
      assert.equal((await snapshotsOf('remote')).length, 1);
    } finally {
      await server.stop();
    }
  });

  test('key rotation: the new key is refused until the policy takes it; then both', async () => {
    const r = await txrepo(['deploy', 'el9', pkgs.rotated, '--store', store]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, CAUSES.other);
    await tx(['repo', 'update', 'el9', '--require-signed', join(dir, 'allowed.pub'), '--require-signed', join(dir, 'next.pub')]);
    await tx(['deploy', 'el9', pkgs.rotated]);
    const diff = JSON.parse((await tx(['diff', `el9@${(await snapshotsOf('el9')).at(-2)}`, 'el9@latest', '--json'])).stdout) as { added: { name: string; signer?: string }[] };
    assert.deepEqual(diff.added, [{ name: 'tiger', arch: 'noarch', to: '1.0-4', signer: keys.next.keyId }]);
    // Without a policy, anything goes again (and unsigned packages show as such).
    await tx(['repo', 'update', 'el9', '--allow-unsigned']);
    await tx(['deploy', 'el9', pkgs.unsigned]);
    assert.match((await tx(['show', 'el9@latest', '--files'])).stdout, /cat-1\.0-1\.noarch\.rpm  [0-9a-f]{64}  unsigned/);
  });
});
