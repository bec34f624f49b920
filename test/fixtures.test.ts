// needs: rpm rpmbuild
// Checks that the RPMs built from test/fixtures/specs really carry the
// features other tests rely on, by asking rpm itself. If a spec is broken (or
// rpmbuild silently drops something) this fails loudly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import {
  FIXTURE_SOURCE_DATE_EPOCH,
  REPO_ROOT,
  buildTestRpms,
} from './helpers/fixtures.ts';
import { writeLegacyRpm } from './helpers/legacy-rpm.ts';
import { removeDir, tempDir } from './helpers/repo.ts';

const execFileAsync = promisify(execFile);

const rpmEnv = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', TZ: 'UTC' };

async function rpmq(file: string, qf: string): Promise<string> {
  const { stdout } = await execFileAsync('rpm', ['-qp', '--qf', qf, file], { env: rpmEnv, maxBuffer: 64 << 20 });
  return stdout;
}

async function rpmqLines(file: string, qf: string): Promise<string[]> {
  return (await rpmq(file, qf)).split('\n').filter((l) => l !== '');
}

/** name.arch -> path; source RPMs get arch "src". */
let index: Promise<Map<string, string>> | undefined;
function rpmIndex(): Promise<Map<string, string>> {
  index ??= (async () => {
    const dir = await buildTestRpms();
    const map = new Map<string, string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.rpm')).sort()) {
      const file = path.join(dir, f);
      const key = (await rpmq(file, '%{NAME}.%|SOURCERPM?{%{ARCH}}:{src}|')).trim();
      assert.ok(!map.has(key), `duplicate ${key}`);
      map.set(key, file);
    }
    return map;
  })();
  return index;
}

async function pkg(key: string): Promise<string> {
  const file = (await rpmIndex()).get(key);
  assert.ok(file, `fixture package ${key} was not built; have: ${[...(await rpmIndex()).keys()].join(', ')}`);
  return file;
}

const REQ = '[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]';
const REQ_TYPED = '[%{REQUIREFLAGS:deptype}|%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]';
const PROV = '[%{PROVIDENAME} %{PROVIDEFLAGS:depflags} %{PROVIDEVERSION}\n]';
const CONF = '[%{CONFLICTNAME} %{CONFLICTFLAGS:depflags} %{CONFLICTVERSION}\n]';
const OBS = '[%{OBSOLETENAME} %{OBSOLETEFLAGS:depflags} %{OBSOLETEVERSION}\n]';
const FILES = '[%{FILEMODES:perms}|%{FILEFLAGS:fflags}|%{FILENAMES}\n]';

/** "name op version" with runs of spaces collapsed (rpm prints "name  " for unversioned). */
const norm = (lines: string[]) => lines.map((l) => l.replace(/\s+/g, ' ').trim());

test('the expected binary and source packages are built', async () => {
  const keys = [...(await rpmIndex()).keys()].sort();
  const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
  const expected = [
    'txfix-caret.noarch', 'txfix-caret.src',
    `txfix-complex.${arch}`, 'txfix-complex.src',
    `txfix-files.${arch}`, `txfix-files-many.${arch}`, `txfix-files-empty.${arch}`, 'txfix-files.src',
    'txfix-latin1.noarch', 'txfix-latin1.src',
    `txfix-libc.${arch}`, 'txfix-libc.src',
    `txfix-modular.${arch}`, `txfix-modular-devel.${arch}`, 'txfix-modular.src',
    'txfix-scriptlets.noarch', 'txfix-scriptlets.src',
    'txfix-text.noarch', 'txfix-text.src',
    'txfix-tilde.noarch', 'txfix-tilde.src',
    'txfix-versions.noarch', 'txfix-versions-compat.noarch', 'txfix-versions.src',
    'txfix-weakdeps.noarch', 'txfix-weakdeps.src',
  ].sort();
  assert.deepEqual(keys, expected);

  const dir = await buildTestRpms();
  assert.ok(dir.startsWith(path.join(REPO_ROOT, '.cache', 'test-rpms') + path.sep), dir);
  const srpms = readdirSync(dir).filter((n) => n.endsWith('.src.rpm'));
  assert.equal(srpms.length, 11);
  for (const s of srpms) {
    assert.equal((await rpmq(path.join(dir, s), '%{SOURCEPACKAGE}')).trim(), '1', `${s} is a source package`);
  }
});

