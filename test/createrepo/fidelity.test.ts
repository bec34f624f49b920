// needs: createrepo_c rpmbuild xz
// txrepo createrepo against createrepo_c on the same inputs and options: the metadata
// must agree package by package (helpers/mdcompare.ts) and, apart from file mtimes,
// byte for byte.

import assert from 'node:assert/strict';
import { copyFile, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyTree, mdcompare, metadataText, removeDir, repomdRecords, tempDir } from '../helpers/repo.ts';
import { mustRun, txrepo } from '../helpers/run.ts';
import { buildTestRpms, complexRpm } from '../helpers/fixtures.ts';
import { int32s, rewriteHeader, strings, valuesOf, writeLegacyRpm, type Entry } from '../helpers/legacy-rpm.ts';
import { sample, sampleRpms, SAMPLES } from '../helpers/samples.ts';
import { INLINE_BELOW } from '../../src/createrepo/read-pool.ts';


let work: string;
before(async () => {
  work = await tempDir('txrepo-fidelity-');
});
after(async () => {
  await removeDir(work);
});

let counter = 0;
/** Two identical copies of `source`; createrepo_c runs on one, txrepo on the other. */
async function twins(source: string): Promise<{ ours: string; theirs: string }> {
  const n = counter++;
  const ours = join(work, `${n}-ours`);
  const theirs = join(work, `${n}-theirs`);
  await copyTree(source, ours);
  await copyTree(source, theirs);
  for (const d of [ours, theirs]) await rm(join(d, 'repodata'), { recursive: true, force: true });
  return { ours, theirs };
}

async function assertSameMetadata(ours: string, theirs: string, types = ['primary', 'filelists', 'other']) {
  const cmp = await mdcompare(ours, theirs);
  assert.ok(cmp.same, `mdcompare found differences:\n${cmp.output}`);
  for (const type of types) {
    assert.equal(await metadataText(ours, type), await metadataText(theirs, type), `${type} differs from createrepo_c's`);
  }
}

async function both(source: string, ourArgs: string[], theirArgs: string[] = ourArgs) {
  const { ours, theirs } = await twins(source);
  await mustRun('createrepo_c', ['--no-database', ...theirArgs, theirs]);
  const r = await txrepo(['createrepo', '--quiet', ...ourArgs, ours]);
  assert.equal(r.code, 0, `txrepo createrepo failed:\n${r.stderr}`);
  return { ours, theirs };
}

