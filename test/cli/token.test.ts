// txrepo token create|list|revoke with scopes and expiry (docs/cli.md, docs/security.md):
// what create prints and stores, what list shows (scopes, expiry, revoked or expired),
// the audit rows, and the refusals of scopes and durations txrepo does not take, with
// a message that names the bad value and says what is accepted, before any store is made.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { assertJsonError, document, on } from './cli.ts';

let dir: string;
let store: string;
let tx: ReturnType<typeof on>;

before(async () => {
  dir = await tempDir('txrepo-cli-token-');
  store = join(dir, 'store');
  tx = on(store);
});

after(() => removeDir(dir));

const listed = async () => document(await tx(['token', 'list', '--json'])) as { name: string; scopes: string[]; expiresAt?: string; revokedAt?: string; live: boolean }[];

describe('txrepo token', () => {
  test('create: the token once on stdout, its scopes and expiry on stderr; --json gives them all', async () => {
    const before = Date.now();
    const made = await tx(['token', 'create', 'ci', '--scope', 'deploy:el9', '--scope', 'tag:el*', '--scope', 'deploy:el9', '--expires', '12h']);
    assert.match(made.stdout, /^txr_[A-Za-z0-9_-]{43}\n$/);
    assert.match(made.stderr, /token ci created \(deploy:el9 tag:el\*, expires \d{4}-.+Z\); it is shown only this once/);
    const json = document(await tx(['token', 'create', 'ops', '--scope', 'admin', '--json']));
    assert.deepEqual(Object.keys(json).sort(), ['createdAt', 'createdBy', 'name', 'scopes', 'token']);
    assert.deepEqual(json.scopes, ['admin']);
    assert.match(json.token, /^txr_/);
    const ci = (await listed()).find((t) => t.name === 'ci')!;
    // A scope given twice counts once; the expiry is 12 hours from when it was made.
    assert.deepEqual(ci.scopes, ['deploy:el9', 'tag:el*']);
    const expires = Date.parse(ci.expiresAt!) - before;
    assert.ok(expires >= 12 * 3600_000 && expires < 12 * 3600_000 + 60_000, `expires in ${expires} ms`);
    assert.equal(ci.live, true);
  });

  test('list: scopes, expiry and state, as text and JSON; revoked and expired tokens are not live', async () => {
    await tx(['token', 'create', 'brief', '--scope', 'read', '--expires', '1s']);
    await tx(['token', 'create', 'gone', '--scope', 'tag:*']);
    const revoked = document(await tx(['token', 'revoke', 'gone', '--json']));
    assert.match(revoked.revokedAt, /^\d{4}-/);
    await new Promise((r) => setTimeout(r, 1100));
    const byName = Object.fromEntries((await listed()).map((t) => [t.name, t]));
    assert.equal(byName.brief.live, false);
    assert.equal(byName.gone.live, false);
    assert.equal(byName.ops.live, true);
    assert.equal(byName.ops.expiresAt, undefined);
    const lines = (await tx(['token', 'list'])).stdout.trim().split('\n');
    const line = (name: string) => lines.find((l) => l.startsWith(`${name}\t`))!.split('\t');
    assert.deepEqual([line('ci')[1], line('ci')[4].replace(/ .*/, ''), line('ci')[5]], ['deploy:el9 tag:el*', 'expires', 'live']);
    assert.match(line('brief')[5], /^expired \d{4}-/);
    assert.match(line('gone')[5], /^revoked \d{4}-/);
    assert.deepEqual([line('ops')[1], line('ops')[4], line('ops')[5]], ['admin', 'no expiry', 'live']);
  });

  test('create and revoke are in the audit log, with the scopes and expiry asked for', async () => {
    const log = document(await tx(['log', '--json'])) as { command: string; args: Record<string, unknown>; result: string }[];
    const ci = log.find((e) => e.command === 'token create' && e.args.name === 'ci')!;
    assert.deepEqual(ci.args.scopes, ['deploy:el9', 'tag:el*']);
    assert.match(String(ci.args.expiresAt), /^\d{4}-/);
    assert.equal(ci.result, 'ok');
    assert.ok(log.some((e) => e.command === 'token revoke' && e.args.name === 'gone' && e.result === 'ok'));
    // A refused create (the name is taken) changes nothing.
    const taken = await tx(['token', 'create', 'ci', '--scope', 'read'], 1);
    assert.match(taken.stderr, /a token named ci already exists/);
    assert.deepEqual((await listed()).find((t) => t.name === 'ci')!.scopes, ['deploy:el9', 'tag:el*']);
  });

  test('scopes txrepo does not know are refused, naming them and saying what is accepted (exit 2)', async () => {
    const accepted = /give read, deploy:GLOB, tag:GLOB or admin/;
    const cases: [string, RegExp][] = [
      ['deploy', /scope "deploy" is not one txrepo knows \(deploy names the repositories it covers: deploy:GLOB, deploy:\* for every one\)/],
      ['tag:', /scope "tag:" is not one/],
      ['deploy:el[89]', /scope "deploy:el\[89\]" is not one txrepo knows \(the part after "deploy:" is a repository name, with \* and \? as wildcards\)/],
      ['deploy:el9/x', /scope "deploy:el9\/x"/],
      ['read:el9', /scope "read:el9" is not one txrepo knows \(read covers every repository: give read alone\)/],
      ['read,deploy:el9', /one scope per --scope/],
      ['Admin', /scope "Admin" is not one/],
      ['write', /scope "write" is not one/],
      ['', /scope "" is not one/],
    ];
    for (const [scope, message] of cases) {
      const r = await tx(['token', 'create', 'bad', '--scope', 'read', '--scope', scope], 2);
      assert.match(r.stderr, message, scope);
      assert.match(r.stderr, accepted, scope);
    }
    assertJsonError(await txrepo(['token', 'create', 'bad', '--scope', 'deploy', '--json', '--store', store]), 2, 'usage', /--scope: scope "deploy" is not one/);
    assert.ok(!(await listed()).some((t) => t.name === 'bad'));
  });

  test('no --scope, a bad --expires, or --scope where it does not belong: refused before a store is made', async () => {
    const fresh = join(dir, 'never-made');
    const none = await txrepo(['token', 'create', 'ci', '--store', fresh]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give the new token's scopes: --scope SCOPE, once per scope, where SCOPE is read, deploy:GLOB, tag:GLOB or admin .*--scope admin makes one like them/);
    for (const [expires, message] of [['soon', /--expires: "soon" is not a duration/], ['0s', /--expires 0s: give a duration above 0/], ['-1d', /--expires/]] as const) {
      const r = await txrepo(['token', 'create', 'ci', '--scope', 'read', '--expires', expires, '--store', fresh]);
      assert.equal(r.code, 2, `${expires}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const list = await txrepo(['token', 'list', '--scope', 'read', '--store', fresh]);
    assert.equal(list.code, 2);
    assert.match(list.stderr, /--scope is for 'txrepo token create'/);
    await assert.rejects(stat(fresh), { code: 'ENOENT' });
  });
});
