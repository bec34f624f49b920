// The mirror filter's rule (src/sync/filter.ts) on package lists: globs over the forms
// of a package spec, include and exclude, arches (noarch always, sources only when
// asked), newest N per name.arch; the checks of its values; the advisories it empties.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { advisoriesLeftOut, applyMirrorFilter, requiresLeftOut, type WithDependencies, checkMirrorFilter, checkMirrorFilterChange, MirrorFilterError, type Nevra } from '../../src/sync/index.ts';
import type { MirrorFilter } from '../../src/store/index.ts';

/** A package from its NAME-[EPOCH:]VERSION-RELEASE.ARCH, providing its name, requiring nothing. */
function pkg(nevra: string): WithDependencies {
  const m = /^(.+)-(?:(\d+):)?([^-]+)-([^-]+)\.([^.]+)$/.exec(nevra);
  if (!m) throw new Error(`not a NEVRA: ${nevra}`);
  return { name: m[1]!, epoch: m[2] ?? '0', version: m[3]!, release: m[4]!, arch: m[5]!, provides: [], requires: [], files: [] };
}

const show = (p: Nevra) => `${p.name}-${p.epoch === '0' ? '' : `${p.epoch}:`}${p.version}-${p.release}.${p.arch}`;

const UPSTREAM = [
  'kernel-6.1-1.x86_64',
  'kernel-6.2-1.x86_64',
  'kernel-6.10-1.x86_64',
  'kernel-6.10-1.i686',
  'kernel-core-6.10-1.x86_64',
  'kernel-6.10-1.src',
  'bash-5.1-2.x86_64',
  'bash-5.2-1.x86_64',
  'bash-5.2-1.aarch64',
  'bash-doc-5.2-1.noarch',
  'tzdata-2024a-1.noarch',
  'tzdata-1:2023c-1.noarch',
  'tzdata-2025b-1.noarch',
  'firmware-1.0-1.nosrc',
].map(pkg);

function kept(filter: MirrorFilter | undefined): string[] {
  const { kept: k, leftOut } = applyMirrorFilter(UPSTREAM, filter);
  assert.equal(k.length + leftOut.length, UPSTREAM.length, 'every package is kept or left out');
  return k.map(show);
}