describe('same metadata as createrepo_c', () => {
  test('on the sample packages, with their module metadata', async () => {
    const { ours, theirs } = await both(SAMPLES, []);
    await assertSameMetadata(ours, theirs);
    // Module metadata in the tree is picked up, as createrepo_c does.
    const types = async (d: string) => (await repomdRecords(d)).map((r) => r.type);
    assert.deepEqual(await types(ours), await types(theirs));
    assert.ok((await types(ours)).includes('modules'));
  });

  test('on packages in the layout of rpm before 4.14 (no SHA256 header or payload digest)', async () => {
    const dir = join(work, 'legacy');
    await mkdir(dir);
    const built = await buildTestRpms();
    for (const name of await readdir(built)) await writeLegacyRpm(join(built, name), join(dir, name));
    for (const name of (await readdir(SAMPLES)).filter((n) => n.endsWith('.rpm'))) await writeLegacyRpm(join(SAMPLES, name), join(dir, name));
    const { ours, theirs } = await both(dir, []);
    await assertSameMetadata(ours, theirs);
  });

  test('on packages with the weak dependencies of rpm before 4.12 (MISSINGOK requires, the old SUGGESTS and ENHANCES tags)', async () => {
    // rpm < 4.12 had no Recommends/Supplements tags: a recommends was a requires marked
    // MISSINGOK, or an entry of the old SUGGESTS tag marked STRONG; a supplements, an
    // old ENHANCES entry marked STRONG. Today's packages rewritten that way.
    const built = await buildTestRpms();
    const dir = join(work, 'legacy-weak');
    await mkdir(dir);
    const MISSINGOK = 1 << 19;
    const STRONG = 1 << 27;
    const weak = { recommends: [5046, 5047, 5048], suggests: [5049, 5050, 5051], supplements: [5052, 5053, 5054], enhances: [5055, 5056, 5057] };
    const toLegacy = (recommendsAsRequires: boolean) => (entries: Entry[]) => {
      const get = (tags: number[]) => tags.map((t) => (entries.find((e) => e.tag === t) ? valuesOf(entries.find((e) => e.tag === t)!) : []));
      const [rn, rv, rf] = get(weak.recommends);
      const [sn, sv, sf] = get(weak.suggests);
      const [pn, pv, pf] = get(weak.supplements);
      const [en, ev, ef] = get(weak.enhances);
      const [qn, qv, qf] = get([1049, 1050, 1048]);
      const drop = new Set([...Object.values(weak).flat(), ...(recommendsAsRequires ? [1048, 1049, 1050] : [])]);
      const out = entries.filter((e) => !drop.has(e.tag));
      const triple = (tags: number[], names: unknown[], versions: unknown[], flags: unknown[]) =>
        names.length ? [strings(tags[0]!, names as string[]), strings(tags[1]!, versions as string[]), int32s(tags[2]!, flags as number[])] : [];
      if (recommendsAsRequires) {
        out.push(...triple([1049, 1050, 1048], [...qn!, ...rn!], [...qv!, ...rv!], [...qf!, ...rf!.map((f) => Number(f) | MISSINGOK)]));
        out.push(...triple([1156, 1157, 1158], sn!, sv!, sf!));
      } else {
        out.push(...triple([1156, 1157, 1158], [...rn!, ...sn!], [...rv!, ...sv!], [...rf!.map((f) => Number(f) | STRONG), ...sf!]));
      }
      out.push(...triple([1159, 1160, 1161], [...pn!, ...en!], [...pv!, ...ev!], [...pf!.map((f) => Number(f) | STRONG), ...ef!]));
      return out;
    };
    for (const [name, asRequires] of [['txfix-weakdeps-1.2.3-4.noarch.rpm', false], [basename(await complexRpm()), true]] as const) {
      await writeFile(join(dir, name), rewriteHeader(await readFile(join(built, name)), toLegacy(asRequires)));
    }
    const { ours, theirs } = await both(dir, []);
    await assertSameMetadata(ours, theirs);
    // The legacy rules fired: the recommends and supplements are there, as such.
    const primary = await metadataText(ours, 'primary');
    for (const dep of ['txfix-recommended', 'txfix-supplemented', 'txfix-suggested', 'txfix-enhanced', '(txfix-bananas or txfix-magic)', '((txfix-hiding and txfix-attic) unless txfix-light)']) {
      assert.ok(primary.includes(`name="${dep}"`), `${dep} in primary.xml`);
    }
    assert.match(primary, /<rpm:recommends>\s*<rpm:entry name="\(txfix-bananas or txfix-magic\)"\/>/);
    assert.match(primary, /<rpm:supplements>[^]*?name="txfix-supplemented"[^]*?<\/rpm:supplements>/);
  });

  test('on packages built to cover weak/rich deps, epochs, ~ and ^, ghosts, scriptlets, text and changelogs', async () => {
    const dir = await buildTestRpms();
    const { ours, theirs } = await both(dir, []);
    await assertSameMetadata(ours, theirs);
    for (const limit of ['0', '3', '-1']) {
      const r = await both(dir, ['--changelog-limit', limit]);
      await assertSameMetadata(r.ours, r.theirs, ['other']);
    }
  });

  test('on a repo big enough for reader threads, with a bad package among them reported', async () => {
    // Reader threads start only from INLINE_BELOW packages: below, every test above
    // reads inline. Hard links of the built and sample packages under other names
    // make a repo of varied packages past that line.
    const built = await buildTestRpms();
    const sources = [...(await readdir(built)).map((n) => join(built, n)), ...(await sampleRpms()).map(sample)].filter((p) => p.endsWith('.rpm'));
    const dir = join(work, 'threaded');
    await mkdir(dir);
    for (let i = 0; i < INLINE_BELOW + 40; i++) await link(sources[i % sources.length], join(dir, `copy${String(i).padStart(4, '0')}-${basename(sources[i % sources.length])}`));
    const { ours, theirs } = await both(dir, []);
    await assertSameMetadata(ours, theirs);

    // A package that cannot be read, far into the list: a thread reads it, and the run
    // fails naming it, with the repodata left as it was.
    const before = await readFile(join(ours, 'repodata/repomd.xml'), 'utf8');
    await writeFile(join(ours, 'copy0280-zz-broken.rpm'), 'not a package\n');
    const r = await txrepo(['createrepo', '--quiet', ours]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /1 package could not be read[^]*copy0280-zz-broken\.rpm/);
    assert.equal(await readFile(join(ours, 'repodata/repomd.xml'), 'utf8'), before);
  });

  test('with other checksums', async () => {
    for (const sum of ['sha1', 'sha512', 'sha224', 'sha384']) {
      const { ours, theirs } = await both(SAMPLES, ['--checksum', sum]);
      await assertSameMetadata(ours, theirs);
      for (const r of await repomdRecords(ours)) assert.equal(r.checksumType, sum);
    }
  });

  test('with --baseurl and --location-prefix', async () => {
    const { ours, theirs } = await both(SAMPLES, ['--baseurl', 'http://example.com/base/', '--location-prefix', 'sub/dir']);
    await assertSameMetadata(ours, theirs);
    assert.match(await metadataText(ours, 'primary'), /<location xml:base="http:\/\/example.com\/base\/" href="sub\/dir\/bear-4.1-1.noarch.rpm"\/>/);
  });

  test('with xz and zstd compression', async () => {
    for (const type of ['xz', 'zstd']) {
      // Debian's createrepo_c 0.17 has no zstd: its gz output must still say the same.
      const { ours, theirs } = await both(SAMPLES, ['--general-compress-type', type], type === 'zstd' ? [] : ['--general-compress-type', type]);
      await assertSameMetadata(ours, theirs);
      const suffix = type === 'xz' ? '.xz' : '.zst';
      for (const r of await repomdRecords(ours)) assert.ok(r.href.endsWith(suffix), `${r.href} should end in ${suffix}`);
    }
  });

  test('with --excludes and --pkglist', async () => {
    const src = join(work, 'nested');
    await copyTree(SAMPLES, src);
    await mustRun('mkdir', ['-p', join(src, 'sub/inner'), join(src, 'docs')]);
    await copyFile(await complexRpm(), join(src, 'sub/inner/txfix-complex-2.3.4-5.el8.x86_64.rpm'));
    // A directory matching an exclude is pruned with everything in it.
    await copyFile(sample('bear-4.1-1.noarch.rpm'), join(src, 'docs/bear-copy-4.1-1.noarch.rpm'));
    const ex = await both(src, ['--excludes', 'd*', '--excludes', 'k?ngaroo*']);
    await assertSameMetadata(ex.ours, ex.theirs);
    const primary = await metadataText(ex.ours, 'primary');
    assert.doesNotMatch(primary, /<name>dog<\/name>|<name>kangaroo<\/name>|bear-copy/);
    assert.match(primary, /href="sub\/inner\/txfix-complex/);

    const list = join(work, 'pkglist');
    await writeFile(list, 'bear-4.1-1.noarch.rpm\nsub/inner/txfix-complex-2.3.4-5.el8.x86_64.rpm\n\n');
    const pl = await both(src, ['--pkglist', list]);
    await assertSameMetadata(pl.ours, pl.theirs);
    assert.match(await metadataText(pl.ours, 'primary'), /packages="2"/);
  });

  test('repomd tags, revision and groupfile', async () => {
    const src = SAMPLES;
    const args = ['--revision', 'rev-42', '--distro', 'cpe:/o:fedoraproject:fedora:40,Fedora 40', '--distro', 'NoCpe', '--content', 'binary-x86_64', '--repo', 'one', '--repo', 'two', '-g', join(src, 'comps.xml')];
    const { ours, theirs } = await both(src, args);
    await assertSameMetadata(ours, theirs, ['primary', 'filelists', 'other', 'group', 'group_gz']);
    const strip = (xml: string) => xml.replace(/<(checksum|open-checksum|timestamp|size|open-size|location)[^>]*?(\/>|>[^<]*<\/\1>)/g, '');
    assert.equal(strip(await readFile(join(ours, 'repodata/repomd.xml'), 'utf8')), strip(await readFile(join(theirs, 'repodata/repomd.xml'), 'utf8')));
  });

  test('after --update with added, removed and touched packages', async () => {
    const src = join(work, 'update-src');
    await copyTree(SAMPLES, src);
    const { ours, theirs } = await both(src, []);
    for (const d of [ours, theirs]) {
      await rm(join(d, 'bear-4.1-1.noarch.rpm'));
      await copyFile(await complexRpm(), join(d, 'txfix-complex-2.3.4-5.el8.x86_64.rpm'));
    }
    await mustRun('createrepo_c', ['--no-database', '--update', theirs]);
    const r = await txrepo(['createrepo', '--update', '--json', ours]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.packages, 35);
    assert.equal(summary.read, 1, 'only the new package is read');
    assert.equal(summary.reused, 34);
    await assertSameMetadata(ours, theirs);
  });
});
