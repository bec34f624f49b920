// needs: createrepo_c
// What a deploy SOURCE is, decided in one place (src/snapshots/sources.ts): the same
// command deploys the same packages with or without --server. A yum repo directory
// gives the packages its metadata lists (not every .rpm lying in it), verified against
// the listed checksums; a URL of another scheme is refused, not taken for a path.

import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { initStore, serve, type Served } from '../helpers/serve.ts';

const LISTED = ['bear-4.1-1.noarch.rpm', 'camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm'];

let work: string;
let server: Served;
let token: string;
const local = () => inStore(join(work, 'local'));
const remote = (args: string[]) => txrepo([...args, '--server', server.url, '--token', token]);

/** A yum repo directory made by createrepo_c from `listed`, with `extra` files copied in afterwards. */
async function yumDir(name: string, listed: string[], extra: Record<string, string> = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, 'Packages'), { recursive: true });
  for (const f of listed) await copyFile(sample(f), join(dir, 'Packages', f));
  await mustRun('createrepo_c', ['--quiet', dir]);
  for (const [to, from] of Object.entries(extra)) await copyFile(sample(from), join(dir, to));
  return dir;
}

const packagesOf = (showFilesJson: string) =>
  (JSON.parse(showFilesJson).files as { href: string }[])
    .map((f) => f.href)
    .filter((h) => h.endsWith('.rpm'))
    .map((h) => h.split('/').at(-1))
    .sort();

before(async () => {
  work = await tempDir('txrepo-sources-');
  await local()(['repo', 'create', 'el9']);
  const served = join(work, 'served');
  await initStore(served);
  await inStore(served)(['repo', 'create', 'el9']);
  token = (await inStore(served)(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(served);
});
after(async () => {
  await server?.stop();
  await removeDir(work);
});

test('a yum repo directory deploys the packages its metadata lists, locally and through a server alike', async () => {
  // dog is in the directory but not in its metadata: a stray file, not part of the repo.
  const dir = await yumDir('repo', LISTED, { 'Packages/dog-4.23-1.noarch.rpm': 'dog-4.23-1.noarch.rpm' });
  await local()(['deploy', 'el9', dir]);
  const r = await remote(['deploy', 'el9', dir]);
  assert.equal(r.code, 0, r.stderr);
  const here = packagesOf((await local()(['show', 'el9', '--files', '--json'])).stdout);
  const there = packagesOf((await remote(['show', 'el9', '--files', '--json'])).stdout);
  assert.deepEqual(here, [...LISTED].sort());
  assert.deepEqual(there, here);
});

test('a listed package whose content is not what the metadata says is refused, locally and through a server, and nothing is committed', async () => {
  // One byte of duck's payload changed after createrepo_c listed it: same size, other
  // checksum (packages neither store has: one it had is taken from the store by checksum).
  const dir = await yumDir('damaged', ['dog-4.23-1.noarch.rpm', 'duck-0.6-1.noarch.rpm']);
  const duck = join(dir, 'Packages', 'duck-0.6-1.noarch.rpm');
  const bytes = await readFile(duck);
  bytes[bytes.length - 100] ^= 0xff;
  await writeFile(duck, bytes);
  const before = { here: (await local()(['show', 'el9', '--json'])).stdout, there: (await remote(['show', 'el9', '--json'])).stdout };
  for (const [where, run] of [['local', (a: string[]) => txrepo([...a, '--store', join(work, 'local')])], ['remote', remote]] as const) {
    const r = await run(['deploy', 'el9', dir, '--json']);
    assert.notEqual(r.code, 0, `${where}: ${r.stdout}`);
    const error = JSON.parse(r.stdout).error;
    assert.equal(error.type, 'bad_package', `${where}: ${r.stdout}`);
    assert.match(error.message, /duck-0\.6-1\.noarch\.rpm/, where);
  }
  assert.equal((await local()(['show', 'el9', '--json'])).stdout, before.here);
  assert.equal((await remote(['show', 'el9', '--json'])).stdout, before.there);
});

test('a URL of another scheme is refused as such, not looked for as a file', async () => {
  for (const r of [await txrepo(['deploy', 'el9', 'ftp://mirror.example/el9/', '--store', join(work, 'local')]), await remote(['deploy', 'el9', 'ftp://mirror.example/el9/'])]) {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ftp:\/\/mirror\.example\/el9\/: only http:\/\/ and https:\/\/ URLs/);
  }
});
