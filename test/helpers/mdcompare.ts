// Compares the YUM metadata of two repository roots package by package, independently
// of txrepo's own metadata reader: the tests hold txrepo's output against
// createrepo_c's with it.
//
// Each side's repomd.xml is checked on its own first: every file it lists exists and
// matches its checksum, size, open-checksum and open-size. Then primary, filelists and
// other are read into one record per package (keyed by its pkgid): every element and
// attribute of the package, in document order, except the file mtime (time/@file) and
// location/@xml:base. The two sides' records are compared field by field.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import zlib from 'node:zlib';

const sax = createRequire(import.meta.url)('sax') as typeof import('sax');

/** An element as plain data: name, attributes (sorted), text and children. */
interface Node {
  name: string;
  attrs: [string, string][];
  text: string;
  children: Node[];
}

/** Parses an XML document into a tree of Nodes (namespace prefixes dropped). */
function parseXml(xml: string, where: string): Node {
  const parser = sax.parser(true, { trim: false, normalize: false });
  const root: Node = { name: '#document', attrs: [], text: '', children: [] };
  const stack: Node[] = [root];
  parser.onopentag = (t) => {
    const attrs = Object.entries(t.attributes as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const node: Node = { name: t.name.replace(/^.*:/, ''), attrs, text: '', children: [] };
    stack.at(-1)!.children.push(node);
    stack.push(node);
  };
  parser.onclosetag = () => void stack.pop();
  parser.ontext = (s) => void (stack.at(-1)!.text += s);
  parser.oncdata = (s) => void (stack.at(-1)!.text += s);
  parser.onerror = (e) => {
    throw new Error(`${where}: not well-formed XML: ${e.message}`);
  };
  parser.write(xml).close();
  return root.children[0] ?? root;
}

const child = (n: Node, name: string) => n.children.find((c) => c.name === name);
const attr = (n: Node | undefined, name: string) => n?.attrs.find(([k]) => k === name)?.[1];

function unpack(href: string, raw: Buffer): Buffer {
  if (href.endsWith('.gz')) return zlib.gunzipSync(raw);
  if (href.endsWith('.zst')) return zlib.zstdDecompressSync(raw);
  if (href.endsWith('.xz')) return execFileSync('xz', ['-dc'], { input: raw, maxBuffer: 1 << 30 });
  if (href.endsWith('.bz2')) return execFileSync('bzip2', ['-dc'], { input: raw, maxBuffer: 1 << 30 });
  return raw;
}

const digest = (type: string | undefined, data: Buffer) => createHash(type === 'sha' ? 'sha1' : (type ?? 'sha256')).update(data).digest('hex');

/** The uncompressed metadata files of a repo, by type, after checking repomd.xml's figures. */
async function load(root: string, problems: string[]): Promise<Map<string, Buffer>> {
  const repomd = parseXml(await readFile(join(root, 'repodata/repomd.xml'), 'utf8'), `${root}/repodata/repomd.xml`);
  const files = new Map<string, Buffer>();
  for (const data of repomd.children.filter((c) => c.name === 'data')) {
    const type = attr(data, 'type') ?? '?';
    const href = attr(child(data, 'location'), 'href') ?? '';
    const raw = await readFile(join(root, href)).catch(() => undefined);
    if (raw === undefined) {
      problems.push(`${root}: ${type} file ${href} is missing`);
      continue;
    }
    const check = (what: string, listed: Node | undefined, bytes: Buffer) => {
      if (listed && digest(attr(listed, 'type'), bytes) !== listed.text.trim()) problems.push(`${root}: ${type} ${what} does not match ${href}`);
    };
    const size = (what: string, listed: Node | undefined, bytes: Buffer) => {
      if (listed && Number(listed.text) !== bytes.length) problems.push(`${root}: ${type} ${what} ${listed.text} != ${bytes.length}`);
    };
    check('checksum', child(data, 'checksum'), raw);
    size('size', child(data, 'size'), raw);
    let plain: Buffer;
    try {
      plain = unpack(href, raw);
    } catch (e) {
      problems.push(`${root}: ${type} file ${href} does not decompress: ${(e as Error).message}`);
      continue;
    }
    check('open-checksum', child(data, 'open-checksum'), plain);
    size('open-size', child(data, 'open-size'), plain);
    files.set(type, plain);
  }
  for (const need of ['primary', 'filelists', 'other']) if (!files.has(need)) problems.push(`${root}: no ${need} in repomd.xml`);
  return files;
}

/** A node as a comparable string, without what the comparison leaves out. */
function canonical(n: Node): string {
  const attrs = n.attrs.filter(([k]) => !(n.name === 'time' && k === 'file') && !(n.name === 'location' && k === 'xml:base'));
  const text = n.children.length ? '' : n.text;
  return `<${n.name}${attrs.map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('')}>${JSON.stringify(text)}${n.children.map(canonical).join('')}</${n.name}>`;
}

type Fields = Map<string, string>;

/** One record per pkgid: each field (a child element, "format/..." for primary's format) as canonical text. */
function records(files: Map<string, Buffer>, problems: string[], root: string): Map<string, Fields> {
  const recs = new Map<string, Fields>();
  const add = (pkgid: string, prefix: string, nodes: Node[]) => {
    const r = recs.get(pkgid) ?? new Map<string, string>();
    recs.set(pkgid, r);
    for (const n of nodes) {
      const key = `${prefix}${n.name}`;
      r.set(key, (r.get(key) ?? '') + canonical(n));
    }
  };
  for (const type of ['primary', 'filelists', 'other']) {
    const xml = files.get(type);
    if (!xml) continue;
    const doc = parseXml(xml.toString('utf8'), `${root} ${type}`);
    const packages = doc.children.filter((c) => c.name === 'package');
    const declared = attr(doc, 'packages');
    if (declared !== undefined && Number(declared) !== packages.length) problems.push(`${root}: ${type} says packages="${declared}" but lists ${packages.length}`);
    for (const p of packages) {
      if (type === 'primary') {
        const pkgid = child(p, 'checksum')?.text.trim() ?? '?';
        add(pkgid, '', [{ ...p, name: 'type', children: [], text: attr(p, 'type') ?? '', attrs: [] }]);
        add(pkgid, '', p.children.filter((c) => c.name !== 'format'));
        add(pkgid, 'format/', child(p, 'format')?.children ?? []);
      } else {
        add(attr(p, 'pkgid') ?? '?', `${type}/`, p.children);
      }
    }
  }
  return recs;
}

/**
 * Compares two repo roots. `same` only when both are sound and every package's
 * records agree; `output` says what differs (at most 40 field differences listed).
 */
export async function mdcompare(a: string, b: string): Promise<{ same: boolean; output: string }> {
  const problems: string[] = [];
  const ra = records(await load(a, problems), problems, a);
  const rb = records(await load(b, problems), problems, b);
  const name = (r: Fields | undefined) => /"([^"]*)"/.exec(r?.get('name')?.replace(/^<name>/, '') ?? '')?.[1] ?? '?';
  const diffs: string[] = [];
  let same = 0;
  const ids = [...new Set([...ra.keys(), ...rb.keys()])].sort();
  for (const id of ids) {
    const x = ra.get(id);
    const y = rb.get(id);
    if (!x || !y) {
      diffs.push(`${id.slice(0, 12)}: only in ${x ? 'A' : 'B'} (${name(x ?? y)})`);
      continue;
    }
    const before = diffs.length;
    for (const k of [...new Set([...x.keys(), ...y.keys()])].sort()) {
      if (x.get(k) !== y.get(k)) diffs.push(`${name(x)} ${k}: A=${(x.get(k) ?? '(none)').slice(0, 300)} | B=${(y.get(k) ?? '(none)').slice(0, 300)}`);
    }
    if (diffs.length === before) same++;
  }
  const output = [
    ...problems.map((p) => `PROBLEM ${p}`),
    ...diffs.slice(0, 40).map((d) => `DIFF ${d}`),
    `${same}/${ids.length} packages identical, ${diffs.length} field differences, ${problems.length} repo problems`,
  ].join('\n');
  return { same: diffs.length === 0 && problems.length === 0, output };
}
