// The rules of remove and copy that need no store: which packages a pattern names
// (src/snapshots/patterns.ts) and what copy --with-deps brings (src/snapshots/deps.ts),
// on records made here, each with only what the rule reads.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Dependency, PackageRecord } from '../../src/rpm/index.ts';
import { matchPackages, parseRich, PatternError, rangesOverlap, resolveWithDeps, type SourcePackage } from '../../src/snapshots/index.ts';
import { NotFoundError } from '../../src/store/index.ts';
import { FIRST_PASS_ONLY } from '../helpers/backends.ts';

interface Spec {
  name: string;
  evr?: string;
  arch?: string;
  requires?: string[];
  provides?: string[];
  files?: string[];
}

/** A dependency as a spec file writes it: NAME [OP [E:]V[-R]], or a rich one in parentheses. */
function dep(text: string): Dependency {
  if (text.startsWith('(')) return { name: text };
  const m = /^(\S+)(?:\s+(<=|>=|=|<|>)\s+(?:(\d+):)?([^-\s]+)(?:-(\S+))?)?$/.exec(text);
  if (!m) throw new Error(`bad dependency in a test: ${text}`);
  const flags = ({ '=': 'EQ', '<': 'LT', '>': 'GT', '<=': 'LE', '>=': 'GE' } as const)[m[2] as '='];
  return m[2] ? { name: m[1], flags, epoch: m[3] ?? '0', ver: m[4], ...(m[5] && { rel: m[5] }) } : { name: m[1] };
}

/** A package of a source snapshot, its record holding what the rules read. */
function pkg(s: Spec): SourcePackage {
  const [ev, release = '1'] = (s.evr ?? '1.0-1').split('-');
  const [epoch, version] = ev.includes(':') ? ev.split(':') : ['0', ev];
  const arch = s.arch ?? 'noarch';
  const record = {
    name: s.name,
    arch,
    epoch,
    version,
    release,
    requires: (s.requires ?? []).map(dep),
    provides: (s.provides ?? []).map(dep),
    files: (s.files ?? []).map((path) => ({ path, type: 'file' as const })),
  } as unknown as PackageRecord;
  const file = `${s.name}-${version}-${release}.${arch}.rpm`;
  return { href: `Packages/${file[0]}/${file}`, digest: file, size: 1, record };
}

const names = (list: { record: PackageRecord }[]) => list.map((p) => `${p.record.name}-${p.record.version}-${p.record.release}.${p.record.arch}`).sort();