test('buildTestRpms() is cached and stable', async () => {
  const a = await buildTestRpms();
  const b = await buildTestRpms();
  assert.equal(a, b);
  for (const f of readdirSync(a)) {
    const file = path.join(a, f);
    assert.ok(statSync(file).size > 0, f);
    assert.equal((await rpmq(file, '%{BUILDTIME}')).trim(), String(FIXTURE_SOURCE_DATE_EPOCH), `${f} build time`);
    assert.equal((await rpmq(file, '%{BUILDHOST}')).trim(), 'txrepo-fixtures', `${f} build host`);
  }
});

test('tilde and caret versions', async () => {
  const tilde = await pkg('txfix-tilde.noarch');
  assert.equal(await rpmq(tilde, '%{EPOCH}:%{VERSION}-%{RELEASE}'), '(none):1.0~rc1-0.1~beta');
  assert.match(path.basename(tilde), /^txfix-tilde-1\.0~rc1-0\.1~beta\.noarch\.rpm$/);
  const caret = await pkg('txfix-caret.noarch');
  assert.equal(await rpmq(caret, '%{VERSION}-%{RELEASE}'), '2.0^20240101git-1');
  assert.match(path.basename(caret), /^txfix-caret-2\.0\^20240101git-1\.noarch\.rpm$/);
  assert.ok(norm(await rpmqLines(caret, OBS)).includes('txfix-caret-old < 2.0^20230101git'));
  // rpm itself must order them as documented
  const { stdout } = await execFileAsync('rpm', ['--eval',
    '%{lua: print(rpm.vercmp("1.0~rc1", "1.0"), rpm.vercmp("2.0^20240101git", "2.0"), rpm.vercmp("2.0^20240101git", "2.0.1"))}']);
  assert.equal(stdout.trim(), '-1\t1\t-1');
});

test('epochs and every comparison operator', async () => {
  const v = await pkg('txfix-versions.noarch');
  assert.equal(await rpmq(v, '%{EPOCH}:%{VERSION}-%{RELEASE}'), '3:1.0-1');
  const req = norm(await rpmqLines(v, REQ));
  for (const r of [
    'txfix-req-lt < 2.0',
    'txfix-req-le <= 2.0-1',
    'txfix-req-eq = 1.5',
    'txfix-req-ge >= 1.0',
    'txfix-req-gt > 0.9',
    'txfix-req-epoch >= 2:1.0-1',
    'txfix-req-epoch-zero = 0:1.0',
    'txfix-tilde >= 1.0~rc1',
    'txfix-caret >= 2.0^20240101git',
  ]) assert.ok(req.includes(r), `requires ${r}; got ${req.join(' | ')}`);
  const prov = norm(await rpmqLines(v, PROV));
  for (const p of ['txfix-versions = 3:1.0-1', 'txfix-ver-unversioned', 'txfix-ver-eq = 1.0-1', 'txfix-ver-epoch = 5:2.0-3',
    'txfix-ver-tilde = 1.0~beta2', 'txfix-ver-caret = 1.0^git1']) {
    assert.ok(prov.includes(p), `provides ${p}; got ${prov.join(' | ')}`);
  }
  const conf = norm(await rpmqLines(v, CONF));
  for (const c of ['txfix-conf-lt < 1.0', 'txfix-conf-le <= 1.0-2', 'txfix-conf-eq = 1:1.0', 'txfix-conf-ge >= 4.0',
    'txfix-conf-gt > 4.0-1', 'txfix-conf-plain']) {
    assert.ok(conf.includes(c), `conflicts ${c}; got ${conf.join(' | ')}`);
  }
  const obs = norm(await rpmqLines(v, OBS));
  for (const o of ['txfix-obs-lt < 1.0', 'txfix-obs-le <= 1.0-2', 'txfix-obs-eq = 2:0.5-1', 'txfix-obs-ge >= 0.1',
    'txfix-obs-gt > 0.1', 'txfix-obs-plain']) {
    assert.ok(obs.includes(o), `obsoletes ${o}; got ${obs.join(' | ')}`);
  }
  const compat = await pkg('txfix-versions-compat.noarch');
  assert.equal(await rpmq(compat, '%{EPOCH}'), '3');
  assert.ok(norm(await rpmqLines(compat, REQ)).includes('txfix-versions = 3:1.0-1'));
});

