// Full disks and read-only stores, on real file systems: a size-limited tmpfs mounted
// in the scenario's directory, filled with a filler file to leave a few KiB, and
// remounted read-only. Each write must fail with a clear message that says what is
// wrong and where, exit non-zero without a stack trace, and leave the store as it was
// (same state, fsck clean, nothing in tmp/ but what the design allows); once the
// space is back, or the store is writable again, the same command must succeed.
// Reads must keep working throughout (a replica or a mounted backup is read-only).

import { createHash } from 'node:crypto';
import { readdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, type Served } from '../../test/helpers/serve.ts';
import { buildBigRpm } from '../lib/big-rpm.ts';
import { Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import { Tmpfs } from '../lib/tmpfs.ts';
import { asset, assetRpms, cloneTree, fsckProblems, mustTx, sameState, staticServer, storeState, tx, upstreamRepo, withLocal, type RunResult, type StoreState } from '../lib/world.ts';

/** The one kind of file the design lets a failed command leave in STORE/tmp: sync's resumable partial downloads (gc removes them after the grace window). */
const ALLOWED_TMP = /^download-[0-9a-f]{32}\.part$/;
/** A stack frame in the output: a bug report, not a message. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

const firstLine = (r: RunResult) => (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '';

/** What is wrong with how a write failed, if anything. */
function failureProblems(r: RunResult, problem: RegExp, where: string): string[] {
  const out: string[] = [];
  if (r.code === 0) return [`exited 0: ${r.stdout.trim().slice(0, 300)}`];
  if (r.code === 70) out.push('exit status 70: reported as a bug in txrepo');
  if (STACK.test(r.stderr)) out.push('the output has a stack trace');
  if (!problem.test(firstLine(r))) out.push(`the message does not say ${problem.source}`);
  if (!firstLine(r).includes(where)) out.push(`the message does not say where (a path under ${where})`);
  return out.map((p) => `${p}\n--- stderr:\n${r.stderr.slice(0, 1500)}`);
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Every file of a tree, as relative path → sha256 (directories as path/ → ''). */
async function treeDigest(root: string, skip: Set<string> = new Set()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string, rel: string) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(r)) continue;
      if (e.isDirectory()) {
        out.set(`${r}/`, '');
        await walk(join(dir, e.name), r);
      } else out.set(r, await sha256File(join(dir, e.name)));
    }
  }
  await walk(root, '');
  return out;
}

