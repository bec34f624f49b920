// Reads primary, filelists and other XML back into package records (for
// `createrepo --update`, and for mirroring upstream repos). Streaming and bounded:
// decompressed sizes are capped, DOCTYPEs (and so entity definitions) are refused,
// unknown entities are errors.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { malformed, xmlParser } from './sax.ts';
import type { ChangelogEntry, Dependency, DependencyFlags, PackageRecord } from '../rpm/index.ts';
import { compressionOf, createDecompressor, DecompressionLimitError, limitBytes } from './compression.ts';
import { Failure } from '../common/index.ts';

export class MetadataParseError extends Failure {
  override name = 'MetadataParseError';
  readonly kind = 'bad_metadata';
}

export interface ParseLimits {
  /** Maximum decompressed size of one metadata file. */
  maxBytes: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 8 * 1024 * 1024 * 1024 };

type Attrs = Record<string, string>;

interface Handler {
  open(name: string, attrs: Attrs, depth: number): void;
  close(name: string, text: string, depth: number): void;
}

/** Feeds a (possibly compressed) XML stream to a handler, element by element. */
async function parseXml(input: Readable, name: string, source: string, handler: Handler, limits: ParseLimits): Promise<void> {
  const parser = xmlParser();
  let depth = 0;
  let text = '';
  let failure: Error | undefined;
  const fail = (msg: string) => {
    failure ??= new MetadataParseError(`${source}: ${msg}`);
  };
  // The parser goes on after an error; we stop at the next chunk instead.
  parser.on('error', (e) => fail(malformed(e)));
  parser.on('doctype', () => fail('a DOCTYPE is not allowed in repository metadata'));
  parser.on('opentag', (node) => {
    depth++;
    text = '';
    try {
      handler.open(node.name, node.attributes as Attrs, depth);
    } catch (e) {
      fail((e as Error).message);
    }
  });
  parser.on('text', (t) => {
    // Only leaf text is used; cap what one element may accumulate.
    if (text.length < 16 * 1024 * 1024) text += t;
    else fail('an element holds more than 16 MiB of text');
  });
  parser.on('closetag', (node) => {
    try {
      handler.close(node.name, text, depth);
    } catch (e) {
      fail((e as Error).message);
    }
    text = '';
    depth--;
  });
  const stages: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [input];
  const decompressor = createDecompressor(compressionOf(name), source);
  if (decompressor) stages.push(decompressor);
  stages.push(limitBytes(limits.maxBytes, source));
  // Invalid UTF-8 becomes U+FFFD rather than an error: the parser still sees
  // well-formed text, and a strict decoder costs more than the parse itself.
  const decoder = new StringDecoder('utf8');
  stages.push(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (failure) return cb(failure);
        try {
          parser.write(decoder.write(chunk));
        } catch (e) {
          fail((e as Error).message);
        }
        cb(failure);
      },
      final(cb) {
        try {
          parser.write(decoder.end());
          parser.close();
        } catch (e) {
          fail((e as Error).message);
        }
        cb(failure);
      },
    }),
  );
  try {
    await pipeline(stages);
  } catch (e) {
    // Both already name the source.
    if (e instanceof MetadataParseError || e instanceof DecompressionLimitError) throw e;
    throw new MetadataParseError(`${source}: ${(e as Error).message}`);
  }
}

const FLAGS = new Set(['EQ', 'LT', 'GT', 'LE', 'GE']);
const DEP_ELEMENTS = new Set(['rpm:provides', 'rpm:requires', 'rpm:conflicts', 'rpm:obsoletes', 'rpm:suggests', 'rpm:enhances', 'rpm:recommends', 'rpm:supplements']);

function int(value: string | undefined, what: string): number {
  if (value === undefined || !/^[0-9]{1,16}$/.test(value)) throw new Error(`${what} is not a number: ${JSON.stringify(String(value).slice(0, 40))}`);
  return Number(value);
}

function emptyRecord(): PackageRecord {
  return {
    pkgid: '', checksumType: '', name: '', arch: '', epoch: '0', version: '', release: '', summary: '', description: '', packager: '', url: '',
    timeFile: 0, timeBuild: 0, sizePackage: 0, sizeInstalled: 0, sizeArchive: 0, locationHref: '', license: '', vendor: '', group: '', buildhost: '',
    sourcerpm: '', headerStart: 0, headerEnd: 0, provides: [], requires: [], conflicts: [], obsoletes: [], suggests: [], enhances: [], recommends: [],
    supplements: [], files: [], changelogs: [],
  };
}

/** Parses primary.xml into records (files: primary files only, until filelists is merged). */
export async function parsePrimary(input: Readable, name: string, source: string, limits = DEFAULT_PARSE_LIMITS): Promise<PackageRecord[]> {
  const out: PackageRecord[] = [];
  await eachPrimaryPackage(input, name, source, (p) => out.push(p), limits);
  return out;
}

