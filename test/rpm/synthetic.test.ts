// Headers no fixture has: the old (v3) file list encoding, 64-bit sizes, I18N strings
// and a source package marked only by rpm's heuristic. Built byte by byte here.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readPackage } from '../../src/rpm/index.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';

type Value = { type: 4 | 5 | 6 | 8 | 9 | 3; values: (string | number)[] };

/** An RPM header structure: intro, index sorted by tag, data store (aligned). */
function header(entries: Record<number, Value>): Buffer {
  const tags = Object.keys(entries).map(Number).sort((a, b) => a - b);
  const index = Buffer.alloc(16 * tags.length);
  const parts: Buffer[] = [];
  let size = 0;
  tags.forEach((tag, i) => {
    const { type, values } = entries[tag];
    const align = type === 5 ? 8 : type === 4 ? 4 : type === 3 ? 2 : 1;
    const pad = (align - (size % align)) % align;
    if (pad) parts.push(Buffer.alloc(pad));
    size += pad;
    let data: Buffer;
    if (type === 6 || type === 8 || type === 9) data = Buffer.concat(values.map((v) => Buffer.from(`${v}\0`)));
    else {
      const width = type === 5 ? 8 : type === 4 ? 4 : 2;
      data = Buffer.alloc(width * values.length);
      values.forEach((v, j) => (width === 8 ? data.writeBigUInt64BE(BigInt(v), j * 8) : width === 4 ? data.writeUInt32BE(Number(v), j * 4) : data.writeUInt16BE(Number(v), j * 2)));
    }
    index.writeUInt32BE(tag, i * 16);
    index.writeUInt32BE(type, i * 16 + 4);
    index.writeInt32BE(size, i * 16 + 8);
    index.writeUInt32BE(values.length, i * 16 + 12);
    parts.push(data);
    size += data.length;
  });
  const intro = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  intro.writeUInt32BE(tags.length, 8);
  intro.writeUInt32BE(size, 12);
  return Buffer.concat([intro, index, ...parts]);
}

function rpm(main: Record<number, Value>, sigTags: Record<number, Value> = {}, payload = Buffer.from('payload')): Buffer {
  const lead = Buffer.alloc(96);
  Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0]).copy(lead);
  const mainHeader = header(main);
  const sig = header({ 1000: { type: 4, values: [mainHeader.length + payload.length] }, 270: { type: 5, values: [mainHeader.length + payload.length] }, ...sigTags });
  const pad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  return Buffer.concat([lead, sig, pad, mainHeader, payload]);
}

const s = (v: string): Value => ({ type: 6, values: [v] });
const base = { 1000: s('old'), 1001: s('1.0'), 1002: s('1'), 1022: s('noarch') };

let dir: string;
before(async () => (dir = await tempDir('txrepo-synth-')));
after(() => removeDir(dir));

async function read(name: string, bytes: Buffer) {
  await writeFile(join(dir, name), bytes);
  return readPackage(join(dir, name), { locationHref: name });
}

test('the old file list encoding (OLDFILENAMES) reads like the compressed one', async () => {
  const r = await read('v3.rpm', rpm({
    ...base,
    1044: s('old-1.0-1.src.rpm'),
    1027: { type: 8, values: ['/etc/old.conf', '/usr/bin/old', '/usr/share/old', '/usr/share/old/README'] },
    1030: { type: 3, values: [0o100644, 0o100755, 0o40755, 0o100644] },
    1037: { type: 4, values: [1, 0, 0, 64] },
  }));
  assert.deepEqual(r.files, [
    { path: '/etc/old.conf', type: 'file' },
    { path: '/usr/bin/old', type: 'file' },
    { path: '/usr/share/old', type: 'dir' },
    { path: '/usr/share/old/README', type: 'ghost' },
  ]);
  assert.equal(r.arch, 'noarch');
});

test('64-bit sizes, I18N strings, and the source heuristic', async () => {
  const big = 5 * 2 ** 32 + 7;
  const r = await read('big.rpm', rpm({
    ...base,
    1004: { type: 9, values: ['Summary in C', 'Zusammenfassung'] },
    1009: { type: 4, values: [12] },
    5009: { type: 5, values: [big] },
    1117: { type: 8, values: ['old.spec'] },
    1118: { type: 8, values: [''] },
    1116: { type: 4, values: [0] },
    1030: { type: 3, values: [0o100644] },
    1037: { type: 4, values: [32] },
  }, { 271: { type: 5, values: [big + 1] } }));
  assert.equal(r.summary, 'Summary in C', 'I18N strings take the first (C locale) entry');
  assert.equal(r.sizeInstalled, big, 'LONGSIZE wins over SIZE');
  assert.equal(r.sizeArchive, big + 1);
  assert.equal(r.arch, 'src', 'no SOURCERPM, no SOURCEPACKAGE, one "" dir: a source package');
  assert.equal(r.sourcerpm, '');
  assert.deepEqual(r.files, [{ path: 'old.spec', type: 'file' }]);
});

test('a binary package without SOURCERPM gets "(none)", like rpm', async () => {
  const r = await read('nosrc.rpm', rpm({ ...base }));
  assert.equal(r.arch, 'noarch');
  assert.equal(r.sourcerpm, '(none)');
});
