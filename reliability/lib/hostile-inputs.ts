// Hostile inputs for the hostile scenario, made from real files: RPM packages cut and
// corrupted at their structure boundaries by byte surgery, compression bombs built by
// concatenating small compressed members (streamed to disk, never held whole),
// tampered createrepo_c repos, and a raw HTTP client that sends exactly the bytes it is
// given (NUL, backslashes, bad encodings, absolute-form targets), which node:http would
// refuse to send.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';

// ---------------------------------------------------------------------------------
// RPM byte surgery (rpm: docs/manual/format_header.md; src/rpm/header.ts)

/** Where the structures of an RPM file lie. */
export interface RpmLayout {
  size: number;
  /** Signature header: intro at 96, index at 112. */
  sigIl: number;
  sigDl: number;
  sigData: number;
  /** Padding after the signature store (to a multiple of 8). */
  sigPad: number;
  mainStart: number;
  mainIl: number;
  mainDl: number;
  mainIndex: number;
  mainData: number;
  /** Where the payload begins. */
  headerEnd: number;
}

export function rpmLayout(b: Buffer): RpmLayout {
  const sigIl = b.readUInt32BE(96 + 8);
  const sigDl = b.readUInt32BE(96 + 12);
  const sigData = 112 + 16 * sigIl;
  const sigPad = (8 - (sigDl % 8)) % 8;
  const mainStart = sigData + sigDl + sigPad;
  const mainIl = b.readUInt32BE(mainStart + 8);
  const mainDl = b.readUInt32BE(mainStart + 12);
  const mainIndex = mainStart + 16;
  const mainData = mainIndex + 16 * mainIl;
  return { size: b.length, sigIl, sigDl, sigData, sigPad, mainStart, mainIl, mainDl, mainIndex, mainData, headerEnd: mainData + mainDl };
}

export interface HostileFile {
  /** Short name, also the file name (NAME.rpm). */
  name: string;
  what: string;
  bytes?: Buffer;
  /** A sparse file of this many bytes, written over by `bytes` at 0. */
  sparseSize?: number;
}

function mutate(good: Buffer, fn: (b: Buffer) => void): Buffer {
  const b = Buffer.from(good);
  fn(b);
  return b;
}

/** Broken and hostile variants of a good RPM file, one per structure and limit. */
export function rpmSurgery(good: Buffer): HostileFile[] {
  const L = rpmLayout(good);
  const cut = (name: string, at: number, what: string): HostileFile => ({ name, what: `${what} (cut at ${at} of ${L.size} bytes)`, bytes: good.subarray(0, at) });
  const entry = (i: number) => L.mainIndex + 16 * i;
  const out: HostileFile[] = [
    { name: 'empty', what: 'an empty file', bytes: Buffer.alloc(0) },
    cut('cut-lead', 50, 'truncated inside the lead'),
    cut('cut-after-lead', 96, 'truncated after the lead'),
    cut('cut-sig-intro', 104, 'truncated inside the signature header intro'),
    cut('cut-sig-index', 112 + 8, 'truncated inside the signature index'),
    cut('cut-sig-store', L.sigData + Math.floor(L.sigDl / 2), 'truncated inside the signature data store'),
  ];
  if (L.sigPad > 0) out.push(cut('cut-sig-padding', L.sigData + L.sigDl + 1, 'truncated inside the signature padding'));
  out.push(
    cut('cut-main-intro', L.mainStart + 9, 'truncated inside the main header intro'),
    cut('cut-main-index', L.mainIndex + 16 * Math.floor(L.mainIl / 2) + 3, 'truncated inside the main index'),
    cut('cut-main-store', L.mainData + Math.floor(L.mainDl / 2), 'truncated inside the main data store'),
    cut('cut-at-payload', L.headerEnd, 'truncated where the payload begins'),
    cut('cut-payload', L.headerEnd + Math.floor((L.size - L.headerEnd) / 2), 'truncated inside the payload'),
    cut('cut-last-byte', L.size - 1, 'one byte short'),
    { name: 'trailing-garbage', what: 'trailing garbage after the payload', bytes: Buffer.concat([good, Buffer.from('garbage after the payload\n')]) },
    { name: 'lead-magic', what: 'wrong lead magic (text, not an RPM)', bytes: Buffer.from('<html><body>404 Not Found</body></html>\n'.repeat(8)) },
    { name: 'sig-magic', what: 'wrong signature header magic', bytes: mutate(good, (b) => b.writeUInt8(0, 96)) },
    { name: 'main-magic', what: 'wrong main header magic', bytes: mutate(good, (b) => b.writeUInt8(0, L.mainStart + 1)) },
    { name: 'sig-il-huge', what: 'signature index count 0xffffffff', bytes: mutate(good, (b) => b.writeUInt32BE(0xffffffff, 96 + 8)) },
    { name: 'sig-dl-huge', what: 'signature data length 0x7fffffff (2 GiB)', bytes: mutate(good, (b) => b.writeUInt32BE(0x7fffffff, 96 + 12)) },
    { name: 'main-il-huge', what: 'main index count 0xffffffff', bytes: mutate(good, (b) => b.writeUInt32BE(0xffffffff, L.mainStart + 8)) },
    { name: 'main-dl-huge', what: 'main data length 0xffffffff (4 GiB)', bytes: mutate(good, (b) => b.writeUInt32BE(0xffffffff, L.mainStart + 12)) },
    {
      name: 'main-dl-256mib-sparse',
      what: "main data length 0x0fffffff (rpm's 256 MiB limit) in a sparse 300 MiB file",
      bytes: mutate(good, (b) => b.writeUInt32BE(0x0fffffff, L.mainStart + 12)),
      sparseSize: 300 * 2 ** 20,
    },
    { name: 'entry-offset-out', what: 'an index entry pointing past the data store', bytes: mutate(good, (b) => b.writeInt32BE(L.mainDl + 64, entry(1) + 8)) },
    { name: 'entry-offset-negative', what: 'an index entry with a negative offset', bytes: mutate(good, (b) => b.writeInt32BE(-8, entry(1) + 8)) },
    { name: 'entry-count-huge', what: 'an index entry with count 0x7fffffff', bytes: mutate(good, (b) => b.writeUInt32BE(0x7fffffff, entry(1) + 12)) },
    { name: 'entry-type-unknown', what: 'an index entry of unknown type 99', bytes: mutate(good, (b) => b.writeUInt32BE(99, entry(1) + 4)) },
    { name: 'strings-no-nul', what: 'strings without terminator (data store all 0x41)', bytes: mutate(good, (b) => b.fill(0x41, L.mainData, L.headerEnd)) },
  );
  return out;
}

