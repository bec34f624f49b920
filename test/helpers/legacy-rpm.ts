// Rewrites a package built by today's rpmbuild into the layout rpm before 4.14 wrote,
// which many packages in the wild still have: no SHA256 header digest and no payload
// digest, only the header's SHA1 and the MD5 of header and payload (rpm -K then
// checks exactly those two). rpmbuild cannot make such a package any more.
//
// A header is a 16-byte intro (magic, reserved, entry count, data length), an index of
// 16-byte entries (tag, type, offset, count) and a data store. Its first entry may be
// a region tag (62 in the signature, 63 in the main header) whose data, a 16-byte
// trailer, says how many entries the region spans.

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

export interface Entry {
  tag: number;
  type: number;
  count: number;
  data: Buffer;
}

const MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
const REGIONS = new Set([62, 63]);
const ALIGN: Record<number, number> = { 3: 2, 4: 4, 5: 8 };

/** The bytes an entry's data takes in the store. */
function dataLength(store: Buffer, type: number, at: number, count: number): number {
  switch (type) {
    case 6: // STRING
      return store.indexOf(0, at) - at + 1;
    case 8: // STRING_ARRAY
    case 9: {
      // I18NSTRING
      let end = at;
      for (let i = 0; i < count; i++) end = store.indexOf(0, end) + 1;
      return end - at;
    }
    case 3:
      return 2 * count;
    case 4:
      return 4 * count;
    case 5:
      return 8 * count;
    default: // CHAR, INT8, BIN
      return count;
  }
}

/** The entries of the header at `offset` (its region tag left out) and where it ends. */
export function readHeader(b: Buffer, offset: number): { entries: Entry[]; region?: number; end: number } {
  const il = b.readUInt32BE(offset + 8);
  const dl = b.readUInt32BE(offset + 12);
  const storeStart = offset + 16 + 16 * il;
  const store = b.subarray(storeStart, storeStart + dl);
  const entries: Entry[] = [];
  let region: number | undefined;
  for (let i = 0; i < il; i++) {
    const e = offset + 16 + 16 * i;
    const tag = b.readUInt32BE(e);
    const type = b.readUInt32BE(e + 4);
    const at = b.readInt32BE(e + 8);
    const count = b.readUInt32BE(e + 12);
    if (i === 0 && REGIONS.has(tag)) {
      region = tag;
      continue;
    }
    entries.push({ tag, type, count, data: Buffer.from(store.subarray(at, at + dataLength(store, type, at, count))) });
  }
  return { entries, region, end: storeStart + dl };
}

/**
 * A header holding `entries` under a region tag. rpm wants the index sorted by tag and
 * the data in the same order (offsets only grow), each value aligned to its type.
 */
export function writeHeader(unsorted: Entry[], region: number): Buffer {
  const entries = [...unsorted].sort((x, y) => x.tag - y.tag);
  const chunks: Buffer[] = [];
  const offsets = new Map<Entry, number>();
  let size = 0;
  for (const e of entries) {
    const align = ALIGN[e.type] ?? 1;
    const pad = (align - (size % align)) % align;
    if (pad) chunks.push(Buffer.alloc(pad));
    size += pad;
    offsets.set(e, size);
    chunks.push(e.data);
    size += e.data.length;
  }
  const count = entries.length + 1;
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32BE(region, 0);
  trailer.writeUInt32BE(7, 4);
  trailer.writeInt32BE(-16 * count, 8);
  trailer.writeUInt32BE(16, 12);
  const trailerAt = size;
  chunks.push(trailer);
  size += 16;

  const index = Buffer.alloc(16 * count);
  const entry = (i: number, tag: number, type: number, at: number, n: number) => {
    index.writeUInt32BE(tag, 16 * i);
    index.writeUInt32BE(type, 16 * i + 4);
    index.writeInt32BE(at, 16 * i + 8);
    index.writeUInt32BE(n, 16 * i + 12);
  };
  entry(0, region, 7, trailerAt, 16);
  entries.forEach((e, i) => entry(i + 1, e.tag, e.type, offsets.get(e)!, e.count));
  const intro = Buffer.alloc(16);
  MAGIC.copy(intro);
  intro.writeUInt32BE(count, 8);
  intro.writeUInt32BE(size, 12);
  return Buffer.concat([intro, index, ...chunks]);
}

