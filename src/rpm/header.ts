// The RPM header structure (rpm: docs/manual/format_header.md): a 16-byte intro, an index
// of 16-byte entries, and a data store. Every read is bounds-checked against the data
// store, so a hostile header yields a HeaderError, never an out-of-range read, a huge
// allocation or a hang: work is proportional to the bytes actually present.

import { HeaderError } from './errors.ts';
import { Type } from './tags.ts';

export const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01] as const;

/**
 * The most values a tag may hold (but BIN, a count of bytes), as rpm's hdrchkArray
 * says: rpm refuses a package with more ("tag[N]: BAD"), so dnf could not install one
 * we listed, and 3,000,000 requires in a 30 MB package cost us 5 s and 1.2 GB.
 */
export const MAX_ARRAY = 0xfffff;

/** Limits from rpm's hdrblobVerifyLengths. */
export const LIMITS = {
  signature: { maxEntries: 32, maxData: 64 * 1024 * 1024 },
  main: { maxEntries: 0xffff, maxData: 0x0fffffff },
} as const;

export type HeaderKind = keyof typeof LIMITS;

/** Size of a header starting at `offset`, read from its intro; checks magic and limits. */
export function headerSize(buf: Uint8Array, offset: number, kind: HeaderKind): { entries: number; dataLength: number; size: number } {
  if (offset + 16 > buf.length) throw new HeaderError(`truncated: the ${kind} header intro needs 16 bytes at offset ${offset}`);
  for (let i = 0; i < 4; i++) {
    if (buf[offset + i] !== HEADER_MAGIC[i]) throw new HeaderError(`bad ${kind} header magic at offset ${offset}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const entries = view.getUint32(offset + 8);
  const dataLength = view.getUint32(offset + 12);
  const limit = LIMITS[kind];
  if (entries < 1 || entries > limit.maxEntries) {
    throw new HeaderError(`${kind} header has ${entries} index entries (allowed: 1 to ${limit.maxEntries})`);
  }
  if (dataLength > limit.maxData) {
    throw new HeaderError(`${kind} header data store is ${dataLength} bytes (limit ${limit.maxData})`);
  }
  return { entries, dataLength, size: 16 + 16 * entries + dataLength };
}

interface Entry {
  type: number;
  offset: number;
  count: number;
}

const FIXED_SIZE: Record<number, number> = {
  [Type.CHAR]: 1,
  [Type.INT8]: 1,
  [Type.INT16]: 2,
  [Type.INT32]: 4,
  [Type.INT64]: 8,
  [Type.BIN]: 1,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes header text the way createrepo_c writes it: valid UTF-8 as is, anything else
 * read as Latin-1, dropping C0 controls (but TAB, LF, CR) and the C1 range 0x80-0xBF,
 * which in practice marks misencoded CP-1252 rather than real Latin-1.
 */
export function decodeText(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeRange(buf, 0, buf.length);
}

/** decodeText over buf[start, end), without allocating a view on the fast path. */
function decodeRange(buf: Buffer, start: number, end: number): string {
  const s = buf.toString('utf8', start, end);
  // U+FFFD marks bytes that were not UTF-8 (or a literal U+FFFD: the strict check tells).
  if (!s.includes('\ufffd')) return s;
  const bytes = buf.subarray(start, end);
  try {
    return utf8.decode(bytes);
  } catch {
    let out = '';
    for (const b of bytes) {
      if (b < 32 && b !== 9 && b !== 10 && b !== 13) continue;
      if (b >= 0x80 && b < 0xc0) continue;
      out += String.fromCharCode(b);
    }
    return out;
  }
}


/** One parsed header: typed, bounds-checked access to its tags. */
export class Header {
  readonly kind: HeaderKind;
  /** Total bytes of the header structure (intro + index + data). */
  readonly size: number;
  private readonly entries = new Map<number, Entry>();
  private readonly data: Buffer;
  private readonly view: DataView;

  constructor(buf: Uint8Array, offset: number, kind: HeaderKind) {
    const { entries, dataLength, size } = headerSize(buf, offset, kind);
    if (offset + size > buf.length) {
      throw new HeaderError(`truncated: the ${kind} header needs ${size} bytes at offset ${offset}, ${buf.length - offset} present`);
    }
    this.kind = kind;
    this.size = size;
    const indexStart = offset + 16;
    const dataStart = indexStart + 16 * entries;
    this.data = Buffer.from(buf.buffer, buf.byteOffset + dataStart, dataLength);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    const index = new DataView(buf.buffer, buf.byteOffset + indexStart, 16 * entries);
    for (let i = 0; i < entries; i++) {
      const tag = index.getUint32(i * 16);
      const type = index.getUint32(i * 16 + 4);
      const dataOffset = index.getInt32(i * 16 + 8);
      const count = index.getUint32(i * 16 + 12);
      if (type < Type.CHAR || type > Type.I18NSTRING) throw new HeaderError(`${kind} header tag ${tag} has unknown type ${type}`);
      if (dataOffset < 0 || dataOffset > dataLength) {
        throw new HeaderError(`${kind} header tag ${tag} points at offset ${dataOffset}, outside the ${dataLength}-byte data store`);
      }
      if (count === 0) throw new HeaderError(`${kind} header tag ${tag} has a zero count`);
      const fixed = FIXED_SIZE[type];
      if (fixed !== undefined && dataOffset + fixed * count > dataLength) {
        throw new HeaderError(`${kind} header tag ${tag} needs ${fixed * count} bytes at offset ${dataOffset}, past the data store`);
      }
      // Strings need at least one byte each; this bounds the work of any later scan.
      if (fixed === undefined && count > dataLength - dataOffset) {
        throw new HeaderError(`${kind} header tag ${tag} claims ${count} strings in ${dataLength - dataOffset} bytes`);
      }
      if (type === Type.STRING && count !== 1) throw new HeaderError(`${kind} header tag ${tag} is a STRING with count ${count}`);
      if (type !== Type.BIN && count > MAX_ARRAY) throw new HeaderError(`${kind} header tag ${tag} holds ${count} values; rpm reads at most ${MAX_ARRAY} (its hdrchkArray)`);
      this.entries.set(tag, { type, offset: dataOffset, count });
    }
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** How many values a tag holds (its index entry's count), without decoding them. */
  count(tag: number): number | undefined {
    return this.entries.get(tag)?.count;
  }

  /** The first `count` strings of a STRING, STRING_ARRAY or I18NSTRING tag. */
  private decodeStrings(tag: number, entry: Entry, count: number): string[] {
    if (entry.type !== Type.STRING && entry.type !== Type.STRING_ARRAY && entry.type !== Type.I18NSTRING) {
      throw new HeaderError(`${this.kind} header tag ${tag} has type ${entry.type}, expected a string type`);
    }
    const out: string[] = new Array(count);
    let pos = entry.offset;
    const data = this.data;
    for (let i = 0; i < count; i++) {
      const nul = data.indexOf(0, pos);
      if (nul === -1) throw new HeaderError(`${this.kind} header tag ${tag}: string ${i} runs past the data store`);
      out[i] = decodeRange(data, pos, nul);
      pos = nul + 1;
    }
    return out;
  }

  /** A single string; for I18NSTRING the first (default-locale) entry. */
  string(tag: number): string | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    return this.decodeStrings(tag, entry, 1)[0];
  }

  strings(tag: number): string[] | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    return this.decodeStrings(tag, entry, entry.count);
  }

  /** Integer values of a CHAR/INT8/INT16/INT32/INT64 tag, unsigned as rpm reads them. */
  numbers(tag: number): number[] | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    const { type, offset, count } = entry;
    const out: number[] = new Array(count);
    switch (type) {
      case Type.CHAR:
      case Type.INT8:
        for (let i = 0; i < count; i++) out[i] = this.data[offset + i];
        break;
      case Type.INT16:
        for (let i = 0; i < count; i++) out[i] = this.view.getUint16(offset + 2 * i);
        break;
      case Type.INT32:
        for (let i = 0; i < count; i++) out[i] = this.view.getUint32(offset + 4 * i);
        break;
      case Type.INT64:
        for (let i = 0; i < count; i++) out[i] = Number(this.view.getBigUint64(offset + 8 * i));
        break;
      default:
        throw new HeaderError(`${this.kind} header tag ${tag} has type ${type}, expected an integer type`);
    }
    return out;
  }

  /** The bytes of a BIN tag (a view into the header, not a copy). */
  binary(tag: number): Uint8Array | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    if (entry.type !== Type.BIN) throw new HeaderError(`${this.kind} header tag ${tag} has type ${entry.type}, expected BIN`);
    return this.data.subarray(entry.offset, entry.offset + entry.count);
  }

  number(tag: number): number | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    return this.numbers(tag)![0];
  }
}
