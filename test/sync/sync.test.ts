// needs: dnf rpm rpmbuild root
// txrepo sync against upstreams on loopback: mirroring, no-op when unchanged, extra
// metadata carried over, and hostile upstreams refused with nothing committed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import zlib from 'node:zlib';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { installedPackages, mustDnf } from '../helpers/dnf.ts';
import { serveDirectory } from '../helpers/http.ts';
import { copyTree, decompress, mdcompare, metadataText, removeDir, repomdRecords, tempDir } from '../helpers/repo.ts';
import { inStore, mustRun, run, TXREPO, txrepo } from '../helpers/run.ts';
import { LOCAL_ONLY, storeEnv } from '../helpers/backends.ts';
import { killAfterStep, protocolSteps } from '../helpers/crash.ts';
import { sample, sampleRpms, SAMPLES } from '../helpers/samples.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { buildBigRpm } from '../../reliability/lib/big-rpm.ts';
import { seeded } from '../../reliability/lib/harness.ts';


let work: string;
let n = 0;
before(async () => {
  work = await tempDir('txrepo-sync-');
});
after(() => removeDir(work));

/** An upstream made by txrepo createrepo from the fixture RPMs, with comps and updateinfo. */
async function upstream(): Promise<string> {
  const dir = join(work, `upstream-${n++}`);
  await copyTree(SAMPLES, dir);
  assert.equal((await txrepo(['createrepo', '-q', '-g', join(dir, 'comps.xml'), dir])).code, 0);
  assert.equal((await txrepo(['modifyrepo', join(dir, 'updateinfo.xml'), join(dir, 'repodata')])).code, 0);
  return dir;
}

/**
 * An upstream createrepo_c'd from COPIES copies of the first sample under other names,
 * then every other sample once. The copies come first (names sort so): the first 32
 * downloads are read inline, the inspector thread starts after them (startInspector in
 * src/sync/sync.ts), and the calling thread reads what comes while it starts (a tenth
 * of a second: measured, the first 8 it took of 82 downloads), so the thread is what
 * reads every other sample (the store keeps one record per content). Those `damage` picks have a payload
 * bit flipped first (their checksums in the metadata match: the upstream vouches for
 * them). Every file has one mtime, createrepo_c's file time: copies of one package get
 * one record, so one file time, which files written across a second would not have.
 */
const COPIES = 300;
/** The name of the package `manyPackages` lists at `i`, which is a copy for i < COPIES. */
const manyPackagesName = (i: number) => `copy${String(i).padStart(4, '0')}-`;

async function manyPackages(damage: (name: string) => boolean = () => false): Promise<string> {
  const dir = join(work, `upstream-${n++}`);
  await mkdir(dir);
  const [first, ...others] = await sampleRpms();
  const picks = [...Array<string>(COPIES).fill(first), ...others];
  for (const [i, pick] of picks.entries()) {
    const name = `${manyPackagesName(i)}${pick}`;
    const bytes = await readFile(sample(pick));
    if (damage(name)) bytes[bytes.length - 5] ^= 0x08;
    await writeFile(join(dir, name), bytes);
    await utimes(join(dir, name), 1_700_000_000, 1_700_000_000);
  }
  await mustRun('createrepo_c', ['--no-database', '--quiet', dir]);
  return dir;
}

