// Hostile input: broken and malicious RPM files for deploy, tampered upstream repos
// for sync (entity and compression bombs, wrong checksums and sizes, hrefs that
// escape), broken config files and mirror lists for inject, and bad requests and URLs
// for a running server. Every case runs the real CLI or talks to the real server on
// loopback, and must end in a refusal that names the input (exit status 1 or 2, or a
// 4xx), with bounded memory, nothing committed, a sound store and nothing left in
// its tmp/.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { FETCH_LOOPBACK, serve } from '../../test/helpers/serve.ts';
import { mib, Recorder, type Context, type Report, type Scenario } from '../lib/harness.ts';
import {
  asset,
  cloneTree,
  fsckProblems,
  mustTx,
  procMemory,
  readRss,
  rssEnv,
  sameState,
  staticServer,
  storeState,
  TXREPO,
  tx,
  upstreamRepo,
  withLocal,
  type StoreState,
} from '../lib/world.ts';
import {
  billionLaughs,
  PRIMARY_HEAD,
  rawGet,
  rawHttp,
  relocate,
  repeatChunks,
  replacePrimary,
  rewritePrimary,
  rpmLayout,
  rpmSurgery,
  streamRequest,
  writeBomb,
  writeHostile,
  type HostileFile,
} from '../lib/hostile-inputs.ts';

type Area = 'deploy' | 'sync' | 'inject' | 'api' | 'url';
const AREAS: Area[] = ['deploy', 'sync', 'inject', 'api', 'url'];

/** Bounds every case must stay within. */
const CLI_RSS_LIMIT = 400 * 2 ** 20;
const SERVER_HWM_LIMIT = 400 * 2 ** 20;
/** A CLI run longer than this is a hang. */
const CLI_TIMEOUT_MS = 60_000;
/** An error message longer than this echoes its input whole: not readable. */
const MESSAGE_LIMIT = 8192;
/** What sync may download of one metadata file (src/sync/sync.ts: maxSize). */
const METADATA_MAX = 2 ** 30;

const GOOD_RPM = 'bear-4.1-1.noarch.rpm';
const STORE_RPMS = [GOOD_RPM, 'camel-0.1-1.noarch.rpm', 'cat-1.0-1.noarch.rpm'];
const MIRROR_RPMS = ['elephant-8.3-1.noarch.rpm', 'fox-1.1-2.noarch.rpm', 'frog-0.1-1.noarch.rpm'];
/** The packages of the hostile upstreams: none is in the store, so sync downloads them. */
const UPSTREAM_RPMS = ['dog-4.23-1.noarch.rpm', 'cow-2.2-3.noarch.rpm', 'duck-0.6-1.noarch.rpm'];

