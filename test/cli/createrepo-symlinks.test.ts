// createrepo keeps the README's promise that a package it cannot read fails the run:
// a *.rpm that is a dangling symlink or a symlink loop is named, and nothing is
// written. With --skip-symlinks every symlink is skipped on purpose, as createrepo_c
// does.

import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { assertJsonError, document } from './cli.ts';

let dir: string;
let n = 0;

before(async () => {
  dir = await tempDir('txrepo-cli-links-');
});

after(() => removeDir(dir));

/** A repo directory with bear and cat, and repodata made for them. */
async function indexedRepo(): Promise<string> {
  const repo = join(dir, `repo-${n++}`);
  await mkdir(repo);
  for (const f of ['bear-4.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']) await copyFile(sample(f), join(repo, f));
  const r = await txrepo(['createrepo', repo, '-q']);
  assert.equal(r.code, 0, r.stderr);
  return repo;
}

/** Every file of repodata/ with its content: what "nothing written" compares. */
async function repodata(repo: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(join(repo, 'repodata'))).sort()) out[f] = (await readFile(join(repo, 'repodata', f))).toString('base64');
  return out;
}

describe('createrepo and package symlinks', () => {
  for (const [kind, make, problem] of [
    ['a dangling symlink', (repo: string) => symlink('nowhere/duck-0.6-1.noarch.rpm', join(repo, 'duck-0.6-1.noarch.rpm')), /duck-0\.6-1\.noarch\.rpm: a symlink to "nowhere\/duck-0\.6-1\.noarch\.rpm", which does not exist/],
    ['a symlink loop', async (repo: string) => {
      await symlink('b.rpm', join(repo, 'a.rpm'));
      await symlink('a.rpm', join(repo, 'b.rpm'));
    }, /a\.rpm: a symlink loop/],
  ] as const) {
    test(`${kind} fails the run, named, and leaves the repodata as it was`, async () => {
      const repo = await indexedRepo();
      const before = await repodata(repo);
      await make(repo);
      const r = await txrepo(['createrepo', repo]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, problem);
      assert.match(r.stderr, /so the repodata was left unchanged/);
      assert.match(r.stderr, /--skip-symlinks/);
      assert.deepEqual(await repodata(repo), before, 'nothing written');
      assert.deepEqual((await readdir(repo)).filter((f) => f.startsWith('.repodata')), [], 'no lock or staging left behind');
      assertJsonError(await txrepo(['createrepo', repo, '--update', '--json']), 1, 'bad_package', problem);
      assert.deepEqual(await repodata(repo), before, 'nothing written by --update either');
    });
  }

  test('in a fresh directory no repodata appears at all', async () => {
    const repo = join(dir, `fresh-${n++}`);
    await mkdir(repo);
    await copyFile(sample('bear-4.1-1.noarch.rpm'), join(repo, 'bear-4.1-1.noarch.rpm'));
    await symlink('missing.rpm', join(repo, 'x.rpm'));
    assert.equal((await txrepo(['createrepo', repo])).code, 1);
    assert.deepEqual((await readdir(repo)).sort(), ['bear-4.1-1.noarch.rpm', 'x.rpm']);
  });

  test('--skip-symlinks skips them, as createrepo_c does; a good symlink is followed', async () => {
    const repo = await indexedRepo();
    await symlink('nowhere.rpm', join(repo, 'dangling.rpm'));
    await symlink('loop.rpm', join(repo, 'loop.rpm'));
    const skipped = document(await txrepo(['createrepo', repo, '--skip-symlinks', '--json']));
    assert.equal(skipped.packages, 2);
    const good = join(dir, `good-${n++}`);
    await mkdir(good);
    await symlink(sample('duck-0.6-1.noarch.rpm'), join(good, 'duck-0.6-1.noarch.rpm'));
    // A broken link that is not a package name is no business of createrepo's.
    await symlink('nowhere', join(good, 'README'));
    assert.equal(document(await txrepo(['createrepo', good, '--json'])).packages, 1);
  });
});

describe('deploy of a directory with a broken package symlink', () => {
  test('fails naming the link, and commits nothing', async () => {
    const src = join(dir, `deploy-src-${n++}`);
    await mkdir(src);
    await copyFile(sample('bear-4.1-1.noarch.rpm'), join(src, 'bear-4.1-1.noarch.rpm'));
    await symlink('nowhere.rpm', join(src, 'dangling.rpm'));
    const store = join(dir, `store-${n++}`);
    assert.equal((await txrepo(['repo', 'create', 'el9', '--store', store])).code, 0);
    const r = await txrepo(['deploy', 'el9', src, '--store', store, '--json']);
    assertJsonError(r, 1, 'invalid_input', new RegExp(`${join(src, 'dangling.rpm')}: .*nowhere\\.rpm`));
    assert.deepEqual(JSON.parse((await txrepo(['snapshots', 'el9', '--store', store, '--json'])).stdout), []);
  });
});
