// Helpers of the concurrency and readers scenarios: txrepo processes run and timed
// (on a store directory, or through a server with a token), latency probes for the
// readers that run meanwhile, a yum client's reads over HTTP with every checksum
// verified, and many small RPMs built with one rpmbuild run.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { percentile } from './harness.ts';
import { envFor, TXREPO } from './world.ts';

const execFileAsync = promisify(execFile);

/** Where a txrepo process acts: a store directory, or a server with a token. */
export type Target = { store: string } | { server: string; token: string };

export const targetArgs = (t: Target): string[] => ('store' in t ? ['--store', t.store] : ['--server', t.server, '--token', t.token]);
export const targetName = (t: Target): string => ('store' in t ? 'local' : 'remote');

export interface Proc {
  args: string[];
  mode: string;
  /** Exit status; null when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Start and end (performance.now()), and wall time. */
  start: number;
  end: number;
  ms: number;
  /** Killed after the time limit: a process that never finished (deadlock, livelock). */
  timedOut: boolean;
}

/**
 * Runs `txrepo ARGS` on TARGET as a child process, as a CI job would. Never throws:
 * a process still running after `timeoutMs` is killed (SIGKILL) and says so.
 */
export function txProc(target: Target, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Proc> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const full = [...args, ...targetArgs(target)];
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(TXREPO, full, { stdio: ['ignore', 'pipe', 'pipe'], env: envFor(full, { ...process.env, ...opts.env }) });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const end = performance.now();
      resolve({ args, mode: targetName(target), code, stdout, stderr, start, end, ms: end - start, timedOut });
    });
  });
}

/** One line that says what a process did and how it ended, for failures. */
export function describeProc(p: Proc): string {
  return `txrepo ${p.args.join(' ')} (${p.mode}) ${p.timedOut ? `still running after ${Math.round(p.ms)} ms (killed)` : `exited ${p.code} after ${Math.round(p.ms)} ms`}: ${(p.stderr + p.stdout).trim().slice(0, 1500)}`;
}

/**
 * Milliseconds that threads spent runnable but waiting for a CPU, so far, from
 * /proc/.../schedstat (its second field): the share of a read's time that a busy
 * machine, not the thing under test, accounts for. Threads: "self" (the calling
 * thread), "libuv" (this process's thread pool, which runs its file system calls), or
 * a PID (that process's main thread).
 */
