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
import { seeded } from '../../reliability/lib/harness.ts';

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

/**
 * Changes one field (tag, type, offset or count) of one index entry, or one data byte,
 * of the header at `start` in `bytes`, from entry `first` on (1: the region tag kept);
 * says what it changed.
 */
function change(bytes: Buffer, start: number, first: number, random: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const il = bytes.readUInt32BE(start + 8);
  const k = first + Math.floor(random() * (il - first));
  const entry = start + 16 + 16 * k;
  const field = pick([0, 4, 8, 12, -1]);
  if (field === -1) {
    const at = Math.floor(random() * bytes.readUInt32BE(start + 12));
    const value = pick([0, 0x41, Math.floor(random() * 256)]);
    bytes[start + 16 + 16 * il + at] = value;
    return `data byte ${at} := ${value}`;
  }
  const old = bytes.readUInt32BE(entry + field);
  const neighbour = bytes.readUInt32BE(start + 16 + 16 * pick([Math.max(first, k - 1), Math.min(il - 1, k + 1)]) + field);
  const value = pick([old + 1, old - 1, old + 2, old + 4, old - 4, old + 16, Math.floor(random() * 10), old * 2, neighbour]) >>> 0;
  bytes.writeUInt32BE(value, entry + field);
  return `entry ${k} (tag ${bytes.readUInt32BE(entry)}) ${['tag', 'type', 'offset', 'count'][field / 4]} ${old} -> ${value}`;
}

/**
 * Reads CASES packages made by `make` with rpm (its args before the path) and with
 * txrepo: we read none that rpm refuses, and refuse what rpm reads only for OURS_ALONE.
 */
async function fuzz(name: string, seed: number, rpmArgs: string[], make: (random: () => number) => { bytes: Buffer; change: string }): Promise<void> {
  const random = seeded(seed);
  const tally = { both: 0, neither: 0, oursAlone: 0 };
  for (let i = 0; i < CASES; i++) {
    const { bytes, change: what } = make(random);
    const path = join(dir, `${name}-${i}.rpm`);
    await writeFile(path, bytes);
    const rpm = await run('rpm', [...rpmArgs, path]);
    const ours = await readPackage(path, { locationHref: 'x.rpm', verifyDigests: true }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    if (rpm.code !== 0) {
      assert.notEqual(ours, undefined, `case ${i}, ${what}: rpm refuses it (${rpm.stderr.trim()}), we read it`);
      tally.neither++;
    } else if (ours === undefined) tally.both++;
    else {
      assert.match(ours, OURS_ALONE, `case ${i}, ${what}: rpm reads it, we refuse it: ${ours}`);
      tally.oursAlone++;
    }
  }
  // A fuzz that changed nothing that matters, or nothing that rpm refuses, proves nothing.
  assert.ok(tally.neither > CASES / 4 && tally.both > CASES / 10, JSON.stringify(tally));
}

test(`${CASES} random changes to a main header: we read none that rpm refuses`, { timeout: 300_000 }, async () => {
  // rpm reads the file list too, as an install does.
  await fuzz('main', 19, ['-qlp', '--nosignature', '--nodigest'], (random) => {
    let what = '';
    const bytes = patchHeader(good, (e) => e, ({ header }) => (what = change(header, 0, 1, random)));
    return { bytes, change: what };
  });
});

test(`${CASES} random changes to a signature header: we read none that rpm refuses`, { timeout: 300_000 }, async () => {
  await fuzz('sig', 23, ['-qlp'], (random) => {
    const bytes = Buffer.from(good);
    return { bytes, change: change(bytes, 96, 0, random) };
  });
});