describe('mirror filter rule', () => {
  test('no filter, or an empty one, takes everything', () => {
    assert.deepEqual(kept(undefined), UPSTREAM.map(show));
    assert.deepEqual(kept({}), UPSTREAM.map(show));
  });

  test('a glob matches the whole of a form of the package spec: NAME, NAME.ARCH, NAME-VERSION, NAME-VERSION-RELEASE[.ARCH], NAME-EPOCH:VERSION-RELEASE[.ARCH]', () => {
    assert.deepEqual(kept({ include: ['kernel'] }), ['kernel-6.1-1.x86_64', 'kernel-6.2-1.x86_64', 'kernel-6.10-1.x86_64', 'kernel-6.10-1.i686', 'kernel-6.10-1.src'], 'not kernel-core');
    assert.deepEqual(kept({ include: ['kernel*'] }), ['kernel-6.1-1.x86_64', 'kernel-6.2-1.x86_64', 'kernel-6.10-1.x86_64', 'kernel-6.10-1.i686', 'kernel-core-6.10-1.x86_64', 'kernel-6.10-1.src']);
    assert.deepEqual(kept({ include: ['bash.aarch64'] }), ['bash-5.2-1.aarch64']);
    assert.deepEqual(kept({ include: ['bash-5.1'] }), ['bash-5.1-2.x86_64']);
    assert.deepEqual(kept({ include: ['bash-5.2-1'] }), ['bash-5.2-1.x86_64', 'bash-5.2-1.aarch64']);
    assert.deepEqual(kept({ include: ['bash-5.2-1.x86_64'] }), ['bash-5.2-1.x86_64']);
    assert.deepEqual(kept({ include: ['tzdata-1:2023c-1'] }), ['tzdata-1:2023c-1.noarch']);
    assert.deepEqual(kept({ include: ['tzdata-0:2024a-1.noarch'] }), ['tzdata-2024a-1.noarch']);
    assert.deepEqual(kept({ include: ['*.i686'] }), ['kernel-6.10-1.i686']);
    assert.deepEqual(kept({ include: ['ba?h'] }), ['bash-5.1-2.x86_64', 'bash-5.2-1.x86_64', 'bash-5.2-1.aarch64']);
    assert.deepEqual(kept({ include: ['[bt]*-doc', 'tzdata-202[!4]*'] }), ['bash-doc-5.2-1.noarch', 'tzdata-1:2023c-1.noarch', 'tzdata-2025b-1.noarch']);
    assert.deepEqual(kept({ include: ['bash.x86_6'] }), [], 'a glob matches a whole form, not a prefix');
  });

  test('exclude takes packages out, and wins over include', () => {
    assert.deepEqual(kept({ exclude: ['kernel*', 'tzdata', '*.nosrc'] }), ['bash-5.1-2.x86_64', 'bash-5.2-1.x86_64', 'bash-5.2-1.aarch64', 'bash-doc-5.2-1.noarch']);
    assert.deepEqual(kept({ include: ['bash*'], exclude: ['*-doc', 'bash.aarch64'] }), ['bash-5.1-2.x86_64', 'bash-5.2-1.x86_64']);
    assert.deepEqual(kept({ include: ['bash'], exclude: ['bash'] }), []);
  });

  test('arches: those listed and noarch; src and nosrc only with src listed', () => {
    assert.deepEqual(kept({ arches: ['x86_64'] }), [
      'kernel-6.1-1.x86_64', 'kernel-6.2-1.x86_64', 'kernel-6.10-1.x86_64', 'kernel-core-6.10-1.x86_64', 'bash-5.1-2.x86_64', 'bash-5.2-1.x86_64',
      'bash-doc-5.2-1.noarch', 'tzdata-2024a-1.noarch', 'tzdata-1:2023c-1.noarch', 'tzdata-2025b-1.noarch',
    ]);
    assert.deepEqual(kept({ arches: ['src'], include: ['kernel', 'firmware'] }), ['kernel-6.10-1.src', 'firmware-1.0-1.nosrc']);
    assert.deepEqual(kept({ arches: ['aarch64', 'i686'], exclude: ['*.noarch'] }), ['kernel-6.10-1.i686', 'bash-5.2-1.aarch64'], 'noarch goes with an exclude');
    assert.deepEqual(kept({ arches: ['noarch'] }), ['bash-doc-5.2-1.noarch', 'tzdata-2024a-1.noarch', 'tzdata-1:2023c-1.noarch', 'tzdata-2025b-1.noarch']);
    assert.deepEqual(kept({ arches: ['ppc64le'], include: ['kernel'] }), []);
  });

  test('newest N per name.arch, by epoch, version and release as rpm compares them, after the other filters', () => {
    assert.deepEqual(kept({ newest: 1, include: ['kernel', 'tzdata'] }), ['kernel-6.10-1.x86_64', 'kernel-6.10-1.i686', 'kernel-6.10-1.src', 'tzdata-1:2023c-1.noarch'], '6.10 > 6.2; an epoch beats any version');
    assert.deepEqual(kept({ newest: 2, include: ['kernel.x86_64', 'tzdata'] }), ['kernel-6.2-1.x86_64', 'kernel-6.10-1.x86_64', 'tzdata-1:2023c-1.noarch', 'tzdata-2025b-1.noarch']);
    assert.deepEqual(kept({ newest: 2, include: ['kernel'], exclude: ['kernel-6.10*'] }), ['kernel-6.1-1.x86_64', 'kernel-6.2-1.x86_64'], 'newest of what the globs took');
    assert.deepEqual(kept({ newest: 1, include: ['bash'] }), ['bash-5.2-1.x86_64', 'bash-5.2-1.aarch64'], 'per name.arch');
    assert.deepEqual(kept({ newest: 3, include: ['kernel.x86_64'] }), ['kernel-6.1-1.x86_64', 'kernel-6.2-1.x86_64', 'kernel-6.10-1.x86_64']);
    const tilde = ['pkg-1.0-1.x86_64', 'pkg-1.0~rc1-1.x86_64', 'pkg-1.0^git1-1.x86_64'].map(pkg);
    assert.deepEqual(applyMirrorFilter(tilde, { newest: 2 }).kept.map(show), ['pkg-1.0-1.x86_64', 'pkg-1.0^git1-1.x86_64'], '~ sorts before, ^ after');
  });
});