export function queuedMs(...threads: string[]): number {
  const paths = threads.flatMap((t) => {
    if (t === 'self') return ['/proc/thread-self/schedstat'];
    if (t !== 'libuv') return [`/proc/${t}/task/${t}/schedstat`];
    return readdirSync('/proc/self/task')
      .filter((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker')
      .map((tid) => `/proc/self/task/${tid}/schedstat`);
  });
  let ns = 0;
  for (const path of paths) {
    try {
      ns += Number(readFileSync(path, 'utf8').split(' ')[1]);
    } catch {
      // the process is gone: nothing more to count
    }
  }
  return ns / 1e6;
}

/** Latencies of one kind of read, and what went wrong. */
export class Latency {
  readonly samples: number[] = [];
  /**
   * Per sample, its time less what the threads in `queued` waited for a CPU meanwhile:
   * the time the read was held up by something else than the machine being busy.
   */
  readonly held: number[] = [];
  /** When each sample ended (Date.now()), to split them by phase. */
  readonly at: number[] = [];
  readonly errors: string[] = [];
  slowest = { ms: 0, what: '' };
  mostHeld = { ms: 0, what: '' };
  private readonly queued: () => number;

  constructor(queued: () => number = () => 0) {
    this.queued = queued;
  }

  add(ms: number, what: string, held = ms): void {
    this.samples.push(ms);
    this.held.push(held);
    this.at.push(Date.now());
    if (ms > this.slowest.ms) this.slowest = { ms, what };
    if (held > this.mostHeld.ms) this.mostHeld = { ms: held, what };
  }

  /** Times `fn`; an exception is an error of this reader (recorded, not thrown). */
  async time<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    const t0 = performance.now();
    const q0 = this.queued();
    const done = () => {
      const wall = performance.now() - t0;
      this.add(wall, what, Math.max(0, wall - (this.queued() - q0)));
    };
    try {
      const v = await fn();
      done();
      return v;
    } catch (e) {
      done();
      this.errors.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** n, p50, p99 and max of the samples that ended within [from, to] (default: all). */
  summary(from = -Infinity, to = Infinity, of: 'samples' | 'held' = 'samples'): { n: number; p50: number; p99: number; max: number } {
    const sorted = this[of].filter((_, i) => this.at[i] >= from && this.at[i] <= to).sort((a, b) => a - b);
    return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function get(url: string): Promise<Buffer> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
  return body;
}

/**
 * What a yum client reads through BASE (a repo URL ending in /): repomd.xml, then
 * primary.xml.gz (checked against repomd.xml), then one package (checked against
 * primary.xml), each timed into `lat`. Returns the number of requests made; a failed
 * request or a checksum that does not match is an error of `lat`.
 */
export async function yumRead(base: string, lat: Latency, random: () => number): Promise<number> {
  let requests = 0;
  const fetchTimed = async (href: string) => {
    requests++;
    const body = await lat.time(`GET ${base}${href}`, () => get(base + href));
    if (body === undefined) throw new Error('failed');
    return body;
  };
  try {
    const repomd = (await fetchTimed('repodata/repomd.xml')).toString('utf8');
    const m = /<data type="primary">[\s\S]*?<checksum type="sha256">([0-9a-f]{64})<\/checksum>[\s\S]*?<location href="([^"]+)"/.exec(repomd);
    if (!m) throw new Error(`${base}repodata/repomd.xml lists no primary: ${repomd.slice(0, 200)}`);
    const primaryGz = await fetchTimed(m[2]);
    if (sha256(primaryGz) !== m[1]) throw new Error(`${base}${m[2]}: sha256 ${sha256(primaryGz)}, repomd.xml says ${m[1]}`);
    const primary = gunzipSync(primaryGz).toString('utf8');
    const packages = [...primary.matchAll(/<checksum type="sha256" pkgid="YES">([0-9a-f]{64})<\/checksum>[\s\S]*?<location href="([^"]+)"/g)];
    if (packages.length === 0) return requests;
    const [, digest, href] = packages[Math.floor(random() * packages.length)];
    const rpm = await fetchTimed(href);
    if (sha256(rpm) !== digest) throw new Error(`${base}${href}: sha256 ${sha256(rpm)}, primary.xml says ${digest}`);
  } catch (e) {
    if ((e as Error).message !== 'failed') lat.errors.push((e as Error).message);
  }
  return requests;
}

/**
 * Builds NAME-VERSION-RELEASE.noarch.rpm for every name in one rpmbuild run (one
 * spec, a subpackage per name, each owning /usr/share/NAME/build): hundreds of
 * distinct real packages in seconds. Returns name -> path.
 */
export async function buildMany(outDir: string, names: string[], version = '1.0', release = '1'): Promise<Map<string, string>> {
  const top = join(outDir, `.rpmbuild-many-${version}-${release}`);
  await mkdir(join(top, 'SPECS'), { recursive: true });
  await mkdir(outDir, { recursive: true });
  const spec = join(top, 'SPECS', 'many.spec');
  const sections = names.map((n) => `%package -n ${n}\nSummary: ${n}, built by the reliability suite\n%description -n ${n}\n${n}, one of many.\n%files -n ${n}\n/usr/share/${n}/build\n`);
  const install = names.map((n) => `mkdir -p %{buildroot}/usr/share/${n}\necho '${n}-${version}-${release}' > %{buildroot}/usr/share/${n}/build`);
  await writeFile(
    spec,
    `Name: txrel-many\nVersion: ${version}\nRelease: ${release}\nSummary: many packages\nLicense: MIT\nBuildArch: noarch\n\n%description\nMany packages.\n\n${sections.join('\n')}\n%install\n${install.join('\n')}\n`,
  );
  await execFileAsync('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `_rpmdir ${outDir}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', spec], {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
    maxBuffer: 64 << 20,
  });
  const present = new Set(await readdir(outDir));
  const out = new Map<string, string>();
  for (const n of names) {
    const file = `${n}-${version}-${release}.noarch.rpm`;
    if (!present.has(file)) throw new Error(`rpmbuild did not write ${file} in ${outDir}`);
    out.set(n, join(outDir, file));
  }
  return out;
}
