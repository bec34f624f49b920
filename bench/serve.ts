// Server benchmarks:
//  - package download throughput of `txrepo serve` (default settings) vs nginx serving
//    the same files (an exported snapshot), both fetched by curl with 8 parallel
//    keep-alive transfers: the small packages, then the large ones, apart; and the small
//    ones from a bare node:http server (floor-server.ts), the runtime's floor;
//  - the cost of pinning a set of 20 repositories and injecting it into a reposync
//    config (`txrepo set create` + `txrepo inject`), locally and through the server.

import { spawn, type ChildProcess } from 'node:child_process';
import { link, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, median, spread, type Measure } from './measure.ts';
import { startNginx, type Nginx } from './nginx.ts';

const TXREPO = join(import.meta.dirname, '..', 'bin', 'txrepo');

export interface ServeRow {
  scenario: string;
  txrepo: Measure;
  reference?: Measure;
  referenceName?: string;
  /** Bytes moved per run, for throughput figures. */
  bytes?: number;
  /** (slowest - fastest) / median wall of the runs. */
  spread?: { txrepo: number; reference: number };
  /**
   * The same downloads from other servers, to read the ratio against (small packages
   * only): a bare node:http server (bench/floor-server.ts), what node:http reaches; and
   * `txrepo serve --workers 1`, since the client (curl) runs on the same cores as the
   * server here, and one process contends with it less than the default one per core.
   */
  alongside?: { label: string; measure: Measure }[];
}

async function tx(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(TXREPO, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`txrepo ${args.join(' ')}: ${err}`))));
  });
}

