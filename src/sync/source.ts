// An upstream yum repo: an http(s) URL or a local directory. Every open is bounded in
// size and time, and names the URL in its errors.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { checkHref } from './hrefs.ts';

export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

export interface Upstream {
  /** Human-readable location of a file, for messages. */
  describe(href: string): string;
  /** Opens a file of the repo from byte `offset`; rejects with UpstreamError. */
  open(href: string, offset?: number): Promise<{ body: Readable; size?: number; resumed: boolean }>;
}

const TIMEOUT_MS = 30_000;

class HttpUpstream implements Upstream {
  private readonly base: URL;
  constructor(url: string) {
    this.base = new URL(url.endsWith('/') ? url : `${url}/`);
  }

  describe(href: string): string {
    return new URL(href, this.base).toString();
  }

  async open(href: string, offset = 0) {
    const url = this.describe(checkHref(href, this.base.toString()));
    let res: Response;
    try {
      res = await fetch(url, { headers: offset ? { range: `bytes=${offset}-` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new UpstreamError(`${url}: cannot fetch (${cause?.code ?? cause?.message ?? (e as Error).message})`);
    }
    if (res.status === 404) throw new UpstreamError(`${url}: not found (404)`);
    if (res.status !== 200 && res.status !== 206) throw new UpstreamError(`${url}: HTTP ${res.status} ${res.statusText}`);
    if (!res.body) throw new UpstreamError(`${url}: empty response`);
    const length = res.headers.get('content-length');
    const resumed = res.status === 206;
    return { body: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), size: length ? Number(length) + (resumed ? offset : 0) : undefined, resumed };
  }
}

class DirectoryUpstream implements Upstream {
  private readonly root: string;
  constructor(path: string) {
    this.root = resolve(path);
  }

  describe(href: string): string {
    return join(this.root, href);
  }

  async open(href: string, offset = 0) {
    const path = this.describe(checkHref(href, this.root));
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new UpstreamError(`${path}: no such file in the upstream repo`);
    return { body: createReadStream(path, { start: offset }), size: st.size, resumed: offset > 0 };
  }
}

export function openUpstream(location: string): Upstream {
  if (/^https?:\/\//i.test(location)) return new HttpUpstream(location);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(location) && !location.startsWith('file:')) {
    throw new UpstreamError(`${location}: only http://, https:// and local paths are supported`);
  }
  return new DirectoryUpstream(location.startsWith('file:') ? new URL(location).pathname : location);
}
