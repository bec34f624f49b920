// An upstream yum repo: an http(s) URL or a local directory. Every open is bounded in
// size and time, and names the URL in its errors.

import { createReadStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { isRepoUrl } from '../snapshots/index.ts';
import { basicAuth, credentialsFor, withoutCredentials } from './credentials.ts';
import { FetchRefusedError, type FetchPolicy } from './fetch-policy.ts';
import { checkHref } from './hrefs.ts';
import { Failure, maskCredentials } from '../common/index.ts';

export class UpstreamError extends Failure {
  override name = 'UpstreamError';
  readonly kind = 'upstream';
}

export interface Upstream {
  /** Human-readable location of a file, for messages. */
  describe(href: string): string;
  /**
   * Opens a file of the repo from byte `offset`; rejects with UpstreamError. Leaving
   * the iteration of `body` early (break or throw) closes it.
   */
  open(href: string, offset?: number): Promise<{ body: AsyncIterable<Uint8Array>; size?: number; resumed: boolean }>;
}

const TIMEOUT_MS = 30_000;

// node:http with keep-alive rather than fetch: thousands of small package downloads
// spend less in the client than through fetch's web streams.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
};
const MAX_REDIRECTS = 5;

function get(url: URL, headers: Record<string, string>, policy?: FetchPolicy): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    // An address in the URL is checked here (no lookup is made for one); a name, on
    // each address it resolves to, as the connection is made.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (policy && isIP(literal)) policy.check(literal, literal);
    const req = (protocol === 'https:' ? https : http).get(url, { headers, agent: agents[protocol], timeout: TIMEOUT_MS, ...(policy ? { lookup: policy.lookup } : {}) }, resolve);
    // An idle connection (no headers, or a body that stalls) fails the attempt.
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

class HttpUpstream implements Upstream {
  /** The upstream's URL without credentials: what every message shows. */
  private readonly base: URL;
  private readonly policy?: FetchPolicy;
  /** HTTP Basic for the upstream's own origin (credentials.ts), if it has credentials. */
  private readonly authorization?: string;
  constructor(url: string, policy?: FetchPolicy) {
    const given = new URL(url.endsWith('/') ? url : `${url}/`);
    this.base = withoutCredentials(given);
    this.policy = policy;
    const credentials = credentialsFor(given);
    if (credentials) this.authorization = basicAuth(credentials);
  }

  describe(href: string): string {
    return new URL(href, this.base).toString();
  }

  async open(href: string, offset = 0) {
    const url = this.describe(checkHref(href, this.base.toString()));
    let at = new URL(url);
    let res: IncomingMessage;
    for (let redirects = 0; ; redirects++) {
      try {
        // Credentials go to the upstream's own origin only, not where a redirect leads.
        const headers: Record<string, string> = { ...(offset && { range: `bytes=${offset}-` }), ...(this.authorization && at.origin === this.base.origin && { authorization: this.authorization }) };
        res = await get(at, headers, this.policy);
      } catch (e) {
        if (e instanceof FetchRefusedError) throw new FetchRefusedError(`${url}: ${e.message}`);
        const err = e as NodeJS.ErrnoException;
        throw new UpstreamError(`${url}: cannot fetch (${err.code ?? err.message})`);
      }
      const status = res.statusCode ?? 0;
      if (![301, 302, 303, 307, 308].includes(status) || !res.headers.location) break;
      res.resume();
      const next = new URL(res.headers.location, at);
      if (redirects === MAX_REDIRECTS || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
        throw new UpstreamError(`${url}: too many redirects, or a redirect to ${next.protocol}`);
      }
      at = withoutCredentials(next);
    }
    const status = res.statusCode ?? 0;
    if (status !== 200 && status !== 206) {
      res.resume();
      if (status === 404) throw new UpstreamError(`${url}: not found (404)`);
      throw new UpstreamError(`${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd());
    }
    const length = res.headers['content-length'];
    const resumed = status === 206;
    return { body: res as AsyncIterable<Uint8Array>, size: length ? Number(length) + (resumed ? offset : 0) : undefined, resumed };
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

/** `policy`: where a server may fetch from for a client (fetch-policy.ts); none for the local CLI. */
export function openUpstream(location: string, policy?: FetchPolicy): Upstream {
  if (isRepoUrl(location)) return new HttpUpstream(location, policy);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(location) && !location.startsWith('file:')) {
    throw new UpstreamError(`${maskCredentials(location)}: only http://, https:// and local paths are supported`);
  }
  return new DirectoryUpstream(location.startsWith('file:') ? new URL(location).pathname : location);
}