/** Starts a long-running process and waits for `ready` in its stderr or stdout. */
export function start(cmd: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let text = '';
    const look = (d: Buffer) => {
      text += d;
      const m = ready.exec(text);
      if (m) resolve({ child, match: m });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${text}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Downloads every URL with curl, 8 at a time over keep-alive connections (following redirects). */
export async function curlAll(work: string, name: string, urls: string[]): Promise<Measure> {
  const config = join(work, `${name}.curl`);
  await writeFile(config, urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
  return measure('curl', ['-s', '--fail', '--location', '-Z', '--parallel-max', '8', '-K', config]);
}

export async function serveBench(opts: { smallDir: string; largeDir: string; work: string; runs: number; small: number }): Promise<ServeRow[]> {
  const { work, runs } = opts;
  const store = join(work, 'store');
  await mkdir(work, { recursive: true });
  const small = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort().slice(0, opts.small);
  const smallNames = new Set(small);
  const large = (await readdir(opts.largeDir)).filter((f) => f.endsWith('.rpm')).sort();
  const source = join(work, 'packages');
  await mkdir(source, { recursive: true });
  for (const f of small) await link(join(opts.smallDir, f), join(source, f));
  for (const f of large) await link(join(opts.largeDir, f), join(source, f));
  await tx(['repo', 'create', 'bench', '--store', store]);
  const deployed = JSON.parse(await tx(['deploy', 'bench', source, '--store', store, '--json']));
  const id: string = deployed.snapshot;
  const exported = join(work, 'exported');
  await tx(['export', `bench@${id}`, exported, '--store', store]);
  const files = JSON.parse(await tx(['show', `bench@${id}`, '--files', '--json', '--store', store])).files as { href: string; size: number; kind: string }[];
  const packages = files.filter((f) => f.kind === 'package');
  const bytes = packages.reduce((n, f) => n + f.size, 0);
  process.stderr.write(`serve bench: ${packages.length} packages, ${(bytes / 2 ** 20).toFixed(0)} MiB per download round\n`);

  const rows: ServeRow[] = [];
  const served = await start(TXREPO, ['serve', '--store', store, '--listen', '127.0.0.1:0', '--quiet'], /listening on (http:\/\/\S+)/);
  let nginx: Nginx | undefined;
  const others: { label: string; server: Awaited<ReturnType<typeof start>>; prefix: string }[] = [];
  try {
    nginx = await startNginx(join(work, 'nginx'), exported);
    const floor = await start(process.execPath, [join(import.meta.dirname, 'floor-server.ts'), exported], /listening on (http:\/\/\S+)/);
    others.push({ label: 'bare node:http (the floor)', server: floor, prefix: '' });
    const single = await start(TXREPO, ['serve', '--store', store, '--listen', '127.0.0.1:0', '--quiet', '--workers', '1'], /listening on (http:\/\/\S+)/);
    others.push({ label: 'one process (--workers 1)', server: single, prefix: `/repos/bench/snapshots/${id}` });
    // The small packages and the large ones apart: per-request costs and bytes.
    const kinds = [
      { what: 'small', files: packages.filter((f) => smallNames.has(f.href.slice(f.href.lastIndexOf('/') + 1))) },
      { what: 'large', files: packages.filter((f) => !smallNames.has(f.href.slice(f.href.lastIndexOf('/') + 1))) },
    ];
    for (const { what, files: some } of kinds) {
      if (some.length === 0) continue;
      const txUrls = some.map((f) => `${served.match[1]}/repos/bench/snapshots/${id}/${f.href}`);
      const ngUrls = some.map((f) => `${nginx!.url}/${f.href}`);
      const besides = (what === 'small' ? others : []).map((o) => ({ label: o.label, urls: some.map((f) => `${o.server.match[1]}${o.prefix}/${f.href}`), runs: [] as Measure[] }));
      const t: Measure[] = [];
      const r: Measure[] = [];
      // One unmeasured round each: the page cache, and the server's lazily loaded code.
      await curlAll(work, 'warm', ngUrls);
      await curlAll(work, 'warm', txUrls);
      for (const b of besides) await curlAll(work, 'warm', b.urls);
      for (let i = 0; i < runs; i++) {
        r.push(await curlAll(work, 'nginx', ngUrls));
        t.push(await curlAll(work, 'txrepo', txUrls));
        for (const b of besides) b.runs.push(await curlAll(work, 'alongside', b.urls));
      }
      const moved = some.reduce((n, f) => n + f.size, 0);
      const alongside = besides.map((b) => ({ label: b.label, measure: median(b.runs) }));
      rows.push({ scenario: `download ${some.length} ${what} packages (8 parallel)`, txrepo: median(t), reference: median(r), referenceName: 'nginx', bytes: moved, spread: { txrepo: spread(t), reference: spread(r) }, ...(alongside.length && { alongside }) });
      process.stderr.write(`  ${some.length} ${what} downloads: txrepo ${median(t).wall} s, nginx ${median(r).wall} s${alongside.map((a) => `, ${a.label} ${a.measure.wall} s`).join('')}\n`);
    }

    // A set of 20 repositories, injected into a reposync config.
    const token = (await tx(['token', 'create', 'bench', '--scope', 'admin', '--store', store])).trim();
    const names = Array.from({ length: 20 }, (_, i) => `repo${String(i).padStart(2, '0')}`);
    const one = join(opts.smallDir, small[0]);
    for (const name of names) {
      await tx(['repo', 'create', name, '--store', store]);
      await tx(['deploy', name, one, '--store', store]);
    }
    const conf = join(work, 'reposync.conf');
    const confText = ['[main]', 'reposdir=/etc/reposync.repos.d', '', ...names.flatMap((n) => [`[${n}]`, `name=${n}`, `mirrorlist=http://mirrors.example.invalid/?repo=${n}`, 'gpgcheck=0', '']), '[third-party]', 'baseurl=http://example.invalid/', ''].join('\n');
    const local: Measure[] = [];
    const remote: Measure[] = [];
    for (let i = 0; i < runs; i++) {
      await writeFile(conf, confText);
      local.push(await measureSetAndInject(['--store', store], conf, names, served.match[1]));
      await writeFile(conf, confText);
      remote.push(await measureSetAndInject(['--server', served.match[1], '--token', token], conf, names, served.match[1]));
    }
    rows.push({ scenario: 'set create + inject, 20 repos (local)', txrepo: median(local) });
    rows.push({ scenario: 'set create + inject, 20 repos (server)', txrepo: median(remote) });
    process.stderr.write(`  set create + inject, 20 repos: ${median(local).wall} s local, ${median(remote).wall} s through the server\n`);
  } finally {
    await nginx?.stop();
    for (const o of others) await stop(o.server.child);
    await stop(served.child);
  }
  return rows;
}

/** `txrepo set create` of every repo, then `txrepo inject` of the set: wall time of both. */
async function measureSetAndInject(target: string[], conf: string, names: string[], base: string): Promise<Measure> {
  const a = await measure(TXREPO, ['set', 'create', ...names, '--label', 'bench', ...target]);
  const set = (await tx(['set', 'list', '--json', ...target])).trim();
  const id = (JSON.parse(set) as { id: string }[]).at(-1)!.id;
  const b = await measure(TXREPO, ['inject', conf, '--set', id, '--base-url', base, ...target]);
  return { wall: Number((a.wall + b.wall).toFixed(2)), cpu: Number((a.cpu + b.cpu).toFixed(2)), rssKiB: Math.max(a.rssKiB, b.rssKiB) };
}