const STACK_LINE = /^\s+at \S.*(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

export const hostile: Scenario = {
  name: 'hostile',
  title: 'Hostile input',
  about:
    'Feeds txrepo broken and malicious input through its real interfaces: RPM files cut at every structure boundary or with ' +
    'absurd counts and lengths (made by byte surgery from a fixture package) and odd files named .rpm, for `deploy`; upstream ' +
    'yum repos served over loopback with entity bombs, gzip and xz bombs of 1 GiB, wrong checksums and sizes, and hrefs that ' +
    'escape the repo, for `sync`; unreadable config files and broken mirror lists (bad JSON, a YAML alias bomb, wrong shapes, ' +
    'bad data: URLs), for `inject`; and bad JSON, a 50 MiB body, wrong and revoked tokens, bad fields, mismatched and ' +
    'oversized uploads, and traversal, encoded and overlong URLs against a running `txrepo serve`. Each case must be ' +
    'refused (exit status 1 or 2; a 4xx, never a 5xx) with a message that names the input and has no stack trace, with the ' +
    'CLI process under 400 MiB of peak RSS and the server under 400 MiB of VmHWM and still answering; and the store must be ' +
    'unchanged (same snapshots, tags and sets), pass `fsck --verify-blobs`, and have nothing left in its tmp/ except, after a ' +
    'sync, the partial downloads the design keeps to resume them. At full scale the RPM cases add truncations at random ' +
    'offsets and random byte flips in the headers.',

  async run(ctx: Context): Promise<Report> {
    const rec = new Recorder();
    const W = ctx.work;
    const t0 = performance.now();
    const log = (m: string) => ctx.log(`${m} (at ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    const rows: (string | number)[][] = [];
    const perArea = new Map<Area, number>(AREAS.map((a) => [a, 0]));
    const cliPeak = new Map<Area, number>();
    let partialsKept = 0;
    let flipsAccepted = 0;
    let caseNo = 0;
    await mkdir(join(W, 'rss'), { recursive: true });

    // ---- The store every CLI case runs on: two repos with snapshots, a tag, a set.
    log('building the template store');
    const template = join(W, 'template');
    const upA = join(W, 'up-a');
    await upstreamRepo(join(upA, 'repo'), MIRROR_RPMS);
    const srvA = await staticServer(upA);
    await mustTx(template, ['repo', 'create', 'el9']);
    await mustTx(template, ['deploy', 'el9', ...STORE_RPMS.map(asset), '-m', 'base']);
    await mustTx(template, ['tag', 'el9', 'stable', 'latest']);
    await mustTx(template, ['repo', 'create', 'mirror']);
    await mustTx(template, ['sync', 'mirror', '--from', `${srvA.url}repo/`]);
    await mustTx(template, ['set', 'create', 'el9', 'mirror', '--label', 'run-1', '--ttl', '30d']);
    await srvA.close();
    const baseline = await storeState(template);
    const store = join(W, 'store');

    const trim = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…` : s);

    /** Checks an error message: present, names the input, readable (no stack, bounded). */
    function checkMessage(trial: string, message: string, names: string | RegExp | undefined): void {
      if (!message.trim()) return rec.fail(trial, 'no error message at all');
      if (STACK_LINE.test(message)) rec.fail(trial, `the message has a stack trace:\n${trim(message, 1500)}`);
      if (/unexpected failure|this is a bug in txrepo|internal error/i.test(message)) rec.fail(trial, `reported as an internal failure: ${trim(message, 1500)}`);
      if (message.length > MESSAGE_LIMIT) rec.fail(trial, `the message is ${message.length} characters long (echoes its input whole?): ${trim(message, 300)}`);
      if (names !== undefined && !(typeof names === 'string' ? message.includes(names) : names.test(message))) {
        rec.fail(trial, `the message does not name the input (${String(names)}): ${trim(message, 600)}`);
      }
    }

    /** The store after a refused command: unchanged, sound, nothing left in tmp/. */
    async function checkStore(trial: string, dir: string, expected: StoreState, allowPartials: boolean): Promise<boolean> {
      let clean = true;
      const state = await storeState(dir);
      if (!sameState(expected, state)) {
        rec.fail(trial, `the store changed: ${trim(JSON.stringify({ ...state, ids: undefined }), 1200)}`);
        clean = false;
      }
      const problems = await fsckProblems(dir);
      if (problems.length) {
        rec.fail(trial, `fsck --verify-blobs: ${problems.slice(0, 5).join('; ')}`);
        clean = false;
      }
      const tmp = join(dir, 'tmp');
      const left = await readdir(tmp).catch(() => [] as string[]);
      // Design (docs/store.md, Sync): a download that failed in transit stays in tmp/ as
      // download-<hash of URL>.part, to be resumed; gc removes abandoned ones.
      const partials = left.filter((f) => allowPartials && /^download-[0-9a-f]{32}\.part$/.test(f));
      partialsKept += partials.length;
      const stray = left.filter((f) => !partials.includes(f));
      if (stray.length) rec.fail(trial, `left in tmp/: ${stray.join(', ')}`);
      for (const f of left) await rm(join(tmp, f), { force: true, recursive: true });
      return clean;
    }

    interface CliCase {
      area: Area;
      name: string;
      args: string[];
      /** What the message must contain to name the input. */
      names: string | RegExp;
      /** Sync: partial downloads may stay in tmp/. */
      allowPartials?: boolean;
      /** A file the command must leave as it was. */
      unchanged?: string;
      /** An accepted input is not a failure (random byte flips that leave a valid package). */
      mayAccept?: boolean;
    }

    /** Runs one CLI case on the store and checks everything; returns whether it was refused. */
    async function cliCase(c: CliCase): Promise<boolean> {
      try {
        return await runCliCase(c);
      } catch (e) {
        // A failure of the harness around a case is that case's failure, not the end of the run.
        rec.fail(`${c.area}: ${c.name}`, (e as Error).stack ?? String(e));
        rows.push([c.area, c.name, 'harness error', trim((e as Error).message), '-']);
        return true;
      }
    }

    async function runCliCase(c: CliCase): Promise<boolean> {
      const trial = `${c.area}: ${c.name}`;
      rec.trials++;
      rec.faults++;
      perArea.set(c.area, perArea.get(c.area)! + 1);
      // Each case starts from the template: blobs a refused case left (unreferenced, for
      // gc) must not spare the next case a download.
      await cloneTree(template, store);
      const rssFile = join(W, 'rss', `${++caseNo}.txt`);
      const before = c.unchanged ? await readFile(c.unchanged).catch(() => undefined) : undefined;
      const started = performance.now();
      const r = await tx(store, c.args, { env: rssEnv(rssFile), timeout: CLI_TIMEOUT_MS });
      const seconds = (performance.now() - started) / 1000;
      const rss = await readRss(rssFile);
      const message = (r.stderr.trim() || r.stdout.trim()).replace(/^txrepo: /, '');
      let outcome = `exit ${r.code}`;
      const refused = r.code !== 0;
      if (seconds * 1000 >= CLI_TIMEOUT_MS - 1000) {
        outcome = `hung (killed after ${CLI_TIMEOUT_MS / 1000} s)`;
        rec.fail(trial, `did not finish within ${CLI_TIMEOUT_MS / 1000} s`);
      } else if (r.code === 0) {
        outcome = 'accepted';
        if (!c.mayAccept) rec.fail(trial, `exit 0: the hostile input was accepted: ${trim(r.stdout.trim(), 400)}`);
      } else {
        if (r.code === 70) rec.fail(trial, 'exit 70: txrepo reports an internal failure');
        else if (r.code !== 1 && r.code !== 2) rec.fail(trial, `exit ${r.code} (expected 1 or 2)`);
        if (!r.stderr.startsWith('txrepo: ')) rec.fail(trial, `stderr does not start with "txrepo: ": ${trim(r.stderr, 300)}`);
        checkMessage(trial, message, c.names);
      }
      if (rss === undefined) {
        if (!outcome.startsWith('hung')) rec.fail(trial, 'the process reported no peak RSS (did it die on a signal?)');
      } else {
        cliPeak.set(c.area, Math.max(cliPeak.get(c.area) ?? 0, rss));
        if (rss > CLI_RSS_LIMIT) rec.fail(trial, `peak RSS ${mib(rss)} (limit ${mib(CLI_RSS_LIMIT)})`);
      }
      if (refused) {
        await checkStore(trial, store, baseline, c.allowPartials === true);
      } else {
        // An accepted package (a byte flip in a string) is a new snapshot: the store must
        // still be sound.
        const problems = await fsckProblems(store);
        if (problems.length) rec.fail(trial, `accepted, and fsck finds: ${problems.slice(0, 5).join('; ')}`);
      }
      if (c.unchanged) {
        const after = await readFile(c.unchanged).catch(() => undefined);
        if (!before || !after || !before.equals(after)) rec.fail(trial, `${c.unchanged} was changed or removed`);
      }
      rows.push([c.area, c.name, outcome, trim(message.split('\n')[0] ?? ''), rss === undefined ? '-' : mib(rss)]);
      return refused;
    }

    // ================================================================= deploy
    log('deploy: hostile RPM files');
    const rpmDir = join(W, 'rpms');
    await mkdir(rpmDir, { recursive: true });
    const good = await readFile(asset(GOOD_RPM));
    const layout = rpmLayout(good);
    const deployFile = async (f: HostileFile) => {
      const path = join(rpmDir, `${f.name}.rpm`);
      await writeHostile(path, f);
      await cliCase({ area: 'deploy', name: `${f.name}: ${f.what}`, args: ['deploy', 'el9', path], names: path });
      await rm(path, { force: true });
    };
    for (const f of rpmSurgery(good)) await deployFile(f);

    // Odd things named .rpm.
    const odd = join(rpmDir, 'odd');
    await mkdir(odd, { recursive: true });
    await mkdir(join(odd, 'directory.rpm'));
    await cliCase({ area: 'deploy', name: 'a directory named .rpm', args: ['deploy', 'el9', join(odd, 'directory.rpm')], names: join(odd, 'directory.rpm') });
    await symlink('/dev/zero', join(odd, 'dev-zero.rpm'));
    await cliCase({ area: 'deploy', name: '/dev/zero named .rpm', args: ['deploy', 'el9', join(odd, 'dev-zero.rpm')], names: join(odd, 'dev-zero.rpm') });
    await symlink(join(odd, 'loop-b.rpm'), join(odd, 'loop-a.rpm'));
    await symlink(join(odd, 'loop-a.rpm'), join(odd, 'loop-b.rpm'));
    await cliCase({ area: 'deploy', name: 'a symlink loop named .rpm', args: ['deploy', 'el9', join(odd, 'loop-a.rpm')], names: join(odd, 'loop-a.rpm') });
    execFileSync('mkfifo', [join(odd, 'fifo.rpm')]);
    await cliCase({ area: 'deploy', name: 'a named pipe (no writer) named .rpm', args: ['deploy', 'el9', join(odd, 'fifo.rpm')], names: join(odd, 'fifo.rpm') });
    await cliCase({ area: 'deploy', name: 'a missing file', args: ['deploy', 'el9', join(odd, 'missing.rpm')], names: join(odd, 'missing.rpm') });
    // A valid package under a name with a newline: its href could never be served
    // (the server refuses control characters in paths), so it must not get in.
    const newline = join(odd, 'dog\nnewline-4.23-1.noarch.rpm');
    await copyFile(asset('dog-4.23-1.noarch.rpm'), newline);
    await cliCase({ area: 'deploy', name: 'a package file name with a newline', args: ['deploy', 'el9', newline], names: /newline/ });
    // One bad file among good ones: the whole deploy fails, nothing of it commits.
    const mixed = join(rpmDir, 'mixed');
    await mkdir(mixed, { recursive: true });
    for (const f of UPSTREAM_RPMS) await copyFile(asset(f), join(mixed, f));
    await writeFile(join(mixed, 'zz-truncated.rpm'), good.subarray(0, layout.headerEnd + 10));
    await cliCase({ area: 'deploy', name: 'a directory of good packages and one truncated', args: ['deploy', 'el9', mixed], names: join(mixed, 'zz-truncated.rpm') });
    // A local yum repo as a deploy source, whose primary.xml lists an escaping href.
    const localRepo = join(W, 'local-repo');
    await upstreamRepo(localRepo, UPSTREAM_RPMS);
    await rewritePrimary(localRepo, relocate('dog-4.23-1.noarch.rpm', '../../../etc/passwd'));
    await cliCase({ area: 'deploy', name: 'a local yum repo whose href escapes it', args: ['deploy', 'el9', localRepo], names: localRepo });

    if (ctx.scale === 'full') {
      log('deploy: random truncations and byte flips');
      for (let i = 0; i < 40; i++) {
        const at = 1 + Math.floor(ctx.random() * (good.length - 1));
        await deployFile({ name: `random-cut-${at}`, what: `truncated at ${at} of ${good.length} bytes`, bytes: good.subarray(0, at) });
      }
      // Flips in the intros and the index (the structure), and in the data stores: a
      // flip inside a string can leave a valid package, which deploy may take.
      for (let i = 0; i < 40; i++) {
        const at = Math.floor(ctx.random() * layout.headerEnd);
        const bit = 1 << Math.floor(ctx.random() * 8);
        const bytes = Buffer.from(good);
        bytes[at] ^= bit;
        const path = join(rpmDir, `random-flip-${at}-${bit}.rpm`);
        await writeFile(path, bytes);
        if (!(await cliCase({ area: 'deploy', name: `random-flip-${at}-${bit}`, args: ['deploy', 'el9', path], names: path, mayAccept: true }))) flipsAccepted++;
        await rm(path, { force: true });
      }
    }

    // ================================================================= inject
    log('inject: hostile config files and mirror lists');
    const inj = join(W, 'inject');
    await mkdir(inj, { recursive: true });
    const conf = join(inj, 'reposync.conf');
    await writeFile(conf, '[main]\nreposdir=/etc/yum.repos.d\n\n[el9]\nname=el9\nmirrorlist=http://mirrors.example.org/?repo=el9\n\n[other]\nbaseurl=http://example.org/other/\n');
    const injectCase = (name: string, args: string[], names: string | RegExp, unchanged: string | undefined = conf) => cliCase({ area: 'inject', name, args: ['inject', ...args], names, unchanged });
    const okList = 'data:,%7B%22latest_ci_repos%22%3A%7B%22el9%22%3A%22http%3A%2F%2Fx%2F%22%7D%7D';
    const garbage = join(inj, 'garbage.conf');
    await writeFile(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
    await injectCase('config file of binary garbage', [garbage, '--mirrors', okList], garbage, garbage);
    await mkdir(join(inj, 'a-directory.conf'));
    await injectCase('config file is a directory', [join(inj, 'a-directory.conf'), '--mirrors', okList], join(inj, 'a-directory.conf'));
    await injectCase('config file is missing', [join(inj, 'missing.conf'), '--mirrors', okList], join(inj, 'missing.conf'));
    await symlink('/dev/zero', join(inj, 'endless.conf'));
    await injectCase('config file is /dev/zero (endless)', [join(inj, 'endless.conf'), '--mirrors', okList], join(inj, 'endless.conf'));
    await injectCase('config file with an unclosed section header', [await (async () => {
      const p = join(inj, 'unclosed.conf');
      await writeFile(p, '[el9\nbaseurl=http://x/\n');
      return p;
    })(), '--mirrors', okList], join(inj, 'unclosed.conf'), join(inj, 'unclosed.conf'));
    const list = async (name: string, text: string | Buffer) => {
      const p = join(inj, name);
      await writeFile(p, text);
      return p;
    };
    const bad = await list('bad.json', '{"latest_ci_repos": {"el9": ');
    await injectCase('mirror list of bad JSON', [conf, '--mirrors', bad], bad);
    const aliases = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 20; i++) aliases.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]`);
    aliases.push('latest_ci_repos: {el9: *a19}');
    const bomb = await list('alias-bomb.yaml', aliases.join('\n') + '\n');
    await injectCase('mirror list: YAML alias bomb (10^20 nodes)', [conf, '--mirrors', bomb], bomb);
    const arr = await list('array.json', '["http://x/"]\n');
    await injectCase('mirror list of the wrong shape (an array)', [conf, '--mirrors', arr], arr);
    const nonString = await list('number.json', '{"latest_ci_repos": {"el9": 42}}\n');
    await injectCase('mirror list entry that is not a string', [conf, '--mirrors', nonString], nonString);
    const jsUrl = await list('javascript.json', '{"latest_ci_repos": {"el9": "javascript:alert(1)"}}\n');
    await injectCase('mirror list entry with a javascript: URL', [conf, '--mirrors', jsUrl], jsUrl);
    await symlink('/dev/zero', join(inj, 'endless.json'));
    await injectCase('mirror list is /dev/zero (endless)', [conf, '--mirrors', join(inj, 'endless.json')], join(inj, 'endless.json'));
    await injectCase('mirror list is a directory', [conf, '--mirrors', inj], inj);
    await injectCase('mirror list is missing', [conf, '--mirrors', join(inj, 'missing.json')], join(inj, 'missing.json'));
    await injectCase('mirror list: data: URL with bad base64', [conf, '--mirrors', 'data:application/json;base64,@@@not-base64@@@'], 'data:');
    await injectCase('mirror list: data: URL without a comma', [conf, '--mirrors', 'data:application/json'], 'data:');
    await injectCase('mirror list: data: URL of plain text', [conf, '--mirrors', 'data:,hello%20world'], 'data:');
    // (A single argument is at most 128 KiB on Linux.)
    await injectCase('mirror list: 100 KB data: URL of junk', [conf, '--mirrors', `data:,${'%7B'.repeat(33_000)}`], 'data:');
    await injectCase('mirror list: ftp: URL', [conf, '--mirrors', 'ftp://example.org/all_latest.json'], 'ftp://example.org/all_latest.json');
    await injectCase('--set of an unknown set', [conf, '--set', '99999999-999999-9999', '--base-url', 'http://txrepo.example:8080'], '99999999-999999-9999');
    {
      const listRoot = join(inj, 'served');
      await mkdir(listRoot, { recursive: true });
      await writeFile(join(listRoot, 'huge.json'), Buffer.alloc(20 * 2 ** 20, 0x20));
      const srv = await staticServer(listRoot);
      await injectCase('mirror list URL that is 404', [conf, '--mirrors', `${srv.url}missing.json`], `${srv.url}missing.json`);
      await injectCase('mirror list URL of 20 MiB', [conf, '--mirrors', `${srv.url}huge.json`], `${srv.url}huge.json`);
      await srv.close();
      const stream = await endless(listRoot, 'endless.json', 2 ** 30);
      await injectCase('mirror list URL that streams without end', [conf, '--mirrors', `${stream.url}endless.json`], `${stream.url}endless.json`);
      await stream.close();
    }

    // ================================================================= sync
    log('sync: hostile upstreams');
    const baseUp = join(W, 'up-base');
    await upstreamRepo(join(baseUp, 'repo'), UPSTREAM_RPMS, { comps: true });
    const originalPrimary = await readFile(join(baseUp, 'repo/repodata/primary.xml.gz'));
    interface Upstream {
      url: string;
      close(): Promise<void>;
      sent?: () => number;
    }
    const syncCase = async (name: string, build: (repo: string, root: string) => Promise<void>, opts: { server?: (root: string) => Promise<Upstream> } = {}) => {
      const root = join(W, 'sync', name.replace(/[^A-Za-z0-9.-]+/g, '-'));
      await cloneTree(baseUp, root);
      let srv: Upstream;
      try {
        await build(join(root, 'repo'), root);
        srv = opts.server ? await opts.server(root) : await staticServer(root);
      } catch (e) {
        rec.fail(`sync: ${name}`, `building the upstream: ${(e as Error).stack ?? e}`);
        return;
      }
      try {
        await cliCase({ area: 'sync', name, args: ['sync', 'mirror', '--from', `${srv.url}repo/`], names: srv.url, allowPartials: true });
        const sent = srv.sent?.();
        if (sent !== undefined && sent > METADATA_MAX) rec.fail(`sync: ${name}`, `the upstream got ${mib(sent)} of one metadata file into the store (sync allows ${mib(METADATA_MAX)})`);
      } finally {
        await srv.close();
        await rm(root, { recursive: true, force: true });
      }
    };
    const repomdOf = (repo: string) => join(repo, 'repodata/repomd.xml');
    const editRepomd = async (repo: string, fn: (xml: string) => string) => writeFile(repomdOf(repo), fn(await readFile(repomdOf(repo), 'utf8')));

    await syncCase('repomd.xml: billion laughs', (repo) => writeFile(repomdOf(repo), billionLaughs('repomd', '<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>&lol9;</revision></repomd>')));
    await syncCase('primary.xml: billion laughs', async (repo) => {
      const text = Buffer.from(billionLaughs('metadata', `${PRIMARY_HEAD.split('\n')[1]}<package type="rpm"><name>&lol9;</name></package></metadata>`));
      await replacePrimary(repo, zlib.gzipSync(text), { open: text });
    });
    await syncCase('primary.xml.gz: gzip bomb (1 GiB)', async (repo) => {
      await writeBomb(join(repo, 'repodata/bomb.gz'), 'gz', 1024);
      await replacePrimary(repo, await readFile(join(repo, 'repodata/bomb.gz')));
    });
    await syncCase('primary.xml.xz: xz bomb (1 GiB)', async (repo) => {
      await writeBomb(join(repo, 'repodata/bomb.xz'), 'xz', 1024);
      await replacePrimary(repo, await readFile(join(repo, 'repodata/bomb.xz')), { href: 'repodata/primary.xml.xz' });
    });
    await syncCase('primary.xml.gz: checksum mismatch', (repo) => replacePrimary(repo, originalPrimary, { checksum: createHash('sha256').update('something else').digest('hex') }));
    await syncCase('primary.xml.gz: not gzip', (repo) => replacePrimary(repo, Buffer.from('this is not gzip data\n'.repeat(100))));
    await syncCase('primary.xml.gz: truncated', (repo) => replacePrimary(repo, originalPrimary.subarray(0, Math.floor(originalPrimary.length / 2))));
    await syncCase('primary.xml: another document', async (repo) => {
      const text = await readFile(repomdOf(repo));
      await replacePrimary(repo, zlib.gzipSync(text), { open: text });
    });
    await syncCase('primary listed as 1 TiB, upstream streams without end', (repo) => replacePrimary(repo, originalPrimary, { listedSize: 2 ** 40 }), {
      server: async (root) => endless(root, 'repo/repodata/primary.xml.gz', METADATA_MAX + 64 * 2 ** 20),
    });
    await syncCase('package: checksum mismatch (a payload byte flipped)', async (repo) => {
      const p = join(repo, UPSTREAM_RPMS[0]);
      const b = await readFile(p);
      b[b.length - 10] ^= 0xff;
      await writeFile(p, b);
    });
    await syncCase('package: larger than primary.xml lists', async (repo) => {
      const p = join(repo, UPSTREAM_RPMS[1]);
      await writeFile(p, Buffer.concat([await readFile(p), Buffer.alloc(4096, 0x41)]));
    });
    await syncCase('package: shorter than primary.xml lists', async (repo) => {
      const p = join(repo, UPSTREAM_RPMS[2]);
      const b = await readFile(p);
      await writeFile(p, b.subarray(0, b.length - 100));
    });
    await syncCase('href ../../etc/passwd', (repo) => rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], '../../etc/passwd')));
    await syncCase('href /etc/passwd', (repo) => rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], '/etc/passwd')));
    await syncCase('href http://evil.invalid/x.rpm', (repo) => rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], 'http://evil.invalid/x.rpm')));
    // A package where the metadata lives would stand beside (or over) repomd.xml.
    await syncCase('href repodata/repomd.xml', (repo) => rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], 'repodata/repomd.xml')));
    // Characters XML cannot hold would make the snapshot's primary.xml unreadable for dnf.
    for (const [what, char] of [['U+FFFE', '\ufffe'], ['U+FFFF', '\uffff']]) {
      await syncCase(`href with ${what}`, (repo) => rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], `x${char}-${UPSTREAM_RPMS[0]}`)));
    }
    // URL resolution turns %2e%2e into "..": the package below sits outside the repo,
    // with the checksum primary.xml lists, so only the href check can stop it.
    await syncCase('href %2e%2e/ (encoded dots) to a file outside the repo', async (repo, root) => {
      await mkdir(join(root, 'outside'), { recursive: true });
      await copyFile(join(repo, UPSTREAM_RPMS[0]), join(root, 'outside', UPSTREAM_RPMS[0]));
      await rewritePrimary(repo, relocate(UPSTREAM_RPMS[0], `%2e%2e/outside/${UPSTREAM_RPMS[0]}`));
    });
    await syncCase('repomd href repodata/%2e%2e/%2e%2e/ to a primary outside the repo', async (repo, root) => {
      await mkdir(join(root, 'outside'), { recursive: true });
      await copyFile(join(repo, 'repodata/primary.xml.gz'), join(root, 'outside/primary.xml.gz'));
      await editRepomd(repo, (x) => x.replace('<location href="repodata/primary.xml.gz"/>', '<location href="repodata/%2e%2e/%2e%2e/outside/primary.xml.gz"/>'));
    });
    await syncCase('repomd href with xml:base elsewhere', (repo) => editRepomd(repo, (x) => x.replace('<location href="repodata/primary.xml.gz"/>', '<location xml:base="http://evil.invalid/" href="repodata/primary.xml.gz"/>')));
    await syncCase('repomd.xml of 5 MiB', (repo) => editRepomd(repo, (x) => x.replace('<revision>', `<!-- ${'x'.repeat(5 * 2 ** 20)} --><revision>`)));
    await syncCase('repomd.xml is not XML (binary)', (repo) => writeFile(repomdOf(repo), Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) % 256))));
    await syncCase('repomd.xml is an HTML error page', (repo) => writeFile(repomdOf(repo), '<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1></body></html>\n'));
    await syncCase('repomd.xml lists no primary', (repo) => editRepomd(repo, (x) => x.replace(/<data type="primary">[\s\S]*?<\/data>/, '')));
    await syncCase('repomd.xml: unknown checksum type', (repo) => editRepomd(repo, (x) => x.replace(/(<data type="primary">\s*<checksum type=")sha256/, '$1sha999')));
    await syncCase('primary.xml.gz missing (404)', (repo) => rm(join(repo, 'repodata/primary.xml.gz')));

    // ================================================================= api and url
    log('api and url: a running server');
    const apiStore = join(W, 'api-store');
    /** The server's store: the template with a token, a revoked one, and one to revoke later. */
    const prepareApiStore = async () => {
      await cloneTree(template, apiStore);
      const create = async (name: string) => JSON.parse((await mustTx(apiStore, ['token', 'create', name, '--scope', 'admin', '--json'])).stdout).token as string;
      const t = { token: await create('bot'), revoked: await create('gone'), late: await create('late') };
      await mustTx(apiStore, ['token', 'revoke', 'gone']);
      return t;
    };
    let tokens = await prepareApiStore();
    const apiBaseline = await storeState(apiStore);
    const snapshot = await withLocal(apiStore, async (t) => (await t.showSnapshot('el9', 'latest')).id);
    const upB = await staticServer(baseUp);
    const serverRss = join(W, 'rss', 'server.txt');
    let server = await startServer(apiStore, serverRss);
    let serverHwm = 0;

    interface HttpCase {
      area: 'api' | 'url';
      name: string;
      send(): Promise<{ status: number; body: Buffer }>;
      /** The status expected (default: any 4xx). */
      status?: number;
      names?: RegExp;
      /** Refused by Node's HTTP parser itself: a bare 400, no JSON message. */
      bare?: boolean;
      /** The client drops the connection: there is no answer to check. */
      aborted?: boolean;
      /** Method and path as the access log shows them, to find the answer after a reset. */
      path?: string;
    }
    const httpCase = (c: HttpCase) =>
      runHttpCase(c).catch((e: Error) => {
        rec.fail(`${c.area}: ${c.name}`, e.stack ?? String(e));
        rows.push([c.area, c.name, 'harness error', trim(e.message), '-']);
      });
    const runHttpCase = async (c: HttpCase) => {
      const trial = `${c.area}: ${c.name}`;
      rec.trials++;
      rec.faults++;
      perArea.set(c.area, perArea.get(c.area)! + 1);
      const r = await c.send();
      let message = '';
      let outcome = r.status ? `${r.status}` : 'no answer';
      let reset = false;
      if (!c.aborted && r.status === 0 && c.path) {
        // The server refused a body the client kept sending and closed the connection;
        // the reset can beat its answer to the client. What it answered is in its log.
        await new Promise((r) => setTimeout(r, 300));
        const line = server.access.filter((l) => l.includes(`"${c.path}"`)).pop();
        const status = Number(/" (\d{3}) \d+ [\d.]+ms$/.exec(line ?? '')?.[1] ?? 0);
        if (status) {
          r.status = status;
          outcome = `${status} (per the access log: the connection was reset before the client read it)`;
          reset = true;
        }
      }
      if (c.aborted) {
        outcome = 'client aborted';
      } else if (r.status >= 500 || r.status < 400) {
        rec.fail(trial, `status ${r.status || 'none'}, expected a 4xx: ${trim(r.body.toString('utf8'), 600)}`);
      } else if (c.status !== undefined && r.status !== c.status) {
        rec.fail(trial, `status ${r.status}, expected ${c.status}`);
      }
      if (!c.aborted && !c.bare && !reset && r.status >= 400) {
        try {
          const e = JSON.parse(r.body.toString('utf8')) as { error?: { type?: string; message?: string } };
          message = e.error?.message ?? '';
          if (!e.error?.type) rec.fail(trial, `the error has no type: ${trim(r.body.toString('utf8'), 300)}`);
        } catch {
          rec.fail(trial, `the answer is not a JSON error: ${trim(r.body.toString('utf8'), 300)}`);
        }
        checkMessage(trial, message, c.names);
      }
      // Give the server a moment to finish with a dropped connection before looking.
      if (c.aborted) await new Promise((r) => setTimeout(r, 500));
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        rec.fail(trial, `the server died (exit ${server.child.exitCode ?? server.child.signalCode}): ${trim(server.stderr(), 1500)}`);
        server = await startServer(apiStore, serverRss);
      } else {
        const probe = await rawGet(server.url, '/repos/all_latest.json').catch(() => undefined);
        if (probe?.status !== 200) rec.fail(trial, `the server no longer answers (GET /repos/all_latest.json: ${probe?.status ?? 'no connection'})`);
      }
      const hwm = (await procMemory(server.child.pid!)).hwm;
      serverHwm = Math.max(serverHwm, hwm);
      if (hwm > SERVER_HWM_LIMIT) rec.fail(trial, `server VmHWM ${mib(hwm)} (limit ${mib(SERVER_HWM_LIMIT)})`);
      if (!(await checkStore(trial, apiStore, apiBaseline, false))) {
        await server.stop();
        tokens = await prepareApiStore();
        server = await startServer(apiStore, serverRss);
      }
      rows.push([c.area, c.name, outcome, trim(message.split('\n')[0] ?? ''), `${mib(hwm)} (server)`]);
    };

    const auth = () => ({ authorization: `Bearer ${tokens.token}` });
    const post = (path: string, body: string | Buffer, headers: Record<string, string> = auth(), method = 'POST') => {
      const b = Buffer.from(body);
      return streamRequest(server.url, { method, path, headers: { 'content-type': 'application/json', 'content-length': String(b.length), ...headers }, chunks: () => [b] });
    };
    const json = (path: string, value: unknown, method = 'POST') => post(path, JSON.stringify(value), auth(), method);

    await httpCase({ area: 'api', name: 'body is not JSON', send: () => post('/api/v1/repos', '{"name": "x",'), status: 400, names: /JSON/ });
    await httpCase({ area: 'api', name: 'body is a JSON array', send: () => post('/api/v1/repos', '["x"]'), status: 400, names: /JSON object/ });
    await httpCase({ area: 'api', name: 'body nested 500,000 levels deep', send: () => post('/api/v1/repos', `{"name":${'['.repeat(500_000)}${']'.repeat(500_000)}}`), status: 400, names: /name/ });
    // A declared length is refused before any of the body is read: like a client that
    // waits for "100 Continue", send the headers only, then read the answer (a client
    // that keeps sending into a refusal may see the connection reset instead).
    const declared = (method: string, path: string, length: number) =>
      rawHttp(server.url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.token}\r\nContent-Type: application/json\r\nContent-Length: ${length}`);
    await httpCase({ area: 'api', name: 'a 50 MiB body (Content-Length)', send: () => declared('POST', '/api/v1/repos', 50 * 2 ** 20), status: 413, names: /body/ });
    await httpCase({
      area: 'api',
      name: 'a 50 MiB body (chunked, no length)',
      path: 'POST /api/v1/repos',
      send: () => streamRequest(server.url, { method: 'POST', path: '/api/v1/repos', headers: { ...auth(), 'content-type': 'application/json' }, chunks: () => repeatChunks(2 ** 20, 50) }),
      status: 413,
      names: /body/,
    });
    await httpCase({ area: 'api', name: 'no token', send: () => post('/api/v1/repos', '{"name":"x"}', {}), status: 401, names: /token/ });
    await httpCase({ area: 'api', name: 'a wrong token', send: () => post('/api/v1/repos', '{"name":"x"}', { authorization: `Bearer txr_${'A'.repeat(43)}` }), status: 401, names: /token/ });
    await httpCase({ area: 'api', name: 'a revoked token', send: () => post('/api/v1/repos', '{"name":"x"}', { authorization: `Bearer ${tokens.revoked}` }), status: 401, names: /token/ });
    await httpCase({
      area: 'api',
      name: 'a token revoked while the server runs',
      send: async () => {
        await mustTx(apiStore, ['token', 'revoke', 'late']);
        return post('/api/v1/repos', '{"name":"x"}', { authorization: `Bearer ${tokens.late}` });
      },
      status: 401,
      names: /token/,
    });
    await httpCase({ area: 'api', name: 'malformed Authorization (Basic)', send: () => post('/api/v1/repos', '{"name":"x"}', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }), status: 401, names: /token/ });
    await httpCase({ area: 'api', name: 'malformed Authorization (Bearer, no token)', send: () => post('/api/v1/repos', '{"name":"x"}', { authorization: 'Bearer' }), status: 401, names: /token/ });
    await httpCase({ area: 'api', name: 'an 8 KiB token', send: () => post('/api/v1/repos', '{"name":"x"}', { authorization: `Bearer ${'x'.repeat(8192)}` }), status: 401, names: /token/ });
    await httpCase({
      area: 'api',
      name: 'a token with bytes that are not ASCII',
      send: () => rawHttp(server.url, Buffer.concat([Buffer.from(`POST /api/v1/repos HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nAuthorization: Bearer `), Buffer.from([0xff, 0xfe, 0x80, 0x41])]), Buffer.from('{"name":"x"}')),
      names: /token/,
    });
    await httpCase({ area: 'api', name: 'field of the wrong type (name: 123)', send: () => json('/api/v1/repos', { name: 123 }), status: 400, names: /"name"/ });
    await httpCase({ area: 'api', name: 'repository name of 1 MB', send: () => json('/api/v1/repos', { name: 'a'.repeat(1_000_000) }), status: 400, names: /repository name/ });
    await httpCase({ area: 'api', name: 'repository name ../etc', send: () => json('/api/v1/repos', { name: '../etc' }), status: 400, names: /\.\.\/etc/ });
    await httpCase({ area: 'api', name: 'keep: -1', send: () => json('/api/v1/repos', { name: 'x', keep: -1 }), status: 400, names: /keep/ });
    await httpCase({ area: 'api', name: 'upstream file:///etc', send: () => json('/api/v1/repos', { name: 'x', upstream: 'file:///etc' }), status: 400, names: /upstream/ });
    for (const parallel of [0, -1, 0.5]) {
      await httpCase({ area: 'api', name: `sync with parallel: ${parallel}`, send: () => json('/api/v1/repos/mirror/sync', { from: `${upB.url}repo/`, parallel }), status: 400, names: /parallel/ });
    }
    // Server-side fetches (this server allows only 127.0.0.1, for its test upstreams).
    await httpCase({ area: 'api', name: 'sync from the cloud metadata address', send: () => json('/api/v1/repos/mirror/sync', { from: 'http://169.254.169.254/latest/meta-data/' }), status: 400, names: /169\.254\.169\.254: a link-local address/ });
    await httpCase({ area: 'api', name: 'deploy source on loopback [::1]', send: () => json('/api/v1/repos/el9/deploy', { sources: ['http://[::1]:1/'] }), status: 400, names: /::1.*a loopback address/ });
    await httpCase({ area: 'api', name: 'sync from a private address as a number (167772161)', send: () => json('/api/v1/repos/mirror/sync', { from: 'http://167772161/' }), status: 400, names: /10\.0\.0\.1: a private address/ });
    await httpCase({ area: 'api', name: 'sync from a local path', send: () => json('/api/v1/repos/mirror/sync', { from: '/etc' }), status: 400, names: /from/ });
    await httpCase({ area: 'api', name: 'deploy source file:///etc/passwd', send: () => json('/api/v1/repos/el9/deploy', { sources: ['file:///etc/passwd'] }), status: 400, names: /source/ });
    await httpCase({ area: 'api', name: 'deploy upload named ../../x.rpm', send: () => json('/api/v1/repos/el9/deploy', { uploads: [{ sha256: '0'.repeat(64), fileName: '../../x.rpm' }] }), status: 400, names: /x\.rpm/ });
    for (const [what, char] of [['a lone surrogate', '\ud800'], ['U+FFFE', '\ufffe'], ['U+FFFF', '\uffff']]) {
      await httpCase({ area: 'api', name: `deploy upload named with ${what}`, send: () => json('/api/v1/repos/el9/deploy', { uploads: [{ sha256: '0'.repeat(64), fileName: `x${char}.rpm` }] }), status: 400, names: /XML metadata cannot hold/ });
    }
    await httpCase({ area: 'api', name: 'set label with a repos.repo section of its own', send: () => json('/api/v1/sets', { refs: ['el9'], label: 'x\n\n[evil]\nbaseurl=http://evil.invalid/\ngpgcheck=0\n#' }), status: 400, names: /label/ });
    await httpCase({ area: 'api', name: 'tag reason with an escape sequence', send: () => json('/api/v1/repos/el9/tags/x', { ref: 'latest', reason: 'ok\x1b[2J' }, 'PUT'), status: 400, names: /reason/ });
    await httpCase({ area: 'api', name: 'deploy uploads of the wrong shape', send: () => json('/api/v1/repos/el9/deploy', { uploads: { sha256: 1 } }), status: 400, names: /uploads/ });
    await httpCase({ area: 'api', name: 'set ttl -3d', send: () => json('/api/v1/sets', { refs: ['el9'], ttl: '-3d' }), status: 400, names: /-3d/ });
    await httpCase({ area: 'api', name: 'tag ref of 1 MB', send: () => json('/api/v1/repos/el9/tags/x', { ref: 'r'.repeat(1_000_000) }, 'PUT'), status: 404, names: /rrrr/ });
    await httpCase({ area: 'api', name: 'set ref with a time of 1 MB', send: () => json('/api/v1/sets', { refs: [`el9@latest@${'9'.repeat(1_000_000)}`] }), status: 400, names: /9999/ });
    await httpCase({ area: 'api', name: 'tag ref of the wrong type', send: () => json('/api/v1/repos/el9/tags/x', { ref: ['latest'] }, 'PUT'), status: 400, names: /"ref"/ });
    await httpCase({ area: 'api', name: 'gc grace "-1h"', send: () => json('/api/v1/gc', { grace: '-1h' }), status: 400, names: /-1h/ });
    const truncatedRpm = good.subarray(0, layout.headerEnd - 1);
    const truncatedDigest = createHash('sha256').update(truncatedRpm).digest('hex');
    const upload = (digest: string, body: Buffer, headers: Record<string, string> = {}) =>
      streamRequest(server.url, { method: 'PUT', path: `/api/v1/blobs/${digest}`, headers: { ...auth(), 'content-length': String(body.length), ...headers }, chunks: () => [body] });
    await httpCase({ area: 'api', name: 'upload whose content does not match its name', send: () => upload(createHash('sha256').update('other').digest('hex'), good), status: 400, names: /sha256|expected/ });
    await httpCase({ area: 'api', name: 'upload named by something not a sha256', send: () => upload('..%2f..%2fetc%2fpasswd', good), status: 400 });
    await httpCase({ area: 'api', name: 'upload named by an uppercase digest', send: () => upload('AB'.repeat(32), good), status: 400, names: /sha256/ });
    await httpCase({ area: 'api', name: 'oversized upload (Content-Length 5 GiB)', send: () => declared('PUT', `/api/v1/blobs/${'ab'.repeat(32)}`, 5 * 2 ** 30), status: 413, names: /bytes/ });
    await httpCase({
      area: 'api',
      name: 'upload cut off by the client after 2 of 10 MiB',
      send: () => streamRequest(server.url, { method: 'PUT', path: `/api/v1/blobs/${'cd'.repeat(32)}`, headers: { ...auth(), 'content-length': String(10 * 2 ** 20) }, chunks: () => repeatChunks(2 ** 20, 10), abortAfter: 2 * 2 ** 20 }),
      aborted: true,
    });
    // A truncated package uploaded under its right digest is stored (a blob is just
    // bytes); deploying it must be refused, naming the file.
    await httpCase({
      area: 'api',
      name: 'deploy of an uploaded truncated package',
      send: async () => {
        const u = await upload(truncatedDigest, truncatedRpm);
        if (u.status !== 201) return u;
        return json('/api/v1/repos/el9/deploy', { uploads: [{ sha256: truncatedDigest, fileName: 'bear-4.1-1.noarch.rpm' }] });
      },
      status: 400,
      names: /bear-4\.1-1\.noarch\.rpm/,
    });

    const snap = `/repos/el9/snapshots/${snapshot}`;
    const url = (name: string, target: Buffer | string, opts: Partial<HttpCase> & { method?: string; headers?: string } = {}) =>
      httpCase({ area: 'url', name, send: () => rawGet(server.url, target, opts.method, opts.headers), ...opts });
    await url('traversal ../../../etc/passwd', `${snap}/../../../../etc/passwd`, { status: 400, names: /'\.\.'/ });
    await url('encoded dots %2e%2e', `${snap}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, { status: 400, names: /'\.\.'/ });
    await url('overlong UTF-8 dots %c0%ae', `${snap}/%c0%ae%c0%ae/etc/passwd`, { status: 400, names: /%c0%ae/ });
    await url('encoded slash %2f', `${snap}/repodata%2frepomd.xml`, { status: 400, names: /slash/ });
    await url('encoded slash and dots ..%2f..%2f', `${snap}/..%2f..%2f..%2fetc%2fpasswd`, { status: 400, names: /slash/ });
    await url('backslash', `${snap}/repodata\\repomd.xml`, { status: 400, names: /backslash/ });
    await url('encoded backslash %5c..%5c', `${snap}/%5c..%5c..%5cetc%5cpasswd`, { status: 400, names: /backslash/ });
    await url('encoded NUL %00', `${snap}/repodata/repomd.xml%00.html`, { status: 400, names: /control/ });
    await url('raw NUL byte', Buffer.concat([Buffer.from(`${snap}/repodata/repomd.xml`), Buffer.from([0]), Buffer.from('x')]), { status: 400, bare: true });
    await url('empty segments //', `${snap}//repodata/repomd.xml`, { status: 400, names: /empty/ });
    await url('bad percent-encoding %zz', `${snap}/%zz`, { status: 400, names: /%zz/ });
    await url('overlong path (5,000 characters)', `/repos/${'a/'.repeat(2500)}`, { status: 414, names: /4096/ });
    await url('absolute-form target http://evil/…', 'http://evil.invalid/repos/all_latest.json', { status: 400 });
    await url('unknown repository', '/repos/nope/snapshots/20260101-000000-0001/repodata/repomd.xml', { status: 404, names: /nope/ });
    await url('unknown snapshot', '/repos/el9/snapshots/20991231-235959-9999/repodata/repomd.xml', { status: 404, names: /20991231-235959-9999/ });
    await url('unknown tag', '/repos/el9/tags/no-such-tag/repodata/repomd.xml', { status: 404, names: /no-such-tag/ });
    await url('unknown set', '/sets/20991231-235959-9999/el9/repodata/repomd.xml', { status: 404, names: /20991231-235959-9999/ });
    await url('unknown file of a snapshot', `${snap}/Packages/e/etc-passwd.rpm`, { status: 404, names: /etc-passwd\.rpm/ });
    await url('a time that is not one', '/repos/el9/at/yesterday-ish/repodata/repomd.xml', { status: 404, names: /yesterday-ish/ });
    await url('repository name of 200 characters', `/repos/${'r'.repeat(200)}/tags/latest/repodata/repomd.xml`, { status: 404, names: /repository name/ });
    await url('a range outside the file', `${snap}/repodata/repomd.xml`, { status: 416, names: /range/, headers: 'Range: bytes=99999999999999999999-' });
    await url('a 64 KiB header', '/repos/all_latest.json', { status: 431, bare: true, headers: `X-Junk: ${'j'.repeat(65536)}` });
    await url('DELETE on a repository path', `${snap}/repodata/repomd.xml`, { status: 405, names: /GET or HEAD/, method: 'DELETE' });

    // ---- The server afterwards: still up, memory bounded, no 5xx and no stack in its log.
    await upB.close();
    await server.stop();
    const serverPeak = await readRss(serverRss);
    if (serverPeak !== undefined) serverHwm = Math.max(serverHwm, serverPeak);
    for (const line of server.access) {
      const m = /" (\d{3}) \d+ [\d.]+ms$/.exec(line);
      if (m && Number(m[1]) >= 500) rec.fail('server access log', `a 5xx: ${trim(line, 600)}`);
    }
    if (STACK_LINE.test(server.stderr())) rec.fail('server log', `stack traces in the server's stderr:\n${trim(server.stderr(), 2000)}`);

    const areaCount = (a: Area) => perArea.get(a) ?? 0;
    const figures: [string, string | number][] = [
      ['cases', rec.trials],
      ...AREAS.map((a): [string, number] => [`cases: ${a}`, areaCount(a)]),
      ...(['deploy', 'sync', 'inject'] as const).map((a): [string, string] => [`peak RSS of a CLI child: ${a} (limit 400 MiB)`, mib(cliPeak.get(a) ?? 0)]),
      ['server VmHWM (limit 400 MiB)', mib(serverHwm)],
      ['partial downloads kept in tmp/ for resuming (sync, by design)', partialsKept],
    ];
    if (ctx.scale === 'full') figures.push(['random byte flips accepted (a valid package after the flip)', flipsAccepted]);
    return {
      trials: rec.trials,
      faults: rec.faults,
      failures: rec.failures,
      figures,
      tables: [{ title: 'Cases', table: { columns: ['area', 'case', 'outcome', 'error (first line)', 'peak RSS'], rows } }],
      notes: [
        'Outcome is the exit status of the CLI or the HTTP status. "peak RSS" is the CLI process\'s maxRSS, or the server\'s VmHWM after the case. ' +
          'A sync that fails in transit keeps its download in tmp/ as download-<hash>.part to resume it (docs/store.md, Sync); those are the only files allowed there after a case, and are counted above.',
        'At full scale, random byte flips: ingest verifies the package\'s own digests (header SHA256/SHA1, payload digest, MD5 of header and payload, as `rpm -K` does), ' +
          'so a flip is refused unless it falls where no digest reaches (the lead, the signature header\'s other tags or padding); such a package is accepted, and the case checks that the store stays sound.',
      ],
    };
  },
};