test('weak and rich dependencies', async () => {
  const w = await pkg('txfix-weakdeps.noarch');
  const req = norm(await rpmqLines(w, REQ));
  for (const r of [
    '(txfix-versions >= 1.0 if txfix-tilde)',
    '(txfix-files or txfix-text)',
    '((txfix-rich-a and txfix-rich-b) or txfix-rich-c)',
    '(txfix-rich-m if txfix-rich-n else txfix-rich-o)',
    '(txfix-rich-x with txfix-rich-y)',
    '(txfix-rich-p without txfix-rich-q)',
  ]) assert.ok(req.includes(r), `requires ${r}; got ${req.join(' | ')}`);
  assert.ok(req.some((r) => r.startsWith('rpmlib(RichDependencies) <=')), 'rpmlib(RichDependencies)');

  const weak = async (tag: string) =>
    norm(await rpmqLines(w, `[%{${tag}NAME} %{${tag}FLAGS:depflags} %{${tag}VERSION}\n]`));
  assert.deepEqual((await weak('RECOMMEND')).sort(),
    ['(txfix-rec-a or txfix-rec-b)', 'txfix-recommended', 'txfix-recommended-versioned >= 2.0']);
  assert.deepEqual((await weak('SUGGEST')).sort(),
    ['(txfix-sug-a and txfix-sug-b)', 'txfix-suggested', 'txfix-suggested-versioned < 3']);
  assert.deepEqual((await weak('SUPPLEMENT')).sort(),
    ['(txfix-sup-a unless txfix-sup-b)', '(txfix-versions and txfix-langpack-fr)', 'txfix-supplemented']);
  assert.deepEqual((await weak('ENHANCE')).sort(),
    ['(txfix-enh-a unless txfix-enh-b)', 'txfix-enhanced > 1.0']);
  assert.deepEqual(norm(await rpmqLines(w, CONF)).sort(), [
    '(txfix-bad-a and txfix-bad-b)',
    '(txfix-bad-s unless txfix-bad-t else txfix-bad-w)',
    '(txfix-bad-u unless txfix-bad-v)',
  ]);
});

test('ghost files, directories, primary and non-primary files, file requires', async () => {
  const f = await pkg(`txfix-files.${(await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim()}`);
  const files = new Map<string, { mode: string; flags: string }>();
  for (const line of await rpmqLines(f, FILES)) {
    const [mode, flags, ...rest] = line.split('|');
    files.set(rest.join('|'), { mode, flags });
  }
  const ghost = (p: string) => files.get(p)?.flags.includes('g') ?? false;
  const isDir = (p: string) => files.get(p)?.mode.startsWith('d') ?? false;

  assert.ok(ghost('/var/log/txfix.log'), 'ghost /var/log/txfix.log');
  assert.ok(ghost('/var/lib/txfix/state'), 'ghost /var/lib/txfix/state');
  assert.ok(ghost('/etc/txfix/generated.conf'), 'ghost config');
  assert.ok(files.get('/etc/txfix/generated.conf')!.flags.includes('c'), 'ghost config is %config');
  assert.ok(ghost('/run/txfix') && isDir('/run/txfix'), 'ghost directory /run/txfix');
  for (const d of ['/etc/txfix', '/etc/txfix/conf.d', '/var/lib/txfix', '/usr/share/txfix/empty-dir', '/usr/lib/txfix']) {
    assert.ok(isDir(d), `directory ${d}`);
    assert.ok(!ghost(d), `${d} is not a ghost`);
  }
  assert.ok(files.get('/etc/txfix/txfix.conf')!.flags.includes('n'), '%config(noreplace)');
  assert.ok(files.get('/usr/share/doc/txfix-files/README')!.flags.includes('d'), '%doc');
  assert.ok(files.get('/usr/share/licenses/txfix-files/LICENSE')!.flags.includes('l'), '%license');
  assert.ok(files.get('/usr/bin/txfix-link')!.mode.startsWith('l'), 'symlink');
  assert.equal(files.get('/usr/sbin/txfixd')!.mode, '-rwxr-x---');
  for (const p of ['/etc/txfix/txfix.conf', '/usr/bin/txfix-tool', '/usr/sbin/txfixd', '/usr/lib/txfix/helper',
    '/usr/share/txfix/data.txt', '/usr/share/txfix/file with spaces é.txt', "/usr/share/txfix/a&b <c> 'e'.txt"]) {
    assert.ok(files.has(p), `file ${p}; got ${[...files.keys()].join(' | ')}`);
  }

  const req = norm(await rpmqLines(f, REQ));
  assert.ok(req.includes('/usr/bin/txfix-tool'), 'file require on its own /usr/bin file');
  assert.ok(req.includes('/bin/sh'), 'file require on /bin/sh');

  const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
  const many = await pkg(`txfix-files-many.${arch}`);
  const manyFiles = await rpmqLines(many, '[%{FILENAMES}\n]');
  assert.ok(manyFiles.length >= 300, `many files: ${manyFiles.length}`);

  const empty = await pkg(`txfix-files-empty.${arch}`);
  assert.deepEqual(await rpmqLines(empty, '[%{FILENAMES}\n]'), []);
  assert.equal((await rpmq(empty, '%{SIZE}')).trim(), '0');
});

