// dnf-like download clients for the load scenario, written with node:http: each client
// keeps one keep-alive connection and loops like `dnf makecache` + `dnf download`:
// repomd.xml through a tag URL (revalidated with If-None-Match about half the time,
// as dnf does once its metadata expires), primary.xml.gz when repomd.xml changed, then
// a few packages, as whole downloads, Range requests (a resumed download) or HEADs.
// Every answer is checked: statuses, sizes, ETags, and the sha256 of every whole file
// against what the metadata read in the same round lists; range bodies against the
// bytes of the package file the scenario deployed.

import { createHash } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';

export const KINDS = ['repomd.xml', 'repomd.xml (304)', 'primary.xml.gz', 'package GET', 'package Range', 'package HEAD', 'package GET, abandoned'] as const;
export type Kind = (typeof KINDS)[number];

export interface KindStats {
  count: number;
  bytes: number;
  /** Milliseconds, request sent to body read. */
  latencies: number[];
}

export interface LoadOptions {
  /** The repo's tag URL, ending in '/': e.g. http://127.0.0.1:PORT/repos/el9/tags/stable/ */
  base: string;
  clients: number;
  /** When the clients stop starting new rounds (ms since the epoch of performance.now()). */
  until: number;
  random: () => number;
  /** Packages fetched per round. */
  perRound: number;
  /** The bytes of every package the repo may list, by sha256: range answers are checked against them. */
  local: Map<string, Buffer>;
  /** Per-request timeout: a stall is an error too. */
  timeoutMs?: number;
}

export interface LoadResult {
  kinds: Record<Kind, KindStats>;
  requests: number;
  bytes: number;
  rounds: number;
  /** Rounds that were still downloading with metadata the tag had already left. */
  staleRounds: number;
  /** Distinct repomd.xml versions the clients saw. */
  generations: number;
  errors: number;
  /** The first errors, in words. */
  errorDetails: string[];
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  size: number;
  sha256: string;
  body?: Buffer;
  ms: number;
}

interface Pkg {
  href: string;
  sha256: string;
  size: number;
}

interface Metadata {
  etag: string;
  repomdSha256: string;
  primary: { href: string; sha256: string; size: number };
}

class ClientError extends Error {}

function fetchOnce(
  agent: Agent,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; keep?: boolean; timeoutMs: number; abandonAfter?: number },
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      let abandoned = false;
      res.on('data', (c: Buffer) => {
        if (abandoned) return;
        hash.update(c);
        size += c.length;
        if (opts.keep) chunks.push(c);
        // A client that gives up mid-download (dnf interrupted, a timeout): it closes
        // the connection, and the next request opens a new one.
        if (opts.abandonAfter !== undefined && size >= opts.abandonAfter) {
          abandoned = true;
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, size, sha256: '', ms: performance.now() - started });
        }
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, size, sha256: hash.digest('hex'), body: opts.keep ? Buffer.concat(chunks) : undefined, ms: performance.now() - started }),
      );
      res.on('error', reject);
      res.on('aborted', () => reject(new ClientError('the answer was cut short')));
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new ClientError(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const urlOf = (base: string, href: string) => base + href.split('/').map(encodeURIComponent).join('/');

export function parseRepomd(xml: string): Metadata['primary'] {
  const data = /<data type="primary">([\s\S]*?)<\/data>/.exec(xml)?.[1];
  const sha256 = data && /<checksum type="sha256">([0-9a-f]{64})<\/checksum>/.exec(data)?.[1];
  const href = data && /<location href="([^"]+)"/.exec(data)?.[1];
  const size = data && /<size>(\d+)<\/size>/.exec(data)?.[1];
  if (!sha256 || !href || !size) throw new ClientError('repomd.xml lists no sha256 primary with a location and size');
  return { href: unescapeXml(href), sha256, size: Number(size) };
}

