// The fetch policy a server applies to what it fetches for a client (issue 15,
// finding 3): loopback, link-local, private and unspecified addresses are refused in
// every notation, on the resolved address and on every redirect, unless the operator
// opens them; the refusal says what was refused and sends nothing there.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fetchPolicy, FetchRefusedError, openUpstream, restrictedKind } from '../../src/sync/index.ts';

let server: Server;
let port: number;
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url?.startsWith('/hop/')) {
      res.writeHead(302, { location: `http://127.0.0.2:${port}/repodata/repomd.xml` }).end();
      return;
    }
    res.end('<repomd/>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function fetchWith(base: string, allow?: string[]): Promise<string> {
  const up = openUpstream(base, allow ? fetchPolicy(allow) : undefined);
  const { body } = await up.open('repodata/repomd.xml');
  let text = '';
  for await (const chunk of body) text += Buffer.from(chunk).toString();
  return text;
}

describe('restricted addresses', () => {
  test('by kind, IPv4, IPv6 and IPv4 written as IPv6', () => {
    for (const [address, kind] of [
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fd00::5', 'private (unique local)'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
    ]) {
      assert.equal(restrictedKind(address), kind, address);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(restrictedKind(address), undefined, address);
  });
});

describe('a server fetching for a client', () => {
  for (const base of [`http://127.0.0.1:${'PORT'}/`, 'http://2130706433:PORT/', 'http://0x7f000001:PORT/', 'http://0177.0.0.1:PORT/', 'http://127.1:PORT/', 'http://localhost:PORT/', 'http://[::ffff:127.0.0.1]:PORT/']) {
    test(`refuses ${base.replace('PORT', 'N')}, naming it, and sends nothing`, async () => {
      const before = requests;
      await assert.rejects(fetchWith(base.replace('PORT', String(port)), []), (e: Error) => {
        assert.ok(e instanceof FetchRefusedError, `${e.name}: ${e.message}`);
        assert.match(e.message, /the server does not fetch from .*: a loopback address; its operator can allow it with 'txrepo serve --fetch-allow (127\.0\.0\.1|::1)'/);
        return true;
      });
      assert.equal(requests, before, 'no request reached the service');
    });
  }

  test('fetches what the operator opened: an address, a range, a host name', async () => {
    for (const allow of [['127.0.0.1'], ['127.0.0.0/8'], ['localhost', '::1']]) {
      const host = allow[0] === 'localhost' ? 'localhost' : '127.0.0.1';
      assert.equal(await fetchWith(`http://${host}:${port}/`, allow), '<repomd/>', allow.join(','));
    }
  });

  test('a redirect to a refused address is refused, though the first host was allowed', async () => {
    await assert.rejects(fetchWith(`http://127.0.0.1:${port}/hop/`, ['127.0.0.1']), /does not fetch from 127\.0\.0\.2: a loopback address/);
  });

  test('the local CLI has no policy: it fetches from loopback', async () => {
    assert.equal(await fetchWith(`http://127.0.0.1:${port}/`), '<repomd/>');
  });

  test('--fetch-allow entries that are neither a host nor a range are refused by name', () => {
    for (const bad of ['10.0.0.0/33', 'exa mple', 'http://x/', '::1/129']) {
      assert.throws(() => fetchPolicy([bad]), (e: Error) => e instanceof FetchRefusedError && e.message.includes(`--fetch-allow ${bad}:`), bad);
    }
  });
});
