// needs: rpmbuild
// Hostile and broken RPM files: each must give an RpmFormatError that names the file,
// without a crash, a hang (the suite's timeout fails it) or a large allocation.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PackageFileError, readPackage, RpmFormatError } from '../../src/rpm/index.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { int32s, patchHeader, rewriteHeader, strings, type Entry, type HeaderBytes } from '../helpers/legacy-rpm.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { finishesWithin, run, srcUrl } from '../helpers/run.ts';

let dir: string;
let good: Buffer;
// Offsets of the structures of the good package (txfix-complex).
let sigIl: number;
let sigDl: number;
let mainStart: number;
let mainIl: number;
let mainDl: number;

before(async () => {
  dir = await tempDir('txrepo-hostile-');
  good = await readFile(await complexRpm());
  sigIl = good.readUInt32BE(96 + 8);
  sigDl = good.readUInt32BE(96 + 12);
  mainStart = 96 + 16 + 16 * sigIl + sigDl + ((8 - (sigDl % 8)) % 8);
  mainIl = good.readUInt32BE(mainStart + 8);
  mainDl = good.readUInt32BE(mainStart + 12);
});
after(() => removeDir(dir));

async function expectRejected(name: string, bytes: Buffer, pattern: RegExp) {
  const path = join(dir, `${name}.rpm`);
  await writeFile(path, bytes);
  const heapBefore = process.memoryUsage().arrayBuffers;
  await assert.rejects(readPackage(path, { locationHref: `${name}.rpm` }), (e: unknown) => {
    assert.ok(e instanceof RpmFormatError, `${name}: expected RpmFormatError, got ${(e as Error)?.stack}`);
    assert.ok(e.message.startsWith(path), `${name}: the message must name the file: ${e.message}`);
    assert.match(e.message, pattern, name);
    return true;
  });
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 64 * 1024 * 1024, `${name} allocated too much`);
}

function mutate(fn: (b: Buffer) => void): Buffer {
  const b = Buffer.from(good);
  fn(b);
  return b;
}

