// Runs the real dnf (4.x) against repositories given by URL, inside an isolated
// installroot: nothing is read from the host's dnf configuration, repo files, vars,
// aliases or plugins, and the cache, logs, history and rpmdb all live under the
// installroot. Never goes through a shell.

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface DnfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The argv dnf ran with (for failure messages). */
  argv: string[];
}

export interface DnfOptions {
  /** Kill dnf after this many ms (default 120 s); the result then has code -1. */
  timeoutMs?: number;
  /** Extra main-section options, passed as --setopt=KEY=VALUE. */
  setopt?: Record<string, string>;
}

export const DNF_MISSING =
  'dnf is not installed: the end-to-end tests need the real dnf (4.x) and rpm. ' +
  'Install them (Debian/Ubuntu: apt-get install dnf; Fedora/RHEL: dnf is there already); CI installs them.';

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/**
 * Whether dnf (and rpm) can be run. Only looks at PATH: `dnf --version` would open the
 * host's rpmdb and write the host's /var/log/hawkey.log.
 */
export function hasDnf(): boolean {
  return onPath('dnf') && onPath('rpm');
}

/**
 * The environment for dnf and rpm: no proxies (the repos are on 127.0.0.1), no
 * DNF_VAR_* / DNFn substitutions and no aliases from the host, a fixed locale. rpm and
 * dnf must get the same HOME: Debian's rpm puts the rpmdb in %_dbpath = ~/.rpmdb
 * (below the installroot), so `rpm --root` only finds what dnf installed with it.
 */
export function dnfEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(DNF_VAR_|DNF\d$)/.test(k)) continue;
    if (/^(http|https|ftp|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  env.no_proxy = env.NO_PROXY = '127.0.0.1,localhost';
  env.DNF_DISABLE_ALIASES = '1';
  env.LC_ALL = 'C.UTF-8';
  env.LANG = 'C.UTF-8';
  delete env.LANGUAGE;
  return env;
}

/**
 * Main options given on the command line. cachedir, logdir and persistdir are left
 * alone on purpose: dnf always prefixes them with the installroot (an absolute
 * --setopt=cachedir=ROOT/cache ends up as ROOT/ROOT/cache, and a logdir set that way
 * makes libdnf try to open hawkey.log outside the root); their defaults already land
 * in ROOT/var/cache/dnf, ROOT/var/log and ROOT/var/lib/dnf.
 */
const MAIN_OPTIONS: Record<string, string> = {
  // Only the repos given with --repofrompath: no host /etc/yum.repos.d, no host vars.
  reposdir: '/nonexistent',
  varsdir: '/nonexistent',
  // A repo that cannot be read must be an error, not a warning and an empty repo
  // (Debian's /etc/dnf/dnf.conf says True, which would hide a broken repodata).
  skip_if_unavailable: 'False',
  // Install/upgrade the best candidate or fail, never fall back to an older one.
  best: 'True',
  install_weak_deps: 'False',
  gpgcheck: 'False',
  repo_gpgcheck: 'False',
  localpkg_gpgcheck: 'False',
  // Nothing protected from the host's /etc/dnf/protected.d.
  protected_packages: '',
  keepcache: 'False',
  // No network besides the given URLs, and fail fast.
  fastestmirror: 'False',
  countme: 'False',
  timeout: '20',
  minrate: '0',
  retries: '1',
};

export function dnfArgs(installroot: string, repos: Record<string, string>, args: string[], opts: DnfOptions = {}): string[] {
  const argv = [
    '-y',
    '--color=never',
    `--installroot=${installroot}`,
    // dnf otherwise guesses it from the (empty) rpmdb of the installroot and warns.
    '--releasever=1',
    // Our own (empty) dnf.conf: without --config dnf reads the installroot's, or else
    // the host's /etc/dnf/dnf.conf.
    `--config=${path.join(installroot, 'etc/dnf/dnf.conf')}`,
    // No plugins at all (subscription-manager, product-id, versionlock...).
    '--noplugins',
    '--nogpgcheck',
  ];
  for (const [k, v] of Object.entries({ ...MAIN_OPTIONS, ...opts.setopt })) argv.push(`--setopt=${k}=${v}`);
  for (const [id, url] of Object.entries(repos)) argv.push(`--repofrompath=${id},${url}`);
  // --repo disables every repo but the named ones.
  for (const id of Object.keys(repos)) argv.push(`--repo=${id}`);
  return [...argv, ...args];
}

function exec(cmd: string, argv: string[], timeoutMs: number): Promise<DnfResult> {
  return new Promise((resolve) => {
    execFile(cmd, argv, { env: dnfEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      let code = 0;
      let extra = '';
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (typeof e.code === 'number') code = e.code;
        else if (e.killed || e.signal) {
          code = -1;
          extra = `\n[${cmd} killed after ${timeoutMs} ms (signal ${e.signal})]`;
        } else {
          code = 127;
          extra = `\n[cannot run ${cmd}: ${e.message}]`;
        }
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + extra, argv: [cmd, ...argv] });
    });
  });
}

/** Runs `dnf ARGS` in INSTALLROOT (created if needed) with only REPOS (id -> baseurl) enabled. */
export async function dnf(installroot: string, repos: Record<string, string>, args: string[], opts: DnfOptions = {}): Promise<DnfResult> {
  if (!path.isAbsolute(installroot)) throw new Error(`installroot must be absolute: ${installroot}`);
  const conf = path.join(installroot, 'etc/dnf/dnf.conf');
  await mkdir(path.dirname(conf), { recursive: true });
  await writeFile(conf, '# written by test/helpers/dnf.ts; every option is given on the command line\n[main]\n');
  return exec('dnf', dnfArgs(installroot, repos, args, opts), opts.timeoutMs ?? 120_000);
}

/**
 * Runs `dnf ARGS` in INSTALLROOT reading the repositories from CONF (a yum/reposync
 * config such as `txrepo inject` writes), with only the sections REPOIDS enabled.
 */
export async function dnfWithConfig(installroot: string, conf: string, repoIds: string[], args: string[], opts: DnfOptions = {}): Promise<DnfResult> {
  if (!path.isAbsolute(installroot) || !path.isAbsolute(conf)) throw new Error('installroot and conf must be absolute');
  const argv = dnfArgs(installroot, {}, [], opts).map((a) => (a.startsWith('--config=') ? `--config=${conf}` : a));
  for (const id of repoIds) argv.push(`--repo=${id}`);
  const r = await exec('dnf', [...argv, ...args], opts.timeoutMs ?? 120_000);
  if (r.code !== 0) throw new Error(`dnf failed:\n${describe(r)}`);
  return r;
}

export function describe(r: DnfResult): string {
  return `${r.argv.join(' ')}\nexit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Like dnf(), but throws with the full command and output unless dnf exits 0. */
export async function mustDnf(installroot: string, repos: Record<string, string>, args: string[], opts: DnfOptions = {}): Promise<DnfResult> {
  const r = await dnf(installroot, repos, args, opts);
  if (r.code !== 0) throw new Error(`dnf failed:\n${describe(r)}`);
  return r;
}

/** NEVRAs (name-[epoch:]version-release.arch) of the packages installed in INSTALLROOT, sorted. */
export async function installedPackages(installroot: string): Promise<string[]> {
  const r = await exec('rpm', ['--root', installroot, '-qa', '--qf', '%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH}\\n'], 60_000);
  if (r.code !== 0) throw new Error(`rpm failed:\n${describe(r)}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}
