// Where a store comes from: only a command that writes makes one, only in a new or
// empty directory; a command that reads (and serve) refuses a path with no store and
// leaves it exactly as it was; 'txrepo init' makes one explicitly.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { run, TXREPO, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { storeEnv } from '../helpers/backends.ts';

let dir: string;
/** A directory of RPMs, as a user's build output: no store, and not empty. */
let rpms: string;

/** Every file and directory under `root`, with sizes and times: what "wrote nothing" compares. */
async function listing(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const path = join(d, e.name);
      const st = await stat(path);
      out.push(`${relative(root, path)} ${e.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out.sort();
}

/** The commands that only read a store, with --store added by the caller. */
const READERS: string[][] = [
  ['repo', 'list'],
  ['repo', 'show', 'app'],
  ['snapshots', 'app'],
  ['show', 'app@latest'],
  ['diff', 'app@latest', 'app@stable'],
  ['tags', 'app'],
  ['tags', 'app', '--history'],
  ['set', 'list'],
  ['set', 'show', '20260101-000000-0001'],
  ['fsck'],
  ['log'],
  ['gc', '--dry-run'],
  ['token', 'list'],
  ['export', 'app@latest', 'EXPORT'],
  ['publish', 'app@latest', 'PUBLISHED'],
  ['inject', 'CONF', '--set', '20260101-000000-0001', '--base-url', 'http://repos.example.org'],
];

/** A reader's arguments, its output directories placed in `out` (outside the path under test). */
function reader(args: string[], out: string): string[] {
  return args.map((a) => (a === 'EXPORT' || a === 'PUBLISHED' ? join(out, a.toLowerCase()) : a === 'CONF' ? join(out, 'ci.conf') : a));
}

before(async () => {
  dir = await tempDir('txrepo-store-use-');
  rpms = join(dir, 'rpms');
  await mkdir(rpms);
  for (const f of ['bear-4.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm']) await copyFile(sample(f), join(rpms, f));
  await mkdir(join(dir, 'out'));
  await writeFile(join(dir, 'out', 'ci.conf'), '[app]\nbaseurl=http://old.example.org/\n');
});
after(() => removeDir(dir));

describe('commands that read need a store, and write nothing where there is none', () => {
  test('on a path that does not exist: "no txrepo store at PATH", exit 1, the path stays absent', async () => {
    const missing = join(dir, 'typo');
    const out = join(dir, 'out');
    const before = await listing(dir);
    for (const args of READERS) {
      const r = await txrepo([...reader(args, out), '--store', missing]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^txrepo: no txrepo store at ${missing}: no such directory; create one with 'txrepo init --store ${missing}'`), args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    assert.deepEqual(await listing(dir), before, 'nothing was written: no store, no export or publish directory, the config as it was');
  });

  test('on a directory of RPMs: refused, and not a byte of it changes', async () => {
    const before = await listing(rpms);
    for (const args of READERS) {
      const r = await txrepo([...reader(args, join(dir, 'out')), '--store', rpms]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /no txrepo store at .*rpms: the directory holds "bear-4\.1-1\.noarch\.rpm", "cat-1\.0-1\.noarch\.rpm", and no txrepo-store\.json/, args.join(' '));
    }
    assert.deepEqual(await listing(rpms), before);
  });

  test('on an empty directory: refused, and it stays empty', async () => {
    const empty = join(dir, 'empty-for-readers');
    await mkdir(empty);
    const r = await txrepo(['repo', 'list', '--store', empty]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no txrepo store at .*: the directory is empty/);
    assert.deepEqual(await readdir(empty), []);
  });

  test('through the default store path and $TXREPO_STORE: the same, and the advice fits', async () => {
    const home = join(dir, 'home');
    await mkdir(home);
    const env = { ...process.env, HOME: home, XDG_DATA_HOME: '', TXREPO_STORE: '', TXREPO_SERVER: '', TXREPO_CATALOG: '', TXREPO_BLOBS: '' };
    let r = await run(TXREPO, ['repo', 'list'], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`no txrepo store at ${home}/\\.local/share/txrepo/store: no such directory; it is the default store: create one with 'txrepo init', or give --store DIR or \\$TXREPO_STORE`));
    // (~/.cache holds Node's compile cache, bin/txrepo's doing: no store's.)
    await assert.rejects(stat(join(home, '.local')), { code: 'ENOENT' }, 'no ~/.local/share/txrepo/store made');
    r = await run(TXREPO, ['snapshots', 'app'], { env: { ...env, TXREPO_STORE: rpms } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no txrepo store at .*rpms: .*; \$TXREPO_STORE names it: create one with 'txrepo init'/);
  });

  test('serve on a missing store refuses (also with --workers), and makes nothing', async () => {
    const missing = join(dir, 'no-store-to-serve');
    for (const extra of [[], ['--workers', '2']]) {
      const r = await txrepo(['serve', '--listen', '127.0.0.1:0', ...extra, '--store', missing], { timeout: 15_000 });
      assert.equal(r.code, 1, `serve ${extra.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /no txrepo store at .*no-store-to-serve: no such directory; create one with 'txrepo init --store /);
      // Said once, by the process the user started, before any worker is forked.
      assert.equal(r.stderr.match(/no txrepo store/g)?.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /listening/);
    }
    await assert.rejects(stat(missing), { code: 'ENOENT' });
  });
});

describe('commands that write make the store, but only in a new or empty directory', () => {
  test('a directory that is not empty and not a store is refused by name, and left as it was', async () => {
    const before = await listing(rpms);
    for (const args of [['repo', 'create', 'app'], ['token', 'create', 'ci', '--scope', 'admin'], ['deploy', 'app', sample('bear-4.1-1.noarch.rpm')], ['gc'], ['init']]) {
      const r = await txrepo([...args, '--store', rpms]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^txrepo: .*rpms is not a txrepo store \(it has no txrepo-store\.json\) and is not empty: it holds "bear-4\.1-1\.noarch\.rpm", "cat-1\.0-1\.noarch\.rpm"; a store is made only in a new or empty directory; give --store another directory/, args.join(' '));
    }
    assert.deepEqual(await listing(rpms), before);
    // Not even a directory that only looks like a store's: its tmp/ holds a user's file.
    const lookalike = join(dir, 'lookalike');
    await mkdir(join(lookalike, 'tmp'), { recursive: true });
    await writeFile(join(lookalike, 'tmp', 'notes.txt'), 'mine\n');
    const r = await txrepo(['repo', 'create', 'app', '--store', lookalike]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /lookalike is not a txrepo store .* it holds "tmp"/);
    assert.deepEqual(await readdir(lookalike), ['tmp']);
  });

  test('a missing directory (and its parents) or an empty one becomes a store', async () => {
    const deep = join(dir, 'new', 'nested', 'store');
    let r = await txrepo(['repo', 'create', 'app', '--store', deep]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(await readFile(join(deep, 'txrepo-store.json'), 'utf8')).format === 1);
    r = await txrepo(['repo', 'list', '--store', deep]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^app\t\(empty\)$/m);

    const empty = join(dir, 'empty-for-writers');
    await mkdir(empty);
    r = await txrepo(['token', 'create', 'ci', '--scope', 'admin', '--store', empty]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^txr_/);
    r = await txrepo(['token', 'list', '--store', empty]);
    assert.match(r.stdout, /^ci\t/);
  });

  test('what a making cut off leaves (its own files, empty directories) is finished, not refused', async () => {
    const cut = join(dir, 'cut-off');
    await mkdir(join(cut, 'blobs', 'sha256'), { recursive: true });
    await mkdir(join(cut, 'tmp'));
    await writeFile(join(cut, 'txrepo-store.json.12345.tmp'), '');
    const r = await txrepo(['repo', 'create', 'app', '--store', cut]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readdir(cut)).includes('txrepo-store.json'));
  });

  test('a mistyped action makes no store', async () => {
    const missing = join(dir, 'typo-action');
    const r = await txrepo(['token', 'crate', 'ci', '--store', missing]);
    assert.equal(r.code, 2);
    await assert.rejects(stat(missing), { code: 'ENOENT' });
  });
});

describe('txrepo init', () => {
  test('makes a store and says where; again, it changes nothing; --json', async () => {
    const store = join(dir, 'init-store');
    let r = await txrepo(['init', '--store', store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^made a txrepo store at ${store} \\(catalog .+, blobs .+\\)\\n$`));
    const marker = await readFile(join(store, 'txrepo-store.json'), 'utf8');
    r = await txrepo(['init', '--store', store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^a txrepo store is already at ${store} `));
    assert.equal(await readFile(join(store, 'txrepo-store.json'), 'utf8'), marker, 'the marker is as it was');
    r = await txrepo(['init', '--store', store, '--json']);
    const value = JSON.parse(r.stdout) as { dir: string; created: boolean; catalog: string; blobs: string };
    assert.equal(value.dir, store);
    assert.equal(value.created, false);
    assert.ok(value.catalog && value.blobs);
    // A read-only command now finds it.
    r = await txrepo(['repo', 'list', '--store', store]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no repositories yet\n');
  });

  test('refuses other backends than the store has, and arguments', async () => {
    const store = join(dir, 'init-store');
    let r = await run(TXREPO, ['init', '--store', store, '--blobs', 's3://bucket/prefix?endpoint=http://127.0.0.1:1'], { env: storeEnv(store) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--store .*init-store uses .*, not (--blobs )?s3:\/\/bucket\/prefix/);
    r = await txrepo(['init', join(dir, 'positional')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give the directory with --store DIR/);
  });

  test('then serve works on it', async () => {
    const store = join(dir, 'init-then-serve');
    assert.equal((await txrepo(['init', '--store', store])).code, 0);
    const child = spawn(TXREPO, ['serve', '--listen', '127.0.0.1:0', '--store', store], { env: storeEnv(store), stdio: ['ignore', 'ignore', 'pipe'] });
    const listening = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        if (/listening on/.test(err)) resolve(err);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    assert.match(listening, /listening on http:\/\/127\.0\.0\.1:\d+/);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });
});
