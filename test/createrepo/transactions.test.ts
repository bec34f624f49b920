// The repo directory as a transaction: bad input changes nothing, a concurrent run is
// refused, a killed run leaves the old or the new metadata and never blocks the next,
// and readers never see a repomd.xml whose files are missing or differ.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyTree, listRepodata, removeDir, repomdRecords, tempDir } from '../helpers/repo.ts';
import { killAfterStep, protocolSteps, readTrace } from '../helpers/crash.ts';
import { run, TXREPO, txrepo } from '../helpers/run.ts';
import { SAMPLES } from '../helpers/samples.ts';


let work: string;
before(async () => {
  work = await tempDir('txrepo-tx-');
});
after(() => removeDir(work));

let n = 0;
async function freshRepo(): Promise<string> {
  const dir = join(work, `repo-${n++}`);
  await copyTree(SAMPLES, dir);
  const r = await txrepo(['createrepo', '-q', dir]);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await listRepodata(dir)) out[name] = createHash('sha256').update(await readFile(join(dir, 'repodata', name))).digest('hex');
  return out;
}

/** Verifies that repomd.xml and every file it lists agree; returns a problem or undefined. */
async function consistent(dir: string): Promise<string | undefined> {
  let records;
  try {
    records = await repomdRecords(dir);
  } catch (e) {
    return `repomd.xml unreadable: ${(e as Error).message}`;
  }
  if (records.length < 3) return `repomd.xml lists ${records.length} records`;
  for (const r of records) {
    const data = await readFile(join(dir, r.href)).catch(() => undefined);
    if (!data) return `${r.href} is missing`;
    if (createHash(r.checksumType).update(data).digest('hex') !== r.checksum) return `${r.href} does not match its checksum`;
  }
  return undefined;
}

