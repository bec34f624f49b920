// Reads a mirror map (repo name -> snapshot URL) in the shape of
// /repos/all_latest.json: {"latest_ci_repos": {"<repo>": "<URL>"}}, or the bare
// {"<repo>": "<URL>"} mapping, from a file, an http(s) URL or a data: URL. JSON, or
// YAML for files written by hand (JSON is YAML too). txrepo's index also says, under
// "gpg", what the clients of its signed repos check (src/snapshots/client-config.ts).
//
// Unlike the established client, nothing fails silently: an unreachable or broken
// source is an error, never a quiet fall-back to the upstream repos.

import { Failure, readSmallFile } from '../common/index.ts';
import type { GpgChecks } from '../snapshots/index.ts';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export class MirrorsError extends Failure {
  override name = 'MirrorsError';
  readonly kind = 'invalid_input';
}

const MAX_BYTES = 16 << 20;
const ATTEMPTS = 3;

/** How a URI shows in messages: a data: URL may hold a whole mirror list; its start is enough. */
function shown(uri: string): string {
  return uri.length > 120 ? `${uri.slice(0, 100)}… (${uri.length} characters)` : uri;
}

async function fetchText(uri: string, where: string): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt) await sleep(200 * attempt);
    let res: Response;
    try {
      res = await fetch(uri, { signal: AbortSignal.timeout(30_000), redirect: 'follow' });
    } catch (e) {
      last = (e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message;
      continue;
    }
    if (res.status >= 500) {
      last = `HTTP ${res.status}`;
      continue;
    }
    if (!res.ok) throw new MirrorsError(`${where}: HTTP ${res.status} ${res.statusText}`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_BYTES) throw new MirrorsError(`${where}: ${length} bytes; a mirror list is at most ${MAX_BYTES}`);
    // Counted as it arrives: a body without a length could be endless.
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.length;
      if (size > MAX_BYTES) throw new MirrorsError(`${where}: more than ${MAX_BYTES} bytes; a mirror list is at most that`);
      parts.push(chunk);
    }
    return Buffer.concat(parts, size).toString('utf8');
  }
  throw new MirrorsError(`${where}: ${last} (tried ${ATTEMPTS} times)`);
}

async function parse(text: string, where: string): Promise<unknown> {
  try {
    return JSON.parse(text);
  } catch (jsonError) {
    try {
      const { parse: parseYaml } = await import('yaml');
      return parseYaml(text, { maxAliasCount: 100 });
    } catch {
      throw new MirrorsError(`${where}: neither JSON nor YAML (${(jsonError as Error).message})`);
    }
  }
}

/** The mirror map of `uri`: a file path, file:, http:, https: or data: URL. */
export async function loadMirrors(uri: string): Promise<Map<string, string>> {
  return (await loadMirrorList(uri)).urls;
}

/** A mirror list: each repo's URL, and what its clients check (txrepo's index says, for signed repos). */
export interface MirrorList {
  urls: Map<string, string>;
  checks: Map<string, GpgChecks>;
}

/** The mirror map of `uri`, with the gpg checks of its "gpg" member when it has one. */
export async function loadMirrorList(uri: string): Promise<MirrorList> {
  let text: string;
  let base: string;
  const where = shown(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'data') {
    text = await fetchText(uri, where);
    base = uri;
  } else if (scheme === 'file' || scheme === undefined) {
    const path = scheme === 'file' ? new URL(uri).pathname : uri;
    const data = await readSmallFile(path, MAX_BYTES).catch((e: NodeJS.ErrnoException) => {
      throw new MirrorsError(`${where}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.message}`);
    });
    if (data === undefined) throw new MirrorsError(`${where}: more than ${MAX_BYTES} bytes; a mirror list is at most that`);
    text = data.toString('utf8');
    base = pathToFileURL(resolvePath(path)).href;
  } else {
    throw new MirrorsError(`${where}: give a file, or an http:, https: or data: URL (not ${scheme}:)`);
  }
  const doc = await parse(text, where);
  const map = doc && typeof doc === 'object' && 'latest_ci_repos' in doc ? (doc as { latest_ci_repos: unknown }).latest_ci_repos : doc;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new MirrorsError(`${where}: expected {"latest_ci_repos": {"<repo>": "<URL>", ...}}`);
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new MirrorsError(`${where}: the entry for ${JSON.stringify(name)} is not a URL string`);
    let url: URL;
    try {
      // Relative URLs are relative to where the list came from.
      url = new URL(value, base.startsWith('data:') ? undefined : base);
    } catch {
      throw new MirrorsError(`${where}: the entry for ${JSON.stringify(name)} is not a URL: ${JSON.stringify(value)}`);
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw new MirrorsError(`${where}: the entry for ${JSON.stringify(name)} is a ${url.protocol} URL; yum needs http(s) or file`);
    out.set(name, url.href);
  }
  const gpg = doc && typeof doc === 'object' && 'gpg' in doc ? (doc as { gpg: unknown }).gpg : undefined;
  return { urls: out, checks: gpg === undefined ? new Map() : checksOf(gpg, where, base) };
}

/** The "gpg" member of txrepo's index: {"<repo>": {gpgcheck, repoGpgcheck, gpgkey: [URL...]}}, checked. */
function checksOf(gpg: unknown, where: string, base: string): Map<string, GpgChecks> {
  if (!gpg || typeof gpg !== 'object' || Array.isArray(gpg)) throw new MirrorsError(`${where}: "gpg" is not an object of {"<repo>": {"gpgcheck": ..., "repoGpgcheck": ..., "gpgkey": [...]}}`);
  const out = new Map<string, GpgChecks>();
  for (const [name, value] of Object.entries(gpg)) {
    const c = value as Partial<GpgChecks> | null;
    const bad = () => new MirrorsError(`${where}: the gpg entry for ${JSON.stringify(name)} is not {"gpgcheck": true|false, "repoGpgcheck": true|false, "gpgkey": ["<http(s) URL>", ...]}`);
    if (!c || typeof c !== 'object' || typeof c.gpgcheck !== 'boolean' || typeof c.repoGpgcheck !== 'boolean' || !Array.isArray(c.gpgkey)) throw bad();
    const gpgkey = c.gpgkey.map((k) => {
      // One line of the .repo file, several URLs separated by spaces: none may hold either.
      if (typeof k !== 'string' || /[\s,\x00-\x1f\x7f]/.test(k)) throw bad();
      let url: URL;
      try {
        url = new URL(k, base.startsWith('data:') ? undefined : base);
      } catch {
        throw bad();
      }
      if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw bad();
      return url.href;
    });
    out.set(name, { gpgcheck: c.gpgcheck, repoGpgcheck: c.repoGpgcheck, gpgkey });
  }
  return out;
}
