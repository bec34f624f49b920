// repomd.xml: the index of a repodata directory (createrepo_c: src/xml_dump_repomd.c,
// src/repomd.c). Rendering is pure; parsing is strict and bounded.

import { malformed, xmlParser } from './sax.ts';
import { escapeAttr as a, escapeText as t } from './xml.ts';
import { Failure } from '../common/index.ts';

export const REPO_NS = 'http://linux.duke.edu/metadata/repo';

/** Where a repo's index lives: what a client reads first. */
export const REPOMD_HREF = 'repodata/repomd.xml';
/** Its detached OpenPGP signature (dnf's repo_gpgcheck reads it). */
export const REPOMD_SIGNATURE_HREF = 'repodata/repomd.xml.asc';
/** The public keys that made that signature, as createrepo-based hosts serve them. */
export const REPOMD_KEY_HREF = 'repodata/repomd.xml.key';
/**
 * The files whose names every metadata generation reuses: a new one replaces them in
 * place, last (every other metadata file is named by its checksum, and new ones stand
 * beside old ones). They go together: a repomd.xml with another's signature is torn.
 */
export const REPOMD_FILES: readonly string[] = [REPOMD_HREF, REPOMD_SIGNATURE_HREF, REPOMD_KEY_HREF];
export const isRepomdFile = (href: string): boolean => REPOMD_FILES.includes(href);

export interface Checksum {
  type: string;
  value: string;
}

export interface RepomdRecord {
  type: string;
  href: string;
  base?: string;
  checksum: Checksum;
  openChecksum?: Checksum;
  timestamp: number;
  size: number;
  openSize?: number;
  databaseVersion?: number;
}

export interface Distro {
  cpeid?: string;
  name: string;
}

export interface Repomd {
  revision: string;
  content: string[];
  repo: string[];
  distro: Distro[];
  records: RepomdRecord[];
}

const BASE_ORDER = ['primary', 'filelists', 'other', 'primary_db', 'filelists_db', 'other_db', 'primary_zck', 'filelists_zck', 'other_zck'];

const strcmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** createrepo_c's record order: the base types first, then the rest by type, href, base. */
export function compareRecords(x: RepomdRecord, y: RepomdRecord): number {
  const ix = BASE_ORDER.indexOf(x.type);
  const iy = BASE_ORDER.indexOf(y.type);
  if (ix !== -1 || iy !== -1) {
    if (ix === -1) return 1;
    if (iy === -1) return -1;
    if (ix !== iy) return ix - iy;
  }
  return strcmp(x.type, y.type) || strcmp(x.href, y.href) || strcmp(x.base ?? '', y.base ?? '');
}

/** `--distro 'cpeid,name'`: split at the first comma. */
export function parseDistro(s: string): Distro | undefined {
  const comma = s.indexOf(',');
  const d: Distro = comma === -1 ? { name: s } : { cpeid: s.slice(0, comma), name: s.slice(comma + 1) };
  if (d.cpeid === '') delete d.cpeid;
  return d.name === '' ? undefined : d;
}

export function renderRepomd(md: Repomd): string {
  let s = `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="${REPO_NS}" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n`;
  s += `  <revision>${t(md.revision)}</revision>\n`;
  if (md.content.length || md.repo.length || md.distro.length) {
    s += '  <tags>\n';
    for (const c of md.content) s += `    <content>${t(c)}</content>\n`;
    for (const r of md.repo) s += `    <repo>${t(r)}</repo>\n`;
    for (const d of md.distro) s += `    <distro${d.cpeid ? ` cpeid="${a(d.cpeid)}"` : ''}>${t(d.name)}</distro>\n`;
    s += '  </tags>\n';
  }
  for (const r of [...md.records].sort(compareRecords)) {
    s += `  <data type="${a(r.type)}">\n`;
    s += `    <checksum type="${a(r.checksum.type)}">${t(r.checksum.value)}</checksum>\n`;
    if (r.openChecksum) s += `    <open-checksum type="${a(r.openChecksum.type)}">${t(r.openChecksum.value)}</open-checksum>\n`;
    s += `    <location${r.base ? ` xml:base="${a(r.base)}"` : ''} href="${a(r.href)}"/>\n`;
    s += `    <timestamp>${r.timestamp}</timestamp>\n`;
    s += `    <size>${r.size}</size>\n`;
    if (r.openSize !== undefined) s += `    <open-size>${r.openSize}</open-size>\n`;
    if (r.databaseVersion !== undefined) s += `    <database_version>${r.databaseVersion}</database_version>\n`;
    s += '  </data>\n';
  }
  return s + '</repomd>\n';
}