describe('mirror filter with its dependencies (withDeps, as aptly -filter-with-deps)', () => {
  const p = (nevra: string, requires: string[] = [], provides: string[] = []): WithDependencies => {
    const base = pkg(nevra);
    const dep = (text: string) => {
      const [name, op, evr] = text.split(' ');
      const flags = ({ '<': 'LT', '>=': 'GE', '=': 'EQ' } as const)[op as '<' | '>=' | '='];
      return flags ? { name, flags, ver: evr.split('-')[0], rel: evr.split('-')[1] } : { name };
    };
    // As rpmbuild writes it: a package provides its own name at its EVR.
    return { ...base, requires: requires.map(dep), provides: [{ name: base.name, flags: 'EQ', ver: base.version, rel: base.release }, ...provides.map(dep)] };
  };
  const upstream = [
    p('app-1.0-1.x86_64', ['libfoo', 'tool', 'rpmlib(CompressedFileNames)']),
    p('libfoo-1.0-1.x86_64', ['libbase']),
    p('libfoo-2.0-1.x86_64', ['libbase']),
    p('libfoo-2.0-1.i686'),
    p('libbase-1.0-1.noarch'),
    p('tool-1.0-1.x86_64'),
    p('old-1.0-1.x86_64', ['libfoo < 2.0']),
    p('other-1.0-1.x86_64'),
  ];
  const keptBy = (filter: MirrorFilter) => applyMirrorFilter(upstream, filter).kept.map(show);

  test('brings what the packages taken need, and what that needs in turn, from the arches taken', () => {
    assert.deepEqual(keptBy({ include: ['app'], arches: ['x86_64'] }), ['app-1.0-1.x86_64']);
    assert.deepEqual(keptBy({ include: ['app'], arches: ['x86_64'], withDeps: true }), ['app-1.0-1.x86_64', 'libfoo-2.0-1.x86_64', 'libbase-1.0-1.noarch', 'tool-1.0-1.x86_64']);
  });

  test('never what an exclude names (exclude wins, as in dnf): that is reported as a requirement left out', () => {
    const filter = { include: ['app'], exclude: ['tool'], arches: ['x86_64'], withDeps: true };
    const { kept, leftOut } = applyMirrorFilter(upstream, filter);
    assert.deepEqual(kept.map(show), ['app-1.0-1.x86_64', 'libfoo-2.0-1.x86_64', 'libbase-1.0-1.noarch']);
    assert.deepEqual(requiresLeftOut(kept, leftOut), [{ package: 'app-1.0-1.x86_64', requires: ['tool'] }]);
  });

  test('only among the newest N builds: a need that only an older build meets is not met', () => {
    assert.deepEqual(keptBy({ include: ['old'], withDeps: true }), ['libfoo-1.0-1.x86_64', 'libbase-1.0-1.noarch', 'old-1.0-1.x86_64']);
    assert.deepEqual(keptBy({ include: ['old'], newest: 1, withDeps: true }), ['old-1.0-1.x86_64']);
  });

  test('withDeps is true or absent', () => {
    assert.deepEqual(checkMirrorFilter({ withDeps: true }), { withDeps: true });
    for (const bad of [false, 'yes', 1]) assert.throws(() => checkMirrorFilter({ withDeps: bad }), (e: unknown) => e instanceof MirrorFilterError && /--with-deps .*: give true/.test(e.message));
    assert.deepEqual(checkMirrorFilterChange({ withDeps: null }), { withDeps: null });
  });
});

