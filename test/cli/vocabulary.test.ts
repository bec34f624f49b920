// One name for one thing, in the CLI's --json and in the API alike (docs/cli.md,
// "Names"): a tag is {repo, tag, snapshot, movedAt}, a move {repo, tag, from, to, at,
// actor, reason, set}; a reference to a snapshot is `snapshot`, its own id `id`; who
// made a thing is `createdBy`, who made an event `actor`; files are named by sha256.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';
import { serve, type Served } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';
import { document, on, storeWithApp } from './cli.ts';

let dir: string;
let tx: ReturnType<typeof on>;
let first: string;
let server: Served;
let token: string;

const TAG = ['movedAt', 'repo', 'snapshot', 'tag'];
const MOVE = ['actor', 'at', 'from', 'reason', 'repo', 'set', 'tag', 'to'];
const keys = (o: object) => Object.keys(o).sort();
/** The keys of a move, which leaves out `from` (a new tag) and `set` (not a promotion). */
const assertMove = (m: object, what: string) => {
  for (const k of keys(m)) assert.ok(MOVE.includes(k), `${what}: ${k} is not a field of a move`);
  for (const k of ['actor', 'at', 'reason', 'repo', 'tag', 'to']) assert.ok(k in m, `${what}: no ${k}`);
};
/** An API call with the test's token (the log and tag history are for token holders). */
const api = async (path: string, init: RequestInit = {}): Promise<any> => {
  const res = await fetch(`${server.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  assert.ok(res.ok, `${path}: ${res.status}`);
  return res.json();
};
const json = async (args: string[]) => document(await tx([...args, '--json']));

before(async () => {
  let store: string;
  ({ dir, store, tx, snapshot: first } = await storeWithApp('txrepo-cli-names-'));
  token = (await tx(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(store);
});

after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('tags and moves', () => {
  test('a tag says snapshot, a move says from and to, in tag, tags, --history, promote and the API', async () => {
    const move = await json(['tag', 'app', 'tested', first, '-m', 'run 1']);
    assertMove(move, 'tag');
    assert.deepEqual([move.repo, move.tag, move.to, move.from, move.reason], ['app', 'tested', first, undefined, 'run 1']);
    const tags = await json(['tags', 'app']);
    for (const t of tags) assert.deepEqual(keys(t), TAG);
    const tested = tags.find((t: { tag: string }) => t.tag === 'tested');
    assert.equal(tested.snapshot, move.to);
    assert.equal(tested.movedAt, move.at);
    assert.deepEqual(await api('/repos/app/tags'), tags);

    const second = (await json(['deploy', 'app', sample('duck-0.6-1.noarch.rpm')])).snapshot;
    const set = (await json(['set', 'create', 'app'])).id;
    const promoted = await json(['promote', set, '--tag', 'tested']);
    assert.equal(promoted.length, 1);
    assertMove(promoted[0], 'promote');
    assert.deepEqual([promoted[0].from, promoted[0].to, promoted[0].set], [first, second, set]);

    const history = await json(['tags', 'app', '--history']);
    for (const m of history) assertMove(m, 'tags --history');
    assert.deepEqual(await api('/repos/app/history'), history);
    const viaApi = await api('/repos/app/tags/api', { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ref: first }) });
    assertMove(viaApi, 'PUT /api/v1/repos/app/tags/api');
    assert.equal(viaApi.to, first);
  });
});

describe('snapshots', () => {
  test('deploy says which snapshot latest points at: a snapshot id, as export, publish and tags do', async () => {
    const d = await json(['deploy', 'app', sample('walrus-0.71-1.noarch.rpm')]);
    assert.deepEqual(keys(d), ['added', 'notKept', 'packages', 'path', 'removed', 'repo', 'snapshot', 'unchanged']);
    assert.equal(typeof d.snapshot, 'string');
    assert.equal(d.unchanged, false);
    const shown = await json(['show', 'app']);
    assert.equal(shown.id, d.snapshot);
    assert.equal(shown.packages, d.packages);
    assert.equal(d.path, shown.path);
    const again = await json(['deploy', 'app', sample('walrus-0.71-1.noarch.rpm')]);
    assert.deepEqual([again.snapshot, again.unchanged, again.packages], [d.snapshot, true, d.packages]);
    const exported = await json(['export', `app@${d.snapshot}`, `${dir}/exported`]);
    assert.deepEqual([exported.repo, exported.snapshot], ['app', d.snapshot]);
  });

  test('a snapshot is created by someone, like a repo, a set and a token; lists carry tags in the CLI and the API', async () => {
    const list = await json(['snapshots', 'app']);
    for (const s of list) {
      assert.equal(typeof s.createdBy, 'string');
      assert.ok(!('actor' in s), 'a snapshot has createdBy, not actor');
      assert.ok(Array.isArray(s.tags));
    }
    const latest = (await json(['show', 'app'])).id;
    assert.ok(list.find((s: { id: string }) => s.id === latest).tags.includes('latest'), 'a snapshot lists the tags that point at it');
    assert.deepEqual(await api('/repos/app/snapshots'), list);
    assert.equal(typeof (await json(['repo', 'show', 'app'])).createdBy, 'string');
    assert.equal(typeof (await json(['set', 'create', 'app'])).createdBy, 'string');
    assert.equal(typeof (await json(['token', 'list']))[0].createdBy, 'string');
  });

  test('files are named by sha256: show --files, set show, blobs in the API', async () => {
    const shown = await json(['show', 'app', '--files']);
    for (const f of shown.files) assert.deepEqual(keys(f), ['href', 'kind', 'sha256', 'size']);
    const set = await json(['set', 'show', (await json(['set', 'create', 'app'])).id]);
    for (const f of set.repos[0].files) assert.deepEqual(keys(f), ['href', 'path', 'sha256', 'size']);
    const rpm = shown.files.find((f: { kind: string }) => f.kind === 'package');
    assert.deepEqual(await api(`/blobs/${rpm.sha256}`), { sha256: rpm.sha256, size: rpm.size });
  });
});

describe('sets and the log', () => {
  test('set list says live (and how the lease ended) like set show', async () => {
    const live = (await json(['set', 'create', 'app', '--label', 'live'])).id;
    const released = (await json(['set', 'create', 'app', '--label', 'released'])).id;
    await tx(['set', 'release', released]);
    const list = await json(['set', 'list']);
    for (const id of [live, released]) {
      const listed = list.find((s: { id: string }) => s.id === id);
      const { repos, ...shown } = await json(['set', 'show', id]);
      assert.ok(repos.length > 0);
      assert.deepEqual(listed, shown, id);
    }
    assert.equal(list.find((s: { id: string }) => s.id === live).live, true);
    assert.equal(list.find((s: { id: string }) => s.id === released).live, false);
    assert.deepEqual(await api('/sets'), await json(['set', 'list']));
  });

  test('the log gives each change its arguments as JSON, in the CLI and the API', async () => {
    const log = await json(['log', 'app']);
    const deploy = log.find((e: { command: string }) => e.command === 'deploy');
    assert.equal(typeof deploy.args, 'object');
    assert.equal(deploy.args.repo, 'app');
    assert.deepEqual(await api('/log?repo=app'), log);
    const text = (await tx(['log', 'app'])).stdout;
    assert.match(text, /\tdeploy app\tok\t\{"repo":"app","sources":\[/);
    const remote = document(await txrepo(['log', 'app', '--json', '--server', server.url, '--token', token]));
    assert.equal(remote.find((e: { command: string }) => e.command === 'deploy').args.repo, 'app');
  });
});