export function parsePrimary(gz: Buffer): Pkg[] {
  const xml = gunzipSync(gz).toString('utf8');
  const out: Pkg[] = [];
  for (const m of xml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const sha256 = /<checksum type="sha256" pkgid="YES">([0-9a-f]{64})<\/checksum>/.exec(m[1])?.[1];
    const size = /<size package="(\d+)"/.exec(m[1])?.[1];
    const href = /<location href="([^"]+)"/.exec(m[1])?.[1];
    if (!sha256 || !size || !href) throw new ClientError(`primary.xml: a package without sha256, size or location: ${m[1].slice(0, 200)}`);
    out.push({ href: unescapeXml(href), sha256, size: Number(size) });
  }
  const declared = Number(/<metadata [^>]*packages="(\d+)"/.exec(xml)?.[1]);
  if (declared !== out.length) throw new ClientError(`primary.xml says packages="${declared}" but lists ${out.length}`);
  return out;
}

/** Runs the clients until `until`; resolves with what they saw. Never throws: errors are counted. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const kinds = Object.fromEntries(KINDS.map((k) => [k, { count: 0, bytes: 0, latencies: [] as number[] }])) as Record<Kind, KindStats>;
  const result: LoadResult = { kinds, requests: 0, bytes: 0, rounds: 0, staleRounds: 0, generations: 0, errors: 0, errorDetails: [] };
  // Parsed primary.xml files, by sha256: parsed once, whichever client fetched it first.
  const primaries = new Map<string, Pkg[]>();
  const seen = new Set<string>();
  // The newest repomd.xml any client has seen (by when it was seen).
  let newest = '';

  const error = (what: string) => {
    result.errors++;
    if (result.errorDetails.length < 20) result.errorDetails.push(what);
  };
  const record = (kind: Kind, a: Answer) => {
    result.requests++;
    result.bytes += a.size;
    kinds[kind].count++;
    kinds[kind].bytes += a.size;
    kinds[kind].latencies.push(a.ms);
  };

  async function client(n: number): Promise<void> {
    // One connection per client, kept alive between requests, as dnf's librepo does.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let meta: Metadata | undefined;
    let pkgs: Pkg[] | undefined;
    try {
      while (performance.now() < o.until) {
        result.rounds++;
        try {
          // 1. repomd.xml, revalidated about half of the time once we have it.
          const conditional = meta !== undefined && o.random() < 0.5;
          const url = urlOf(o.base, 'repodata/repomd.xml');
          const a = await fetchOnce(agent, url, { headers: conditional ? { 'if-none-match': meta!.etag } : {}, keep: true, timeoutMs });
          if (a.status === 304) {
            if (!conditional) throw new ClientError(`${url}: 304 to an unconditional GET`);
            record('repomd.xml (304)', a);
          } else if (a.status === 200) {
            record('repomd.xml', a);
            const etag = String(a.headers.etag ?? '');
            if (etag !== `"${a.sha256}"`) throw new ClientError(`${url}: ETag ${etag} is not the sha256 of the body (${a.sha256})`);
            if (a.headers['cache-control'] !== 'no-cache') throw new ClientError(`${url}: Cache-Control ${a.headers['cache-control']}, expected no-cache`);
            const primary = parseRepomd(a.body!.toString('utf8'));
            if (meta?.repomdSha256 !== a.sha256) {
              meta = { etag, repomdSha256: a.sha256, primary };
              pkgs = undefined;
            }
            if (!seen.has(a.sha256)) {
              seen.add(a.sha256);
              newest = a.sha256;
            }
          } else {
            throw new ClientError(`${url}: status ${a.status}${a.body?.length ? `: ${a.body.toString('utf8').slice(0, 200)}` : ''}`);
          }
          const round = meta!;
          // 2. primary.xml.gz when the metadata changed (or a third of the time: a
          //    client with an empty cache), verified against repomd.xml.
          if (!pkgs || o.random() < 0.33) {
            const purl = urlOf(o.base, round.primary.href);
            const p = await fetchOnce(agent, purl, { keep: true, timeoutMs });
            if (p.status !== 200) throw new ClientError(`${purl}: status ${p.status}${p.body?.length ? `: ${p.body.toString('utf8').slice(0, 200)}` : ''}`);
            record('primary.xml.gz', p);
            if (p.sha256 !== round.primary.sha256 || p.size !== round.primary.size) {
              throw new ClientError(`${purl}: ${p.size} bytes with sha256 ${p.sha256}; repomd.xml lists ${round.primary.size} bytes with ${round.primary.sha256}`);
            }
            let parsed = primaries.get(p.sha256);
            if (!parsed) primaries.set(p.sha256, (parsed = parsePrimary(p.body!)));
            pkgs = parsed;
          }
          // 3. Packages: whole, ranged or HEAD.
          for (let i = 0; i < o.perRound && pkgs.length; i++) {
            const pkg = pkgs[Math.floor(o.random() * pkgs.length)];
            const purl = urlOf(o.base, pkg.href);
            const r = o.random();
            if (r < 0.05 && pkg.size > 4096) {
              const a = await fetchOnce(agent, purl, { timeoutMs, abandonAfter: Math.floor(pkg.size / 2) });
              if (a.status !== 200) throw new ClientError(`GET ${purl} (abandoned): status ${a.status}`);
              record('package GET, abandoned', a);
            } else if (r < 0.6) {
              const a = await fetchOnce(agent, purl, { timeoutMs });
              if (a.status !== 200) throw new ClientError(`GET ${purl}: status ${a.status}`);
              record('package GET', a);
              if (a.sha256 !== pkg.sha256 || a.size !== pkg.size) throw new ClientError(`GET ${purl}: ${a.size} bytes with sha256 ${a.sha256}; primary.xml lists ${pkg.size} bytes with ${pkg.sha256}`);
            } else if (r < 0.85) {
              // The three forms: first-last (a chunk), first- (a resumed download), -suffix.
              let start = Math.floor(o.random() * pkg.size);
              let end = Math.min(pkg.size - 1, start + Math.floor(o.random() * pkg.size));
              const form = o.random();
              let spec = `${start}-${end}`;
              if (form < 0.33) {
                end = pkg.size - 1;
                spec = `${start}-`;
              } else if (form < 0.66) {
                const suffix = 1 + Math.floor(o.random() * pkg.size);
                [start, end] = [pkg.size - suffix, pkg.size - 1];
                spec = `-${suffix}`;
              }
              const a = await fetchOnce(agent, purl, { headers: { range: `bytes=${spec}` }, keep: true, timeoutMs });
              if (a.status !== 206) throw new ClientError(`GET ${purl} (Range ${spec}): status ${a.status}`);
              record('package Range', a);
              const expected = `bytes ${start}-${end}/${pkg.size}`;
              if (a.headers['content-range'] !== expected) throw new ClientError(`GET ${purl}: Content-Range ${a.headers['content-range']}, expected ${expected}`);
              const file = o.local.get(pkg.sha256);
              if (!file) throw new ClientError(`${purl}: primary.xml lists sha256 ${pkg.sha256}, which is no package the scenario deployed`);
              if (!a.body!.equals(file.subarray(start, end + 1))) throw new ClientError(`GET ${purl} (Range ${spec}): the bytes differ from the package's`);
            } else {
              const a = await fetchOnce(agent, purl, { method: 'HEAD', timeoutMs });
              if (a.status !== 200) throw new ClientError(`HEAD ${purl}: status ${a.status}`);
              record('package HEAD', a);
              if (Number(a.headers['content-length']) !== pkg.size || a.headers.etag !== `"${pkg.sha256}"`) {
                throw new ClientError(`HEAD ${purl}: Content-Length ${a.headers['content-length']}, ETag ${a.headers.etag}; primary.xml lists ${pkg.size} bytes with ${pkg.sha256}`);
              }
            }
          }
          if (round.repomdSha256 !== newest) result.staleRounds++;
        } catch (e) {
          error(`client ${n}: ${(e as Error).message}`);
          meta = undefined;
          pkgs = undefined;
        }
      }
    } finally {
      agent.destroy();
    }
  }

  await Promise.all(Array.from({ length: o.clients }, (_, n) => client(n)));
  result.generations = seen.size;
  return result;
}