describe('broken and hostile RPM files are rejected with a clear error', { timeout: 120_000 }, () => {
  test('the intact file reads', async () => {
    const r = await readPackage(await complexRpm(), { locationHref: 'x.rpm' });
    assert.equal(r.name, 'txfix-complex');
    assert.equal(r.headerStart, mainStart);
    assert.equal(r.headerEnd, mainStart + 16 + 16 * mainIl + mainDl);
  });

  test('empty, tiny and non-RPM files', async () => {
    await expectRejected('empty', Buffer.alloc(0), /empty/);
    await expectRejected('tiny', Buffer.from('hi'), /too short/);
    await expectRejected('text', Buffer.from('<html>this is not a package</html>\n'.repeat(20)), /lead magic/);
    await expectRejected('zeros', Buffer.alloc(4096), /lead magic/);
    await expectRejected('gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(500)]), /lead magic/);
  });

  test('truncated at every structure boundary', async () => {
    const mainIndex = mainStart + 16;
    const mainData = mainIndex + 16 * mainIl;
    const headerEnd = mainData + mainDl;
    const cuts: [string, number][] = [
      ['inside the lead', 50],
      ['after the lead', 96],
      ['inside the signature intro', 104],
      ['after the signature intro', 112],
      ['inside the signature index', 112 + 8],
      ['inside the signature data', 112 + 16 * sigIl + 4],
      ['in the signature padding', 112 + 16 * sigIl + sigDl],
      ['at the main header', mainStart],
      ['inside the main intro', mainStart + 9],
      ['inside the main index', mainIndex + 16 * Math.floor(mainIl / 2) + 3],
      ['after the main index', mainData],
      ['inside the main data', mainData + Math.floor(mainDl / 2)],
      ['one byte before the payload', headerEnd - 1],
      ['at the payload', headerEnd],
      ['inside the payload', headerEnd + 100],
      ['one byte short', good.length - 1],
    ];
    for (const [what, at] of cuts) {
      assert.ok(at < good.length);
      await expectRejected(`cut-${at}`, good.subarray(0, at), /truncated|too short/);
      void what;
    }
  });

  test('trailing garbage after the payload', async () => {
    await expectRejected('trailing', Buffer.concat([good, Buffer.from('garbage')]), /signature says/);
  });

  test('wrong magic numbers', async () => {
    await expectRejected('lead-magic', mutate((b) => b.writeUInt8(0, 0)), /lead magic/);
    await expectRejected('sig-magic', mutate((b) => b.writeUInt8(0, 96)), /signature header magic/);
    await expectRejected('main-magic', mutate((b) => b.writeUInt8(0, mainStart + 1)), /main header magic/);
  });

  test('absurd counts and lengths', async () => {
    await expectRejected('sig-il-huge', mutate((b) => b.writeUInt32BE(0xffffffff, 96 + 8)), /index entries/);
    await expectRejected('sig-il-zero', mutate((b) => b.writeUInt32BE(0, 96 + 8)), /index entries/);
    await expectRejected('sig-dl-huge', mutate((b) => b.writeUInt32BE(0x7fffffff, 96 + 12)), /data store is|truncated/);
    await expectRejected('main-il-huge', mutate((b) => b.writeUInt32BE(0x10000, mainStart + 8)), /index entries/);
    await expectRejected('main-dl-huge', mutate((b) => b.writeUInt32BE(0x0fffffff, mainStart + 12)), /truncated/);
    await expectRejected('main-dl-over-limit', mutate((b) => b.writeUInt32BE(0x7fffffff, mainStart + 12)), /data store is/);
  });

  test('index entries pointing outside the data store', async () => {
    // Entry 1 of the main index (entry 0 is the region tag).
    const e = mainStart + 16 + 16;
    await expectRejected('offset-out', mutate((b) => b.writeInt32BE(mainDl + 10, e + 8)), /outside the/);
    await expectRejected('offset-negative', mutate((b) => b.writeInt32BE(-5, e + 8)), /outside the/);
    await expectRejected('type-unknown', mutate((b) => b.writeUInt32BE(99, e + 4)), /unknown type/);
    await expectRejected('count-zero', mutate((b) => b.writeUInt32BE(0, e + 12)), /zero count/);
    await expectRejected('count-huge', mutate((b) => b.writeUInt32BE(0x7fffffff, e + 12)), /claims|past the data store/);
  });

  test('every main index entry with a huge count or offset', async () => {
    for (let i = 1; i < mainIl; i++) {
      const e = mainStart + 16 + 16 * i;
      await expectRejected(`entry-${i}-count`, mutate((b) => b.writeUInt32BE(0xfffffff0, e + 12)), /claims|past the data store/);
      await expectRejected(`entry-${i}-offset`, mutate((b) => b.writeInt32BE(0x7ffffff0, e + 8)), /outside the/);
    }
  });

  test('strings without a terminator', async () => {
    // Overwrite the whole main data store with non-NUL bytes: every string runs off its end.
    const data = mainStart + 16 + 16 * mainIl;
    await expectRejected('no-nul', mutate((b) => b.fill(0x41, data, data + mainDl)), /runs past|expected|type/);
  });

  test('a directory or an unreadable path named .rpm', async () => {
    await assert.rejects(readPackage(dir, { locationHref: 'x.rpm' }), (e: unknown) => e instanceof RpmFormatError && /not a regular file/.test(e.message));
    await assert.rejects(readPackage(join(dir, 'missing.rpm'), { locationHref: 'x.rpm' }), (e: unknown) => e instanceof PackageFileError && e.code === 'ENOENT' && e.message === `${join(dir, 'missing.rpm')}: cannot read the file: no such file`);
  });
});

describe('hostile headers cost time and memory in proportion to their size', () => {
  test('a changelog author of a million spaces (trimmed at its end as createrepo_c does) takes no quadratic time', async () => {
    // A regular expression that trimmed the trailing spaces tried every run of them:
    // 3 s for 100,000 spaces, minutes for this package.
    const author = `Mallory${' '.repeat(1_000_000)}<m@example.com> `;
    const path = join(dir, 'spaced-author.rpm');
    await writeFile(path, rewriteHeader(good, (entries) => entries.map((e) => (e.tag === 1081 ? strings(1081, [author, '   ', ...Array(e.count - 2).fill('x')]) : e))));
    finishesWithin(20_000, `import { readPackage } from ${srcUrl('rpm/index.ts')};
      const r = await readPackage(${JSON.stringify(path)}, { locationHref: 'x.rpm' });
      assert.equal(r.changelogs[0].author, 'Mallory' + ' '.repeat(1_000_000) + '<m@example.com>');
      assert.equal(r.changelogs[1].author, ' ', 'the first character is never taken');`);
  });

  test('file paths that a shared directory name would expand into gigabytes are refused, at once', async () => {
    // 65,000 files in one directory named with a million characters: 2 MB of package,
    // 65 GB of paths (its digests are good: rpm -K passes it). Read on, it held the
    // reader for minutes and gigabytes.
    const n = 65_000;
    const int16s = (tag: number, values: number[]): Entry => {
      const data = Buffer.alloc(2 * values.length);
      values.forEach((v, i) => data.writeUInt16BE(v, 2 * i));
      return { tag, type: 3, count: values.length, data };
    };
    const path = join(dir, 'path-bomb.rpm');
    const files = [1116, 1117, 1118, 1030, 1037]; // DIRINDEXES, BASENAMES, DIRNAMES, FILEMODES, FILEFLAGS
    await writeFile(path, rewriteHeader(good, (entries) => [
      ...entries.filter((e) => !files.includes(e.tag)),
      strings(1118, [`/usr/bin/${'a'.repeat(1_000_000)}/`]),
      strings(1117, Array.from({ length: n }, (_, i) => `f${i}`)),
      int32s(1116, Array(n).fill(0)),
      int16s(1030, Array(n).fill(0o100644)),
      int32s(1037, Array(n).fill(0)),
    ]));
    finishesWithin(20_000, `import { readPackage, RpmFormatError } from ${srcUrl('rpm/index.ts')};
      await assert.rejects(readPackage(${JSON.stringify(path)}, { locationHref: 'x.rpm' }), (e) =>
        e instanceof RpmFormatError && /path-bomb\\.rpm: .*its 65000 file paths would take 65001\\d+ characters, more than the 67108864/.test(e.message));`);
  });

  test('a tag of more values than rpm reads (its hdrchkArray, 1,048,575) is refused, as rpm refuses it', async () => {
    // Distinct requires, so that none is dropped as a repeat: 3,000,000 of them in a 30 MB
    // package cost 5 s and 1.2 GB, for a package neither rpm nor dnf can read.
    const withRequires = (n: number) =>
      rewriteHeader(good, (entries) => [
        ...entries.filter((e) => ![1048, 1049, 1050].includes(e.tag)), // REQUIREFLAGS, REQUIRENAME, REQUIREVERSION
        { tag: 1049, type: 8, count: n, data: Buffer.from(Array.from({ length: n }, (_, i) => `${i.toString(36)}\0`).join('')) },
        int32s(1048, new Array<number>(n).fill(0)),
        { tag: 1050, type: 8, count: n, data: Buffer.alloc(n) },
      ]);
    const over = join(dir, 'too-many-requires.rpm');
    await writeFile(over, withRequires(0x100000));
    assert.notEqual((await run('rpm', ['-qp', over])).code, 0, 'rpm reads it: the limit is not rpm\'s');
    await expectRejected('too-many-requires', await readFile(over), /main header tag 1048 holds 1048576 values; rpm reads at most 1048575/);
    const most = join(dir, 'most-requires.rpm');
    await writeFile(most, withRequires(0xfffff));
    assert.equal((await run('rpm', ['-qp', most])).code, 0);
    assert.equal((await readPackage(most, { locationHref: 'x.rpm' })).requires.length, 0xfffff);
  });
});


describe("rpm's own header checks (its hdrblobVerifyInfo and hdrblobVerifyRegion): what rpm refuses, we refuse", () => {
  // Each package is re-signed, so its digests match: rpm -qp refuses it for its header
  // alone ("tag[N]: BAD", "region ...: BAD"), and a package dnf cannot read is not listed.
  const BIN = 7;
  const keep = (entries: Entry[]) => entries;

  async function bothRefuse(name: string, bytes: Buffer, ours: RegExp) {
    const path = join(dir, `${name}.rpm`);
    await writeFile(path, bytes);
    const rpm = await run('rpm', ['-qp', path]);
    assert.notEqual(rpm.code, 0, `${name}: rpm reads it, so the rule is not rpm's`);
    assert.match(rpm.stderr, /BAD|tag number mismatch|invalid signature tag/, `${name}: rpm refuses it for another reason: ${rpm.stderr}`);
    await expectRejected(name, bytes, ours);
  }

  async function bothRead(name: string, bytes: Buffer) {
    const path = join(dir, `${name}.rpm`);
    await writeFile(path, bytes);
    const rpm = await run('rpm', ['-qp', path]);
    assert.equal(rpm.code, 0, `${name}: rpm refuses it: ${rpm.stderr}`);
    return readPackage(path, { locationHref: `${name}.rpm` });
  }

  test('the re-signed package, unpatched, is read by both', async () => {
    assert.equal((await bothRead('resigned', patchHeader(good, keep, () => {}))).name, 'txfix-complex');
  });

  test("an entry's data may not overlap the data of the entry before it", async () => {
    // REQUIREVERSION's strings are REQUIRENAME's: both well-formed, one on the other.
    const bytes = patchHeader(good, keep, ({ header, entryOf }) => header.writeInt32BE(header.readInt32BE(entryOf(1049) + 8), entryOf(1050) + 8));
    await bothRefuse('overlap', bytes, /main header tag 1050: its data at offset (\d+) overlaps the data of tag 1049 before it \(at offset \1\)/);
  });

  test("a string entry's strings must end where the next entry's data begins, whether we read them or not", async () => {
    // The next entry starts 2 bytes before the end of this one's last string: past the
    // least its strings could take, so found only by scanning them, as rpm does.
    const intoLastString = (tag: number, next: number) =>
      patchHeader(good, keep, ({ header, entryOf, dataAt }) => {
        const from = header.readInt32BE(entryOf(tag) + 8);
        let end = dataAt(from);
        for (let i = header.readUInt32BE(entryOf(tag) + 12); i > 0; i--) end = header.indexOf(0, end) + 1;
        header.writeInt32BE(end - dataAt(0) - 2, entryOf(next) + 8);
      });
    // REQUIRENAME is read for the record; FILEDIGESTS is not read at all.
    await bothRefuse('requires-overrun', intoLastString(1049, 1050), /main header tag 1049: string \d+ of \d+ runs past offset \d+, where the data of tag 1050 begins/);
    await bothRefuse('digests-overrun', intoLastString(1035, 1036), /main header tag 1035: string \d+ of \d+ runs past offset \d+, where the data of tag 1036 begins/);
    // A summary in two locales, of which only the first is read.
    const i18n = (entries: Entry[]) => entries.map((e) => (e.tag === 1004 ? { tag: 1004, type: 9, count: 2, data: Buffer.from('Summary\0Zusammenfassung\0') } : e));
    const summaryOverrun = patchHeader(good, i18n, ({ header, entryOf }) => header.writeInt32BE(header.readInt32BE(entryOf(1005) + 8) - 3, entryOf(1005) + 8));
    await bothRefuse('summary-overrun', summaryOverrun, /main header tag 1004: string 1 of 2 runs past offset \d+, where the data of tag 1005 begins/);
    assert.equal((await bothRead('summary-locales', patchHeader(good, i18n, () => {}))).summary, 'Summary');
  });

  test("the entries' data fill the data store as rpm lays them, end to end, each aligned; a tag is held once", async () => {
    const at = (h: HeaderBytes, tag: number) => h.header.readInt32BE(h.entryOf(tag) + 8);
    // FILESIZES one value short: 4 bytes before FILEUSERNAME belong to no entry.
    await bothRefuse(
      'sizes-short',
      patchHeader(good, keep, ({ header, entryOf }) => header.writeUInt32BE(header.readUInt32BE(entryOf(1028) + 12) - 1, entryOf(1028) + 12)),
      /main header: its entries' data, laid end to end as rpm lays them \(each after the one before, aligned\), take (\d+) bytes, not the (\d+) of its data store before the region trailer/,
    );
    // A NUL in a file owner's name (a tag we never read): its strings end 3 bytes early.
    await bothRefuse('owner-cut', patchHeader(good, keep, (h) => (h.header[h.dataAt(at(h, 1039)) + 1] = 0)), /main header: its entries' data, laid end to end as rpm lays them/);
    // The same before a 4-byte value, where the padding rpm adds takes up what the
    // string lost: rpm reads it, and so do we.
    const sourceCut = patchHeader(good, keep, (h) => {
      let nul = h.dataAt(at(h, 1044));
      while (h.header[nul] !== 0) nul++;
      assert.notEqual((h.dataAt(at(h, 1045)) - nul - 1) % 4, 3, 'room for the padding to grow');
      h.header[nul - 1] = 0;
    });
    assert.match((await bothRead('source-cut', sourceCut)).sourcerpm, /^txfix-complex-.*\.src\.rp$/);
    // A tag twice: rpm would read whichever its search meets first.
    await expectRejected('tag-twice', patchHeader(good, keep, ({ header, entryOf }) => header.writeUInt32BE(1022, entryOf(1023))), /main header holds tag 1022 twice/);
    // An index out of tag order (rpm sorts it as it reads): NAME and VERSION swap their
    // tag numbers, each tag still reads its own data; a tag twice is found however far
    // apart the two are.
    const sorted = await bothRead('sorted', patchHeader(good, keep, () => {}));
    const swapped = patchHeader(good, keep, ({ header, entryOf }) => {
      const [name, version] = [entryOf(1000), entryOf(1001)];
      header.writeUInt32BE(1001, name);
      header.writeUInt32BE(1000, version);
    });
    const unsorted = await bothRead('unsorted', swapped);
    assert.deepEqual([unsorted.name, unsorted.version, unsorted.release, unsorted.summary], [sorted.version, sorted.name, sorted.release, sorted.summary]);
    await expectRejected('tag-twice-apart', patchHeader(good, keep, ({ header, entryOf }) => header.writeUInt32BE(1000, entryOf(1004))), /main header holds tag 1000 twice/);
  });

  test('signature tags are as rpm reads them, and the main header does not hold them itself', async () => {
    // The header's SHA256 one hex digit short (rpm: "package tag 273: invalid size 64").
    const short = Buffer.from(good);
    const sha256 = 96 + 16 + 16 * [...Array(sigIl).keys()].find((k) => good.readUInt32BE(96 + 16 + 16 * k) === 273)!;
    short.writeInt32BE(short.readInt32BE(sha256 + 8) + 1, sha256 + 8);
    await bothRefuse('sha256-short', short, /signature header tag 273 has type 6, count 1, 64 bytes; rpm reads it only as type 6, count 1, 65 bytes/);
    // LONGARCHIVESIZE is the signature header's: rpm refuses a main header with it.
    const int64 = Buffer.alloc(8);
    int64.writeBigUInt64BE(12345n);
    await bothRefuse('main-271', patchHeader(good, (e) => [...e, { tag: 271, type: 5, count: 1, data: int64 }], () => {}), /main header holds tag 271, which rpm fills from the signature header's tag 271/);
    // ARCHIVESIZE may be in either header, but not in both.
    const int32 = Buffer.alloc(4);
    int32.writeUInt32BE(1234);
    const archiveSize = (e: Entry[]) => [...e.filter((x) => x.tag !== 1046), { tag: 1046, type: 4, count: 1, data: int32 }];
    await bothRefuse('archivesize-twice', patchHeader(good, archiveSize, () => {}), /main header holds tag 1046, which rpm fills from the signature header's tag 1007/);
    const inMain = patchHeader(good, archiveSize, () => {}, (sig) => sig.filter((x) => x.tag !== 1007));
    assert.equal((await bothRead('archivesize-in-main', inMain)).sizeArchive, 1234);
  });

  test('a value must be aligned to its size', async () => {
    const bytes = patchHeader(good, keep, ({ header, entryOf }) => header.writeInt32BE(header.readInt32BE(entryOf(1048) + 8) + 1, entryOf(1048) + 8));
    await bothRefuse('misaligned', bytes, /main header tag 1048: its 4-byte values start at offset \d+, not a multiple of 4/);
  });

  test('tags below 100 are reserved for rpm', async () => {
    const bytes = patchHeader(good, (entries) => [...entries, { tag: 99, type: 6, count: 1, data: Buffer.from('x\0') }], () => {});
    await bothRefuse('tag-99', bytes, /main header holds tag 99; tags below 100 are rpm's own/);
  });

  test('a tag rpm knows must have its type (any string type for a string tag); one it does not know may have any', async () => {
    const buildtimeAsInt16 = patchHeader(good, (entries) => entries.map((e) => (e.tag === 1006 ? { ...e, type: 3, count: 2 } : e)), () => {});
    await bothRefuse('buildtime-int16', buildtimeAsInt16, /main header tag 1006 has type 3; rpm reads it as type 4/);
    const epochAsString = patchHeader(good, (entries) => [...entries.filter((e) => e.tag !== 1003), { tag: 1003, type: 6, count: 1, data: Buffer.from('1\0') }], () => {});
    await bothRefuse('epoch-string', epochAsString, /main header tag 1003 has type 6; rpm reads it as type 4/);
    // NAME as a one-string array, and an unknown tag of 16-bit values: rpm reads both.
    const lenient = patchHeader(
      good,
      (entries) => [...entries.map((e) => (e.tag === 1000 ? { ...e, type: 8 } : e)), { tag: 4321, type: 3, count: 2, data: Buffer.from([0, 1, 0, 2]) }],
      () => {},
    );
    assert.equal((await bothRead('lenient-types', lenient)).name, 'txfix-complex');
  });

  test("no entry's data may run into the region trailer", async () => {
    // An unknown BIN tag, the last before the trailer, made 8 bytes longer than its data.
    const bytes = patchHeader(good, (entries) => [...entries, { tag: 9999, type: BIN, count: 4, data: Buffer.from('abcd') }], ({ header, entryOf }) =>
      header.writeUInt32BE(12, entryOf(9999) + 12),
    );
    await bothRefuse('into-trailer', bytes, /main header tag 9999: its data \(offset \d+ to at least \d+\) runs into the region trailer at \d+/);
  });

  test("the region tag and its trailer are rpm's, and a package's main header region is the whole header", async () => {
    const trailer = (h: HeaderBytes) => h.dataAt(h.header.readInt32BE(h.entryOf(63) + 8));
    await bothRefuse('region-type', patchHeader(good, keep, ({ header, entryOf }) => header.writeUInt32BE(4, entryOf(63) + 4)), /main header region tag 63 has type 4 and count 16/);
    await bothRefuse('trailer-tag', patchHeader(good, keep, (h) => h.header.writeUInt32BE(62, trailer(h))), /main header region trailer at offset \d+ is not region tag 63's \(tag 62, type 7, count 16\)/);
    await bothRefuse(
      'region-short',
      patchHeader(good, keep, (h) => h.header.writeInt32BE(h.header.readInt32BE(trailer(h) + 8) + 16, trailer(h) + 8)),
      /main header region covers (\d+) of \d+ entries and (\d+) of \2 bytes; in a package it is the whole header/,
    );
    await bothRefuse(
      'region-ragged',
      patchHeader(good, keep, (h) => h.header.writeInt32BE(h.header.readInt32BE(trailer(h) + 8) + 3, trailer(h) + 8)),
      /main header region trailer spans \d+ bytes of index, not a whole number of its \d+ entries/,
    );
  });
});