const int32 = (tag: number, value: number): Entry => {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(value);
  return { tag, type: 4, count: 1, data };
};

/** Main header tags rpm 4.14 added: the payload digest and its algorithm. */
const PAYLOAD_DIGEST_TAGS = new Set([5092, 5093, 5097]);

/**
 * The package with its main header rewritten by `edit` (which gets the entries, region
 * tag left out, and returns the new ones), signed with the digests of rpm before 4.14:
 * the header's SHA1 and the MD5 of header and payload.
 */
export function rewriteHeader(rpm: Buffer, edit: (entries: Entry[]) => Entry[]): Buffer {
  return patchHeader(rpm, edit, () => {});
}

/** Where a header's parts are, for `patchHeader`'s changes to its bytes. */
export interface HeaderBytes {
  header: Buffer;
  /** The byte (in `header`) of the index entry of `tag`; tag 63 is the region tag. */
  entryOf(tag: number): number;
  /** The byte (in `header`) of offset `at` of its data store. */
  dataAt(at: number): number;
}

/**
 * As rewriteHeader, then `patch` changes the new main header's bytes before the package
 * is signed: for headers no rpmbuild writes (overlapping data, a misaligned value, a
 * region that does not cover the header), with digests that match them.
 */
export function patchHeader(rpm: Buffer, edit: (entries: Entry[]) => Entry[], patch: (h: HeaderBytes) => void, editSignature: (entries: Entry[]) => Entry[] = (e) => e): Buffer {
  const lead = rpm.subarray(0, 96);
  const sig = readHeader(rpm, 96);
  const mainStart = sig.end + ((8 - (sig.end % 8)) % 8);
  const main = readHeader(rpm, mainStart);
  const payload = rpm.subarray(main.end);

  const header = writeHeader(edit(main.entries), main.region ?? 63);
  const il = header.readUInt32BE(8);
  patch({
    header,
    entryOf(tag) {
      for (let i = 0; i < il; i++) if (header.readUInt32BE(16 + 16 * i) === tag) return 16 + 16 * i;
      throw new Error(`patchHeader: no tag ${tag} in the header`);
    },
    dataAt: (at) => 16 + 16 * il + at,
  });
  const md5 = createHash('md5').update(header).update(payload).digest();
  const sha1 = createHash('sha1').update(header).digest('hex');
  const payloadSize = sig.entries.find((e) => e.tag === 1007);
  const signature = writeHeader(
    editSignature([
      int32(1000, header.length + payload.length),
      { tag: 269, type: 6, count: 1, data: Buffer.from(`${sha1}\0`) },
      { tag: 1004, type: 7, count: 16, data: md5 },
      ...(payloadSize ? [payloadSize] : []),
    ]),
    62,
  );
  const pad = Buffer.alloc((8 - (signature.length % 8)) % 8);
  return Buffer.concat([lead, signature, pad, header, payload]);
}

/** The bytes of `rpm` as an rpm older than 4.14 would have written the package. */
export function toLegacyLayout(rpm: Buffer): Buffer {
  return rewriteHeader(rpm, (entries) => entries.filter((e) => !PAYLOAD_DIGEST_TAGS.has(e.tag)));
}

/** A string-array entry (names, versions). */
export const strings = (tag: number, values: string[]): Entry => ({ tag, type: 8, count: values.length, data: Buffer.from(values.map((v) => `${v}\0`).join('')) });

/** An INT32-array entry (flags). */
export function int32s(tag: number, values: number[]): Entry {
  const data = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => data.writeUInt32BE(v >>> 0, 4 * i));
  return { tag, type: 4, count: values.length, data };
}

/** The values of a string-array or INT32-array entry. */
export function valuesOf(e: Entry): (string | number)[] {
  if (e.type === 4) return Array.from({ length: e.count }, (_, i) => e.data.readUInt32BE(4 * i));
  return e.data.toString('utf8').split('\0').slice(0, e.count);
}

/** Writes the legacy form of the package at `from` to `to`. */
export async function writeLegacyRpm(from: string, to: string): Promise<string> {
  await writeFile(to, toLegacyLayout(await readFile(from)));
  return to;
}