export class RepomdError extends Failure {
  override name = 'RepomdError';
  readonly kind = 'bad_metadata';
}

/** repomd.xml files beyond this size are refused (yum itself stops at 100 KiB). */
export const REPOMD_MAX_BYTES = 4 * 1024 * 1024;

const HEX = /^[0-9a-f]+$/i;

/**
 * Parses repomd.xml. `source` names the file in errors. Unknown elements are ignored;
 * a record without a location, checksum or type, or with a malformed checksum or size,
 * is an error.
 */
export function parseRepomd(xml: string, source: string): Repomd {
  if (xml.length > REPOMD_MAX_BYTES) throw new RepomdError(`${source}: repomd.xml is larger than ${REPOMD_MAX_BYTES} bytes`);
  const md: Repomd = { revision: '', content: [], repo: [], distro: [], records: [] };
  const parser = xmlParser();
  const stack: string[] = [];
  let text = '';
  let rec: Partial<RepomdRecord> & { checksum?: Checksum } = {};
  let attrs: Record<string, string> = {};
  let sawRoot = false;
  parser.on('error', (e) => {
    throw new RepomdError(`${source}: ${malformed(e)}`);
  });
  parser.on('doctype', () => {
    throw new RepomdError(`${source}: a DOCTYPE is not allowed in repomd.xml`);
  });
  parser.on('opentag', (node) => {
    const name = node.name;
    if (stack.length === 0) {
      if (name !== 'repomd') throw new RepomdError(`${source}: the root element is <${name}>, expected <repomd>`);
      sawRoot = true;
    }
    stack.push(name);
    attrs = node.attributes as Record<string, string>;
    text = '';
    if (name === 'data' && stack.length === 2) rec = { type: attrs.type };
    if (name === 'location' && stack[1] === 'data') {
      rec.href = attrs.href;
      if (attrs['xml:base']) rec.base = attrs['xml:base'];
    }
    if ((name === 'checksum' || name === 'open-checksum') && stack[1] === 'data') rec = { ...rec, [name === 'checksum' ? 'checksum' : 'openChecksum']: { type: attrs.type ?? '', value: '' } };
  });
  parser.on('text', (s) => {
    text += s;
  });
  parser.on('closetag', ({ name }) => {
    const value = text.trim();
    const depth = stack.length;
    if (depth === 2 && name === 'revision') md.revision = value;
    if (depth === 3 && stack[1] === 'tags') {
      if (name === 'content') md.content.push(value);
      if (name === 'repo') md.repo.push(value);
      if (name === 'distro') md.distro.push(attrs.cpeid ? { cpeid: attrs.cpeid, name: value } : { name: value });
    }
    if (depth === 3 && stack[1] === 'data') {
      const int = () => {
        if (!/^[0-9]+$/.test(value)) throw new RepomdError(`${source}: <${name}> of the ${rec.type} record is not a number: ${JSON.stringify(value.slice(0, 40))}`);
        return Number(value);
      };
      if (name === 'checksum' && rec.checksum) rec.checksum.value = value;
      if (name === 'open-checksum' && rec.openChecksum) rec.openChecksum.value = value;
      if (name === 'timestamp') rec.timestamp = Math.floor(Number(value)) || 0;
      if (name === 'size') rec.size = int();
      if (name === 'open-size') rec.openSize = int();
      if (name === 'database_version') rec.databaseVersion = int();
    }
    if (depth === 2 && name === 'data') {
      if (!rec.type) throw new RepomdError(`${source}: a <data> record has no type`);
      if (!rec.href) throw new RepomdError(`${source}: the ${rec.type} record has no location href`);
      if (!rec.checksum || !rec.checksum.type || !HEX.test(rec.checksum.value)) {
        throw new RepomdError(`${source}: the ${rec.type} record has no valid checksum`);
      }
      md.records.push({ timestamp: 0, size: -1, ...rec } as RepomdRecord);
    }
    stack.pop();
    text = '';
  });
  parser.write(xml).close();
  if (!sawRoot) throw new RepomdError(`${source}: no <repomd> element`);
  return md;
}
