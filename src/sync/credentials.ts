// Credentials for upstream repos. They come from the URL a command is given
// (https://USER:PASSWORD@mirror/...) for that one fetch, or from a netrc file
// ($TXREPO_NETRC: `machine HOST login USER password PASSWORD`, as curl and dnf read
// it) for a repository's stored upstream, which never holds them. Either way they are
// sent only to the upstream's own origin, never to a host a redirect leads to, and
// never printed, logged or returned: every URL shown goes through withoutCredentials,
// every stored text through maskCredentials (src/common/urls.ts).

import { readFileSync } from 'node:fs';

export interface Credentials {
  user: string;
  password: string;
}

/** The URL without its user and password. */
export function withoutCredentials(url: URL): URL {
  const clean = new URL(url.toString());
  clean.username = '';
  clean.password = '';
  return clean;
}

/** The machines of a netrc file (`default` applies to any other host). */
export function parseNetrc(text: string): Map<string, Credentials> {
  const words = text.replace(/#.*$/gm, '').split(/\s+/).filter(Boolean);
  const machines = new Map<string, Credentials>();
  let host: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'machine') host = words[++i]?.toLowerCase();
    else if (w === 'default') host = '*';
    else if (host !== undefined && (w === 'login' || w === 'password')) {
      const entry = machines.get(host) ?? { user: '', password: '' };
      entry[w === 'login' ? 'user' : 'password'] = words[++i] ?? '';
      machines.set(host, entry);
    }
  }
  return machines;
}

let netrc: Map<string, Credentials> | undefined;

/** The credentials $TXREPO_NETRC gives for a host, if any (read once). */
function fromNetrc(host: string): Credentials | undefined {
  const file = process.env.TXREPO_NETRC;
  if (!file) return undefined;
  netrc ??= parseNetrc(readFileSync(file, 'utf8'));
  return netrc.get(host.toLowerCase()) ?? netrc.get('*');
}

/** The credentials for fetching from `url`: its own, else the netrc file's for its host. */
export function credentialsFor(url: URL): Credentials | undefined {
  if (url.username || url.password) return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return fromNetrc(url.hostname);
}

/** The Authorization header value of HTTP Basic. */
export const basicAuth = (c: Credentials): string => `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;
