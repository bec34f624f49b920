// Where a server may fetch from for a client (deploy sources, sync upstreams, and every
// redirect on the way): not its own loopback, the link-local cloud metadata address or
// the private networks behind it, unless the operator opens them (serve --fetch-allow).
// The check is on the address a connection is made to, after resolving: a name that
// resolves to 127.0.0.1, and 127.0.0.1 written as 2130706433, 0x7f000001 or
// [::ffff:127.0.0.1], are all refused alike. The local CLI fetches with no policy: its
// user can reach those addresses anyway.

import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Failure } from '../common/index.ts';

export class FetchRefusedError extends Failure {
  override name = 'FetchRefusedError';
  readonly kind = 'invalid_input';
}

/** The ranges refused by default, with the word a refusal uses for each. */
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'special-purpose'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** IPv4 written as IPv6 (::ffff:a.b.c.d, and the hex form Node prints): its IPv4 address. */
function unmapped(address: string): string {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return address;
  if (m[1]) return m[1];
  const n = (parseInt(m[2]!, 16) << 16) | parseInt(m[3]!, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The ranges as block lists, made once: the check runs on every connection a server's fetch makes. */
const LISTS = RANGES.map(([net, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, kind };
});

/** What kind of refused address this is, if it is one. */
export function restrictedKind(address: string): string | undefined {
  const a = unmapped(address.replace(/^\[|\]$/g, ''));
  const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
  return LISTS.find((r) => r.family === family && r.list.check(a, family))?.kind;
}

export interface FetchPolicy {
  /** Throws FetchRefusedError if a connection to `address` (for `host`) is not allowed. */
  check(host: string, address: string): void;
  /** A dns.lookup that resolves, then checks every address it would connect to. */
  lookup: typeof dnsLookup;
}

/**
 * The policy of a server: restricted addresses refused, except those `allow` opens
 * (host names, exactly; addresses and CIDR ranges, IPv4 or IPv6).
 */
export function fetchPolicy(allow: string[] = []): FetchPolicy {
  const hosts = new Set<string>();
  const opened = new BlockList();
  for (const entry of allow) {
    const [net, bits] = entry.split('/');
    const family = isIP(net!);
    if (family) {
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new FetchRefusedError(`--fetch-allow ${entry}: not an address range; give HOST, ADDRESS or ADDRESS/BITS`);
      opened.addSubnet(net!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (bits === undefined && /^[A-Za-z0-9.-]+$/.test(entry)) {
      hosts.add(entry.toLowerCase());
    } else {
      throw new FetchRefusedError(`--fetch-allow ${entry}: not a host name or an address range; give HOST, ADDRESS or ADDRESS/BITS`);
    }
  }
  const check = (host: string, address: string) => {
    const kind = restrictedKind(address);
    if (!kind || hosts.has(host.toLowerCase().replace(/^\[|\]$/g, ''))) return;
    const a = unmapped(address.replace(/^\[|\]$/g, ''));
    if (opened.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4')) return;
    throw new FetchRefusedError(`the server does not fetch from ${host}${a !== host ? ` (${a})` : ''}: a ${kind} address; its operator can allow it with 'txrepo serve --fetch-allow ${a}'`);
  };
  const lookup = ((hostname: string, options: LookupOptions | number | ((...a: unknown[]) => void), callback?: (...a: unknown[]) => void) => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return cb(err);
      try {
        for (const a of addresses) check(hostname, a.address);
      } catch (e) {
        return cb(e);
      }
      if (opts.all) return cb(null, addresses);
      cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as typeof dnsLookup;
  return { check, lookup };
}
