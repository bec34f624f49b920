// needs: rpm rpmbuild
// A differential fuzz of the header reader against rpm itself: random changes to a
// real package's index entries (tag, type, offset, count) and data bytes, read by
// `rpm -qlp` and by txrepo: of the main header, the package re-signed so that its
// digests match; of the signature header, which no digest covers. We
// must never read a header rpm refuses (dnf could not install what we list); where rpm
// reads one that we refuse, the reason must be one docs/security.md names as ours
// alone. Seeded: the same cases every run.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readPackage } from '../../src/rpm/index.ts';
import { complexRpm } from '../helpers/fixtures.ts';
import { patchHeader } from '../helpers/legacy-rpm.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { run } from '../helpers/run.ts';

const CASES = 240;

/**
 * Why we may refuse what rpm reads: a tag twice, a type for a tag this rpm (4.18) does
 * not know yet, a payload digest rpm -qp does not check, a file list whose directory
 * indexes point past its directories (rpm lists it anyway).
 */
const OURS_ALONE = /holds tag \d+ twice|rpm reads it as type|payload's SHA256 digest does not match|has directory index \d+, but there are \d+ directories/;

let dir: string;
let good: Buffer;
before(async () => {
  dir = await tempDir('txrepo-header-fuzz-');
  good = await readFile(await complexRpm());
});
after(() => removeDir(dir));

test(`${CASES} random changes to a main header: we read none that rpm refuses`, { timeout: 300_000 }, async () => {
  let seed = 19;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const tally = { both: 0, neither: 0, oursAlone: 0 };
  for (let i = 0; i < CASES; i++) {
    let change = '';
    const bytes = patchHeader(good, (e) => e, ({ header }) => {
      const il = header.readUInt32BE(8);
      const k = 1 + Math.floor(random() * (il - 1));
      const entry = 16 + 16 * k;
      const field = pick([0, 4, 8, 12, -1]);
      if (field === -1) {
        const at = Math.floor(random() * header.readUInt32BE(12));
        const value = pick([0, 0x41, Math.floor(random() * 256)]);
        change = `data byte ${at} := ${value}`;
        header[16 + 16 * il + at] = value;
        return;
      }
      const old = header.readUInt32BE(entry + field);
      const neighbour = header.readUInt32BE(16 + 16 * pick([Math.max(1, k - 1), Math.min(il - 1, k + 1)]) + field);
      const value = pick([old + 1, old - 1, old + 2, old + 4, old - 4, old + 16, Math.floor(random() * 10), old * 2, neighbour]) >>> 0;
      change = `entry ${k} (tag ${header.readUInt32BE(entry)}) ${['tag', 'type', 'offset', 'count'][field / 4]} ${old} -> ${value}`;
      header.writeUInt32BE(value, entry + field);
    });
    const path = join(dir, `case-${i}.rpm`);
    await writeFile(path, bytes);
    // rpm reads the file list too, as an install does.
    const rpm = await run('rpm', ['-qlp', '--nosignature', '--nodigest', path]);
    const ours = await readPackage(path, { locationHref: 'x.rpm', verifyDigests: true }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    if (rpm.code !== 0) {
      assert.notEqual(ours, undefined, `case ${i}, ${change}: rpm refuses it (${rpm.stderr.trim()}), we read it`);
      tally.neither++;
    } else if (ours === undefined) tally.both++;
    else {
      assert.match(ours, OURS_ALONE, `case ${i}, ${change}: rpm reads it, we refuse it: ${ours}`);
      tally.oursAlone++;
    }
  }
  // A fuzz that changed nothing that matters, or nothing that rpm refuses, proves nothing.
  assert.ok(tally.neither > CASES / 4 && tally.both > CASES / 10, JSON.stringify(tally));
});

test(`${CASES} random changes to a signature header: we read none that rpm refuses`, { timeout: 300_000 }, async () => {
  let seed = 23;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const il = good.readUInt32BE(96 + 8);
  const dl = good.readUInt32BE(96 + 12);
  const tally = { both: 0, neither: 0, oursAlone: 0 };
  for (let i = 0; i < CASES; i++) {
    const bytes = Buffer.from(good);
    const k = Math.floor(random() * il);
    const entry = 96 + 16 + 16 * k;
    const field = pick([0, 4, 8, 12, -1]);
    let change: string;
    if (field === -1) {
      const at = Math.floor(random() * dl);
      const value = pick([0, 0x41, Math.floor(random() * 256)]);
      bytes[96 + 16 + 16 * il + at] = value;
      change = `data byte ${at} := ${value}`;
    } else {
      const old = bytes.readUInt32BE(entry + field);
      const value = pick([old + 1, old - 1, old + 4, old - 4, old + 16, Math.floor(random() * 10), old * 2]) >>> 0;
      bytes.writeUInt32BE(value, entry + field);
      change = `entry ${k} (tag ${bytes.readUInt32BE(entry)}) ${['tag', 'type', 'offset', 'count'][field / 4]} ${old} -> ${value}`;
    }
    const path = join(dir, `sig-case-${i}.rpm`);
    await writeFile(path, bytes);
    const rpm = await run('rpm', ['-qlp', path]);
    const ours = await readPackage(path, { locationHref: 'x.rpm', verifyDigests: true }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    if (rpm.code !== 0) {
      assert.notEqual(ours, undefined, `case ${i}, ${change}: rpm refuses it (${rpm.stderr.trim()}), we read it`);
      tally.neither++;
    } else if (ours === undefined) tally.both++;
    else {
      assert.match(ours, OURS_ALONE, `case ${i}, ${change}: rpm reads it, we refuse it: ${ours}`);
      tally.oursAlone++;
    }
  }
  assert.ok(tally.neither > CASES / 4 && tally.both > CASES / 10, JSON.stringify(tally));
});
