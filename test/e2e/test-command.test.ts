// needs: setpriv root
// The README's test command on a machine that cannot have everything (not root, no
// apt, programs missing): one message says what to install, and it runs the test
// files whose needs are met (scripts/test-env.ts, each file's `// needs:` line).

import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { needsOf, testFiles } from '../../scripts/test-env.ts';
import { FIRST_PASS_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { REPO_ROOT, run } from '../helpers/run.ts';

let dir: string;
before(async () => {
  dir = await tempDir('txrepo-test-command-');
  await chmod(dir, 0o755); // nobody runs the programs linked in it
});
after(() => removeDir(dir));

/** A PATH holding every program of this machine but `without`, and the pinned node. */
async function pathWithout(without: string[]): Promise<string> {
  const bin = join(dir, `bin-${without.join('-')}`);
  await mkdir(bin);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      if (without.includes(name)) continue;
      await symlink(join(d, name), join(bin, name)).catch(() => {});
    }
  }
  return `${join(REPO_ROOT, 'node_modules/.bin')}:${bin}`;
}

/** `npm test -- --plan` as the user nobody, with `env`. */
function plan(path: string, env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['CI', 'TXREPO_TEST_PG', 'TXREPO_TEST_BACKEND'].includes(k)));
  return run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(REPO_ROOT, 'scripts/test.ts'), '--plan'], {
    env: { ...clean, PATH: path, HOME: dir, ...env },
  });
}

test('not root and without dnf or rpmbuild: one message says what to install, the rest runs', FIRST_PASS_ONLY, async () => {
  const r = await plan(await pathWithout(['dnf', 'rpmbuild', 'createrepo_c']));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { run: string[]; skipped: string[]; reliability: boolean; postgres: string | null };
  // One message, naming the packages and the reason for each skip.
  assert.equal(r.stderr.match(/cannot run every test/g)?.length, 1, r.stderr);
  assert.match(r.stderr, /Missing programs: .*dnf/);
  assert.match(r.stderr, /sudo apt-get install -y --no-install-recommends createrepo-c dnf rpm\n/);
  assert.match(r.stderr, /Some tests need root/);
  assert.match(r.stderr, /The PostgreSQL \+ S3 pass is skipped: setting up PostgreSQL needs root/);
  assert.equal(out.postgres, null);
  assert.equal(out.reliability, false);
  // Exactly the files whose needs are not met are left out.
  for (const f of testFiles(REPO_ROOT)) {
    const needs = needsOf(join(REPO_ROOT, f));
    const blocked = needs.some((n) => ['dnf', 'rpmbuild', 'createrepo_c', 'root'].includes(n));
    assert.equal(out.skipped.includes(f), blocked, `${f} (needs: ${needs.join(' ') || 'nothing'})`);
    assert.equal(out.run.includes(f), !blocked, f);
  }
  assert.ok(out.run.includes('test/store/store.test.ts') && out.skipped.includes('test/e2e/dnf.test.ts'));
});

test('with everything there and a database given, nothing is skipped and nothing is said', FIRST_PASS_ONLY, async () => {
  const r = await plan(process.env.PATH!, { TXREPO_TEST_PG: 'postgres://u:p@127.0.0.1:1/db' });
  const out = JSON.parse(r.stdout) as { run: string[]; skipped: string[] };
  // As nobody, only the files that need root are left out.
  assert.deepEqual(out.skipped.filter((f) => !needsOf(join(REPO_ROOT, f)).includes('root')), []);
  assert.doesNotMatch(r.stderr, /Missing programs/);
});

test('a needs line naming an unknown program is refused', async () => {
  const file = join(dir, 'typo.test.ts');
  await writeFile(file, '// needs: dnff root\n');
  assert.throws(() => needsOf(file), /typo\.test\.ts: "needs: dnff" is neither a known program \(createrepo_c, .*\) nor "root"/);
});