/**
 * parsePrimary()'s records handed to `onPackage` one at a time, as they are parsed: a
 * caller that keeps a few fields of each (a sync of a large upstream) holds no list.
 */
export async function eachPrimaryPackage(input: Readable, name: string, source: string, onPackage: (p: PackageRecord) => void, limits = DEFAULT_PARSE_LIMITS): Promise<void> {
  let p: PackageRecord | undefined;
  let deps: Dependency[] | undefined;
  let fileType: string | undefined;
  await parseXml(input, name, source, {
    open(tag, at, depth) {
      if (depth === 1 && tag !== 'metadata') throw new Error(`the root element is <${tag}>, expected <metadata>`);
      if (depth === 2 && tag === 'package') {
        p = emptyRecord();
        return;
      }
      if (!p) return;
      switch (tag) {
        case 'version':
          p.epoch = at.epoch ?? '0';
          p.version = at.ver ?? '';
          p.release = at.rel ?? '';
          break;
        case 'checksum':
          p.checksumType = at.type ?? '';
          break;
        case 'time':
          p.timeFile = int(at.file, 'time file');
          p.timeBuild = int(at.build, 'time build');
          break;
        case 'size':
          p.sizePackage = int(at.package, 'size package');
          p.sizeInstalled = int(at.installed, 'size installed');
          p.sizeArchive = int(at.archive, 'size archive');
          break;
        case 'location':
          if (!at.href) throw new Error(`package ${p.name} has no location href`);
          p.locationHref = at.href;
          if (at['xml:base']) p.locationBase = at['xml:base'];
          break;
        case 'rpm:header-range':
          p.headerStart = int(at.start, 'header-range start');
          p.headerEnd = int(at.end, 'header-range end');
          break;
        case 'rpm:entry': {
          if (!deps) break;
          const d: Dependency = { name: at.name ?? '' };
          if (at.flags !== undefined) {
            if (!FLAGS.has(at.flags)) throw new Error(`dependency ${d.name} of ${p.name} has unknown flags ${JSON.stringify(at.flags)}`);
            d.flags = at.flags as DependencyFlags;
            if (at.epoch !== undefined) d.epoch = at.epoch;
            if (at.ver !== undefined) d.ver = at.ver;
            if (at.rel !== undefined) d.rel = at.rel;
          }
          if (at.pre === '1') d.pre = true;
          deps.push(d);
          break;
        }
        case 'file':
          fileType = at.type;
          break;
        default:
          if (DEP_ELEMENTS.has(tag)) deps = p[tag.slice(4) as 'provides'];
      }
    },
    close(tag, text, depth) {
      if (!p) return;
      switch (tag) {
        case 'package':
          if (depth !== 2) break;
          if (!/^[0-9a-f]{32,128}$/.test(p.pkgid)) throw new Error(`package ${p.name || '(unnamed)'} has no valid checksum`);
          if (!p.locationHref) throw new Error(`package ${p.name} has no location`);
          onPackage(p);
          p = undefined;
          break;
        case 'name':
          p.name = text;
          break;
        case 'arch':
          p.arch = text;
          break;
        case 'checksum':
          p.pkgid = text.trim().toLowerCase();
          break;
        case 'summary':
          p.summary = text;
          break;
        case 'description':
          p.description = text;
          break;
        case 'packager':
          p.packager = text;
          break;
        case 'url':
          p.url = text;
          break;
        case 'rpm:license':
          p.license = text;
          break;
        case 'rpm:vendor':
          p.vendor = text;
          break;
        case 'rpm:group':
          p.group = text;
          break;
        case 'rpm:buildhost':
          p.buildhost = text;
          break;
        case 'rpm:sourcerpm':
          p.sourcerpm = text;
          break;
        case 'file':
          p.files.push({ path: text, type: fileType === 'dir' ? 'dir' : fileType === 'ghost' ? 'ghost' : 'file' });
          break;
        default:
          if (DEP_ELEMENTS.has(tag)) deps = undefined;
      }
    },
  }, limits);
}

/** Calls `each(pkgid, files)` for every package of filelists.xml. */
export async function parseFilelists(input: Readable, name: string, source: string, each: (pkgid: string, files: PackageRecord['files']) => void, limits = DEFAULT_PARSE_LIMITS): Promise<void> {
  let pkgid: string | undefined;
  let files: PackageRecord['files'] = [];
  let fileType: string | undefined;
  await parseXml(input, name, source, {
    open(tag, at, depth) {
      if (depth === 1 && tag !== 'filelists') throw new Error(`the root element is <${tag}>, expected <filelists>`);
      if (depth === 2 && tag === 'package') {
        pkgid = at.pkgid;
        files = [];
      }
      if (tag === 'file') fileType = at.type;
    },
    close(tag, text, depth) {
      if (tag === 'file' && pkgid !== undefined) files.push({ path: text, type: fileType === 'dir' ? 'dir' : fileType === 'ghost' ? 'ghost' : 'file' });
      if (tag === 'package' && depth === 2 && pkgid !== undefined) {
        each(pkgid.toLowerCase(), files);
        pkgid = undefined;
      }
    },
  }, limits);
}

