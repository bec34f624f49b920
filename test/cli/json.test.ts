// --json: every command prints exactly one JSON document on stdout, its result or
// {"error": {"type", "message"}} with the same exit status as without --json (2
// usage, 1 failure, 70 bug), and the human line still on stderr.

import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeFailure, UsageError } from '../../src/cli/errors.ts';
import { FAILURE_KINDS, kindOf } from '../../src/common/index.ts';
import { RemoteError } from '../../src/remote/index.ts';
import { removeDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { serve, type Served } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';
import { assertJsonError, document, on, storeWithApp } from './cli.ts';

let dir: string;
let store: string;
let tx: ReturnType<typeof on>;
let snapshot: string;

before(async () => {
  ({ dir, store, tx, snapshot } = await storeWithApp('txrepo-cli-json-'));
});

after(() => removeDir(dir));

describe('errors as JSON', () => {
  test('usage errors, also those found before the arguments are parsed, wherever --json is', async () => {
    assertJsonError(await txrepo(['--json', 'snapshot', 'app']), 2, 'usage', /unknown command "snapshot"; did you mean 'snapshots'\?/);
    assertJsonError(await txrepo(['snapshot', 'app', '--json']), 2, 'usage', /unknown command "snapshot"/);
    assertJsonError(await txrepo(['--jsn', '--json', 'repo', 'list']), 2, 'usage', /unknown option --jsn before the command/);
    assertJsonError(await txrepo(['deploy', 'app', '--mesage', 'x', '--json']), 2, 'usage', /did you mean '--message'\?/);
    assertJsonError(await txrepo(['createrepo', '--json', '--store', store, dir]), 2, 'usage', /'txrepo createrepo' does not take --store/);
    assertJsonError(await txrepo(['repo', 'list', '--json', '--store']), 2, 'usage', /--store/);
    assertJsonError(await txrepo(['--json']), 2, 'usage', /give a command/);
    assertJsonError(await tx(['tag', 'app', 'x', '--json'], 2), 2, 'usage', /give REPO, TAG and REF/);
    assertJsonError(await tx(['gc', '--json', '--grace', 'soon'], 1), 1, 'invalid_input', /"soon" is not a duration/);
  });

  test('not found: repository, tag, set', async () => {
    assertJsonError(await tx(['show', 'app@nope', '--json'], 1), 1, 'not_found', /app has no tag nope/);
    assertJsonError(await tx(['snapshots', 'nope', '--json'], 1), 1, 'not_found', /no repository nope/);
    assertJsonError(await tx(['set', 'show', '20200101-000000-0001', '--json'], 1), 1, 'not_found', /no set 20200101-000000-0001/);
    assertJsonError(await tx(['repo', 'create', 'app', '--json'], 1), 1, 'already_exists', /app/);
    assertJsonError(await tx(['tag', 'app', 'latest', snapshot, '--expect', 'none', '--json'], 1), 1, 'conflict', /points at/);
  });

  test('a bad package, to deploy and to createrepo', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'broken-1.0-1.noarch.rpm'), 'not an rpm');
    assertJsonError(await tx(['deploy', 'app', join(bad, 'broken-1.0-1.noarch.rpm'), '--json'], 1), 1, 'bad_package', /broken-1\.0-1\.noarch\.rpm/);
    assertJsonError(await txrepo(['createrepo', bad, '--json']), 1, 'bad_package', /1 package could not be read.*\n.*broken-1\.0-1\.noarch\.rpm/);
    const linked = join(dir, 'linked');
    await mkdir(linked, { recursive: true });
    await symlink('gone.rpm', join(linked, 'gone.rpm'));
    assertJsonError(await txrepo(['--json', 'createrepo', linked]), 1, 'bad_package', /gone\.rpm: a symlink loop/);
  });

  test('through a server: the server says the kind, the CLI passes it on with the same exit status', async () => {
    let server: Served | undefined;
    try {
      server = await serve(store);
      const r = await txrepo(['show', 'app@nope', '--json', '--server', server.url]);
      assertJsonError(r, 1, 'not_found', /app has no tag nope/);
      const noToken = await txrepo(['repo', 'create', 'web', '--json', '--server', server.url]);
      assertJsonError(noToken, 1, 'auth', /give a token/);
      const res = await fetch(`${server.url}/api/v1/repos/nope`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { error: { type: 'not_found', message: "no repository nope; see 'txrepo repo list'" } });
    } finally {
      await server?.stop();
    }
    assertJsonError(await txrepo(['repo', 'list', '--json', '--server', 'http://127.0.0.1:9']), 1, 'unavailable', /connection refused/);
    assertJsonError(await txrepo(['repo', 'list', '--json', '--server', 'ftp://x']), 2, 'usage', /give an http/);
  });

  test('a bug is kind internal and exit status 70; every class maps to a kind of the vocabulary', () => {
    const bug = describeFailure(new TypeError('x is undefined'));
    assert.deepEqual([bug.type, bug.status], ['internal', 70]);
    assert.match(bug.message, /this is a bug in txrepo/);
    assert.deepEqual([describeFailure(new UsageError('u')).type, describeFailure(new UsageError('u')).status], ['usage', 2]);
    const io = Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/nope' });
    assert.deepEqual(describeFailure(io), { type: 'io', status: 1, message: '/nope: no such file or directory' });
    // A server's answer keeps its kind; one of an older server (a class name) maps to the same.
    assert.equal(kindOf(new RemoteError('m', 409, 'conflict')), 'conflict');
    assert.equal(kindOf(new RemoteError('m', 409, 'ConflictError')), 'conflict');
    assert.equal(kindOf(new RemoteError('m', 500, 'internal')), 'internal');
    assert.equal(describeFailure(new RemoteError('internal error (see the server log)', 500, 'internal')).status, 70);
    assert.equal(kindOf(new RemoteError('m', 503)), 'unavailable');
    for (const k of ['usage', 'not_found', 'conflict', 'already_exists', 'invalid_input', 'bad_package', 'locked', 'auth', 'unavailable', 'io', 'internal']) {
      assert.ok((FAILURE_KINDS as readonly string[]).includes(k), k);
    }
  });
});

