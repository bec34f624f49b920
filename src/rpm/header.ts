// The RPM header structure (rpm: docs/manual/format_header.md): a 16-byte intro, an index
// of 16-byte entries, and a data store. Every read is bounds-checked against the data
// store, so a hostile header yields a HeaderError, never an out-of-range read, a huge
// allocation or a hang: work is proportional to the bytes actually present.

import { HeaderError } from './errors.ts';
import { isStringType, knownType, SIGNATURE_TAG_RULES, Type } from './tags.ts';

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
  /**
   * Where the entry's data must end: the next entry's data, the region trailer or the
   * end of the data store. A fixed-size entry is checked against it at once; strings
   * when they are first read whole, or by checkLayout (scanning every string when the
   * header is parsed, read or not, made parsing 5,000 small headers three times slower).
   */
  limit: number;
  /** Where its data ends: known at once for fixed sizes, for strings once they are found (-1 until then). */
  end: number;
  /** Strings: all `count` of them were found before `limit`. */
  checked: boolean;
}

/** Alignment of each type's values in the data store, indexed by type (rpm: typeAlign). */
const ALIGNMENT = new Uint8Array([1, 1, 1, 2, 4, 8, 1, 1, 1, 1]);

/** The fewest bytes a value of each type takes, indexed by type: a string's NUL at least. */
const LEAST_SIZE = new Uint8Array([0, 1, 1, 2, 4, 8, 1, 1, 1, 1]);

/**
 * The region tag a header of each kind opens with (rpm: docs/manual/hregions.md): its
 * data, a 16-byte trailer at the region's end, says how many index entries the region
 * spans. A header without one (rpm before 4.0.1) is read as it is.
 */
const REGION_TAG = { signature: 62, main: 63 } as const;
const HEADER_IMAGE = 61;
const TRAILER_SIZE = 16;

