// needs: dnf rpm root
// The real dnf against `txrepo serve --private`: with username= and password= (the
// token) in the .repo file it installs a package, as HTTP Basic after the server's
// challenge; without them, or with a revoked token, it cannot read the repository.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describe as describeRun, dnf, installedPackages } from '../helpers/dnf.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let dir: string;
let store: string;
let served: Served;
let token: string;

before(async () => {
  dir = await tempDir('txrepo-private-dnf-');
  store = join(dir, 'store');
  const tx = inStore(store);
  await tx(['repo', 'create', 'app']);
  await tx(['deploy', 'app', sample('bear-4.1-1.noarch.rpm'), sample('cat-1.0-1.noarch.rpm')]);
  // Any token reads; a read-only one is what a client machine should hold.
  token = (await tx(['token', 'create', 'client', '--scope', 'read'])).stdout.trim();
  served = await serve(store, ['--private']);
});

after(async () => {
  await served?.stop();
  await removeDir(dir);
});

/** dnf in a fresh installroot, with only the repositories of a .repo file of `lines`. */
async function dnfWith(name: string, lines: string[], args: string[]) {
  const reposdir = join(dir, `repos-${name}`);
  await mkdir(reposdir);
  await writeFile(join(reposdir, 'app.repo'), ['[app]', 'name=app', `baseurl=${served.url}/repos/app/tags/latest/`, 'enabled=1', 'gpgcheck=0', ...lines, ''].join('\n'));
  const root = join(dir, `root-${name}`);
  return { root, result: await dnf(root, {}, args, { setopt: { reposdir } }) };
}

describe('dnf and a --private server', () => {
  test('with the token as password= (any username=) in the .repo file, dnf installs', async () => {
    const { root, result } = await dnfWith('token', ['username=txrepo', `password=${token}`], ['install', 'bear']);
    assert.equal(result.code, 0, describeRun(result));
    assert.deepEqual(await installedPackages(root), ['bear-4.1-1.noarch']);
    // dnf read the metadata and the package with the token: no anonymous read got through.
    const reads = served.log.filter((l) => l.includes('/repos/app/tags/latest/'));
    assert.ok(reads.some((l) => / 200 /.test(l) && l.includes('.rpm')), reads.join('\n'));
  });

  test('publish --from a --private server reads with --token, and is refused without', async () => {
    const without = await txrepo(['publish', 'app', join(dir, 'pub-anonymous'), '--from', served.url]);
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /token/);
    const r = await txrepo(['publish', 'app', join(dir, 'pub'), '--from', served.url, '--token', token, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).repo, 'app');
  });

  test('without username= and password=, or with a revoked token, dnf cannot read the repository', async () => {
    const anonymous = await dnfWith('anonymous', [], ['install', 'cat']);
    assert.notEqual(anonymous.result.code, 0, describeRun(anonymous.result));
    assert.ok(served.log.some((l) => l.includes('"GET /repos/app/tags/latest/repodata/repomd.xml" 401 ')), served.log.join('\n'));
    await inStore(store)(['token', 'revoke', 'client']);
    const revoked = await dnfWith('revoked', ['username=txrepo', `password=${token}`], ['install', 'cat']);
    assert.notEqual(revoked.result.code, 0, describeRun(revoked.result));
    assert.deepEqual(await installedPackages(revoked.root).catch(() => []), []);
  });
});