describe('mirror filter values', () => {
  const refused = (value: unknown, message: RegExp) => assert.throws(() => checkMirrorFilter(value), (e: Error) => e instanceof MirrorFilterError && message.test(e.message), `${JSON.stringify(value)}`);

  test('good values pass, duplicates dropped', () => {
    assert.deepEqual(checkMirrorFilter({ include: ['a*', 'a*', 'b'], exclude: ['[!x]?'], arches: ['x86_64', 'src'], newest: 3 }), { include: ['a*', 'b'], exclude: ['[!x]?'], arches: ['x86_64', 'src'], newest: 3 });
    assert.equal(checkMirrorFilter(undefined), undefined);
    assert.equal(checkMirrorFilter(null), undefined);
    assert.equal(checkMirrorFilter({}), undefined);
  });

  test('bad globs are refused, naming the glob and what is wrong', () => {
    refused({ include: ['a b'] }, /--include "a b": .*no spaces/);
    refused({ include: ['a\tb'] }, /no spaces or control characters/);
    refused({ exclude: ['a\u0000'] }, /--exclude .*control characters/);
    refused({ include: ['kernel,bash'] }, /"kernel,bash": .*one glob per --include/);
    refused({ include: ['usr/bin/*'] }, /not paths/);
    refused({ include: ['[abc'] }, /--include "\[abc": the "\[" at 1 opens a set .* no "\]" closes/);
    refused({ include: ['x[]'] }, /--include "x\[\]": the "\[" at 2 opens a set of characters that no "\]" closes/);
    refused({ include: ['[z-a]'] }, /--include "\[z-a\]": the range "z-a" in the set at 1 runs backwards/);
    refused({ include: [''] }, /an empty glob/);
    refused({ include: ['a'.repeat(257)] }, /at most 256 characters/);
    refused({ include: [] }, /--include: the list is empty/);
    refused({ include: 'kernel*' }, /--include: give a list/);
    refused({ include: [7] }, /a glob is a string/);
    refused({ include: Array.from({ length: 1001 }, (_, i) => `p${i}`) }, /1001 values; at most 1000/);
  });

  test('bad arches and counts are refused', () => {
    refused({ arches: ['x86 64'] }, /--arch "x86 64": an architecture is one word/);
    refused({ arches: ['X86_64'] }, /one word of lower-case/);
    refused({ arches: ['x86-64'] }, /one word/);
    refused({ arches: [''] }, /one word/);
    refused({ newest: 0 }, /--newest 0: give a whole number .* from 1/);
    refused({ newest: -2 }, /--newest -2/);
    refused({ newest: 1.5 }, /--newest 1.5/);
    refused({ newest: '3' }, /--newest "3"/);
    refused({ newest: 1_000_001 }, /to 1000000/);
    refused({ newst: 3 }, /filter field "newst": not a filter setting/);
    refused('include kernel', /not a filter/);
    refused([], /not a filter/);
  });

  test('a change checks what it sets and clears by null', () => {
    assert.deepEqual(checkMirrorFilterChange({ include: ['a'], newest: null }), { include: ['a'], newest: null });
    assert.equal(checkMirrorFilterChange(null), null);
    assert.throws(() => checkMirrorFilterChange({ newest: 0 }), /--newest 0/);
    assert.throws(() => checkMirrorFilterChange({ bogus: null }), /"bogus": not a filter setting/);
  });
});

test('advisoriesLeftOut names the advisories whose upstream packages the filter all left out', () => {
  const upstream = ['a-1-1.x86_64', 'a-2-1.x86_64', 'b-1-1.x86_64', 'c-1-1.noarch'].map(pkg);
  const kept = ['a-2-1.x86_64', 'c-1-1.noarch'].map(pkg);
  const advisories = [
    { id: 'ALL-GONE', packages: ['a-1-1.x86_64', 'b-1-1.x86_64'].map(pkg) },
    { id: 'ONE-KEPT', packages: ['a-2-1.x86_64', 'b-1-1.x86_64'].map(pkg) },
    { id: 'NOT-HERE', packages: ['a-2-1.aarch64'].map(pkg) },
    { id: 'GONE-AND-ELSEWHERE', packages: ['b-1-1.x86_64', 'b-1-1.aarch64'].map(pkg) },
    { id: 'EMPTY', packages: [] },
  ];
  assert.deepEqual(advisoriesLeftOut(advisories, upstream, kept), ['ALL-GONE', 'GONE-AND-ELSEWHERE']);
});

test('requiresLeftOut names the kept packages that need what only left-out packages provide, by name or file', () => {
  const p = (nevra: string, provides: string[], requires: string[], files: string[] = []): WithDependencies => ({
    ...pkg(nevra),
    provides: provides.map((name) => ({ name })),
    requires: requires.map((name) => ({ name })),
    files: files.map((path) => ({ path, type: 'file' as const })),
  });
  const kept = [
    p('app-1-1.x86_64', ['app'], ['libfoo', 'rpmlib(PayloadIsZstd)', '/usr/bin/tool', 'glibc']),
    p('ok-1-1.noarch', ['ok'], ['libbar']),
    p('libbar-2-1.x86_64', ['libbar'], []),
  ];
  const leftOut = [p('libfoo-1-1.x86_64', ['libfoo'], []), p('tool-1-1.x86_64', ['tool'], [], ['/usr/bin/tool']), p('libbar-1-1.x86_64', ['libbar'], [])];
  // glibc: no upstream package has it (the base system's); libbar: a kept build provides it.
  assert.deepEqual(requiresLeftOut(kept, leftOut), [{ package: 'app-1-1.x86_64', requires: ['libfoo', '/usr/bin/tool'] }]);
  assert.deepEqual(requiresLeftOut(kept, []), []);
});
