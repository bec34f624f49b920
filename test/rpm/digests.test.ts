// needs: rpm rpmbuild rpmsign gpg
// An RPM's own digests (header SHA256/SHA1, payload digest, MD5 of header + payload):
// what the store verifies at ingest. Every real package verifies, and checks what
// `rpm -K --nosignature` checks; a single flipped bit that leaves the file well-formed
// is refused with a message naming the file and the digest.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { readPackage, readPackageBytes, RpmDigestError, RpmFormatError, verifyDigests } from '../../src/rpm/index.ts';
import { buildRpm } from '../helpers/build.ts';
import { complexRpm, testRpmPaths } from '../helpers/fixtures.ts';
import { writeLegacyRpm } from '../helpers/legacy-rpm.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { sample, SAMPLES, sampleRpms } from '../helpers/samples.ts';

const exec = promisify(execFile);

/** A package of today's layout (header SHA256 and SHA1, payload SHA256, MD5). */
let NEW: string;
/** The same kind of package as rpm before 4.14 wrote it: header SHA1 and MD5 only. */
let OLD: string;
/** Every sample and test package, in today's layout and in the legacy one. */
let ALL: string[];

let dir: string;
let n = 0;
before(async () => {
  dir = await tempDir('txrepo-digests-');
  NEW = await complexRpm();
  await mkdir(join(dir, 'legacy'));
  OLD = await writeLegacyRpm(sample('cat-1.0-1.noarch.rpm'), join(dir, 'legacy', 'cat-1.0-1.noarch.rpm'));
  const current = [...(await sampleRpms()).map((f) => join(SAMPLES, f)), ...(await testRpmPaths())];
  ALL = [...current];
  for (const f of current) ALL.push(await writeLegacyRpm(f, join(dir, 'legacy', `legacy-${basename(f)}`)));
});
after(() => removeDir(dir));

/**
 * `rpm -Kv --nosignature` of some files (one run): whether all passed, and each file's
 * lines ("Header SHA1 digest: OK", ...).
 */
async function rpmChecks(paths: string[]): Promise<{ ok: boolean; lines: Map<string, string[]> }> {
  const r = await exec('rpm', ['-Kv', '--nosignature', ...paths], { maxBuffer: 16 << 20 }).then(
    (x) => ({ ok: true, out: x.stdout }),
    (e: { stdout: string }) => ({ ok: false, out: e.stdout }),
  );
  const lines = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of r.out.split('\n')) {
    if (line.startsWith(' ')) current.push(line.trim());
    else if (line.endsWith(':')) lines.set(line.slice(0, -1), (current = []));
  }
  return { ok: r.ok, lines };
}

/** The structures of a package file: signature tags' data offsets, main header tags', payload start. */
function layoutOf(b: Buffer) {
  const sigIl = b.readUInt32BE(104);
  const sigDl = b.readUInt32BE(108);
  const sigData = 112 + 16 * sigIl;
  const sigTags = new Map<number, number>();
  for (let i = 0; i < sigIl; i++) sigTags.set(b.readUInt32BE(112 + 16 * i), sigData + b.readInt32BE(112 + 16 * i + 8));
  const headerStart = sigData + sigDl + ((8 - (sigDl % 8)) % 8);
  const il = b.readUInt32BE(headerStart + 8);
  const dl = b.readUInt32BE(headerStart + 12);
  const data = headerStart + 16 + 16 * il;
  const mainTags = new Map<number, number>();
  for (let i = 0; i < il; i++) mainTags.set(b.readUInt32BE(headerStart + 16 + 16 * i), data + b.readInt32BE(headerStart + 16 + 16 * i + 8));
  return { sigTags, mainTags, headerStart, headerEnd: data + dl };
}

/** A copy of `from` with one bit flipped at `offset`, under its own file name. */
async function flipped(from: string, offset: number, bit = 0x01): Promise<string> {
  const bytes = await readFile(from);
  bytes[offset] ^= bit;
  const sub = join(dir, `flip-${n++}`);
  await mkdir(sub);
  const path = join(sub, basename(from));
  await writeFile(path, bytes);
  return path;
}