describe('package patterns', FIRST_PASS_ONLY, () => {
  const repo = [
    pkg({ name: 'duck', evr: '0.6-1' }),
    pkg({ name: 'duck', evr: '0.7-1' }),
    pkg({ name: 'duck', evr: '2:0.8-1', arch: 'x86_64' }),
    pkg({ name: 'duckling', evr: '1.0-1' }),
    pkg({ name: 'bear', evr: '4.1-1' }),
  ];
  const match = (...patterns: string[]) => names(matchPackages(repo, patterns, 'el9@latest'));

  test('a name names every build of it, and only of that name', () => {
    assert.deepEqual(match('duck'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch', 'duck-0.8-1.x86_64']);
  });

  test('name.arch, N-V, N-V-R, N-V-R.A, NEVRA (epoch 0 written) and the file name each name one build', () => {
    assert.deepEqual(match('duck.x86_64'), ['duck-0.8-1.x86_64']);
    assert.deepEqual(match('duck-0.7'), ['duck-0.7-1.noarch']);
    assert.deepEqual(match('duck-0.6-1'), ['duck-0.6-1.noarch']);
    assert.deepEqual(match('duck-0.6-1.noarch'), ['duck-0.6-1.noarch']);
    assert.deepEqual(match('duck-2:0.8-1.x86_64'), ['duck-0.8-1.x86_64']);
    assert.deepEqual(match('duck-0:0.7-1.noarch'), ['duck-0.7-1.noarch']);
    assert.deepEqual(match('duck-2:0.8-1'), ['duck-0.8-1.x86_64'], 'N-E:V-R, as a mirror filter takes it');
    assert.deepEqual(match('bear-4.1-1.noarch.rpm'), ['bear-4.1-1.noarch']);
  });

  test('shell globs: *, ?, [set], [!set]', () => {
    assert.deepEqual(match('duck*'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch', 'duck-0.8-1.x86_64', 'duckling-1.0-1.noarch']);
    assert.deepEqual(match('duck-0.?-1.noarch'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch']);
    assert.deepEqual(match('duck-0.[67]-1'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch']);
    assert.deepEqual(match('duck-0.[!6]-1.noarch'), ['duck-0.7-1.noarch']);
    assert.deepEqual(match('*.x86_64'), ['duck-0.8-1.x86_64']);
    assert.deepEqual(match('duck-0.[5-7]-1'), ['duck-0.6-1.noarch', 'duck-0.7-1.noarch']);
    assert.deepEqual(match('duck-0.[!0-6]-1.noarch'), ['duck-0.7-1.noarch']);
    assert.deepEqual(match('b**r'), ['bear-4.1-1.noarch']);
  });

  test('a pattern of many stars is matched in time proportional to its length, not exponential', { timeout: 60_000 }, () => {
    // A matcher that tries every way to split the name among the stars would not finish.
    const long = [pkg({ name: 'a'.repeat(200) })];
    assert.throws(() => matchPackages(long, [`${'*a'.repeat(60)}*b`], 'x'), NotFoundError);
    assert.equal(matchPackages(long, [`${'*a'.repeat(60)}*`], 'x').length, 1);
  });

  test('several patterns name what each names', () => {
    assert.deepEqual(match('bear', 'duckling'), ['bear-4.1-1.noarch', 'duckling-1.0-1.noarch']);
    assert.deepEqual(match('duckling', 'bear'), ['bear-4.1-1.noarch', 'duckling-1.0-1.noarch']);
  });

  test('a pattern that names nothing is an error naming it, even after patterns that did', () => {
    assert.throws(() => match('bear', 'beer'), (e: Error) => e instanceof NotFoundError && /no package in el9@latest matches "beer"/.test(e.message));
    assert.throws(() => match('Duck'), NotFoundError, 'patterns are case-sensitive, as rpm names are');
  });

  test('no pattern, a blank one, one with control characters, or an unclosed [ is refused as input', () => {
    assert.throws(() => matchPackages(repo, [], 'x'), PatternError);
    assert.throws(() => match(''), PatternError);
    assert.throws(() => match('  '), PatternError);
    assert.throws(() => match('duck\n'), PatternError);
    assert.throws(() => match('duck-[0'), (e: Error) => e instanceof PatternError && /\[/.test(e.message));
    assert.throws(() => match(`duck${'?'.repeat(2000)}`), (e: Error) => e instanceof PatternError && /2004 characters long/.test(e.message));
  });
});

describe('version ranges, as rpm compares them', FIRST_PASS_ONLY, () => {
  const overlaps = (provide: string, require: string) => rangesOverlap(dep(provide), dep(require));

  test('a provide of one EVR meets the requires whose range holds it', () => {
    assert.ok(overlaps('lib = 1.2-3', 'lib >= 1.2'));
    assert.ok(overlaps('lib = 1.2-3', 'lib = 1.2'), 'a require without a release takes every release');
    assert.ok(overlaps('lib = 1.2-3', 'lib > 1.1'));
    assert.ok(overlaps('lib = 1.2-3', 'lib < 1.10'), '1.10 is newer than 1.2, as rpmvercmp says');
    assert.ok(!overlaps('lib = 1.2-3', 'lib > 1.2'));
    assert.ok(!overlaps('lib = 1.2-3', 'lib >= 1.2-4'));
    assert.ok(!overlaps('lib = 1.2-3', 'lib < 1.2'));
    assert.ok(!overlaps('lib = 1.2-3', 'lib >= 1:1.0'), 'an epoch outweighs any version');
    assert.ok(overlaps('lib = 1:0.1-1', 'lib >= 1.0'));
  });

  test('an unversioned side meets anything; two open ranges the same way overlap', () => {
    assert.ok(overlaps('lib', 'lib >= 9'));
    assert.ok(overlaps('lib = 1.0-1', 'lib'));
    assert.ok(overlaps('lib >= 2', 'lib >= 5'));
    assert.ok(!overlaps('lib <= 2', 'lib >= 5'));
  });
});

describe('rich dependencies', FIRST_PASS_ONLY, () => {
  test('are read with their nesting, versions and conditions', () => {
    assert.deepEqual(parseRich('((a >= 1.0 and b) or c)'), {
      op: 'or',
      args: [{ op: 'and', args: [{ dep: { name: 'a', flags: 'GE', epoch: undefined, ver: '1.0' } }, { dep: { name: 'b' } }] }, { dep: { name: 'c' } }],
    });
    assert.deepEqual(parseRich('(m if n else o)'), { op: 'if', then: { dep: { name: 'm' } }, cond: { dep: { name: 'n' } }, else: { dep: { name: 'o' } } });
  });

  test('what is not one is refused, not guessed at', () => {
    for (const bad of ['(a and b or c)', '(a and', '(a) b', '(and b)', 'a and b']) assert.throws(() => parseRich(bad), Error, bad);
  });
});

describe('copy --with-deps', FIRST_PASS_ONLY, () => {
  const resolve = (source: SourcePackage[], chosen: string[], present: SourcePackage[] = []) => {
    const r = resolveWithDeps(source, source.filter((p) => chosen.includes(p.record.name)), present);
    return { packages: names(r.packages), dependencies: names(r.dependencies), unresolved: r.unresolved };
  };

  test('follows requires from package to package, through provides and file provides', () => {
    const source = [
      pkg({ name: 'app', requires: ['libzoo.so.1', '/usr/bin/zootool'] }),
      pkg({ name: 'zoolib', provides: ['libzoo.so.1'], requires: ['zoodata'] }),
      pkg({ name: 'zootools', files: ['/usr/bin/zootool'] }),
      pkg({ name: 'zoodata', requires: ['zoobase'] }),
      pkg({ name: 'zoobase' }),
      pkg({ name: 'unrelated' }),
    ];
    const r = resolve(source, ['app']);
    assert.deepEqual(r.packages, ['app-1.0-1.noarch', 'zoobase-1.0-1.noarch', 'zoodata-1.0-1.noarch', 'zoolib-1.0-1.noarch', 'zootools-1.0-1.noarch']);
    assert.deepEqual(r.dependencies, ['zoobase-1.0-1.noarch', 'zoodata-1.0-1.noarch', 'zoolib-1.0-1.noarch', 'zootools-1.0-1.noarch']);
    assert.deepEqual(r.unresolved, []);
  });

  test('takes the newest build that meets a versioned requires', () => {
    const source = [pkg({ name: 'app', requires: ['lib < 2.0'] }), pkg({ name: 'lib', evr: '1.0-1' }), pkg({ name: 'lib', evr: '1.5-2' }), pkg({ name: 'lib', evr: '2.1-1' })];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['lib-1.5-2.noarch']);
    const newest = [pkg({ name: 'app', requires: ['lib'] }), pkg({ name: 'lib', evr: '1.10-1' }), pkg({ name: 'lib', evr: '1.9-1' })];
    assert.deepEqual(resolve(newest, ['app']).dependencies, ['lib-1.10-1.noarch']);
  });

  test('takes one build that meets every requires of the same name, as a solver does', () => {
    const source = [pkg({ name: 'app', requires: ['lib >= 1.1', 'lib < 2'] }), pkg({ name: 'lib', evr: '1.0-1' }), pkg({ name: 'lib', evr: '1.2-1' }), pkg({ name: 'lib', evr: '2.0-1' })];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['lib-1.2-1.noarch']);
  });

  test('prefers a provider named as the requirement, and of the requirer\'s arch', () => {
    const source = [pkg({ name: 'app', arch: 'x86_64', requires: ['mta'] }), pkg({ name: 'postfix', provides: ['mta'], arch: 'x86_64' }), pkg({ name: 'mta', arch: 'aarch64' }), pkg({ name: 'mta', arch: 'x86_64', evr: '0.1-1' })];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['mta-0.1-1.x86_64']);
  });

  test('brings nothing for what the destination already provides, unless its version does not do', () => {
    const source = [pkg({ name: 'app', requires: ['lib >= 1.5'] }), pkg({ name: 'lib', evr: '1.5-1' })];
    assert.deepEqual(resolve(source, ['app'], [pkg({ name: 'lib', evr: '1.6-1' })]).dependencies, []);
    assert.deepEqual(resolve(source, ['app'], [pkg({ name: 'lib', evr: '1.0-1' })]).dependencies, ['lib-1.5-1.noarch']);
  });

  test('reports what nothing provides, and skips what rpm itself provides', () => {
    const source = [pkg({ name: 'app', requires: ['libc.so.6', 'rpmlib(PayloadIsZstd) <= 5.4.18-1', 'lib >= 3'] }), pkg({ name: 'lib', evr: '2.0-1' })];
    const r = resolve(source, ['app']);
    assert.deepEqual(r.dependencies, []);
    assert.deepEqual(
      r.unresolved.map((u) => `${u.package} ${u.requires}`),
      ['app-1.0-1.noarch libc.so.6', 'app-1.0-1.noarch lib >= 3'],
    );
  });

  test('rich requires: and needs each, or the first that can be met (one already held first)', () => {
    const source = [
      pkg({ name: 'app', requires: ['((a and b) or c)', '(x or y)'] }),
      pkg({ name: 'a' }),
      pkg({ name: 'b' }),
      pkg({ name: 'c' }),
      pkg({ name: 'x' }),
      pkg({ name: 'y' }),
    ];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['a-1.0-1.noarch', 'b-1.0-1.noarch', 'x-1.0-1.noarch']);
    assert.deepEqual(resolve(source, ['app'], [pkg({ name: 'y' })]).dependencies, ['a-1.0-1.noarch', 'b-1.0-1.noarch']);
    const noA = source.filter((p) => p.record.name !== 'a');
    assert.deepEqual(resolve(noA, ['app']).dependencies, ['c-1.0-1.noarch', 'x-1.0-1.noarch']);
  });

  test('rich requires: with needs one package meeting both, without one meeting the first only', () => {
    const source = [
      pkg({ name: 'app', requires: ['(font with lang-fr)', '(editor without gui)'] }),
      pkg({ name: 'font-de', provides: ['font', 'lang-de'] }),
      pkg({ name: 'font-fr', provides: ['font', 'lang-fr'] }),
      pkg({ name: 'gedit', provides: ['editor', 'gui'] }),
      pkg({ name: 'vim', provides: ['editor'] }),
    ];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['font-fr-1.0-1.noarch', 'vim-1.0-1.noarch']);
  });

  test('rich requires: if and unless are judged by what the destination will hold, also once more came', () => {
    const source = [
      pkg({ name: 'app', requires: ['(plugin if host)', '(fallback unless host)', 'later'] }),
      pkg({ name: 'plugin' }),
      pkg({ name: 'fallback' }),
      pkg({ name: 'host' }),
      pkg({ name: 'later', requires: ['(extra if plugin)'] }),
      pkg({ name: 'extra' }),
    ];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['fallback-1.0-1.noarch', 'later-1.0-1.noarch']);
    // With host in the destination: the plugin, and extra, which later wants once the plugin comes.
    assert.deepEqual(resolve(source, ['app'], [pkg({ name: 'host' })]).dependencies, ['extra-1.0-1.noarch', 'later-1.0-1.noarch', 'plugin-1.0-1.noarch']);
  });

  test('rich requires: a condition met only by what comes after it still counts', () => {
    const source = [pkg({ name: 'app', requires: ['(extra if plugin)', 'plugin'] }), pkg({ name: 'plugin' }), pkg({ name: 'extra' })];
    assert.deepEqual(resolve(source, ['app']).dependencies, ['extra-1.0-1.noarch', 'plugin-1.0-1.noarch']);
  });

  test('a rich requires that cannot be read is reported, not guessed at', () => {
    const r = resolve([pkg({ name: 'app', requires: ['(a and b or c)'] }), pkg({ name: 'a' })], ['app']);
    assert.equal(r.unresolved.length, 1);
    assert.match(r.unresolved[0].why ?? '', /not a rich dependency txrepo can read/);
  });
});
