// Splits existing primary, filelists and other files into per-package chunks of raw
// bytes, reading only the few fields needed to decide whether a package changed.
// `createrepo --update` copies the chunks of unchanged packages into the new files
// instead of parsing and re-rendering them: the bytes are what we would write again.
//
// The splitter only accepts the layout createrepo_c and txrepo write (one <package>
// element after another under the usual root and namespaces). Anything else returns
// undefined, and the caller falls back to reading the packages.

export interface PrimaryChunk {
  /** The <package> element, through its closing tag and the newline after it. */
  bytes: Uint8Array;
  pkgid: string;
  checksumType: string;
  href: string;
  base?: string;
  timeFile: number;
  sizePackage: number;
}

const OPEN = Buffer.from('<package ');
const CLOSE = Buffer.from('</package>\n');

function* elements(buf: Buffer): Generator<Buffer> {
  let at = buf.indexOf(OPEN);
  while (at !== -1) {
    const end = buf.indexOf(CLOSE, at);
    if (end === -1) throw new Error('unterminated <package>');
    const next = buf.indexOf(OPEN, at + OPEN.length);
    if (next !== -1 && next < end) throw new Error('nested <package>');
    yield buf.subarray(at, end + CLOSE.length);
    at = buf.indexOf(OPEN, end);
  }
}

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#x([0-9a-fA-F]+)|#([0-9]+));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_m, name: string, hex: string, dec: string) =>
    name ? NAMED[name] : String.fromCodePoint(hex ? parseInt(hex, 16) : parseInt(dec, 10)),
  );
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name.replace(':', '\\:')}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]) : undefined;
}

/** The text of the first `<name ...>` start tag in `el`, or undefined. */
function startTag(el: string, name: string): string | undefined {
  const at = el.indexOf(`<${name}`);
  if (at === -1) return undefined;
  const end = el.indexOf('>', at);
  return end === -1 ? undefined : el.slice(at, end + 1);
}

function rootOk(buf: Buffer, root: string, namespaces: string[]): boolean {
  const head = buf.subarray(0, Math.min(buf.length, 4096)).toString('latin1');
  const start = startTag(head, root);
  return start !== undefined && namespaces.every((ns) => start.includes(ns));
}

export function splitPrimary(buf: Buffer): PrimaryChunk[] | undefined {
  if (!rootOk(buf, 'metadata', ['xmlns="http://linux.duke.edu/metadata/common"', 'xmlns:rpm="http://linux.duke.edu/metadata/rpm"'])) return undefined;
  const out: PrimaryChunk[] = [];
  try {
    for (const el of elements(buf)) {
      // Fields we need all precede <format>, so only the element's head is decoded.
      const formatAt = el.indexOf('<format>');
      const head = el.subarray(0, formatAt === -1 ? el.length : formatAt).toString('utf8');
      const checksum = /<checksum type="([^"]+)" pkgid="YES">([0-9a-f]+)<\/checksum>/.exec(head);
      const location = startTag(head, 'location');
      const time = startTag(head, 'time');
      const size = startTag(head, 'size');
      const href = location && attr(location, 'href');
      const timeFile = time && attr(time, 'file');
      const sizePackage = size && attr(size, 'package');
      if (!checksum || !href || !timeFile || !sizePackage || !/^[0-9]+$/.test(timeFile) || !/^[0-9]+$/.test(sizePackage)) return undefined;
      const chunk: PrimaryChunk = { bytes: el, pkgid: checksum[2], checksumType: checksum[1], href, timeFile: Number(timeFile), sizePackage: Number(sizePackage) };
      const base = attr(location, 'xml:base');
      if (base) chunk.base = base;
      out.push(chunk);
    }
  } catch {
    return undefined;
  }
  return out;
}

/** filelists or other: chunks by pkgid, in file order (a pkgid may repeat). */
export function splitByPkgid(buf: Buffer, root: 'filelists' | 'otherdata'): Map<string, Uint8Array[]> | undefined {
  const ns = root === 'filelists' ? 'xmlns="http://linux.duke.edu/metadata/filelists"' : 'xmlns="http://linux.duke.edu/metadata/other"';
  if (!rootOk(buf, root, [ns])) return undefined;
  const out = new Map<string, Uint8Array[]>();
  try {
    for (const el of elements(buf)) {
      const m = /^<package pkgid="([0-9a-f]+)"/.exec(el.subarray(0, 200).toString('latin1'));
      if (!m) return undefined;
      const list = out.get(m[1]);
      if (list) list.push(el);
      else out.set(m[1], [el]);
    }
  } catch {
    return undefined;
  }
  return out;
}