async function expectDamaged(path: string, digest: string) {
  const message = `${path}: ${digest} does not match (the file is damaged); rebuild or re-download it`;
  // Still well-formed: read without verification (as createrepo does), it passes.
  await readPackage(path, { locationHref: 'x.rpm' });
  await assert.rejects(readPackage(path, { locationHref: 'x.rpm', verifyDigests: true }), (e: unknown) => {
    assert.ok(e instanceof RpmDigestError && e instanceof RpmFormatError, `expected RpmDigestError, got ${(e as Error)?.stack}`);
    assert.equal(e.name, 'RpmFormatError');
    assert.equal(e.message, message);
    assert.equal(e.digest, digest);
    return true;
  });
  assert.throws(() => verifyDigests(path), { message });
  // The same file held in memory (a sync's small download): the same refusal.
  assert.throws(() => readPackageBytes(readFileSync(path), path, { locationHref: 'x.rpm', verifyDigests: true, timeFile: 0 }), (e: unknown) => e instanceof RpmDigestError && e.message === message);
  assert.equal((await rpmChecks([path])).ok, false, `rpm -K accepts ${path}`);
}

describe('package digests', () => {
  test('every fixture package verifies, checking what rpm -K checks', async () => {
    const files = ALL;
    assert.ok(files.length >= 80, `${files.length} fixture packages`);
    for (const kind of ['.src.rpm', 'txfix-latin1', 'txfix-modular', 'legacy-txfix-complex']) assert.ok(files.some((f) => f.includes(kind)), kind);
    const rpm = await rpmChecks(files);
    assert.ok(rpm.ok, 'rpm -K accepts them all');
    for (const f of files) {
      const checked = verifyDigests(f);
      assert.ok(checked.length >= 2, `${f}: ${checked}`);
      await readPackage(f, { locationHref: 'x.rpm', verifyDigests: true });
      const theirs = rpm.lines.get(f);
      assert.equal(checked.length, theirs?.length, `${f}: we check ${checked.join(', ')}; rpm checks ${theirs?.join(', ')}`);
    }
    assert.deepEqual(verifyDigests(OLD), ["the header's SHA1 digest", 'the MD5 digest of header and payload']);
    assert.deepEqual(verifyDigests(NEW), ["the header's SHA256 digest", "the header's SHA1 digest", "the payload's SHA256 digest", 'the MD5 digest of header and payload']);
  });

  test('packages built by rpmbuild verify', async () => {
    const built = [...(await testRpmPaths()), await buildRpm(join(dir, 'built'), { name: 'bear', version: '4.1', release: '1' })];
    for (const f of built) {
      assert.ok(verifyDigests(f).includes("the payload's SHA256 digest"), f);
      await readPackage(f, { locationHref: 'x.rpm', verifyDigests: true });
    }
  });

  test('signed packages verify (signatures are not digests)', async () => {
    const home = join(dir, 'gnupg');
    await mkdir(home, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: home };
    await exec('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'txrepo test <test@example.org>', 'ed25519', 'sign', 'never'], { env });
    const signed = join(dir, 'signed');
    await mkdir(signed);
    const files = [];
    for (const f of [OLD, NEW]) {
      files.push(join(signed, basename(f)));
      await writeFile(files.at(-1)!, await readFile(f));
    }
    // rpmsign runs %__gpg by absolute path only.
    const gpg = (await exec('sh', ['-c', 'command -v gpg'])).stdout.trim();
    await exec('rpmsign', ['--addsign', '--define', '_gpg_name test@example.org', '--define', `__gpg ${gpg}`, ...files], { env });
    for (const f of files) {
      assert.notDeepEqual(await readFile(f), await readFile(f.includes('cat-') ? OLD : NEW), `${f} was signed`);
      await readPackage(f, { locationHref: 'x.rpm', verifyDigests: true });
    }
    assert.equal(verifyDigests(files[1]).length, 4);
  });

  test('a bit flipped in the main header store is refused', async () => {
    for (const [file, digest] of [
      [NEW, "the header's SHA256 digest"],
      [OLD, "the header's SHA1 digest"],
    ]) {
      // A letter of the summary (tag 1004) becomes another letter: still well-formed.
      const at = layoutOf(await readFile(file)).mainTags.get(1004)! + 1;
      await expectDamaged(await flipped(file, at), digest);
    }
  });

  test('a bit flipped in the payload is refused', async () => {
    const built = await buildRpm(join(dir, 'built-payload'), { name: 'tiger', version: '1.0', release: '4' });
    for (const [file, digest] of [
      [NEW, "the payload's SHA256 digest"],
      [built, "the payload's SHA256 digest"],
      [OLD, 'the MD5 digest of header and payload'],
    ]) {
      const bytes = await readFile(file);
      const { headerEnd } = layoutOf(bytes);
      await expectDamaged(await flipped(file, headerEnd + Math.floor((bytes.length - headerEnd) / 2), 0x10), digest);
      await expectDamaged(await flipped(file, bytes.length - 1, 0x80), digest);
    }
  });

  test("a bit flipped in the signature's digest values is refused", async () => {
    const { sigTags } = layoutOf(await readFile(NEW));
    // Hex digits stay hex digits ('0' <-> '1', 'a' <-> 'c' ...) or not: either way, a mismatch.
    await expectDamaged(await flipped(NEW, sigTags.get(273)! + 7, 0x02), "the header's SHA256 digest");
    await expectDamaged(await flipped(NEW, sigTags.get(269)! + 3), "the header's SHA1 digest");
    await expectDamaged(await flipped(NEW, sigTags.get(1004)! + 15), 'the MD5 digest of header and payload');
    await expectDamaged(await flipped(OLD, layoutOf(await readFile(OLD)).sigTags.get(1004)!, 0x40), 'the MD5 digest of header and payload');
    // The payload digest lives in the main header, which the header digests cover.
    const { mainTags } = layoutOf(await readFile(NEW));
    await expectDamaged(await flipped(NEW, mainTags.get(5092)! + 2), "the header's SHA256 digest");
  });

  test('a package read from memory gives the record read from its file, and the same refusals of a cut or foreign file', async () => {
    for (const file of ALL) {
      const bytes = await readFile(file);
      const fromFile = await readPackage(file, { locationHref: 'x.rpm', verifyDigests: true });
      assert.deepEqual(readPackageBytes(bytes, file, { locationHref: 'x.rpm', verifyDigests: true, timeFile: fromFile.timeFile }), fromFile, file);
      // A caller that hashed the bytes as they came gives their checksum: taken as is.
      assert.equal(readPackageBytes(bytes, file, { locationHref: 'x.rpm', timeFile: 0, pkgid: 'f'.repeat(64) }).pkgid, 'f'.repeat(64));
    }
    const bytes = await readFile(NEW);
    const { headerEnd } = layoutOf(bytes);
    for (const [cut, why] of [
      [bytes.subarray(0, 50), /^in-memory: not a valid RPM package: the file is only 50 bytes, too short for an RPM lead$/],
      [bytes.subarray(0, headerEnd - 10), /^in-memory: not a valid RPM package: truncated: its headers need \d+ bytes, the file has \d+$/],
      [bytes.subarray(0, bytes.length - 1), /^in-memory: not a valid RPM package: truncated: its signature says header and payload take \d+ bytes, the file holds \d+ after the signature$/],
      [Buffer.from('<html>not found</html>'.padEnd(200)), /^in-memory: not a valid RPM package: bad lead magic/],
    ] as const) {
      assert.throws(() => readPackageBytes(cut, 'in-memory', { locationHref: 'x.rpm', verifyDigests: true, timeFile: 0 }), (e: unknown) => e instanceof RpmFormatError && why.test(e.message), String(why));
    }
  });

  test('a digest tag of the wrong type is a format error', async () => {
    const bytes = await readFile(NEW);
    // The index entry of RPMSIGTAG_SHA256 (the third) says BIN instead of STRING, of the
    // same bytes (the 64 hex digits and the NUL): a header that holds together, and a
    // digest rpm refuses to verify ("package tag 273: invalid type").
    assert.equal(bytes.readUInt32BE(112 + 32), 273);
    bytes.writeUInt32BE(7, 112 + 32 + 4);
    bytes.writeUInt32BE(65, 112 + 32 + 12);
    const path = join(dir, 'wrong-type.rpm');
    await writeFile(path, bytes);
    await assert.rejects(readPackage(path, { locationHref: 'x.rpm', verifyDigests: true }), (e: unknown) => {
      assert.ok(e instanceof RpmFormatError && !(e instanceof RpmDigestError));
      assert.match(e.message, /^\S+wrong-type.rpm: not a valid RPM package: signature header tag 273 has type 7, count 65, 65 bytes; rpm reads it only as type 6, count 1, 65 bytes$/);
      return true;
    });
  });
});