/** The lowest tag number a header may hold but for its region tag (rpm: hdrchkTag). */
const FIRST_TAG = 100;

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
  private hasRegion = false;
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
    let regionEnd: number | undefined;
    let before: Entry | undefined;
    for (let i = 0; i < entries; i++) {
      const tag = index.getUint32(i * 16);
      const type = index.getUint32(i * 16 + 4);
      const dataOffset = index.getInt32(i * 16 + 8);
      const count = index.getUint32(i * 16 + 12);
      if (i === 0 && tag === REGION_TAG[kind]) {
        regionEnd = this.checkRegion(tag, type, dataOffset, count, entries);
        continue;
      }
      const entry = this.checkEntry(tag, type, dataOffset, count, before, regionEnd);
      // rpm would read one of the two, whichever its binary search meets first.
      if (this.entries.has(tag)) throw new HeaderError(`${kind} header holds tag ${tag} twice`);
      this.entries.set(tag, entry);
      before = entry;
    }
    this.hasRegion = regionEnd !== undefined;
  }

  /**
   * Checks one index entry as rpm's hdrblobVerifyInfo does, so that we list no package
   * rpm refuses to read. Entries lie in the data store in index order, none over
   * another (`before` is the entry before), so reading a header costs in proportion
   * to its size.
   */
  private checkEntry(tag: number, type: number, offset: number, count: number, before: Entry | undefined, regionEnd: number | undefined): Entry {
    const { kind } = this;
    const dataLength = this.data.length;
    if (type < Type.CHAR || type > Type.I18NSTRING) throw new HeaderError(`${kind} header tag ${tag} has unknown type ${type}`);
    if (offset < 0 || offset > dataLength) {
      throw new HeaderError(`${kind} header tag ${tag} points at offset ${offset}, outside the ${dataLength}-byte data store`);
    }
    if (count === 0) throw new HeaderError(`${kind} header tag ${tag} has a zero count`);
    const strings = isStringType(type);
    // Exact for fixed sizes; strings need at least one byte each, which bounds the work of any later scan.
    const leastEnd = offset + LEAST_SIZE[type] * count;
    if (leastEnd > dataLength) {
      throw new HeaderError(strings ? `${kind} header tag ${tag} claims ${count} strings in ${dataLength - offset} bytes` : `${kind} header tag ${tag} needs ${leastEnd - offset} bytes at offset ${offset}, past the data store`);
    }
    if (type === Type.STRING && count !== 1) throw new HeaderError(`${kind} header tag ${tag} is a STRING with count ${count}`);
    if (type !== Type.BIN && count > MAX_ARRAY) throw new HeaderError(`${kind} header tag ${tag} holds ${count} values; rpm reads at most ${MAX_ARRAY} (its hdrchkArray)`);
    if (tag < FIRST_TAG) throw new HeaderError(`${kind} header holds tag ${tag}; tags below ${FIRST_TAG} are rpm's own (its hdrchkTag)`);
    const align = ALIGNMENT[type];
    if (offset % align !== 0) throw new HeaderError(`${kind} header tag ${tag}: its ${align}-byte values start at offset ${offset}, not a multiple of ${align}`);
    // rpm checks types in a main header with a region only (a signature header's tags have their own numbers).
    if (kind === 'main' && regionEnd !== undefined) {
      const known = knownType(tag);
      if (known !== Type.NULL && known !== type && !(isStringType(known) && isStringType(type))) {
        throw new HeaderError(`${kind} header tag ${tag} has type ${type}; rpm reads it as type ${known}`);
      }
    }
    if (before) {
      // The entry before ends at least 1 byte per string after its start, exactly for fixed sizes.
      const beforeEnd = before.offset + LEAST_SIZE[before.type] * before.count;
      if (offset < beforeEnd) {
        const beforeTag = [...this.entries].find(([, e]) => e === before)?.[0];
        throw new HeaderError(`${kind} header tag ${tag}: its data at offset ${offset} overlaps the data of tag ${beforeTag} before it (at offset ${before.offset})`);
      }
    }
    const inRegion = regionEnd !== undefined && offset < regionEnd;
    const limit = inRegion ? regionEnd - TRAILER_SIZE : dataLength;
    if (inRegion && leastEnd > limit) {
      throw new HeaderError(`${kind} header tag ${tag}: its data (offset ${offset} to at least ${leastEnd}) runs into the region trailer at ${limit}`);
    }
    if (before !== undefined && offset < before.limit) before.limit = offset;
    return { type, offset, count, limit, end: strings ? -1 : leastEnd, checked: !strings };
  }

  /**
   * Checks what rpm checks of a header once its strings are known: every string
   * entry's strings end before the data after them (those read whole were checked as
   * they were read), and the entries' data, laid end to end in index order, each padded
   * to its values' alignment, fill the data store but for the region trailer (rpm's
   * hdrblobImport: "hdr load: BAD").
   */
  checkLayout(): void {
    let laid = 0;
    // forEach, not for-of: destructuring [tag, entry] allocated an array per entry (a
    // tenth of what reading a small package allocates).
    this.entries.forEach((entry, tag) => {
      if (!entry.checked) {
        const end = this.stringsEnd(entry.offset, entry.limit, entry.count);
        if (end === -1) this.scanStrings(tag, entry, entry.count, undefined); // says which string runs over
        entry.end = end;
        entry.checked = true;
      }
      const align = ALIGNMENT[entry.type];
      laid += (align - (laid % align)) % align;
      laid += entry.end - entry.offset;
      if (this.kind === 'signature') this.checkSignatureShape(tag, entry);
    });
    const room = this.data.length - (this.hasRegion ? TRAILER_SIZE : 0);
    if (laid !== room) {
      throw new HeaderError(`${this.kind} header: its entries' data, laid end to end as rpm lays them (each after the one before, aligned), take ${laid} bytes, not the ${room} of its data store${this.hasRegion ? ' before the region trailer' : ''}: bytes between entries belong to none (rpm: hdr load: BAD)`);
    }
  }

  /**
   * Where the `count` strings at `from` end (after the last NUL), or -1 if they do not
   * end before `to`. Four bytes at a time: a large package's file digests are 24,000
   * strings, where a call to indexOf per string cost 2 % of a createrepo.
   */
  private stringsEnd(from: number, to: number, count: number): number {
    const { data, view } = this;
    let left = count;
    let pos = from;
    for (; pos + 4 <= to; pos += 4) {
      const word = view.getUint32(pos);
      // Non-zero exactly when one of the word's bytes is zero.
      if (((word - 0x01010101) & ~word & 0x80808080) === 0) continue;
      for (let k = pos; k < pos + 4; k++) if (data[k] === 0 && --left === 0) return k + 1;
    }
    for (; pos < to; pos++) if (data[pos] === 0 && --left === 0) return pos + 1;
    return -1;
  }

  /** A signature tag rpm reads has the type, count and size rpm gives it. */
  private checkSignatureShape(tag: number, entry: Entry): void {
    const rule = SIGNATURE_TAG_RULES.get(tag);
    if (!rule) return;
    const size = entry.end - entry.offset;
    if (rule.type !== entry.type || (rule.count !== undefined && rule.count !== entry.count) || (rule.size !== undefined && rule.size !== size)) {
      const wanted = [`type ${rule.type}`, rule.count !== undefined && `count ${rule.count}`, rule.size !== undefined && `${rule.size} bytes`].filter(Boolean).join(', ');
      throw new HeaderError(`signature header tag ${tag} has type ${entry.type}, count ${entry.count}, ${size} bytes; rpm reads it only as ${wanted}`);
    }
  }

  /**
   * rpm copies the signature tags into the main header it reads; the main header may
   * not hold one of them itself (but for those rpm 4.14 moved between the two, when
   * the signature header lacks it). `sig` is the package's signature header.
   */
  checkSignatureTagsAbsent(sig: Header): void {
    SIGNATURE_TAG_RULES.forEach((rule, sigTag) => {
      if (!this.entries.has(rule.mainTag)) return;
      if (rule.eitherHeader && !sig.has(sigTag)) return;
      throw new HeaderError(`main header holds tag ${rule.mainTag}, which rpm fills from the signature header's tag ${sigTag} (rpm: invalid signature tag)`);
    });
  }

  /** What lies at an entry's limit, for its error. */
  private whatIsAt(limit: number): string {
    for (const [tag, entry] of this.entries) if (entry.offset === limit) return `where the data of tag ${tag} begins`;
    return limit === this.data.length ? 'the end of the data store' : 'the region trailer';
  }

  /**
   * Checks the region tag a header opens with, and the trailer its data points at, as
   * rpm's hdrblobVerifyRegion does; returns where the region's data ends.
   */
  private checkRegion(tag: number, type: number, offset: number, count: number, entries: number): number {
    const { kind } = this;
    const dataLength = this.data.length;
    if (type !== Type.BIN || count !== TRAILER_SIZE) {
      throw new HeaderError(`${kind} header region tag ${tag} has type ${type} and count ${count} (a region tag is BIN with count ${TRAILER_SIZE})`);
    }
    if (offset < 0 || offset + TRAILER_SIZE > dataLength) {
      throw new HeaderError(`${kind} header region tag ${tag}: its trailer at offset ${offset} is outside the ${dataLength}-byte data store`);
    }
    let trailerTag = this.view.getUint32(offset);
    // rpm fixes this up: some old packages' signature trailers name HEADERIMAGE.
    if (kind === 'signature' && trailerTag === HEADER_IMAGE) trailerTag = tag;
    const trailerType = this.view.getUint32(offset + 4);
    const span = -this.view.getInt32(offset + 8);
    const trailerCount = this.view.getUint32(offset + 12);
    if (trailerTag !== tag || trailerType !== Type.BIN || trailerCount !== TRAILER_SIZE) {
      throw new HeaderError(`${kind} header region trailer at offset ${offset} is not region tag ${tag}'s (tag ${trailerTag}, type ${trailerType}, count ${trailerCount})`);
    }
    const regionEnd = offset + TRAILER_SIZE;
    const regionEntries = span / 16;
    if (!Number.isInteger(regionEntries) || regionEntries < 0 || regionEntries > entries) {
      throw new HeaderError(`${kind} header region trailer spans ${span} bytes of index, not a whole number of its ${entries} entries`);
    }
    // rpm reads a package's main header "exact": its region is the whole header.
    if (kind === 'main' && (regionEntries !== entries || regionEnd !== dataLength)) {
      throw new HeaderError(`${kind} header region covers ${regionEntries} of ${entries} entries and ${regionEnd} of ${dataLength} bytes; in a package it is the whole header`);
    }
    return regionEnd;
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
    if (!isStringType(entry.type)) {
      throw new HeaderError(`${this.kind} header tag ${tag} has type ${entry.type}, expected a string type`);
    }
    const out: string[] = new Array(count);
    this.scanStrings(tag, entry, count, out);
    return out;
  }

  /** Finds the first `count` strings of an entry before its limit, decoded into `out` if given. */
  private scanStrings(tag: number, entry: Entry, count: number, out: string[] | undefined): void {
    const data = this.data;
    let pos = entry.offset;
    for (let i = 0; i < count; i++) {
      const nul = data.indexOf(0, pos);
      if (nul === -1 || nul >= entry.limit) {
        throw new HeaderError(`${this.kind} header tag ${tag}: string ${i} of ${entry.count} runs past offset ${entry.limit}, ${this.whatIsAt(entry.limit)}`);
      }
      if (out) out[i] = decodeRange(data, pos, nul);
      pos = nul + 1;
    }
    if (count < entry.count) return;
    entry.end = pos;
    entry.checked = true;
  }

  /** A single string; for I18NSTRING the first (default-locale) entry. */
  string(tag: number): string | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    return this.decodeStrings(tag, entry, 1)[0];
  }

  /** The strings of a tag; with `most`, only the first `most` of them (the rest are still checked by checkLayout). */
  strings(tag: number, most?: number): string[] | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    return this.decodeStrings(tag, entry, most === undefined ? entry.count : Math.min(most, entry.count));
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