describe('sync', () => {
  test('mirrors over HTTP, carries comps/updateinfo/modules, and makes no snapshot when nothing changed', async () => {
    const up = await upstream();
    const server = await serveDirectory(up);
    const tx = inStore(join(work, `store-${n++}`));
    try {
      await tx(['repo', 'create', 'mirror', '--upstream', server.url]);
      const first = JSON.parse((await tx(['sync', 'mirror', '--json'])).stdout);
      assert.equal(first.packages, 35);
      assert.equal(first.downloaded, 35);
      const second = JSON.parse((await tx(['sync', 'mirror', '--json'])).stdout);
      assert.equal(second.unchanged, true);
      assert.equal(second.latest, first.latest);
      assert.equal(JSON.parse((await tx(['snapshots', 'mirror', '--json'])).stdout).length, 1);

      const exported = join(work, `exported-${n++}`);
      await tx(['export', 'mirror', exported]);
      const types = (await repomdRecords(exported)).map((r) => r.type);
      for (const t of ['primary', 'filelists', 'other', 'group', 'group_gz', 'updateinfo', 'modules']) assert.ok(types.includes(t), `${t} in ${types}`);
      assert.deepEqual(await readFile(join(exported, (await repomdRecords(exported)).find((r) => r.type === 'updateinfo')!.href)), await readFile(join(up, (await repomdRecords(up)).find((r) => r.type === 'updateinfo')!.href)));

      // The upstream moves on: one package more, one less.
      await rm(join(up, 'bear-4.1-1.noarch.rpm'));
      await mkdir(join(up, 'new'));
      await copyFile(await complexRpm(), join(up, 'new', basename(await complexRpm())));
      assert.equal((await txrepo(['createrepo', '-q', '--update', '--keep-all-metadata', '-g', join(up, 'comps.xml'), up])).code, 0);
      const third = JSON.parse((await tx(['sync', 'mirror', '--json'])).stdout);
      assert.equal(third.downloaded, 1, 'only the new package is downloaded');
      assert.equal(third.packages, 36, 'without --mirror the old package stays');
      const fourth = JSON.parse((await tx(['sync', 'mirror', '--mirror', '--json'])).stdout);
      assert.equal(fourth.packages, 35, '--mirror drops what the upstream dropped');
      await tx(['fsck', '--verify-blobs']);

      // dnf installs from the mirrored snapshot.
      const out = await serveDirectory(exported);
      const root = await tempDir('txrepo-dnfroot-');
      try {
        await mustDnf(root, { mirror: out.url }, ['install', 'cockateel']);
        assert.ok((await installedPackages(root)).some((p) => p.startsWith('cockateel-')));
      } finally {
        await out.close();
        await removeDir(root);
      }
    } finally {
      await server.close();
    }
  });

  test('two syncs of one upstream give the same metadata, with the upstream file times', async () => {
    // Found by the reliability suite: file times were the download times, so no two
    // mirrors of one upstream had the same primary.xml.
    const up = await upstream();
    const server = await serveDirectory(up);
    const primaries: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        if (i) await new Promise((r) => setTimeout(r, 1100));
        const tx = inStore(join(work, `store-${n++}`));
        await tx(['repo', 'create', 'mirror', '--upstream', server.url]);
        await tx(['sync', 'mirror']);
        const exported = join(work, `exported-${n++}`);
        await tx(['export', 'mirror', exported]);
        const primary = (await repomdRecords(exported)).find((r) => r.type === 'primary')!;
        primaries.push(zlib.gunzipSync(await readFile(join(exported, primary.href))).toString());
      }
    } finally {
      await server.close();
    }
    assert.equal(primaries[0], primaries[1]);
    const upstreamPrimary = zlib.gunzipSync(await readFile(join(up, (await repomdRecords(up)).find((r) => r.type === 'primary')!.href))).toString();
    const times = (xml: string) => [...xml.matchAll(/<time file="(\d+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(times(primaries[0]!), times(upstreamPrimary));
  });

  test('an upstream big enough for the inspector thread: the same metadata as createrepo_c writes for it', async () => {
    // The inspector thread starts after 32 downloads were read inline (startInspector
    // in src/sync/sync.ts); the tests above never reach it.
    const dir = await manyPackages();
    const server = await serveDirectory(dir);
    try {
      const tx = inStore(join(work, `store-${n++}`));
      await tx(['repo', 'create', 'm']);
      await tx(['sync', 'm', '--from', server.url]);
      const exported = join(work, `exported-${n++}`);
      await tx(['export', 'm', exported]);
      const cmp = await mdcompare(exported, dir);
      assert.ok(cmp.same, `mdcompare found differences:\n${cmp.output}`);
      for (const type of ['primary', 'filelists', 'other']) assert.equal(await metadataText(exported, type), await metadataText(dir, type), `${type} differs from the upstream's (createrepo_c's)`);
      // metadataText leaves the file times out: here they are the upstream's, every one.
      const times = async (root: string) => {
        const primary = (await repomdRecords(root)).find((r) => r.type === 'primary')!;
        return [...zlib.gunzipSync(await readFile(join(root, primary.href))).toString().matchAll(/<time file="(\d+)"/g)].map((m) => m[1]).sort();
      };
      assert.deepEqual(await times(exported), await times(dir));
    } finally {
      await server.close();
    }
  });

  test('a blob the store has without its record (a sync killed before it put the records): the record is read from the blob', LOCAL_ONLY, async () => {
    const up = await upstream();
    const server = await serveDirectory(up);
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    try {
      await tx(['repo', 'create', 'm']);
      // The blob alone, where a killed sync's download would have left it.
      const rpm = join(up, (await readdir(up)).find((f) => f.endsWith('.rpm'))!);
      const digest = createHash('sha256').update(await readFile(rpm)).digest('hex');
      await mkdir(join(store, 'blobs', 'sha256', digest.slice(0, 2)), { recursive: true });
      await copyFile(rpm, join(store, 'blobs', 'sha256', digest.slice(0, 2), digest));
      const r = JSON.parse((await tx(['sync', 'm', '--from', server.url, '--json'])).stdout);
      assert.equal(r.downloaded, 34);
      const exported = join(work, `exported-${n++}`);
      await tx(['export', 'm', exported]);
      const primary = zlib.gunzipSync(await readFile(join(exported, (await repomdRecords(exported)).find((x) => x.type === 'primary')!.href))).toString();
      assert.match(primary, new RegExp(`<checksum type="sha256" pkgid="YES">${digest}</checksum>`));
      await tx(['fsck']);
    } finally {
      await server.close();
    }
  });

  test('a download cut off midway: a large one is resumed from where it stopped, a small one (held in memory) fetched again', async () => {
    const up = await upstream();
    // Past IN_MEMORY_MAX (1 MiB): downloaded into a partial file, which a retry resumes.
    const random = seeded(11);
    const big = await buildBigRpm(join(work, `big-${n++}`), { name: 'big', version: '1', release: '1', bytes: 3 * 2 ** 20, random });
    await copyFile(big, join(up, basename(big)));
    assert.equal((await txrepo(['createrepo', '-q', '-g', join(up, 'comps.xml'), up])).code, 0);
    const server = await serveDirectory(up, { cutFirst: /\.rpm$/ });
    const tx = inStore(join(work, `store-${n++}`));
    try {
      await tx(['repo', 'create', 'm']);
      const r = JSON.parse((await tx(['sync', 'm', '--from', server.url, '--json'])).stdout);
      assert.equal(r.downloaded, 36);
      // Every package was cut once, after its first half. The large one's retry asks
      // for the rest of what reached the disk: never more than the half that was
      // sent (not always all of it: the bytes the HTTP client held unread when the
      // cut came are lost with the connection, far less than the 1.5 MiB sent). A
      // small one is asked for again from its start.
      const rpms = server.requests.filter((p) => p.endsWith('.rpm'));
      assert.equal(rpms.length, 72, 'each package asked for twice: cut, then again');
      for (const line of server.ranged) {
        const [, path, from] = /^\/(.*) from (\d+)$/.exec(line)!;
        assert.equal(path, basename(big), `only the large package is resumed: ${line}`);
        assert.ok(Number(from) <= Math.floor((await stat(join(up, path))).size / 2), line);
      }
      assert.equal(server.ranged.length, 1, 'the large download was not resumed');
      await tx(['fsck', '--verify-blobs']);
    } finally {
      await server.close();
    }
  });

  test("a download's write cut short (the file size limit, as a filling disk does) fails the sync, naming the file, and stores nothing damaged", LOCAL_ONLY, async () => {
    // write(2) may write part of what it was given and say so only in its return value:
    // the whole package was hashed as it arrived, so a blob written in one call could be
    // stored, and committed, under the digest of bytes it does not hold. A file size
    // limit (RLIMIT_FSIZE, SIGXFSZ ignored) cuts a write short deterministically: 128 KiB
    // here, above the catalog's files, below a 300 KB package held in memory.
    const up = join(work, `upstream-${n++}`);
    const random = seeded(5);
    await mkdir(up);
    await buildBigRpm(up, { name: 'wide', version: '1', release: '1', bytes: 300_000, random });
    assert.equal((await txrepo(['createrepo', '-q', up])).code, 0);
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'm']);
    const limited = await run('sh', ['-c', 'trap "" XFSZ; ulimit -f 256; exec "$0" "$@"', TXREPO, 'sync', 'm', '--from', up, '--store', store]);
    assert.notEqual(limited.code, 0, `the sync succeeded: ${limited.stdout}`);
    // The message names the file and the limit (dash counts ulimit -f in 512-byte blocks).
    assert.match(limited.stderr, new RegExp(`${join(store, 'tmp')}/\\S+: file too large: this process may not write files over 131072 bytes \\(ulimit -f\\); raise the limit`));
    assert.deepEqual(await readdir(join(store, 'tmp')), [], 'the cut file was left behind');
    await tx(['fsck', '--verify-blobs']);
    // Without the limit, the same sync stores it whole.
    assert.equal(JSON.parse((await tx(['sync', 'm', '--from', up, '--json'])).stdout).downloaded, 1);
    await tx(['fsck', '--verify-blobs']);
    // A deploy of the same file into a new store writes it elsewhere (its own blob
    // batch, from the file read into memory): cut short the same way, refused the same way.
    const other = join(work, `store-${n++}`);
    await inStore(other)(['repo', 'create', 'd']);
    const rpm = (await readdir(up)).find((f) => f.endsWith('.rpm'))!;
    const deploy = await run('sh', ['-c', 'trap "" XFSZ; ulimit -f 256; exec "$0" "$@"', TXREPO, 'deploy', 'd', join(up, rpm), '--store', other]);
    assert.notEqual(deploy.code, 0, `the deploy succeeded: ${deploy.stdout}`);
    assert.match(deploy.stderr, new RegExp(`${join(other, 'tmp')}/\\S+: file too large: this process may not write files over 131072 bytes \\(ulimit -f\\); raise the limit`));
    assert.deepEqual(await readdir(join(other, 'tmp')), [], 'the cut file was left behind');
    await inStore(other)(['fsck', '--verify-blobs']);
  });

  test('sync killed with SIGKILL at random instants: fsck stays clean, the retry succeeds', async () => {
    const up = await upstream();
    const server = await serveDirectory(up);
    try {
      // A first sync into a store of its own counts the steps of the protocol; each
      // trial syncs into a new store and is killed after a random one of them: in the
      // downloads, or around the commits. The retry in that store completes it.
      const trace = join(work, `trace-${n++}`);
      const newStore = async () => {
        const store = join(work, `store-${n++}`);
        await inStore(store)(['repo', 'create', 'm', '--upstream', server.url]);
        return store;
      };
      const first = await newStore();
      const steps = (await protocolSteps(['sync', 'm', '--store', first], trace, storeEnv(first))).length;
      assert.ok(steps > 40, `a sync takes ${steps} protocol steps`);
      for (let trial = 0; trial < 6; trial++) {
        const store = await newStore();
        const tx = inStore(store);
        // The first two thirds: on object storage, runs take a few steps more or fewer.
        const step = 1 + Math.floor(Math.random() * ((steps * 2) / 3));
        const kill = await killAfterStep(['sync', 'm', '--store', store], trace, step, { env: storeEnv(store), pauseMs: 5 });
        assert.ok(kill.midProtocol, `trial ${trial}: the kill after step ${step} did not land inside the protocol (${kill.steps.length} steps)`);
        const check = await txrepo(['fsck', '--store', store]);
        assert.equal(check.code, 0, `fsck after kill ${trial}:\n${check.stdout}${check.stderr}`);
        // Whatever was committed is a whole snapshot of the upstream.
        for (const s of JSON.parse((await tx(['snapshots', 'm', '--json'])).stdout)) assert.equal(s.packages, 35);
        const done = JSON.parse((await tx(['sync', 'm', '--json'])).stdout);
        assert.equal(done.packages, 35);
        await tx(['fsck', '--verify-blobs']);
      }
    } finally {
      await server.close();
    }
  });
});