describe('bad input changes nothing', () => {
  test('unreadable and broken packages: exit 1, each named, repodata untouched', async () => {
    const dir = await freshRepo();
    const before = await snapshot(dir);
    await writeFile(join(dir, 'zero.rpm'), '');
    await writeFile(join(dir, 'notes.rpm'), 'just some text, not a package\n');
    const good = await readFile(join(SAMPLES, 'bear-4.1-1.noarch.rpm'));
    await writeFile(join(dir, 'cut.rpm'), good.subarray(0, 700));
    const r = await txrepo(['createrepo', dir]);
    assert.equal(r.code, 1);
    for (const name of ['zero.rpm', 'notes.rpm', 'cut.rpm']) assert.match(r.stderr, new RegExp(`${join(dir, name)}: not a valid RPM package`));
    assert.match(r.stderr, /left unchanged/);
    assert.deepEqual(await snapshot(dir), before, 'repodata must be untouched');
    assert.ok(!(await readdir(dir)).includes('.repodata'), 'no staging directory is left behind');
  });

  test('a file the user cannot read', async () => {
    const dir = await freshRepo();
    const before = await snapshot(dir);
    const secret = join(dir, 'secret.rpm');
    await copyFile(join(SAMPLES, 'bear-4.1-1.noarch.rpm'), secret);
    await chmod(secret, 0o000);
    let r;
    if (process.getuid?.() === 0) {
      // root reads anything: run as nobody, over a tree nobody may write.
      await chmod(work, 0o755);
      await run('chmod', ['-R', 'a+rwX', dir]);
      await chmod(secret, 0o000);
      r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', TXREPO, 'createrepo', dir]);
    } else {
      r = await txrepo(['createrepo', dir]);
    }
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${secret}: cannot read the file: permission denied`));
    assert.deepEqual(await snapshot(dir), before);
    if (process.getuid?.() === 0) {
      // A directory the user may not write to: a clear error, nothing created.
      await chmod(secret, 0o644);
      await run('chmod', ['-R', 'go-w', dir]);
      r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', TXREPO, 'createrepo', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${dir}: cannot write there \\(permission denied\\)`));
      assert.deepEqual(await snapshot(dir), before);
    }
  });

  test('usage errors and missing inputs', async () => {
    const dir = await freshRepo();
    const cases: [string[], number, RegExp][] = [
      [['createrepo', join(work, 'nope')], 1, /no such directory/],
      [['createrepo', join(SAMPLES, 'bear-4.1-1.noarch.rpm')], 1, /bear-4.1-1.noarch.rpm: not a directory/],
      [['createrepo'], 2, /give exactly one directory/],
      [['createrepo', '--workers', '0', dir], 2, /--workers 0: give a number from 1 to 100/],
      [['createrepo', '--checksum', 'crc32', dir], 2, /--checksum "crc32": give one of/],
      [['createrepo', '--general-compress-type', 'rar', dir], 2, /give one of gz, xz, zstd/],
      [['createrepo', '--bogus', dir], 2, /unknown option --bogus for 'txrepo createrepo'/],
      [['createrepo', '--pkglist', join(work, 'nolist'), dir], 1, /--pkglist .*nolist: cannot read it/],
      [['createrepo', '-g', join(work, 'nocomps.xml'), dir], 1, /--groupfile .*nocomps.xml: no such file/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await txrepo(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
    const list = join(work, 'escaping-list');
    await writeFile(list, '../../etc/passwd.rpm\n');
    const r = await txrepo(['createrepo', '--pkglist', list, dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 1: "..\/..\/etc\/passwd.rpm" is not a path inside the repo/);
  });

  test('every command has --help', async () => {
    for (const cmd of ['createrepo', 'modifyrepo']) {
      const r = await txrepo([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: txrepo ${cmd}`));
    }
    const top = await txrepo(['--help']);
    assert.match(top.stdout, /createrepo/);
  });
});

describe('locking', () => {
  test('a run is refused while another holds the lock', async () => {
    const dir = await freshRepo();
    // createrepo_c's lock: .repodata holding the files it is writing.
    await mkdir(join(dir, '.repodata'));
    await writeFile(join(dir, '.repodata', 'primary.xml.gz'), '');
    const r = await txrepo(['createrepo', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is locked by another process \(createrepo_c\?\)/);
    assert.match(r.stderr, /Wait for that run to finish/);
    const forced = await txrepo(['createrepo', '-q', '--ignore-lock', dir]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  test('two runs at once: one wins, the others are refused, the repo is consistent', async () => {
    const dir = await freshRepo();
    // The first run waits a moment before each protocol step (crash.ts), so it holds
    // the lock while the others start: they must be refused, naming it.
    const trace = join(work, `trace-${n++}`);
    const first = spawn(TXREPO, ['createrepo', '-q', dir], { stdio: 'ignore', env: { ...process.env, TXREPO_CRASH_TRACE: trace, TXREPO_CRASH_PAUSE: '150' } });
    const firstDone = new Promise<number | null>((done) => first.on('exit', done));
    while ((await readTrace(trace)).length < 2) await new Promise((r) => setTimeout(r, 5)); // step 1, the lock, is done
    const others = await Promise.all([txrepo(['createrepo', '-q', dir]), txrepo(['createrepo', '-q', dir])]);
    for (const r of others) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`is locked by txrepo \\(pid ${first.pid} on `));
    }
    assert.equal(await firstDone, 0);
    assert.equal(await consistent(dir), undefined);
    assert.ok(!(await readdir(dir)).includes('.repodata'), 'the lock was released');
  });
});

describe('crashes and readers', () => {
  async function bigRepo(copies: number): Promise<string> {
    const dir = join(work, `big-${n++}`);
    for (let i = 0; i < copies; i++) await copyTree(SAMPLES, join(dir, `part${i}`));
    return dir;
  }

  test('SIGKILL at random instants leaves old or new metadata, and the next run succeeds', async () => {
    const dir = await bigRepo(12);
    // A first run counts the steps of the protocol (take the lock, write and fsync the
    // files, move them in, switch repomd.xml); each trial is killed after a random one.
    const trace = join(work, `trace-${n++}`);
    const steps = (await protocolSteps(['createrepo', '-q', dir], trace)).length;
    assert.ok(steps >= 10, `createrepo takes ${steps} protocol steps`);
    for (let trial = 0; trial < 12; trial++) {
      // Change the package set so each run writes different metadata.
      await rm(join(dir, `part${trial % 12}`, 'bear-4.1-1.noarch.rpm'), { force: true });
      // From step 3 on, the lock is held: it is step 1, or, taking over a killed run's
      // stale lock, step 2 (the first attempt meets the old lock).
      const step = 3 + Math.floor(Math.random() * (steps - 4));
      const kill = await killAfterStep(['createrepo', '-q', '--workers', String(1 + (trial % 4)), dir], trace, step);
      assert.ok(kill.midProtocol, `trial ${trial}: the kill after step ${step} did not land inside the protocol (${kill.steps.length} steps)`);
      assert.equal(await consistent(dir), undefined, `after kill ${trial} (after step ${step}, ${kill.steps.at(-1)?.kind} ${kill.steps.at(-1)?.path})`);
    }
    // Every killed run held the lock, and left it behind.
    assert.ok((await readdir(dir)).includes('.repodata'), 'the killed runs left no lock to take over');
    const after = await txrepo(['createrepo', '-q', dir]);
    assert.equal(after.code, 0, `the run after the crashes must take over the stale lock: ${after.stderr}`);
    assert.equal(await consistent(dir), undefined);
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith('.repodata')), 'no lock or staging left');
    // Unreferenced files of killed runs are cleaned up by the next run.
    assert.equal((await txrepo(['createrepo', '-q', '--retain-old-md', '0', dir])).code, 0);
    const listed = new Set((await repomdRecords(dir)).map((r) => r.href.slice('repodata/'.length)));
    for (const f of await listRepodata(dir)) assert.ok(f === 'repomd.xml' || listed.has(f), `leftover ${f}`);
  });

  test('readers never see a torn repo while runs replace the metadata', async () => {
    const dir = await bigRepo(4);
    assert.equal((await txrepo(['createrepo', '-q', dir])).code, 0);
    let stop = false;
    let checks = 0;
    const problems: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const p = await consistent(dir);
        checks++;
        if (p) problems.push(p);
      }
    })();
    for (let i = 0; i < 6; i++) {
      await rm(join(dir, `part${i % 4}`, `duck-0.${6 + (i % 3)}-1.noarch.rpm`), { force: true });
      const r = await txrepo(['createrepo', '-q', dir]);
      assert.equal(r.code, 0, r.stderr);
    }
    stop = true;
    await reader;
    assert.ok(checks > 10, `the reader ran ${checks} checks`);
    assert.deepEqual(problems, []);
  });
});

describe('--update', () => {
  test('reuses unchanged packages, and reads everything when the old metadata is damaged', async () => {
    const dir = await freshRepo();
    const hrefs = async () => (await repomdRecords(dir)).map((x) => x.href);
    const before = await hrefs();
    let r = await txrepo(['createrepo', '--update', '--json', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([JSON.parse(r.stdout).read, JSON.parse(r.stdout).reused], [0, 35]);
    assert.deepEqual(await hrefs(), before, 'nothing changed: the metadata files stay as they are');
    // Another compression is a change of the files, though not of the packages.
    r = await txrepo(['createrepo', '--update', '--json', '--general-compress-type', 'xz', dir]);
    assert.deepEqual([JSON.parse(r.stdout).read, JSON.parse(r.stdout).reused], [0, 35]);
    assert.ok((await hrefs()).every((h) => h.endsWith('.xz')));
    assert.equal(await consistent(dir), undefined);
    // A changed --baseurl changes every package's location: nothing is reused.
    r = await txrepo(['createrepo', '--update', '--json', '--baseurl', 'http://mirror/x/', dir]);
    assert.deepEqual([JSON.parse(r.stdout).read, JSON.parse(r.stdout).reused], [35, 0]);
    // A damaged primary file: a warning, every package read, a sound repo.
    const primary = (await repomdRecords(dir)).find((x) => x.type === 'primary')!;
    await writeFile(join(dir, primary.href), 'garbage');
    r = await txrepo(['createrepo', '--update', '--json', '--baseurl', 'http://mirror/x/', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /cannot be reused \(repodata\/.*-primary.xml.gz does not match its checksum/);
    assert.deepEqual([JSON.parse(r.stdout).read, JSON.parse(r.stdout).reused], [35, 0]);
    assert.equal(await consistent(dir), undefined);
  });
});

describe('retention and modifyrepo', () => {
  test('--retain-old-md N keeps N older generations; 0 keeps none', async () => {
    const dir = await freshRepo();
    const kinds = (files: string[]) => files.filter((f) => f.endsWith('-primary.xml.gz')).length;
    for (let i = 0; i < 4; i++) {
      await rm(join(dir, `duck-0.${6 + (i % 3)}-1.noarch.rpm`), { force: true });
      await copyFile(join(SAMPLES, `duck-0.${6 + ((i + 1) % 3)}-1.noarch.rpm`), join(dir, `duck-0.${6 + ((i + 1) % 3)}-1.noarch.rpm`)).catch(() => {});
      await writeFile(join(dir, `marker-${i}`), 'x');
      const r = await txrepo(['createrepo', '-q', '--retain-old-md', '2', '--revision', `r${i}`, dir]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(kinds(await listRepodata(dir)), 3, 'current + 2 old generations');
    await rm(join(dir, 'bear-4.1-1.noarch.rpm'));
    let r = await txrepo(['createrepo', '-q', '--revision', 'default', dir]);
    assert.equal(r.code, 0);
    assert.equal(kinds(await listRepodata(dir)), 2, 'by default the previous generation stays');
    await copyFile(join(SAMPLES, 'bear-4.1-1.noarch.rpm'), join(dir, 'bear-4.1-1.noarch.rpm'));
    r = await txrepo(['createrepo', '-q', '--retain-old-md', '0', '--revision', 'final', dir]);
    assert.equal(r.code, 0);
    assert.equal(kinds(await listRepodata(dir)), 1);
    assert.equal(await consistent(dir), undefined);
  });

  test('runs within one second keep the files of the generation just replaced (found by the torn-repo reader test)', async () => {
    // Metadata files carry the run's time in whole seconds as their mtime: two runs in
    // one second gave two generations the same mtime, and pruning, sorting by it alone,
    // could keep the older one and delete the files of the repomd.xml a client had
    // just read. Same-second runs, made certain: every file's mtime set equal.
    const dir = await freshRepo();
    const second = new Date(Math.floor(Date.now() / 1000) * 1000);
    for (let i = 0; i < 3; i++) {
      await rm(join(dir, `duck-0.${6 + i}-1.noarch.rpm`));
      const previous = await repomdRecords(dir);
      for (const f of await listRepodata(dir)) await utimes(join(dir, 'repodata', f), second, second);
      assert.equal((await txrepo(['createrepo', '-q', dir])).code, 0);
      for (const rec of previous) assert.ok((await stat(join(dir, rec.href)).catch(() => undefined))?.isFile(), `run ${i}: ${rec.href} of the replaced repomd.xml is gone`);
    }
  });

  test('modifyrepo adds, replaces and removes records atomically', async () => {
    const dir = await freshRepo();
    const repodata = join(dir, 'repodata');
    let r = await txrepo(['modifyrepo', join(SAMPLES, 'updateinfo.xml'), repodata]);
    assert.equal(r.code, 0, r.stderr);
    let recs = await repomdRecords(dir);
    const ui = recs.find((x) => x.type === 'updateinfo');
    assert.ok(ui && ui.href.endsWith('-updateinfo.xml.gz'));
    r = await txrepo(['modifyrepo', '--mdtype', 'group', '--no-compress', join(SAMPLES, 'comps.xml'), repodata]);
    assert.equal(r.code, 0, r.stderr);
    r = await txrepo(['modifyrepo', '--mdtype', 'modules', '--compress-type', 'zstd', join(SAMPLES, 'modules.yaml'), repodata]);
    assert.equal(r.code, 0, r.stderr);
    recs = await repomdRecords(dir);
    assert.deepEqual(recs.map((x) => x.type), ['primary', 'filelists', 'other', 'group', 'modules', 'updateinfo']);
    assert.equal(await consistent(dir), undefined);
    // Replacing the updateinfo removes the old file.
    const other = join(work, 'updateinfo.xml');
    await writeFile(other, (await readFile(join(SAMPLES, 'updateinfo.xml'), 'utf8')).replace('</updates>', '  \n</updates>'));
    r = await txrepo(['modifyrepo', other, repodata]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(join(dir, ui.href)));
    r = await txrepo(['modifyrepo', '--remove', 'modules', repodata]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await repomdRecords(dir)).map((x) => x.type), ['primary', 'filelists', 'other', 'group', 'updateinfo']);
    // Bad input.
    r = await txrepo(['modifyrepo', join(work, 'missing.xml'), repodata]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing.xml: no such file/);
    r = await txrepo(['modifyrepo', '--mdtype', 'primary', join(SAMPLES, 'comps.xml'), repodata]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /package metadata is made by 'txrepo createrepo'/);
    r = await txrepo(['modifyrepo', join(SAMPLES, 'comps.xml'), join(work, 'nowhere', 'repodata')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /repomd.xml: no such file; run 'txrepo createrepo/);
  });
});