/** `txrepo serve` on a store, reporting its peak RSS into `rssFile` on exit. */
async function startServer(store: string, rssFile: string) {
  // One process (--workers 1): its peak RSS is the server's.
  const served = await serve(store, [...FETCH_LOOPBACK, '--workers', '1'], { env: rssEnv(rssFile) });
  return { ...served, access: served.log };
}

/** Waits for a stream to drain or close, leaving no listener behind. */
function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * An upstream that serves the repo's files, but streams `endlessPath` without end
 * (zeros, no Content-Length), up to `cap` bytes per response and twice that in all,
 * so that a client without a bound cannot fill the disk. Counts what it sent.
 */
async function endless(root: string, endlessPath: string, cap: number) {
  let sent = 0;
  const chunk = Buffer.alloc(2 ** 20);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    if (path === endlessPath) {
      if (sent >= 2 * cap) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/gzip' });
      let mine = 0;
      while (mine < cap && !res.destroyed) {
        mine += chunk.length;
        sent += chunk.length;
        if (!res.write(chunk)) await drainedOrClosed(res);
      }
      res.end();
      return;
    }
    if (path.split('/').includes('..')) return void res.writeHead(400).end();
    const data = await readFile(join(root, path)).catch(() => undefined);
    if (!data) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': data.length }).end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    sent: () => sent,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

