// What the tests need from the machine, and getting it: the programs they run (the
// reference createrepo_c, dnf and rpm as real clients, rpmbuild for fixtures), root
// (dnf installs into throw-away roots, the disk scenarios mount a tmpfs) and a
// PostgreSQL database for the shared-backend pass.
//
// Each test file says what it needs in a header line, `// needs: dnf rpmbuild root`;
// a file without one needs only Node.js. `npm test` installs what is missing with apt
// when it runs as root on Debian, and otherwise says in one message what to install
// and runs the files whose needs are met.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The programs tests may run, and the Debian package of each. */
export const PROGRAMS: Readonly<Record<string, string>> = {
  createrepo_c: 'createrepo-c',
  modifyrepo_c: 'createrepo-c',
  dnf: 'dnf',
  rpm: 'rpm',
  rpmbuild: 'rpm',
  rpmsign: 'rpm',
  rpmkeys: 'rpm',
  gpg: 'gnupg',
  zstd: 'zstd',
  xz: 'xz-utils',
  setpriv: 'util-linux',
  git: 'git',
  script: 'bsdutils',
  pg_ctlcluster: 'postgresql',
  chromium: 'chromium',
};

/** A need that is not a program: running as root. */
export const ROOT = 'root';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Whether PROGRAM is on $PATH. */
export function hasProgram(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** The needs a file declares in a `// needs: ...` line among its first lines. */
export function needsOf(file: string): string[] {
  const head = readFileSync(file, 'utf8').split('\n', 30);
  const line = head.find((l) => /^\/\/ needs:/.test(l));
  if (!line) return [];
  const needs = line.replace(/^\/\/ needs:/, '').trim().split(/\s+/).filter(Boolean);
  for (const n of needs) {
    if (n !== ROOT && !Object.hasOwn(PROGRAMS, n)) throw new Error(`${file}: "needs: ${n}" is neither a known program (${Object.keys(PROGRAMS).join(', ')}) nor "root"`);
  }
  return needs;
}

/** Which of `needs` this machine does not meet. */
export function unmet(needs: readonly string[]): string[] {
  return needs.filter((n) => (n === ROOT ? !isRoot() : !hasProgram(n)));
}

/** Every test file under `dir`, sorted, relative to `root`. */
export function testFiles(root: string, dir = 'test'): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.map((p) => relative('.', p)).sort();
}

/** The Debian packages that bring `programs`. */
export function packagesFor(programs: readonly string[]): string[] {
  return [...new Set(programs.filter((p) => p !== ROOT).map((p) => PROGRAMS[p]))].sort();
}

const hasApt = () => isRoot() && hasProgram('apt-get') && existsSync('/etc/debian_version');

function sh(cmd: string, args: string[], opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 && !opts.quiet) process.stderr.write(r.stdout + r.stderr);
  return { ok: r.status === 0, out: r.stdout };
}

/**
 * Installs the packages of the missing programs when it can (root, apt). Returns
 * the programs still missing afterwards.
 */
export function install(missing: readonly string[]): string[] {
  const packages = packagesFor(missing);
  if (packages.length === 0 || !hasApt()) return [...missing];
  process.stderr.write(`npm test: installing ${packages.join(' ')} (apt-get)\n`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  sh('apt-get', ['update', '-qq'], { env });
  sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  return missing.filter((p) => !hasProgram(p));
}

/**
 * The one message for a machine that cannot have everything: what to install, what is
 * skipped, and (`noDatabase`) why the PostgreSQL pass cannot run.
 */
export function whatToInstall(missing: readonly string[], skipped: readonly string[], noDatabase?: string): string {
  const lines = ['npm test: this machine cannot run every test.'];
  const packages = packagesFor(missing);
  if (packages.length) lines.push(`  Missing programs: ${missing.filter((m) => m !== ROOT).join(', ')}. Install them with:`, `    sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`);
  if (missing.includes(ROOT)) lines.push('  Some tests need root (dnf installs into throw-away roots, a tmpfs is mounted): run npm test as root for those.');
  if (skipped.length) lines.push(`  Skipped, for that: ${skipped.join(', ')}.`);
  if (noDatabase) lines.push(`  The PostgreSQL + S3 pass is skipped: ${noDatabase}. Run npm test as root on Debian to have one made, or set TXREPO_TEST_PG=postgres://USER:PASSWORD@HOST:PORT/DATABASE (a database the tests may create schemas in).`);
  lines.push('  Running what this machine can run.');
  return lines.join('\n') + '\n';
}

/** Why this machine cannot make a test database itself, if it cannot. */
export function postgresUnavailable(): string | undefined {
  if (!isRoot()) return 'setting up PostgreSQL needs root';
  if (!hasProgram('pg_ctlcluster') || !hasProgram('pg_lsclusters')) return 'PostgreSQL is not installed';
  return undefined;
}

const DATABASE = 'txrepo_test';
const ROLE = 'txrepo';

/**
 * A PostgreSQL database for the shared-backend pass: the packaged cluster (made if
 * there is none), started, listening on loopback, with a role and a database for the
 * tests. Needs root (it acts as the postgres user). Returns its URL, or a reason.
 */
export function ensurePostgres(): { url?: string; why?: string } {
  const why = postgresUnavailable();
  if (why) return { why };
  const clusters = () => sh('pg_lsclusters', ['--no-header'], { quiet: true }).out.trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/));
  let cluster = clusters()[0];
  if (!cluster) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
    sh('pg_createcluster', [versions.at(-1)!, 'main'], { quiet: true });
    cluster = clusters()[0];
    if (!cluster) return { why: 'no PostgreSQL cluster, and pg_createcluster made none' };
  }
  const [version, name, port] = cluster;
  sh('pg_ctlcluster', [version, name, 'start'], { quiet: true });
  const psql = (sql: string) => sh('su', ['postgres', '-c', `psql -p ${port} -qAtc ${JSON.stringify(sql)}`], { quiet: true });
  let up = false;
  for (let i = 0; i < 30 && !(up = psql('SELECT 1').ok); i++) spawnSync('sleep', ['1']);
  if (!up) return { why: `PostgreSQL ${version}/${name} on port ${port} did not start` };
  if (!psql(`SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'`).out.includes('1')) psql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE}'`);
  if (!psql(`SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`).out.includes('1')) {
    sh('su', ['postgres', '-c', `createdb -p ${port} -O ${ROLE} ${DATABASE}`], { quiet: true });
  }
  return { url: `postgres://${ROLE}:${ROLE}@127.0.0.1:${port}/${DATABASE}` };
}