/** Writes a repo whose primary.xml is `primary` (and repomd lists it with correct checksums). */
async function craftedRepo(primary: string | Buffer, opts: { compress?: boolean } = {}): Promise<string> {
  const dir = join(work, `crafted-${n++}`);
  await mkdir(join(dir, 'repodata'), { recursive: true });
  const data = opts.compress === false ? Buffer.from(primary) : zlib.gzipSync(primary);
  const name = opts.compress === false ? 'primary.xml' : 'primary.xml.gz';
  await writeFile(join(dir, 'repodata', name), data);
  const sum = createHash('sha256').update(data).digest('hex');
  await writeFile(
    join(dir, 'repodata/repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision><data type="primary"><checksum type="sha256">${sum}</checksum><location href="repodata/${name}"/><timestamp>1</timestamp><size>${data.length}</size></data></repomd>\n`,
  );
  return dir;
}

function primaryWith(href: string, checksum = 'ab'.repeat(32)): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">\n<package type="rpm"><name>x</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">${checksum}</checksum><summary/><description/><packager/><url/><time file="1" build="1"/><size package="10" installed="1" archive="1"/><location href="${href}"/><format/></package>\n</metadata>`;
}

describe('hostile upstreams: a clear error naming the input, nothing committed', () => {
  async function expectRefused(from: string, pattern: RegExp) {
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'm']);
    const r = await tx(['sync', 'm', '--from', from], 1);
    assert.match(r.stderr, pattern);
    assert.equal(JSON.parse((await tx(['snapshots', 'm', '--json'])).stdout).length, 0, 'nothing committed');
    await tx(['fsck']);
    // Nor any file the sync wrote left behind (a partial download of a large package, kept to be resumed, aside).
    assert.deepEqual((await readdir(join(store, 'tmp')).catch(() => [])).filter((f) => !f.endsWith('.part')), [], 'files left in tmp/');
  }

  test('a package whose checksum does not match', async () => {
    const up = await upstream();
    const file = join(up, 'bear-4.1-1.noarch.rpm');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    const server = await serveDirectory(up);
    try {
      await expectRefused(server.url, /bear-4.1-1.noarch.rpm: sha256 is [0-9a-f]+, the upstream metadata lists [0-9a-f]+; refusing it/);
    } finally {
      await server.close();
    }
  });

  test('a package the store has, listed with another size: not taken on trust, refused', async () => {
    // The store holds bear; the upstream lists bear's checksum with a size of 50 MiB.
    // Recording that size for the stored blob made every later download of it fail;
    // a blob of another size is not reused, and the download tells the truth.
    const store = join(work, `store-${n++}`);
    const tx = inStore(store);
    await tx(['repo', 'create', 'have']);
    await tx(['deploy', 'have', sample('bear-4.1-1.noarch.rpm')]);
    const up = await upstream();
    const bear = (await stat(join(up, 'bear-4.1-1.noarch.rpm'))).size;
    const listed = (await repomdRecords(up)).find((r) => r.type === 'primary')!;
    const primary = decompress(listed.href, await readFile(join(up, listed.href))).toString('utf8').replace(new RegExp(`<size package="${bear}"`), '<size package="52428800"');
    assert.match(primary, /<size package="52428800"/);
    const dir = await craftedRepo(primary);
    for (const f of await readdir(up)) if (f.endsWith('.rpm')) await copyFile(join(up, f), join(dir, f));
    const server = await serveDirectory(dir);
    try {
      await tx(['repo', 'create', 'm']);
      const r = await tx(['sync', 'm', '--from', server.url], 1);
      assert.match(r.stderr, new RegExp(`bear-4\\.1-1\\.noarch\\.rpm: got ${bear} bytes, the metadata lists 52428800`));
      assert.deepEqual(JSON.parse((await tx(['snapshots', 'm', '--json'])).stdout), []);
      await tx(['fsck', '--verify-blobs']);
    } finally {
      await server.close();
    }
  });

  test("a damaged package the upstream's metadata vouches for", async () => {
    const dir = join(work, `upstream-${n++}`);
    await copyTree(SAMPLES, dir);
    // One flipped bit in the payload, before the metadata is made: its checksums match.
    const file = join(dir, 'bear-4.1-1.noarch.rpm');
    const bytes = await readFile(file);
    bytes[bytes.length - 5] ^= 0x08;
    await writeFile(file, bytes);
    assert.equal((await txrepo(['createrepo', '-q', dir])).code, 0);
    const server = await serveDirectory(dir);
    try {
      await expectRefused(server.url, /bear-4.1-1.noarch.rpm: the payload's SHA256 digest does not match \(the file is damaged\); rebuild or re-download it\n$/);
    } finally {
      await server.close();
    }
  });

  test("a damaged package far into a large upstream (read by the inspector thread): refused as the upstream's fault", async () => {
    const far = manyPackagesName(COPIES + 20);
    const dir = await manyPackages((name) => name.startsWith(far));
    const server = await serveDirectory(dir);
    try {
      const damaged = (await readdir(dir)).find((f) => f.startsWith(far))!;
      await expectRefused(server.url, new RegExp(`${damaged.replace(/[.+]/g, '\\$&')}: the payload's SHA256 digest does not match \\(the file is damaged\\); rebuild or re-download it\n$`));
      // The upstream's fault (a server answers 502), not the client's (400), as inline.
      const tx = inStore(join(work, `store-${n++}`));
      await tx(['repo', 'create', 'm']);
      const r = await tx(['sync', 'm', '--from', server.url, '--json'], 1);
      assert.equal(JSON.parse(r.stdout).error.type, 'upstream');
    } finally {
      await server.close();
    }
  });

  test('a missing metadata file, and an unreachable host', async () => {
    const up = await upstream();
    await rm(join(up, (await repomdRecords(up)).find((r) => r.type === 'updateinfo')!.href));
    const server = await serveDirectory(up);
    try {
      await expectRefused(server.url, /updateinfo.xml.gz: not found \(404\)/);
    } finally {
      await server.close();
    }
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await expectRefused(`http://127.0.0.1:${port}/`, new RegExp(`http://127.0.0.1:${port}/repodata/repomd.xml: cannot fetch \\(ECONNREFUSED\\)`));
    await expectRefused(join(work, 'no-such-dir'), /repomd.xml: no such file in the upstream repo/);
  });

  test('entity expansion, a huge repomd.xml, malformed XML', async () => {
    const billion = await craftedRepo(primaryWith('x.rpm'));
    await writeFile(join(billion, 'repodata/repomd.xml'), '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><repomd>&c;</repomd>');
    await expectRefused(billion, /DOCTYPE is not allowed/);
    const huge = await craftedRepo(primaryWith('x.rpm'));
    await writeFile(join(huge, 'repodata/repomd.xml'), `<repomd>${' '.repeat(5 * 1024 * 1024)}</repomd>`);
    await expectRefused(huge, /larger than 4194304 bytes; refusing it/);
    await expectRefused(await craftedRepo('<metadata><package type="rpm"><name>x</nam></package></metadata>'), /malformed XML/);
    await expectRefused(await craftedRepo(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x "y">]>${primaryWith('x.rpm')}`), /DOCTYPE is not allowed/);
  });

  test('a gzip bomb as primary.xml', async () => {
    // Well-formed all the way: only the size limit can stop it.
    const bomb = Buffer.concat([Buffer.from('<metadata xmlns="http://linux.duke.edu/metadata/common">'), Buffer.from('<x/>'.repeat(50 * 1024 * 1024))]);
    await expectRefused(await craftedRepo(bomb), /expands to more than \d+ bytes; refusing it/);
  });

  test('hrefs that escape the repo', async () => {
    for (const href of ['../../etc/passwd.rpm', '/etc/passwd.rpm', 'http://evil.example/x.rpm', 'a/./b.rpm', 'a\\b.rpm']) {
      await expectRefused(await craftedRepo(primaryWith(href)), /refusing href/);
    }
  });
});

describe('deploy from a yum repo', () => {
  test("a build job's exported repo, by directory and by URL, verified against its checksums", async () => {
    const up = await upstream();
    const tx = inStore(join(work, `store-${n++}`));
    await tx(['repo', 'create', 'exp']);
    const byDir = JSON.parse((await tx(['deploy', 'exp', up, '--json'])).stdout);
    assert.equal(byDir.packages, 35);
    assert.ok(byDir.added.every((h: string) => /^Packages\/[a-z]\/[^/]+\.rpm$/.test(h)));
    // By URL, with one package more; a tampered package is refused.
    await mkdir(join(up, 'extra'));
    await copyFile(await complexRpm(), join(up, 'extra', basename(await complexRpm())));
    assert.equal((await txrepo(['createrepo', '-q', '--update', up])).code, 0);
    const server = await serveDirectory(up);
    try {
      const byUrl = JSON.parse((await tx(['deploy', 'exp', server.url, '--json'])).stdout);
      assert.deepEqual(byUrl.added, [`Packages/t/${basename(await complexRpm())}`]);
      const file = join(up, 'cat-1.0-1.noarch.rpm');
      const bytes = await readFile(file);
      bytes[100] ^= 1;
      await writeFile(file, bytes);
      // (This store already holds the verified cat blob, so it would never fetch the
      // tampered file: a fresh store has to download it.)
      const fresh = inStore(join(work, `store-${n++}`));
      await fresh(['repo', 'create', 'other']);
      const r = await fresh(['deploy', 'other', server.url], 1);
      assert.match(r.stderr, /cat-1.0-1.noarch.rpm: sha256 is [0-9a-f]+, the upstream metadata lists/);
      assert.equal(JSON.parse((await fresh(['snapshots', 'other', '--json'])).stdout).length, 0);
      await tx(['deploy', 'exp', server.url]);
    } finally {
      await server.close();
    }
  });
});
