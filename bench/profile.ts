// Where the time goes (npm run bench -- --profile DIR): txrepo's createrepo, sync and
// serve on the small packages, each under Node's CPU profiler (--cpu-prof, every thread,
// through NODE_OPTIONS), and the sync again under `strace -c -f` for its system calls.
// Writes the .cpuprofile files (open them in Chrome DevTools, Performance tab, or
// https://www.speedscope.app) and the strace summary to DIR, and prints the functions
// with the most self time, for each run, and the busiest system calls.

import { spawn } from 'node:child_process';
import { link, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measure } from './measure.ts';
import { startNginx } from './nginx.ts';
import { curlAll, start, stop } from './serve.ts';

const TXREPO = join(import.meta.dirname, '..', 'bin', 'txrepo');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (ms) over every profile in `dir`/`tag` (every thread of the run), most first. */
export async function selfTimes(dir: string, tag: string): Promise<{ name: string; ms: number }[]> {
  const total = new Map<string, number>();
  for (const f of (await readdir(join(dir, tag))).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(await readFile(join(dir, tag, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, i) => {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      const where = url ? ` ${url.replace(/^file:\/\/.*?\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
      const name = `${functionName || '(anonymous)'}${where}`;
      total.set(name, (total.get(name) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    });
  }
  return [...total].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

function report(print: (s: string) => void, title: string, times: { name: string; ms: number }[], top = 15): void {
  const busy = times.filter((t) => t.name !== '(idle)');
  const sum = busy.reduce((n, t) => n + t.ms, 0);
  print(`\n${title}: ${sum.toFixed(0)} ms of samples (idle left out), every thread; the ${top} functions with the most self time\n`);
  for (const t of busy.slice(0, top)) print(`${t.ms.toFixed(0).padStart(8)} ms ${((t.ms / sum) * 100).toFixed(1).padStart(5)} %  ${t.name}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`))));
  });
}

export async function profileBench(opts: { smallDir: string; work: string; out: string; small: number }, print: (s: string) => void = console.log): Promise<void> {
  const { work, out } = opts;
  await mkdir(out, { recursive: true });
  // A directory per run, Node's own file names (pid, thread id, sequence): a name given
  // with --cpu-prof-name is the same for every thread, and the last thread's profile
  // overwrote the others'.
  const prof = (tag: string) => ({ ...process.env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(out, tag)}` });
  const files = (await readdir(opts.smallDir)).filter((f) => f.endsWith('.rpm')).sort().slice(0, opts.small);
  const repo = join(work, 'packages');
  await mkdir(repo, { recursive: true });
  for (const f of files) await link(join(opts.smallDir, f), join(repo, f));

  // createrepo: one warm-up run, then the profiled one.
  await run(TXREPO, ['createrepo', '--quiet', repo], process.env);
  await rm(join(repo, 'repodata'), { recursive: true, force: true });
  await run(TXREPO, ['createrepo', '--quiet', repo], prof('createrepo'));
  report(print, `createrepo of ${files.length} small packages`, await selfTimes(out, 'createrepo'));

  // sync from nginx: profiled, then under strace.
  await rm(join(repo, 'repodata'), { recursive: true, force: true });
  await run('createrepo_c', ['--no-database', '--quiet', repo], process.env);
  const nginx = await startNginx(join(work, 'nginx'), repo);
  try {
    for (const how of ['profile', 'strace'] as const) {
      const store = join(work, `store-${how}`);
      await run(TXREPO, ['repo', 'create', 'up', '--store', store], process.env);
      const args = ['sync', 'up', '--quiet', '--from', nginx.url, '--store', store];
      if (how === 'profile') await run(TXREPO, args, prof('sync'));
      else await measure('strace', ['-c', '-f', '-o', join(out, 'sync.strace'), TXREPO, ...args]);
      // Both stores stay until the end (removing thousands of files makes the next
      // run's file creation dearer on some file systems: bench/sync.ts).
    }
    report(print, `sync of ${files.length} small packages from nginx`, await selfTimes(out, 'sync'));
    const strace = (await readFile(join(out, 'sync.strace'), 'utf8')).split('\n');
    print(`\nsync of ${files.length} small packages under strace -c -f (the busiest system calls; all in ${join(out, 'sync.strace')})\n`);
    print(strace.slice(0, 14).join('\n'));

    // serve: the packages of the synced snapshot downloaded 8 at a time, then a clean stop (the profile is written at exit).
    const store = join(work, 'store-strace');
    const served = await start(TXREPO, ['serve', '--store', store, '--listen', '127.0.0.1:0', '--quiet'], /listening on (http:\/\/\S+)/, prof('serve'));
    try {
      const urls = files.map((f) => `${served.match[1]}/repos/up/tags/latest/${f}`);
      await curlAll(work, 'profile', urls);
    } finally {
      await stop(served.child);
    }
    report(print, `serve: ${files.length} small package downloads, 8 parallel`, await selfTimes(out, 'serve'));
  } finally {
    await nginx.stop();
  }
  print(`\nprofiles in ${out}: open a .cpuprofile in Chrome DevTools (Performance) or https://www.speedscope.app`);
}