describe('results as JSON', () => {
  test('every command prints one JSON document with --json', async () => {
    const plain = join(dir, 'plain');
    await mkdir(plain, { recursive: true });
    await symlink(sample('duck-0.6-1.noarch.rpm'), join(plain, 'duck-0.6-1.noarch.rpm'));
    const conf = join(dir, 'reposync.conf');
    await writeFile(conf, '[app]\nname=app\nbaseurl=http://old.example/\n');
    const set = document(await tx(['set', 'create', 'app', '--label', 'run', '--json'])).id;
    const runs: string[][] = [
      ['createrepo', plain, '-q'],
      ['modifyrepo', sample('updateinfo.xml'), join(plain, 'repodata')],
      ['repo', 'create', 'mirror', '--upstream', plain],
      ['sync', 'mirror'],
      ['repo', 'list'],
      ['repo', 'show', 'app'],
      ['deploy', 'app', sample('duck-0.6-1.noarch.rpm')],
      ['snapshots', 'app'],
      ['show', 'app', '--files'],
      ['diff', `app@${snapshot}`, 'app@latest'],
      ['tag', 'app', 'tested', snapshot],
      ['tags', 'app'],
      ['tags', 'app', '--history'],
      ['export', 'app', join(dir, 'exported')],
      ['fsck'],
      ['set', 'list'],
      ['set', 'show', set],
      ['set', 'extend', set, '--ttl', '4d'],
      ['set', 'keep', set],
      ['inject', conf, '--set', set, '--base-url', 'http://repos.example'],
      ['promote', set, '--tag', 'stable'],
      ['publish', 'app@stable', join(dir, 'public')],
      ['set', 'release', set],
      ['gc', '--dry-run'],
      ['gc'],
      ['log'],
      ['token', 'create', 'ci', '--scope', 'admin'],
      ['token', 'list'],
      ['token', 'revoke', 'ci'],
      ['repo', 'delete', 'mirror'],
    ];
    for (const args of runs) {
      const needsStore = !['createrepo', 'modifyrepo'].includes(args[0]);
      const r = await txrepo([...args, '--json', ...(needsStore ? ['--store', store] : [])]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      const doc = document(r);
      assert.ok(doc !== null && typeof doc === 'object', args.join(' '));
    }
    for (const args of [['--help'], ['--version'], ['deploy', '--help']]) {
      const doc = document(await txrepo([...args, '--json']));
      assert.ok(typeof (doc.usage ?? doc.version) === 'string', args.join(' '));
    }
  });
});
