// The one glob matcher (src/common/glob.ts) that createrepo's --excludes, remove and
// copy's patterns, mirror filters and token scopes share: fnmatch's globs (or GLib's,
// without sets), matched in time proportional to glob x name, whatever the glob.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GlobError, globMatcher } from '../../src/common/index.ts';
import { FIRST_PASS_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { finishesWithin, srcUrl } from '../helpers/run.ts';

const SETS = { sets: true };
const NO_SETS = { sets: false };
const matches = (glob: string, name: string, opts = SETS) => globMatcher(glob, opts)(name);

describe('globs', FIRST_PASS_ONLY, () => {
  test('* is any run (also none, also "/"), ? one character; the whole name is matched', () => {
    assert.ok(matches('kernel*', 'kernel'));
    assert.ok(matches('kernel*', 'kernel-core-6.1'));
    assert.ok(matches('*/x.rpm', 'a/b/x.rpm'));
    assert.ok(matches('k?rnel', 'kernel'));
    assert.ok(!matches('k?rnel', 'krnel'));
    assert.ok(!matches('kernel', 'kernel-core'), 'a glob without * is the whole name');
    assert.ok(!matches('ernel*', 'kernel'));
    assert.ok(matches('b**r', 'bear'));
    assert.ok(matches('*', ''));
    assert.ok(!matches('?', ''));
  });

  test('? is one character, not one UTF-16 unit', () => {
    assert.ok(matches('caf?', 'café'));
    assert.ok(matches('x?y', 'x\u{1F600}y'));
    assert.ok(matches('[\u{1F600}]', '\u{1F600}'));
  });

  test('sets: members, ranges, negation by ! or ^, a ] first is a member', () => {
    assert.ok(matches('duck-0.[67]', 'duck-0.7'));
    assert.ok(!matches('duck-0.[67]', 'duck-0.8'));
    assert.ok(matches('duck-0.[5-7]', 'duck-0.6'));
    assert.ok(!matches('duck-0.[5-7]', 'duck-0.8'));
    assert.ok(matches('x[!0-6]', 'x7'));
    assert.ok(!matches('x[^0-6]', 'x3'));
    assert.ok(matches('x[]a]', 'x]'));
    assert.ok(matches('x[]a]', 'xa'));
    assert.ok(matches('x[!]]', 'xb'));
    assert.ok(!matches('x[!]]', 'x]'));
    assert.ok(matches('[[]x', '[x'), '[[] is a literal [');
    assert.ok(matches('[a-]', '-'), 'a - last is a member');
  });

  test('without sets (GLib simple patterns, token scopes), [ is itself', () => {
    assert.ok(matches('x[ab]', 'x[ab]', NO_SETS));
    assert.ok(!matches('x[ab]', 'xa', NO_SETS));
    assert.ok(matches('x[*', 'x[abc', NO_SETS), 'an unclosed [ is no error either');
  });

  test('a glob that cannot be read is a GlobError saying what is wrong and where', () => {
    assert.throws(() => globMatcher('ab[cd', SETS), (e: Error) => e instanceof GlobError && /the "\[" at 3 opens a set of characters that no "\]" closes \(for a literal "\[", write "\[\[\]"\)/.test(e.message));
    assert.throws(() => globMatcher('x[]', SETS), (e: Error) => e instanceof GlobError && /no "\]" closes/.test(e.message), 'a ] first is a member: this set is unclosed');
    assert.throws(() => globMatcher('[z-a]', SETS), (e: Error) => e instanceof GlobError && /the range "z-a" in the set at 1 runs backwards \(write a-z, not z-a\)/.test(e.message));
  });

  test('many stars take time proportional to glob x name, not exponential (a regular expression of .* takes hours here)', { timeout: 60_000 }, () => {
    // `.*a` twelve times then `b` against 60 a's: a backtracking regular expression
    // tries every way to share the a's among the stars (17 s for 40 a's on 2 cores).
    const hostile = `${'*a'.repeat(60)}*b`;
    const name = 'a'.repeat(5000);
    assert.equal(matches(hostile, name), false);
    assert.equal(matches(hostile, name, NO_SETS), false);
    assert.equal(matches(`${'*a'.repeat(60)}*`, name), true);
  });
});

// Each of them matched a regular expression made of the glob until all four shared one
// matcher: a mirror filter or a token scope of many stars held a server's event loop for
// minutes on a long package or repository name. Each case runs in a child process
// given 20 s (it takes milliseconds): a matcher gone exponential again blocks its event
// loop, where no test timeout could stop it, so the child is killed and the test fails.
describe('every glob txrepo takes is matched by it', FIRST_PASS_ONLY, () => {
  /** Runs `body` with `hostile`, a glob of many stars, at most 20 s (it takes milliseconds). */
  const finishes = (imports: string, body: string) => finishesWithin(20_000, `${imports}\nconst hostile = '*a'.repeat(30) + '*b';\n${body}`);

  test('mirror filters (--include, --exclude)', () =>
    finishes(
      `import { applyMirrorFilter } from ${srcUrl('sync/index.ts')};`,
      `const p = { name: 'a'.repeat(200), epoch: '0', version: '1', release: '1', arch: 'x86_64' };
       assert.deepEqual(applyMirrorFilter([p], { include: [hostile] }).kept, []);
       assert.deepEqual(applyMirrorFilter([p], { exclude: [hostile] }).kept, [p]);`,
    ));

  test('token scopes (deploy:GLOB, tag:GLOB)', () =>
    finishes(
      `import { lackedScope } from ${srcUrl('store/index.ts')};`,
      `const repo = 'a'.repeat(128);
       assert.equal(lackedScope(['deploy:' + hostile], 'deploy', [repo]), 'deploy:' + repo);
       assert.equal(lackedScope(['deploy:' + '*a'.repeat(30) + '*'], 'deploy', [repo]), undefined);`,
    ));

  test("remove and copy's package patterns", () =>
    finishes(
      `import { matchPackages } from ${srcUrl('snapshots/index.ts')};`,
      `const p = { href: 'a'.repeat(200) + '.rpm', record: { name: 'a'.repeat(200), arch: 'noarch', epoch: '0', version: '1', release: '1' } };
       assert.throws(() => matchPackages([p], [hostile], 'x@latest'), /no package in x@latest matches/);`,
    ));

  test("createrepo's --excludes", async () => {
    const dir = await tempDir('txrepo-glob-');
    try {
      await mkdir(join(dir, 'a'.repeat(200)));
      await writeFile(join(dir, 'a'.repeat(200), `${'a'.repeat(200)}.rpm`), '');
      finishes(
        `import { scanPackages } from ${srcUrl('createrepo/index.ts')};`,
        `const dir = ${JSON.stringify(dir)};
         const { packages } = await scanPackages(dir, { excludes: [hostile, '*a'.repeat(30) + '*[x]*'] });
         assert.equal(packages.length, 1, 'GLib patterns have no sets: [x] is literal, so nothing is excluded');
         assert.equal((await scanPackages(dir, { excludes: ['*/a*.rpm'] })).packages.length, 0);`,
      );
    } finally {
      await removeDir(dir);
    }
  });
});