/** Calls `each(pkgid, changelogs)` for every package of other.xml; entries come newest first. */
export async function parseOther(input: Readable, name: string, source: string, each: (pkgid: string, changelogs: ChangelogEntry[]) => void, limits = DEFAULT_PARSE_LIMITS): Promise<void> {
  let pkgid: string | undefined;
  let entries: ChangelogEntry[] = [];
  let author = '';
  let date = 0;
  await parseXml(input, name, source, {
    open(tag, at, depth) {
      if (depth === 1 && tag !== 'otherdata') throw new Error(`the root element is <${tag}>, expected <otherdata>`);
      if (depth === 2 && tag === 'package') {
        pkgid = at.pkgid;
        entries = [];
      }
      if (tag === 'changelog') {
        author = at.author ?? '';
        date = int(at.date, 'changelog date');
      }
    },
    close(tag, text, depth) {
      if (tag === 'changelog' && pkgid !== undefined) entries.push({ author, date, text });
      if (tag === 'package' && depth === 2 && pkgid !== undefined) {
        // other.xml lists oldest first; records keep header order.
        each(pkgid.toLowerCase(), entries.reverse());
        pkgid = undefined;
      }
    },
  }, limits);
}

/** An advisory of updateinfo.xml: its id and the packages its collections list. */
export interface Advisory {
  id: string;
  packages: { name: string; epoch: string; version: string; release: string; arch: string }[];
}

/** Parses updateinfo.xml into its advisories (only what says which packages they are about). */
export async function parseUpdateinfo(input: Readable, name: string, source: string, limits = DEFAULT_PARSE_LIMITS): Promise<Advisory[]> {
  const out: Advisory[] = [];
  let advisory: Advisory | undefined;
  await parseXml(input, name, source, {
    open(tag, at, depth) {
      if (depth === 1 && tag !== 'updates') throw new Error(`the root element is <${tag}>, expected <updates>`);
      if (depth === 2 && tag === 'update') advisory = { id: '', packages: [] };
      if (advisory && tag === 'package') advisory.packages.push({ name: at.name ?? '', epoch: at.epoch || '0', version: at.version ?? '', release: at.release ?? '', arch: at.arch ?? '' });
    },
    close(tag, text, depth) {
      if (advisory && tag === 'id' && depth === 3) advisory.id = text.trim();
      if (advisory && tag === 'update' && depth === 2) {
        out.push(advisory);
        advisory = undefined;
      }
    },
  }, limits);
  return out;
}

export function openFile(path: string): Readable {
  return createReadStream(path);
}

/**
 * Reads the package records a repomd lists. `openHref` opens a file of the repo by its
 * href (from disk, or over HTTP for mirrors). Records come in primary.xml's order.
 */
export async function readPackageRecords(
  repomd: import('./repomd.ts').Repomd,
  openHref: (href: string) => Readable | Promise<Readable>,
  source: string,
  limits = DEFAULT_PARSE_LIMITS,
): Promise<PackageRecord[]> {
  const find = (type: string) => {
    const r = repomd.records.find((x) => x.type === type);
    if (!r) throw new MetadataParseError(`${source}: repomd.xml lists no ${type} metadata`);
    return r;
  };
  const primary = find('primary');
  const filelists = find('filelists');
  const other = find('other');
  const records = await parsePrimary(await openHref(primary.href), primary.href, `${source}/${primary.href}`, limits);
  // Several records may share a pkgid (the same file at two paths): match them in order.
  const byPkgid = new Map<string, PackageRecord[]>();
  for (const r of records) {
    r.files = [];
    const list = byPkgid.get(r.pkgid);
    if (list) list.push(r);
    else byPkgid.set(r.pkgid, [r]);
  }
  const cursor = (kind: string) => {
    const seen = new Map<string, number>();
    return (pkgid: string): PackageRecord => {
      const n = seen.get(pkgid) ?? 0;
      const r = byPkgid.get(pkgid)?.[n];
      if (!r) throw new Error(`${kind} lists package ${pkgid} that primary.xml does not`);
      seen.set(pkgid, n + 1);
      return r;
    };
  };
  const fl = cursor('filelists.xml');
  await parseFilelists(await openHref(filelists.href), filelists.href, `${source}/${filelists.href}`, (id, files) => (fl(id).files = files), limits);
  const ot = cursor('other.xml');
  await parseOther(await openHref(other.href), other.href, `${source}/${other.href}`, (id, changelogs) => (ot(id).changelogs = changelogs), limits);
  return records;
}