function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(b.has(k) ? `${k} changed` : `${k} removed`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k} added`);
  return out;
}

async function blobCount(store: string): Promise<number> {
  let n = 0;
  for (const p of await readdir(join(store, 'blobs', 'sha256')).catch(() => [] as string[])) n += (await readdir(join(store, 'blobs', 'sha256', p))).length;
  return n;
}

export const disk: Scenario = {
  name: 'disk',
  title: 'Full disk and read-only store',
  embeddedOnly: "it fills and remounts the local file system under the store's own catalog and blobs; on PostgreSQL and S3 those are another server's disks",
  about:
    'Runs writes on a store (and a published tree) on a real, size-limited tmpfs filled by a filler file to leave a few KiB: deploy of a package that does not fit, ' +
    'a ladder of deploys at 0 to a few hundred KiB free (so that at some levels the blobs fit and the SQLite catalog cannot grow for the commit), sync from an ' +
    'upstream, publish, tag, set create and gc, with `txrepo serve` holding the store open as in production (and once without). Each must exit non-zero with a message ' +
    'that says "no space left on the device" and where, without a stack trace, leave the same store state, fsck clean and nothing in tmp/ but partial downloads; ' +
    'the server must keep serving verified files meanwhile; after the filler is removed the same command must succeed. Then the tmpfs is remounted read-only: ' +
    'deploy, tag, set create, gc and sync must fail clearly, while show, snapshots, tags, fsck, export, log and `txrepo serve` must still read the store ' +
    '(also one whose server was killed, with a write-ahead log left); after remounting read-write a write must succeed.',

  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const full = ctx.scale === 'full';
    const rows: (string | number)[][] = [];
    const ladderRows: (string | number)[][] = [];
    const notes: string[] = [];
    const report = (): Report => ({
      trials: rec.trials,
      faults: rec.faults,
      failures: rec.failures,
      figures: [
        ['cases (full disk, read-only, reads)', rows.length],
        ['ladder levels (deploy, tag)', ladderRows.length],
        ['deploys whose catalog commit failed after their blobs fitted', ladderRows.filter((r) => r[0] === 'deploy of two packages' && r[3] === 'catalog commit' && Number(r[4]) > 0).length],
        ['recovered after the fault', `${rows.filter((r) => r[5] === 'yes').length + ladderRows.filter((r) => r[5] === 'yes').length} of ${rows.filter((r) => r[5] !== '-' && r[5] !== '').length + ladderRows.filter((r) => r[5] !== '-').length}`],
      ],
      tables: [
        { title: 'Cases: exit status and first line of the message (STORE, MNT: the store and the tmpfs)', table: { columns: ['case', 'condition', 'exit', 'message', 'reads during the fault', 'recovered'], rows } },
        { title: 'Ladders of free space (txrepo serve holding the store open): a deploy of two packages, a tag move', table: { columns: ['command', 'KiB free', 'exit', 'failed at', 'orphan blobs', 'recovered'], rows: ladderRows } },
      ],
      notes,
    });

    if (process.getuid?.() !== 0) {
      rec.fail('setup', `this scenario needs root to mount a tmpfs (running as uid ${process.getuid?.()}); the full-disk and read-only cases did not run`);
      return report();
    }
    let fs: Tmpfs;
    try {
      fs = await Tmpfs.mount(join(ctx.work, 'mnt'), (full ? 64 : 32) * 2 ** 20);
    } catch (e) {
      rec.fail('setup', `cannot mount a tmpfs, so the full-disk and read-only cases did not run: ${(e as Error).message}`);
      return report();
    }
    const mnt = fs.dir;
    const store = join(mnt, 'store');
    const short = (s: string) => s.split(store).join('STORE').split(mnt).join('MNT').split(ctx.work).join('WORK');
    let served: Served | undefined;
    let upstream: Awaited<ReturnType<typeof staticServer>> | undefined;
    const stopServer = async () => {
      await served?.stop();
      served = undefined;
    };

    try {
      // The template store (not on the tmpfs): two repos, snapshots, tags, a set.
      const fixtures = await assetRpms();
      const tpl = join(ctx.work, 'template');
      const up = join(ctx.work, 'upstream');
      ctx.log('building the template store');
      await upstreamRepo(up, fixtures.slice(10, 14));
      upstream = await staticServer(up);
      await mustTx(tpl, ['repo', 'create', 'el9']);
      await mustTx(tpl, ['deploy', 'el9', ...fixtures.slice(0, 6).map(asset)]);
      await mustTx(tpl, ['tag', 'el9', 'stable', 'latest']);
      await mustTx(tpl, ['deploy', 'el9', ...fixtures.slice(6, 10).map(asset)]);
      await mustTx(tpl, ['repo', 'create', 'mirror', '--upstream', upstream.url]);
      await mustTx(tpl, ['sync', 'mirror']);
      await mustTx(tpl, ['set', 'create', 'el9', 'mirror', '--label', 'pinned']);
      // The upstream moves on: a sync now has 8 packages to fetch.
      await upstreamRepo(up, fixtures.slice(10, 22));
      const big = await buildBigRpm(join(ctx.work, 'big'), { name: 'bulky', version: '1.0', release: '1', bytes: 2 * 2 ** 20, random: ctx.random });
      const probe = { href: `Packages/${fixtures[0][0].toLowerCase()}/${fixtures[0]}`, sha256: await sha256File(asset(fixtures[0])) };

      /** A fresh copy of the template on the tmpfs, optionally with a server holding it open. */
      const fresh = async (withServer: boolean) => {
        await stopServer();
        await fs.unfill();
        await cloneTree(tpl, store);
        if (withServer) served = await serve(store, ['--quiet', '--workers', '1']);
      };

      /** The server still serves a verified package and repomd.xml. */
      const readsWork = async (): Promise<string> => {
        if (!served) return '-';
        try {
          const repomd = await fetch(`${served.url}/repos/el9/tags/latest/repodata/repomd.xml`);
          const text = await repomd.text();
          if (repomd.status !== 200 || repomd.headers.get('etag') !== `"${createHash('sha256').update(text).digest('hex')}"`) return `repomd.xml: ${repomd.status}`;
          const pkg = await fetch(`${served.url}/repos/el9/tags/latest/${probe.href}`);
          const bytes = Buffer.from(await pkg.arrayBuffer());
          if (pkg.status !== 200 || createHash('sha256').update(bytes).digest('hex') !== probe.sha256) return `package: ${pkg.status}, sha256 mismatch or error`;
          return 'ok';
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
      };

      const tmpLeftovers = async () => (await readdir(join(store, 'tmp')).catch(() => [] as string[])).filter((f) => !ALLOWED_TMP.test(f));

      /** The checks after a failed write: state as before, fsck clean, tmp/ clean. */
      const storeIntact = async (trial: string, before: StoreState) => {
        await rec.check(`${trial}: store state unchanged`, async () => {
          const after = await storeState(store);
          if (!sameState(before, after)) throw new Error(`before: ${JSON.stringify(before.repos)}\nafter: ${JSON.stringify(after.repos)}`);
        });
        await rec.check(`${trial}: fsck`, async () => {
          const problems = await fsckProblems(store);
          if (problems.length) throw new Error(problems.join('\n'));
        });
        const left = await tmpLeftovers();
        if (left.length) rec.fail(`${trial}: STORE/tmp`, `left behind: ${left.join(', ')}`);
      };

      /** Recovery: the same command succeeds with the space back; fsck clean, tmp/ empty. */
      const recovers = async (trial: string, args: string[]): Promise<boolean> => {
        await fs.unfill();
        const r = await tx(store, args);
        if (r.code !== 0) {
          rec.fail(`${trial}: recovery`, `with the space back, txrepo ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
          return false;
        }
        const problems = await fsckProblems(store);
        if (problems.length) rec.fail(`${trial}: fsck after recovery`, problems.join('\n'));
        const left = (await readdir(join(store, 'tmp'))).filter((f) => f !== 'filler');
        if (left.length) rec.fail(`${trial}: STORE/tmp after recovery`, `left behind: ${left.join(', ')}`);
        return problems.length === 0 && left.length === 0;
      };

      // ---- Full disk: one case per command.
      interface FullCase {
        name: string;
        args: string[];
        kib: number;
        server: boolean;
        /** What the message must name, beyond a path on the tmpfs. */
        where?: RegExp;
        /** gc may succeed on a full disk (it only removes). */
        mayWork?: boolean;
      }
      const cases: FullCase[] = [
        { name: 'deploy of a 2 MiB package', args: ['deploy', 'el9', big], kib: 256, server: true },
        { name: 'sync (8 new packages)', args: ['sync', 'mirror'], kib: 16, server: true },
        { name: 'tag', args: ['tag', 'el9', 'candidate', 'latest'], kib: 0, server: true, where: /catalog\.sqlite/ },
        { name: 'set create', args: ['set', 'create', 'el9', 'mirror', '--label', 'full'], kib: 0, server: true, where: /catalog\.sqlite/ },
        { name: 'tag, no server (the catalog cannot even open)', args: ['tag', 'el9', 'candidate', 'latest'], kib: 0, server: false, where: /catalog\.sqlite/ },
        { name: 'gc with nothing to remove', args: ['gc'], kib: 0, server: true, mayWork: true },
      ];
      for (const c of cases) {
        const trial = `disk full (${c.kib} KiB free): ${c.name}`;
        ctx.log(trial);
        rec.trials++;
        rec.faults++;
        await fresh(c.server);
        const before = await storeState(store);
        await fs.fill(c.kib);
        const r = await tx(store, c.args);
        const reads = await readsWork();
        if (reads !== '-' && reads !== 'ok') rec.fail(`${trial}: reads`, `the server stopped serving while the disk was full: ${reads}`);
        let recovered = '-';
        if (r.code === 0 && c.mayWork) {
          await fs.unfill();
          const problems = await fsckProblems(store);
          if (problems.length) rec.fail(`${trial}: fsck`, problems.join('\n'));
        } else {
          const problems = failureProblems(r, /no space left on the device/, mnt);
          if (c.where && !c.where.test(firstLine(r))) problems.push(`the message does not name ${c.where.source}: ${firstLine(r)}`);
          for (const p of problems) rec.fail(trial, p);
          await fs.unfill();
          await storeIntact(trial, before);
          recovered = (await recovers(trial, c.args)) ? 'yes' : 'no';
        }
        rows.push([c.name, `${c.kib} KiB free${c.server ? ', server running' : ''}`, r.code, short(firstLine(r)), reads, recovered]);
      }

      // ---- gc frees a full disk: garbage blobs (older than the grace window) go, though
      // the catalog cannot grow; its audit row is written once there is room.
      {
        const trial = 'disk full (0 KiB free): gc with 3 MiB of garbage blobs';
        ctx.log(trial);
        rec.trials++;
        rec.faults++;
        await fresh(true);
        const before = await storeState(store);
        const old = new Date(Date.now() - 2 * 3600_000);
        await withLocal(store, async (t) => {
          for (let i = 0; i < 3; i++) {
            const b = await t.store.blobs.putBytes(Buffer.from(Array.from({ length: 2 ** 20 }, () => Math.floor(ctx.random() * 256))));
            await utimes(t.store.blobs.localPath(b.digest)!, old, old);
          }
        });
        await fs.fill(0);
        const r = await tx(store, ['gc']);
        const freed = await fs.free();
        const reads = await readsWork();
        await fs.unfill();
        if (r.code !== 0) rec.fail(trial, `gc exited ${r.code}: ${r.stderr}`);
        else if (freed < 2 * 2 ** 20) rec.fail(trial, `gc left ${freed} bytes free: the 3 MiB of garbage (less the catalog's growth) should be free`);
        await rec.check(`${trial}: state, audit, fsck`, async () => {
          if (!sameState(before, await storeState(store))) throw new Error('the state changed');
          const last = await withLocal(store, async (t) => (await t.log({ limit: 1 }))[0]);
          if (last?.command !== 'gc' || last.result !== 'ok') throw new Error(`the last audit row is ${JSON.stringify(last)}`);
          const problems = await fsckProblems(store);
          if (problems.length) throw new Error(problems.join('\n'));
        });
        rows.push(['gc with 3 MiB of garbage blobs', '0 KiB free, server running', r.code, short(firstLine(r) || r.stdout.trim()), reads, '-']);
      }

      // ---- Ladders of free space: at some levels of the deploy's, the package blobs
      // fit and the catalog's write-ahead log cannot grow for the commit; at some of
      // the tag's, the tag move fits and its audit row does not. Whatever the level, a
      // command that fails made no change, and one that succeeds has its audit row.
      const ladder = async (name: string, args: string[], command: string, levels: number[], changed: (before: StoreState, after: StoreState) => boolean) => {
        for (const kib of levels) {
          const trial = `disk full (${kib} KiB free): ${name}`;
          rec.trials++;
          rec.faults++;
          await fresh(true);
          const before = await storeState(store);
          const blobsBefore = await blobCount(store);
          await fs.fill(kib);
          const r = await tx(store, args);
          const reads = await readsWork();
          if (reads !== 'ok') rec.fail(`${trial}: reads`, `the server stopped serving while the disk was full: ${reads}`);
          await fs.unfill();
          const orphans = (await blobCount(store)) - blobsBefore;
          if (r.code === 0) {
            // It fitted: the whole change, with its audit row.
            await rec.check(`${trial}: the command that fitted`, async () => {
              if (!changed(before, await storeState(store))) throw new Error(`exit 0 but the change is not in the store: ${r.stdout}`);
              const last = await withLocal(store, async (t) => (await t.log({ limit: 1 }))[0]);
              if (last?.command !== command || last.result !== 'ok') throw new Error(`no audit row for the change; the last one is ${JSON.stringify(last)}`);
              const problems = await fsckProblems(store);
              if (problems.length) throw new Error(problems.join('\n'));
            });
            ladderRows.push([name, kib, 0, 'nothing: it fitted', orphans, '-']);
            continue;
          }
          for (const p of failureProblems(r, /no space left on the device/, mnt)) rec.fail(trial, p);
          await storeIntact(trial, before);
          const at = /catalog\.sqlite/.test(firstLine(r)) ? 'catalog commit' : /\/tmp\//.test(firstLine(r)) ? 'a blob in STORE/tmp' : short(firstLine(r));
          ladderRows.push([name, kib, r.code, at, orphans, (await recovers(trial, args)) ? 'yes' : 'no']);
        }
      };
      const step = (to: number, by: number) => Array.from({ length: to / by + 1 }, (_, i) => i * by);
      ctx.log('ladders of free space: deploy, tag');
      await ladder('deploy of two packages', ['deploy', 'el9', asset(fixtures[22]), asset(fixtures[23])], 'deploy', full ? step(192, 4) : [0, 4, 8, 12, 16, 24, 32, 48, 64, 96], (b, a) => a.repos.el9.snapshots.length === b.repos.el9.snapshots.length + 1);
      await ladder('tag', ['tag', 'el9', 'candidate', 'latest'], 'tag', full ? step(64, 2) : [8, 16, 20, 24, 28, 32, 40], (_, a) => a.repos.el9.tags.candidate !== undefined);
      if (!ladderRows.some((r) => r[0] === 'deploy of two packages' && r[3] === 'catalog commit' && Number(r[4]) > 0)) {
        rec.fail('deploy ladder', 'no level made the catalog commit fail after the blobs were written: the case "disk full while the catalog grows" was not reached; widen the ladder');
      }
      notes.push(
        'Orphan blobs: blobs a failed deploy wrote before the catalog commit failed. No snapshot lists them; `txrepo gc` removes them after the grace window (docs/store.md, "A crash before the COMMIT leaves blobs that no snapshot lists").',
        'STORE/tmp may keep `download-*.part` files after a failed sync: the design keeps partial downloads so that the next run resumes them (docs/store.md, Sync); gc removes them after the grace window. Nothing else may stay in tmp/.',
        'With the disk completely full and no process holding the store open, even reads fail: SQLite needs 32 KiB for the catalog\'s shared-memory file (catalog.sqlite-shm) to open a WAL database. The message says so ("no space left on the device", naming catalog.sqlite); a running server keeps its -shm and goes on serving.',
      );

      // ---- Publish to a full disk: the tree stays as it was.
      {
        const trial = 'disk full: publish';
        ctx.log(trial);
        rec.trials++;
        rec.faults++;
        await stopServer();
        const dir = join(mnt, 'published');
        await mustTx(tpl, ['publish', 'el9@stable', dir]);
        const before = await treeDigest(dir);
        await fs.fill(8);
        const args = ['publish', 'el9@latest', dir];
        const r = await tx(tpl, args);
        await fs.unfill();
        for (const p of failureProblems(r, /no space left on the device/, dir)) rec.fail(trial, p);
        const diff = treeDiff(before, await treeDigest(dir));
        // Files renamed into place before the failure may stay, unlisted (docs/publish.md, Invariants); nothing else may change.
        const unexpected = diff.filter((d) => !/^(Packages\/.+|Packages\/[^/]+\/) added$/.test(d));
        if (unexpected.length) rec.fail(`${trial}: the tree changed`, unexpected.join('\n'));
        let recovered = 'no';
        const again = await tx(tpl, args);
        if (again.code !== 0) rec.fail(`${trial}: recovery`, `publish exited ${again.code}: ${again.stderr}`);
        else {
          const latest = await withLocal(tpl, async (t) => (await t.showSnapshot('el9', 'latest', {})).repomd);
          const repomd = await sha256File(join(dir, 'repodata', 'repomd.xml'));
          if (repomd !== latest) rec.fail(`${trial}: recovery`, `repomd.xml is ${repomd}, latest's is ${latest}`);
          else recovered = 'yes';
        }
        const stray = (await readdir(dir)).filter((f) => f.startsWith('.repodata'));
        if (stray.length) rec.fail(`${trial}: lock`, `left in the tree: ${stray.join(', ')}`);
        rows.push(['publish (a store elsewhere) into MNT/published', '8 KiB free', r.code, short(firstLine(r)), '-', recovered]);
      }

      // ---- Read-only store.
      ctx.log('read-only store');
      await fresh(false);
      const before = await storeState(store);
      await fs.remount('ro');
      try {
        const writes: [string, string[]][] = [
          ['deploy', ['deploy', 'el9', asset(fixtures[24])]],
          ['tag', ['tag', 'el9', 'candidate', 'latest']],
          ['set create', ['set', 'create', 'el9', 'mirror']],
          ['gc', ['gc']],
          ['sync', ['sync', 'mirror']],
        ];
        for (const [name, args] of writes) {
          const trial = `read-only store: ${name}`;
          rec.trials++;
          rec.faults++;
          const r = await tx(store, args);
          for (const p of failureProblems(r, /read-only file system/, mnt)) rec.fail(trial, p);
          rows.push([name, 'read-only file system', r.code, short(firstLine(r)), '', '']);
        }
        await rec.check('read-only store: state unchanged after the writes', async () => {
          if (!sameState(before, await storeState(store))) throw new Error('the state changed');
        });
        const reads: [string, string[]][] = [
          ['show', ['show', 'el9@latest', '--files']],
          ['snapshots', ['snapshots', 'el9']],
          ['tags', ['tags', 'el9', '--history']],
          ['fsck --verify-blobs', ['fsck', '--verify-blobs']],
          ['export', ['export', 'el9@stable', join(ctx.work, 'export')]],
          ['log', ['log']],
        ];
        for (const [name, args] of reads) {
          rec.trials++;
          const r = await tx(store, args);
          if (r.code !== 0) rec.fail(`read-only store: ${name}`, `exited ${r.code}: ${r.stderr}`);
          rows.push([name, 'read-only file system', r.code, short(r.code === 0 ? '(read fine)' : firstLine(r)), '', '']);
        }
        rec.trials++;
        try {
          served = await serve(store, ['--quiet', '--workers', '1']);
        } catch (e) {
          rec.fail('read-only store: serve', (e as Error).message);
        }
        const reads2 = await readsWork();
        if (reads2 !== 'ok') rec.fail('read-only store: serve', `GET: ${reads2}`);
        rows.push(['serve + GET repomd.xml and a package', 'read-only file system', served ? 'running' : 'failed', '', reads2, '']);
        await stopServer();
      } finally {
        await fs.remount('rw');
      }
      {
        rec.trials++;
        const r = await tx(store, ['tag', 'el9', 'after-ro', 'latest']);
        if (r.code !== 0) rec.fail('read-only store: write after remounting read-write', `exited ${r.code}: ${r.stderr}`);
        const problems = await fsckProblems(store);
        if (problems.length) rec.fail('read-only store: fsck after remounting read-write', problems.join('\n'));
        rows.push(['tag after remounting read-write', 'read-write again', r.code, short(firstLine(r)), '', r.code === 0 && !problems.length ? 'yes' : 'no']);
      }

      // ---- Read-only after a crash: the server was killed with commits in its
      // write-ahead log; the store is then mounted read-only (a backup of a live store).
      {
        const trial = 'read-only store with a write-ahead log left by a killed server';
        rec.trials++;
        rec.faults++;
        await fresh(true);
        await mustTx(store, ['tag', 'el9', 'in-the-wal', 'latest']);
        served!.child.kill('SIGKILL');
        await new Promise((r) => served!.child.once('exit', r));
        served = undefined;
        await fs.remount('ro');
        try {
          const r = await tx(store, ['tags', 'el9']);
          if (r.code !== 0 || !/in-the-wal/.test(r.stdout)) rec.fail(trial, `txrepo tags exited ${r.code}, ${/in-the-wal/.test(r.stdout) ? 'with' : 'without'} the tag committed before the kill: ${r.stderr}`);
          rows.push(['tags (sees the commit in the WAL)', 'read-only, -wal and -shm left by kill -9', r.code, short(r.code === 0 ? '(read fine)' : firstLine(r)), '', '']);
        } finally {
          await fs.remount('rw');
        }
        const r = await tx(store, ['tag', 'el9', 'after-wal', 'latest']);
        if (r.code !== 0) rec.fail(`${trial}: write after remounting read-write`, `exited ${r.code}: ${r.stderr}`);
        const problems = await fsckProblems(store);
        if (problems.length) rec.fail(`${trial}: fsck`, problems.join('\n'));
      }
    } finally {
      await stopServer().catch(() => {});
      await upstream?.close();
      await fs.unmount();
    }
    return report();
  },
};
