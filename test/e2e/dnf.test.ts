// needs: dnf createrepo_c rpm rpmbuild xz root
// End to end: repos written by `txrepo createrepo`, served over HTTP, used by the real
// dnf in throw-away installroots: listing, dependency resolution, install, upgrade after
// `createrepo --update`, and xz / zstd compressed metadata.
//
// Needs dnf and rpm (CI installs them) and root for the install steps (rpm chroots into
// the installroot). A missing dnf is a failure, not a skip.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DNF_MISSING, describe, dnf, hasDnf, installedPackages, mustDnf } from '../helpers/dnf.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { serveDirectory, type StaticServer } from '../helpers/http.ts';
import { sample, sampleRpms } from '../helpers/samples.ts';

const execFileAsync = promisify(execFile);

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const TXREPO = path.join(REPO_ROOT, 'bin/txrepo');

// rpm's and dnf's NEVRA with the epoch always shown.
const RPM_NEVRA = '%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n';
const DNF_NEVRA = '%{name}-%{epoch}:%{version}-%{release}.%{arch}';

let tmp = '';
let www = '';
let server: StaticServer | undefined;

async function txrepo(args: string[]): Promise<void> {
  try {
    await execFileAsync(TXREPO, args, { timeout: 60_000, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`txrepo ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** Copies fixture RPMs into DIR (created), following symlinks and keeping mtimes. */
async function addRpms(dir: string, files: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    await cp(f, path.join(dir, path.basename(f)), { dereference: true, preserveTimestamps: true });
  }
}

const asset = sample;

async function allAssets(): Promise<string[]> {
  return (await sampleRpms()).map(asset);
}

/** NEVRAs of the RPM files in DIR according to rpm itself. */
async function nevrasOfDir(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((n) => n.endsWith('.rpm')).map((n) => path.join(dir, n));
  const { stdout } = await execFileAsync('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', RPM_NEVRA, ...files]);
  return stdout.split('\n').filter(Boolean).sort();
}

/** The location hrefs in DIR/repodata/repomd.xml, by metadata type. */
async function repomdHrefs(dir: string): Promise<Record<string, string>> {
  const xml = await readFile(path.join(dir, 'repodata/repomd.xml'), 'utf8');
  const out: Record<string, string> = {};
  for (const m of xml.matchAll(/<data type="([^"]+)">[\s\S]*?<location href="([^"]+)"/g)) out[m[1]] = m[2];
  return out;
}

function lines(s: string): string[] {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

function repoUrl(name: string): string {
  assert.ok(server, 'setup failed');
  return `${server.url}/${name}/`;
}

function root(name: string): string {
  return path.join(tmp, 'roots', name);
}

/** Fails (not skips) when the tools are missing. */
function requireDnf(): void {
  assert.ok(hasDnf(), DNF_MISSING);
}

function requireRoot(): void {
  assert.equal(
    process.getuid?.(), 0,
    'installing with dnf into an installroot needs root (rpm chroots into it): run this test as root, as CI does',
  );
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrepo-dnf-e2e-'));
  www = path.join(tmp, 'www');
  const assets = await allAssets();
  const COMPLEX = await complexRpm();
  // all: every sample plus txfix-complex (rich deps, epoch, changelog in UTF-8).
  await addRpms(path.join(www, 'all'), [...assets, COMPLEX]);
  // ref: the same files, indexed by createrepo_c in its test.
  await addRpms(path.join(www, 'ref'), [...assets, COMPLEX]);
  await addRpms(path.join(www, 'xz'), [...assets, COMPLEX]);
  await addRpms(path.join(www, 'zstd'), [...assets, COMPLEX]);
  // upd: the old versions only (duck-0.6 needs cockateel and lion, which need wolf).
  await addRpms(path.join(www, 'upd'), ['duck-0.6-1', 'kangaroo-0.2-1', 'cockateel-3.1-1', 'lion-0.4-1', 'wolf-9.4-2'].map((n) => asset(`${n}.noarch.rpm`)));
  await Promise.all([
    txrepo(['createrepo', '-q', path.join(www, 'all')]),
    txrepo(['createrepo', '-q', '--general-compress-type', 'xz', path.join(www, 'xz')]),
    txrepo(['createrepo', '-q', '--general-compress-type', 'zstd', path.join(www, 'zstd')]),
    txrepo(['createrepo', '-q', path.join(www, 'upd')]),
  ]);
  server = await serveDirectory(www);
});

after(async () => {
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('dnf lists every package of a txrepo repo, with the right NEVRAs', { timeout: 60_000 }, async () => {
  requireDnf();
  const repos = { all: repoUrl('all') };
  const expected = await nevrasOfDir(path.join(www, 'all'));
  assert.ok(expected.includes('duck-0:0.8-1.noarch') && expected.some((n) => n.startsWith('txfix-complex-1:2.3.4-5.el8.')));

  const q = await mustDnf(root('list'), repos, ['repoquery', '--qf', DNF_NEVRA]);
  assert.deepEqual(lines(q.stdout), expected, describe(q));

  const latest = await mustDnf(root('list'), repos, ['repoquery', '--latest-limit=1', '--qf', DNF_NEVRA, 'duck', 'kangaroo', 'walrus']);
  assert.deepEqual(lines(latest.stdout), ['duck-0:0.8-1.noarch', 'kangaroo-0:0.3-1.noarch', 'walrus-0:5.21-1.noarch'], describe(latest));

  const list = await mustDnf(root('list'), repos, ['list', '--available', 'duck']);
  assert.match(list.stdout, /^duck\.noarch\s+0\.8-1\s+all\s*$/m, describe(list));
  assert.doesNotMatch(list.stdout, /0\.[67]-1/, describe(list));

  // dnf really went through repomd.xml to txrepo's primary.
  const hrefs = await repomdHrefs(path.join(www, 'all'));
  assert.ok(server!.requests.includes('/all/repodata/repomd.xml'), server!.requests.join('\n'));
  assert.ok(server!.requests.includes(`/all/${hrefs.primary}`), server!.requests.join('\n'));
});

test('dnf sees the same packages in a txrepo repo as in a createrepo_c one', { timeout: 60_000 }, async () => {
  requireDnf();
  const fields = [
    'name', 'epoch', 'version', 'release', 'arch', 'summary', 'description', 'url', 'license', 'vendor',
    'packager', 'group', 'buildtime', 'size', 'installsize', 'downloadsize', 'sourcerpm', 'requires',
    'provides', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances', 'files',
  ];
  try {
    await execFileAsync('createrepo_c', ['-q', path.join(www, 'ref')], { timeout: 60_000 });
  } catch (e) {
    assert.fail(`createrepo_c (the reference; CI installs it with dnf) failed: ${(e as Error).message}`);
  }
  const qf = fields.map((f) => `${f}: %{${f}}`).join('\\n') + '\\n--------';
  // Same repo id for both, each in its own installroot, so even reponame matches.
  const query = async (dir: string) => {
    const info = await mustDnf(root(`cmp-${dir}`), { repo: repoUrl(dir) }, ['repoquery', '--qf', qf]);
    // --changelog makes dnf fetch other.xml too.
    const log = await mustDnf(root(`cmp-${dir}`), { repo: repoUrl(dir) }, ['repoquery', '--changelog', 'txfix-complex', 'duck']);
    return { info: info.stdout, changelog: log.stdout };
  };
  const [tx, ref] = await Promise.all([query('all'), query('ref')]);
  assert.ok(tx.info.includes('name: txfix-complex'), tx.info);
  assert.equal(tx.info, ref.info);
  assert.ok(tx.changelog.includes('There’s always a fixture in the stand'), tx.changelog);
  assert.equal(tx.changelog, ref.changelog);
});

test('dnf resolves dependencies between packages of a txrepo repo', { timeout: 60_000 }, async () => {
  requireDnf();
  const repos = { all: repoUrl('all') };
  // duck-0.6 requires cockateel and lion.
  const deps = await mustDnf(root('deps'), repos, ['repoquery', '--requires', '--resolve', '--qf', DNF_NEVRA, 'duck-0.6']);
  assert.deepEqual(lines(deps.stdout), ['cockateel-0:3.1-1.noarch', 'lion-0:0.4-1.noarch'], describe(deps));

  // walrus-0.71 requires whale, which requires shark and stork.
  requireRoot();
  const before = server!.requests.length;
  const r = await mustDnf(root('deps'), repos, ['install', 'walrus-0.71']);
  assert.match(r.stdout, /Installing dependencies:/, describe(r));
  assert.deepEqual(
    await installedPackages(root('deps')),
    ['shark-0.1-1.noarch', 'stork-0.12-2.noarch', 'walrus-0.71-1.noarch', 'whale-0.2-1.noarch'],
  );
  const fetched = server!.requests.slice(before).filter((p) => p.endsWith('.rpm')).sort();
  assert.deepEqual(fetched, ['shark-0.1-1', 'stork-0.12-2', 'walrus-0.71-1', 'whale-0.2-1'].map((n) => `/all/${n}.noarch.rpm`));
});

test('dnf installs from a txrepo repo, then upgrades after createrepo --update', { timeout: 60_000 }, async () => {
  requireDnf();
  requireRoot();
  const dir = path.join(www, 'upd');
  const repos = { upd: repoUrl('upd') };
  const r = await mustDnf(root('upd'), repos, ['install', 'duck', 'kangaroo']);
  assert.deepEqual(
    await installedPackages(root('upd')),
    ['cockateel-3.1-1.noarch', 'duck-0.6-1.noarch', 'kangaroo-0.2-1.noarch', 'lion-0.4-1.noarch', 'wolf-9.4-2.noarch'],
    describe(r),
  );

  // Newer versions appear; duck-0.7 and 0.8 no longer need cockateel and lion.
  const oldPrimary = (await repomdHrefs(dir)).primary;
  await addRpms(dir, ['duck-0.7-1', 'duck-0.8-1', 'kangaroo-0.3-1'].map((n) => asset(`${n}.noarch.rpm`)));
  await txrepo(['createrepo', '-q', '--update', dir]);
  const newPrimary = (await repomdHrefs(dir)).primary;
  assert.notEqual(newPrimary, oldPrimary);
  assert.deepEqual(
    await nevrasOfDir(dir),
    lines((await mustDnf(root('upd-list'), repos, ['repoquery', '--qf', DNF_NEVRA])).stdout),
  );

  const before = server!.requests.length;
  const up = await mustDnf(root('upd'), repos, ['upgrade', '--refresh']);
  assert.ok(server!.requests.slice(before).includes(`/upd/${newPrimary}`), `dnf did not fetch the new primary\n${describe(up)}`);
  assert.deepEqual(
    await installedPackages(root('upd')),
    ['cockateel-3.1-1.noarch', 'duck-0.8-1.noarch', 'kangaroo-0.3-1.noarch', 'lion-0.4-1.noarch', 'wolf-9.4-2.noarch'],
    describe(up),
  );
  // Nothing left to do (check-update exits 100 when there is).
  const again = await dnf(root('upd'), repos, ['check-update', '--refresh']);
  assert.equal(again.code, 0, describe(again));
});

for (const [type, ext] of [['xz', '.xz'], ['zstd', '.zst']] as const) {
  test(`dnf reads a txrepo repo with ${type} compressed metadata`, { timeout: 60_000 }, async () => {
    requireDnf();
    const dir = path.join(www, type);
    const hrefs = await repomdHrefs(dir);
    for (const t of ['primary', 'filelists', 'other']) {
      assert.ok(hrefs[t]?.endsWith(`-${t}.xml${ext}`), `${t}: ${hrefs[t]}`);
    }
    const repos = { [type]: repoUrl(type) };
    const q = await mustDnf(root(type), repos, ['repoquery', '--qf', DNF_NEVRA]);
    assert.deepEqual(lines(q.stdout), await nevrasOfDir(dir), describe(q));
    // filelists and other, too.
    const files = await mustDnf(root(type), repos, ['repoquery', '--list', 'duck-0.8']);
    assert.deepEqual(lines(files.stdout), ['/usr/bin/duck'], describe(files));
    const log = await mustDnf(root(type), repos, ['repoquery', '--changelog', 'txfix-complex']);
    assert.ok(log.stdout.includes('There’s always a fixture in the stand'), describe(log));
    const list = await mustDnf(root(type), repos, ['list', '--available', 'duck']);
    assert.match(list.stdout, new RegExp(`^duck\\.noarch\\s+0\\.8-1\\s+${type}\\s*$`, 'm'), describe(list));
    for (const t of ['primary', 'filelists', 'other']) {
      assert.ok(server!.requests.includes(`/${type}/${hrefs[t]}`), `dnf did not fetch ${hrefs[t]}`);
    }
  });
}
