// The global options (--store, --catalog, --blobs, --server, --token, --json) go
// before or after the command, also as --name=value; a command refuses by name one
// it does not take; and a mistyped command, action or option gets "did you mean".

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeEnv } from '../helpers/backends.ts';
import { removeDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { document, storeWithApp } from './cli.ts';

let dir: string;
let store: string;

before(async () => {
  ({ dir, store } = await storeWithApp('txrepo-cli-options-'));
});

after(() => removeDir(dir));

describe('global options', () => {
  test('--store and --json before the command, after it, and as --name=value, all alike', async () => {
    // --store=S is one word: the test helper cannot see it, so this pass's backends go in by hand.
    const env = storeEnv(store);
    const forms = [
      ['repo', 'list', '--store', store, '--json'],
      ['--store', store, 'repo', 'list', '--json'],
      ['--store', store, '--json', 'repo', 'list'],
      [`--store=${store}`, '--json', 'repo', 'list'],
      ['--json', 'repo', 'list', `--store=${store}`],
      ['--json', `--store=${store}`, 'repo', 'list'],
    ];
    const answers = [];
    for (const args of forms) {
      const r = await txrepo(args, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      answers.push(document(r));
    }
    assert.deepEqual(answers[0].map((r: { name: string }) => r.name), ['app']);
    for (const [i, a] of answers.entries()) assert.deepEqual(a, answers[0], forms[i].join(' '));
  });

  test('a global option before a command that does not take it is refused by name, as after it', async () => {
    const repo = join(dir, 'plain');
    for (const args of [
      ['--store', store, 'createrepo', repo],
      ['createrepo', repo, '--store', store],
      [`--store=${store}`, 'modifyrepo', sample('updateinfo.xml'), join(repo, 'repodata')],
    ]) {
      const r = await txrepo(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^txrepo: 'txrepo (createrepo|modifyrepo)' does not take --store: it does not use a store/, args.join(' '));
    }
    const server = await txrepo(['--server', 'http://127.0.0.1:9', 'export', 'app', join(dir, 'out'), '--store', store]);
    assert.equal(server.code, 2);
    assert.match(server.stderr, /'txrepo export' does not take --server: it does not work through a server/);
    const token = await txrepo(['token', 'list', '--token', 'txr_x', '--store', store]);
    assert.equal(token.code, 2);
    assert.match(token.stderr, /'txrepo token' does not take --token/);
  });

  test('createrepo takes --json before the command too', async () => {
    const r = await txrepo(['--json', 'createrepo', join(dir, 'empty-repo'), '-q']);
    // The directory does not exist: a failure, but one that went through createrepo's parser.
    assert.equal(r.code, 1, r.stderr);
    assert.equal(document(r).error.type, 'invalid_input');
  });

  test('a global option needs its value, and a boolean one takes none', async () => {
    let r = await txrepo(['--store']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--store needs a value/);
    r = await txrepo(['--json=yes', 'repo', 'list']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--json takes no value/);
  });
});

describe('did you mean', () => {
  test('a mistyped command: the nearest ones, exit 2', async () => {
    for (const [typed, meant] of [
      ['snapshot', 'snapshots'],
      ['snapshotz', 'snapshots'],
      ['deplyo', 'deploy'],
      ['creatrepo', 'createrepo'],
      ['promo', 'promote'],
    ]) {
      const r = await txrepo([typed, 'x']);
      assert.equal(r.code, 2, typed);
      assert.match(r.stderr, new RegExp(`unknown command "${typed}"; did you mean '${meant}'\\?`), typed);
    }
    // Nothing near: the list of commands instead.
    const r = await txrepo(['frobnicate']);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /did you mean/);
    assert.match(r.stderr, /Commands:/);
  });

  test('a mistyped option, an action, and a global option before the command', async () => {
    let r = await txrepo(['deploy', 'app', sample('bear-4.1-1.noarch.rpm'), '--mesage', 'x', '--store', store]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --mesage for 'txrepo deploy'; did you mean '--message'\?/);
    r = await txrepo(['gc', '--dryrun', '--store', store]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean '--dry-run'\?/);
    r = await txrepo(['fsck', '--verify', '--store', store]);
    assert.match(r.stderr, /did you mean '--verify-blobs'\?/);
    r = await txrepo(['repo', 'creat', 'web', '--store', store]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /got "creat"\); did you mean 'create'\?/);
    r = await txrepo(['set', 'relase', 'x', '--store', store]);
    assert.match(r.stderr, /did you mean 'release'\?/);
    r = await txrepo(['--stor', store, 'repo', 'list']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --stor before the command; did you mean '--store'\?/);
    // Nothing near: no guess.
    r = await txrepo(['deploy', 'app', '--frobnicate', '--store', store]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --frobnicate for 'txrepo deploy'\nRun 'txrepo deploy --help'/);
  });
});