/** Writes a hostile file (sparse when asked: no disk blocks for the zeros). */
export async function writeHostile(path: string, f: HostileFile): Promise<void> {
  const fh = await open(path, 'w');
  try {
    if (f.bytes) await fh.write(f.bytes, 0, f.bytes.length, 0);
    if (f.sparseSize) await fh.truncate(f.sparseSize);
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------
// Compression bombs and XML bombs

export const PRIMARY_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">\n';

/** 1 MiB of well-formed filler: an empty element, then spaces (no text accumulates past 1 KiB). */
function fillerMiB(): Buffer {
  const block = Buffer.alloc(1024, 0x20);
  block.write('<x/>\n');
  return Buffer.concat(Array.from({ length: 1024 }, () => block));
}

/**
 * A compressed primary.xml that opens like a real one and then expands to `mib` MiB:
 * one member for the head, then the same compressed 1 MiB member again and again
 * (gzip and xz both read concatenated members as one stream). Streamed to `path`.
 */
export async function writeBomb(path: string, kind: 'gz' | 'xz', mib: number): Promise<number> {
  const compress = (data: Buffer) => (kind === 'gz' ? zlib.gzipSync(data, { level: 9 }) : execFileSync('xz', ['-9', '-T1', '-c'], { input: data }));
  const head = compress(Buffer.from(PRIMARY_HEAD));
  const member = compress(fillerMiB());
  const out = createWriteStream(path);
  let size = 0;
  const put = async (b: Buffer) => {
    size += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  await put(head);
  for (let i = 0; i < mib; i++) await put(member);
  out.end();
  await once(out, 'close');
  return size;
}

/** The classic billion laughs: ten levels of ten references, 10^9 "lol"s if expanded. */
export function billionLaughs(root: string, body: string): string {
  const lines = ['<?xml version="1.0"?>', `<!DOCTYPE ${root} [`, '  <!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lines.push(`  <!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  lines.push(']>', body);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------
// Tampering with a createrepo_c repo (made with --simple-md-filenames)

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Replaces the primary record's file with `data` at `href`, and repomd's record to match. */
export async function replacePrimary(repo: string, data: Buffer, opts: { href?: string; open?: Buffer; listedSize?: number; checksum?: string } = {}): Promise<void> {
  const repomdPath = join(repo, 'repodata/repomd.xml');
  const xml = await readFile(repomdPath, 'utf8');
  const href = opts.href ?? 'repodata/primary.xml.gz';
  await writeFile(join(repo, href), data);
  const next = xml.replace(/(<data type="primary">)([\s\S]*?)(<\/data>)/, (_m, a: string, body: string, z: string) => {
    let b = body
      .replace(/<checksum type="[^"]*">[^<]*<\/checksum>/, `<checksum type="sha256">${opts.checksum ?? sha256(data)}</checksum>`)
      .replace(/<location href="[^"]*"\/>/, `<location href="${href}"/>`)
      .replace(/<size>\d+<\/size>/, `<size>${opts.listedSize ?? data.length}</size>`);
    // The open-* fields describe the uncompressed text; drop them unless we know it.
    if (opts.open) {
      b = b.replace(/<open-checksum type="[^"]*">[^<]*<\/open-checksum>/, `<open-checksum type="sha256">${sha256(opts.open)}</open-checksum>`).replace(/<open-size>\d+<\/open-size>/, `<open-size>${opts.open.length}</open-size>`);
    } else {
      b = b.replace(/\s*<open-checksum[^>]*>[^<]*<\/open-checksum>/, '').replace(/\s*<open-size>\d+<\/open-size>/, '');
    }
    return a + b + z;
  });
  await writeFile(repomdPath, next);
}

/** The uncompressed text of the repo's primary.xml.gz. */
export async function primaryText(repo: string): Promise<string> {
  return zlib.gunzipSync(await readFile(join(repo, 'repodata/primary.xml.gz'))).toString('utf8');
}

/** Rewrites primary.xml (text → text), recompressed, with repomd.xml updated. */
export async function rewritePrimary(repo: string, fn: (xml: string) => string): Promise<void> {
  const text = Buffer.from(fn(await primaryText(repo)));
  await replacePrimary(repo, zlib.gzipSync(text), { open: text });
}

/** Sets the location href of the package whose href is `from`. */
export const relocate = (from: string, to: string) => (xml: string) => {
  const next = xml.replace(`<location href="${from}"/>`, `<location href="${to}"/>`);
  if (next === xml) throw new Error(`primary.xml has no package at ${from}`);
  return next;
};

// ---------------------------------------------------------------------------------
// HTTP, with nothing in the way

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the final blank
 * line) and `body` on a fresh connection with `Connection: close`, and reads the
 * whole answer. status 0: the server closed without answering.
 */
export async function rawHttp(url: string, head: Buffer | string, body?: Buffer): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  await once(socket, 'connect');
  socket.write(Buffer.concat([Buffer.from(head), Buffer.from('\r\nConnection: close\r\n\r\n'), body ?? Buffer.alloc(0)]));
  const timer = setTimeout(() => socket.destroy(), 30_000);
  await done;
  clearTimeout(timer);
  const all = Buffer.concat(chunks);
  const split = all.indexOf('\r\n\r\n');
  const headText = (split === -1 ? all : all.subarray(0, split)).toString('latin1');
  const [statusLine, ...headerLines] = headText.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split === -1 ? Buffer.alloc(0) : all.subarray(split + 4) };
}

/** A GET of a raw request target (bytes as given). */
export function rawGet(url: string, target: Buffer | string, method = 'GET', extraHeaders = ''): Promise<RawResponse> {
  const host = new URL(url).host;
  return rawHttp(url, Buffer.concat([Buffer.from(`${method} `), Buffer.from(target), Buffer.from(` HTTP/1.1\r\nHost: ${host}${extraHeaders ? `\r\n${extraHeaders}` : ''}`)]));
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Bytes of the request body written before the answer came (or the end). */
  sent: number;
  error?: string;
}

/**
 * A request whose body streams from `chunks` with backpressure; stops sending once
 * the answer arrives (a server that refuses a large body answers early). With
 * `abortAfter`, the connection is destroyed after that many body bytes.
 */
export function streamRequest(
  url: string,
  opts: { method: string; path: string; headers: Record<string, string>; chunks?: () => Iterable<Buffer>; abortAfter?: number },
): Promise<HttpResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const req = request(new URL(opts.path, url), { method: opts.method, headers: opts.headers, agent: false }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), sent });
        req.destroy();
      });
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), sent, error: e.message }));
    });
    req.on('error', (e) => {
      if (!answered) resolve({ status: 0, headers: {}, body: Buffer.alloc(0), sent, error: e.message });
    });
    (async () => {
      for (const chunk of opts.chunks?.() ?? []) {
        if (answered || req.destroyed) return;
        if (opts.abortAfter !== undefined && sent + chunk.length > opts.abortAfter) {
          req.destroy();
          resolve({ status: 0, headers: {}, body: Buffer.alloc(0), sent, error: 'aborted by the client' });
          return;
        }
        sent += chunk.length;
        if (!req.write(chunk))
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off('drain', done);
              req.off('close', done);
              resolve();
            };
            req.on('drain', done);
            req.on('close', done);
          });
      }
      if (!req.destroyed) req.end();
    })().catch(() => {});
  });
}

/** `count` chunks of `size` bytes (the same buffer: no memory per chunk). */
export function* repeatChunks(size: number, count: number, fill = 0x20): Iterable<Buffer> {
  const b = Buffer.alloc(size, fill);
  for (let i = 0; i < count; i++) yield b;
}