test('scriptlet prerequisites', async () => {
  const s = await pkg('txfix-scriptlets.noarch');
  const req = norm(await rpmqLines(s, REQ_TYPED));
  for (const r of [
    'pre|txfix-pre-dep',
    'post|txfix-post-dep >= 1.0',
    'preun|txfix-preun-dep',
    'postun|txfix-postun-dep < 9',
    'pretrans|txfix-pretrans-dep',
    'posttrans|txfix-posttrans-dep = 2.0',
    'pre,post|txfix-prepost-dep',
    'post,postun|txfix-post-postun-dep',
    'manual|txfix-both',
    'pre|txfix-both',
    'manual|txfix-both-versioned >= 1.0',
    'post|txfix-both-versioned >= 1.0',
    'pretrans|txfix-only-pretrans',
    'posttrans|txfix-only-posttrans',
    // interpreter requires generated for the shell scriptlets
    'pre,interp|/bin/sh',
    'interp,posttrans|/bin/sh',
  ]) assert.ok(req.includes(r), `requires ${r}; got ${req.join(' | ')}`);
  assert.equal((await rpmq(s, '%{PRETRANSPROG}')).trim(), '<lua>');
  assert.match(await rpmq(s, '%{POSTTRANS}'), /posttrans/);
});

test('UTF-8 and XML-special text, long changelog with duplicate dates', async () => {
  const t = await pkg('txfix-text.noarch');
  const summary = await rpmq(t, '%{SUMMARY}');
  for (const s of ['ë', 'ü', '日本語', '🎉', '<', '>', '&', '"', "'"]) assert.ok(summary.includes(s), `summary has ${s}`);
  const description = await rpmq(t, '%{DESCRIPTION}');
  for (const s of ['café', 'Müller', '日本語', '🚀', '< b >', ' & d', '"double"', "'single'", '</description>', '&amp;']) {
    assert.ok(description.includes(s), `description has ${s}`);
  }
  assert.match(await rpmq(t, '%{PACKAGER}'), /^Zoë "Z" O'Brien <zoe@example.com>$/);
  assert.match(await rpmq(t, '%{VENDOR}'), /^Fixture & Söhne/);
  // the German summary exists next to the C one
  const { stdout: de } = await execFileAsync('rpm', ['-qp', '--qf', '%{SUMMARY}', t], { env: { ...rpmEnv, LC_ALL: 'de_DE.UTF-8', LANGUAGE: 'de' } });
  assert.ok(de === summary || de === 'Textvorlage für Übersetzungen', de);

  const times = await rpmqLines(t, '[%{CHANGELOGTIME}\n]');
  const names = await rpmqLines(t, '[%{CHANGELOGNAME}\n]');
  assert.ok(times.length >= 25, `changelog entries: ${times.length}`);
  assert.equal(names.length, times.length);
  const counts = new Map<string, number>();
  for (const x of times) counts.set(x, (counts.get(x) ?? 0) + 1);
  const dupDates = [...counts.values()].filter((n) => n > 1);
  assert.ok(dupDates.length >= 4, 'several dates shared by multiple entries');
  assert.ok(dupDates.includes(3), 'one date with three entries');
  for (let i = 1; i < times.length; i++) assert.ok(Number(times[i - 1]) >= Number(times[i]), 'descending');
  assert.ok(names.includes('Tom & Jerry <tom&jerry@example.com> - 4.5.6-6'));
  assert.ok(names.some((n) => n.includes('Zoë "Z" O\'Brien')));
  const text = await rpmq(t, '%{CHANGELOGTEXT}');
  for (const s of ['<tags>', '&', '"quotes"', "'apostrophes'", '日本語', '🎉']) assert.ok(text.includes(s), `changelog text has ${s}`);
});

test('manual soname requires (AutoReqProv: no), self-provided requires', async () => {
  const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
  const l = await pkg(`txfix-libc.${arch}`);
  const req = norm(await rpmqLines(l, REQ)).filter((r) => !r.startsWith('rpmlib('));
  assert.deepEqual(req.sort(), [
    '/usr/lib64/libtxfix.so.1',
    'libc.so.6()(64bit)',
    'libc.so.6(GLIBC_2.14)(64bit)',
    'libc.so.6(GLIBC_2.2.5)(64bit)',
    'libc.so.6(GLIBC_2.34)(64bit)',
    'libtxfix.so.1()(64bit)',
    'rtld(GNU_HASH)',
    'txfix-libc = 1.0-1',
    'txfix-libc-api = 1.0',
  ]);
  const prov = norm(await rpmqLines(l, PROV));
  for (const p of ['libtxfix.so.1()(64bit)', 'txfix-libc-api = 1.0', 'txfix-libc = 1.0-1']) {
    assert.ok(prov.includes(p), `provides ${p}`);
  }
});

test('a package with a bit of everything: epoch, dist tag, rich and weak deps, zstd payload', async () => {
  const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
  const c = await pkg(`txfix-complex.${arch}`);
  assert.equal(await rpmq(c, '%{EPOCH}:%{VERSION}-%{RELEASE} %{PAYLOADCOMPRESSOR}'), '1:2.3.4-5.el8 zstd');
  const req = norm(await rpmqLines(c, REQ)).filter((r) => !r.startsWith('rpmlib('));
  for (const r of ['/usr/sbin/useradd', '/usr/bin/bash', 'txfix-fur <= 2', '(txfix-lawyer >= 1.1 if txfix-trial else txfix-anyone < 0.5.1-2)']) {
    assert.ok(req.includes(r), `requires ${r}; got ${req.join(' | ')}`);
  }
  assert.deepEqual(await rpmqLines(c, '[%{RECOMMENDNAME}\n]'), ['(txfix-bananas or txfix-magic)']);
  assert.deepEqual(await rpmqLines(c, '[%{SUPPLEMENTNAME}\n]'), ['((txfix-hiding and txfix-attic) unless txfix-light)']);
  assert.match(await rpmq(c, '%{CHANGELOGTEXT}'), /There’s always/);
});

test('text that is not UTF-8', async () => {
  const l = await pkg('txfix-latin1.noarch');
  const { stdout } = await execFileAsync('rpm', ['-qp', '--qf', '%{SUMMARY}', l], { env: rpmEnv, encoding: 'buffer' });
  assert.deepEqual(stdout, Buffer.from('Caf\xe9 fixture, na\xefve text', 'latin1'));
});

test('packages named as a module build names them', async () => {
  const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
  for (const name of ['txfix-modular', 'txfix-modular-devel']) {
    assert.equal(await rpmq(await pkg(`${name}.${arch}`), '%{RELEASE}'), '1.module_2200+adbac02b');
  }
});

test('legacy layout: only the header SHA1 and the MD5, as rpm before 4.14 wrote', async () => {
  const dir = await tempDir('txrepo-legacy-');
  try {
    const arch = (await execFileAsync('rpm', ['--eval', '%{_arch}'])).stdout.trim();
    for (const from of [await pkg('txfix-text.noarch'), await pkg(`txfix-complex.${arch}`)]) {
      const to = await writeLegacyRpm(from, path.join(dir, path.basename(from)));
      const { stdout } = await execFileAsync('rpm', ['-Kv', '--nosignature', to], { env: rpmEnv });
      assert.deepEqual(stdout.split('\n').slice(1).map((l) => l.trim()).filter(Boolean), ['Header SHA1 digest: OK', 'MD5 digest: OK']);
      // The same package otherwise: name, files, dependencies.
      const q = '%{NEVRA}\n[%{FILENAMES}\n][%{REQUIRENAME}\n]';
      assert.equal(await rpmq(to, q), await rpmq(from, q));
      assert.equal(await rpmq(to, '[%{PAYLOADDIGEST}]'), '');
    }
  } finally {
    await removeDir(dir);
  }
});
