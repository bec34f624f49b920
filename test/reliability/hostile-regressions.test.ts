// needs: createrepo_c
// Regressions found by the reliability suite's hostile-input scenario
// (reliability/scenarios/hostile.ts): each test fails on the code before its fix.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { LocalTxrepo } from '../../src/core/index.ts';
import { loadMirrors, MirrorsError } from '../../src/inject/index.ts';
import { DecompressionLimitError } from '../../src/metadata/index.ts';
import { parsePrimary } from '../../src/metadata/reader.ts';
import { checkRepoName, collectRpmFiles, DeployInputError, InvalidNameError } from '../../src/snapshots/index.ts';
import { openTestStore } from '../helpers/backends.ts';
import { checkHref, ChecksumMismatchError, downloadToBlob, openUpstream, UnsafeHrefError } from '../../src/sync/index.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo, waitFor } from '../helpers/run.ts';
import { serve } from '../helpers/serve.ts';
import { sample } from '../helpers/samples.ts';

const rpm = sample;

let dir: string;
before(async () => {
  dir = await tempDir('txrepo-hostile-regressions-');
});
after(() => removeDir(dir));

/** A fresh store with one empty repository, opened in this process. */
async function localStore(name: string, repo = 'el9') {
  const store = await openTestStore(join(dir, name));
  const tx = new LocalTxrepo(store, 'test');
  await tx.createRepo({ name: repo });
  return tx;
}

/** A loopback server whose `path` streams zeros without a length, up to `cap` bytes; counts what it sent. */
async function endlessServer(path: string, cap: number): Promise<{ url: string; sent: () => number; close(): Promise<void> }> {
  let sent = 0;
  const chunk = Buffer.alloc(1 << 20);
  const server: Server = createServer(async (req, res) => {
    if (req.url !== path) return void res.writeHead(404).end();
    res.writeHead(200);
    while (sent < cap && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => (res.off('drain', done), res.off('close', done), resolve());
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () => new Promise((r) => (server.close(() => r()), server.closeAllConnections())),
  };
}

describe('serve', () => {
  let store: string;
  let token: string;
  before(async () => {
    store = join(dir, 'served');
    assert.equal((await txrepo(['repo', 'create', 'el9', '--store', store])).code, 0);
    token = JSON.parse((await txrepo(['token', 'create', 'bot', '--scope', 'admin', '--json', '--store', store])).stdout).token;
  });

  /** Sends `total` bytes of body in 64 KiB chunks, stopping at `abortAfter`; resolves with the status (0: none). */
  function send(url: string, method: string, path: string, headers: Record<string, string>, total: number, abortAfter = Infinity): Promise<number> {
    return new Promise((resolve) => {
      const req = request(new URL(path, url), { method, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      const chunk = Buffer.alloc(1 << 16, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          if (sent >= abortAfter) return void (req.destroy(), resolve(0));
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  }

  test('a JSON body refused half-read does not take the server down (its access log line threw)', async () => {
    const s = await serve(store);
    try {
      // Chunked: the body is read until it passes 1 MiB, then refused (413) and destroyed.
      await send(s.url, 'POST', '/api/v1/repos', { 'content-type': 'application/json' }, 3 << 20);
      await waitFor('the access log line of the refused request', () => s.log.some((l) => /"POST \/api\/v1\/repos" 413 /.test(l)));
      assert.equal(s.child.exitCode, null, 'the server exited');
      const res = await fetch(`${s.url}/repos/all_latest.json`);
      assert.equal(res.status, 200);
      assert.ok(s.log.some((l) => /"POST \/api\/v1\/repos" 413 /.test(l)), s.log.join('\n'));
    } finally {
      await s.stop();
    }
  });

  test('an upload the client cuts off is not a 500 with a stack trace in the server log', async () => {
    const s = await serve(store);
    let stderr = '';
    s.child.stderr!.on('data', (d: string) => (stderr += d));
    try {
      await send(s.url, 'PUT', `/api/v1/blobs/${'cd'.repeat(32)}`, { 'content-length': String(10 << 20) }, 10 << 20, 1 << 20);
      await waitFor('the access log line of the cut-off upload', () => s.log.some((l) => l.includes('/api/v1/blobs/')));
      await waitFor('the staged part of the upload to go', async () => (await readdir(join(store, 'tmp'))).length === 0);
      const line = s.log.find((l) => l.includes('/api/v1/blobs/'));
      assert.match(line ?? '', /" 499 /, s.log.join('\n'));
      assert.doesNotMatch(stderr, /^\s+at /m);
      assert.deepEqual(await readdir(join(store, 'tmp')), []);
    } finally {
      await s.stop();
    }
  });

  test("error messages quote at most the start of a megabyte field", async () => {
    const s = await serve(store);
    try {
      const res = await fetch(`${s.url}/api/v1/repos/el9/tags/x`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ref: 'r'.repeat(1_000_000) }) });
      assert.equal(res.status, 404);
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.length < 4200, `${error.message.length} characters`);
      assert.match(error.message, /^el9 has no tag rrrr.*… \(\d+ characters\)$/);
    } finally {
      await s.stop();
    }
  });
});

describe('sync', () => {
  test('parallel 0 (or less, or a fraction) is refused, not a sync that fetches nothing and commits an empty repo', async () => {
    const up = join(dir, 'up-parallel');
    await mkdir(up, { recursive: true });
    await copyFile(rpm('dog-4.23-1.noarch.rpm'), join(up, 'dog-4.23-1.noarch.rpm'));
    execFileSync('createrepo_c', ['--quiet', up]);
    const tx = await localStore('parallel', 'mirror');
    try {
      for (const parallel of [0, -1, 0.5, 65]) {
        await assert.rejects(tx.sync({ repo: 'mirror', from: up, parallel }), (e: Error) => e.name === 'RequestError' && /^parallel .*: give a whole number from 1 to 64$/.test(e.message));
      }
      assert.deepEqual(await tx.snapshots('mirror'), []);
      const done = await tx.sync({ repo: 'mirror', from: up, parallel: 2 });
      assert.equal(done.packages, 1);
    } finally {
      await tx.close();
    }
  });

  test('hrefs with percent-encoded dot segments or slashes are refused: URL resolution would climb out of the repo', () => {
    assert.equal(new URL('%2e%2e/outside.rpm', 'http://h/a/repo/').pathname, '/a/outside.rpm');
    for (const href of ['%2e%2e/outside.rpm', 'Packages/%2E%2e/x.rpm', '.%2e/x.rpm', '%2e/x.rpm', 'a%2f..%2fb.rpm', 'a%5c..%5cb.rpm']) {
      assert.throws(() => checkHref(href, 'primary.xml'), (e: Error) => e instanceof UnsafeHrefError && e.message.startsWith('primary.xml: refusing href'), href);
    }
    for (const href of ['Packages/f/foo%2e.rpm', 'a%2Bb-1.0-1.noarch.rpm', 'x%2e%2e.rpm']) assert.equal(checkHref(href, 'primary.xml'), href);
  });

  test('a metadata file listed larger than its limit is refused before a byte is downloaded', async () => {
    const srv = await endlessServer('/repodata/primary.xml.gz', 32 << 20);
    const store = await openTestStore(join(dir, 'listed-size'));
    try {
      const expect = { checksumType: 'sha256', checksum: 'ab'.repeat(32), size: 16 << 20, maxSize: 1 << 20 };
      await assert.rejects(downloadToBlob(store, openUpstream(srv.url), 'repodata/primary.xml.gz', expect), (e: Error) => e instanceof ChecksumMismatchError && /the metadata lists 16777216 bytes, more than the 1048576 allowed/.test(e.message));
      assert.equal(srv.sent(), 0);
      assert.deepEqual(await readdir(join(store.dir, 'tmp')), []);
    } finally {
      await store.close();
      await srv.close();
    }
  });

  test('an unsupported checksum type names the metadata that gives it', async () => {
    const up = join(dir, 'up-sha999');
    await mkdir(up, { recursive: true });
    await copyFile(rpm('dog-4.23-1.noarch.rpm'), join(up, 'dog-4.23-1.noarch.rpm'));
    execFileSync('createrepo_c', ['--quiet', up]);
    const repomd = join(up, 'repodata/repomd.xml');
    await writeFile(repomd, (await readFile(repomd, 'utf8')).replace(/(<data type="primary">\s*<checksum type=")sha256/, '$1sha999'));
    const tx = await localStore('sha999', 'mirror');
    try {
      await assert.rejects(tx.sync({ repo: 'mirror', from: up }), (e: Error) => e.message === `${repomd}: unsupported checksum type "sha999"`);
    } finally {
      await tx.close();
    }
  });

  test('a decompression bomb is reported with its source named once', async () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('<?xml version="1.0"?>\n<metadata>'), Buffer.alloc(8 << 20, 0x20)]));
    await assert.rejects(parsePrimary(Readable.from([bomb]), 'primary.xml.gz', 'http://up/repodata/primary.xml.gz', { maxBytes: 1 << 20 }), (e: Error) => {
      assert.ok(e instanceof DecompressionLimitError, e.stack);
      assert.equal(e.message, 'http://up/repodata/primary.xml.gz expands to more than 1048576 bytes; refusing it');
      return true;
    });
  });
});

describe('deploy', () => {
  test('a named pipe called .rpm is refused at once, not waited on for a writer', async () => {
    const store = join(dir, 'fifo-store');
    assert.equal((await txrepo(['repo', 'create', 'el9', '--store', store])).code, 0);
    const fifo = join(dir, 'pipe.rpm');
    execFileSync('mkfifo', [fifo]);
    const r = await txrepo(['deploy', 'el9', fifo, '--store', store], { timeout: 20_000 });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `txrepo: ${fifo}: not a valid RPM package: not a regular file\n`);
  });

  test('a package file name with control characters is refused: no URL of the repo could carry it', async () => {
    const tx = await localStore('names');
    try {
      const odd = join(dir, 'dog\nnewline-4.23-1.noarch.rpm');
      await copyFile(rpm('dog-4.23-1.noarch.rpm'), odd);
      await assert.rejects(tx.deploy({ repo: 'el9', sources: [odd] }), (e: Error) => e instanceof DeployInputError && e.message.startsWith(`${JSON.stringify(odd)}: the file name has control characters`));
      // The same name through the API: the blob is there, the name is still refused.
      const digest = createHash('sha256').update(await readFile(odd)).digest('hex');
      await tx.store.blobs.putFile(odd, { digest });
      await assert.rejects(tx.deploy({ repo: 'el9', uploads: [{ sha256: digest, fileName: 'dog\r-4.23-1.noarch.rpm' }] }), (e: Error) => e instanceof DeployInputError && e.message === 'upload "dog\\r-4.23-1.noarch.rpm": the file name has control characters or backslashes, which no URL of the repo could carry; rename the file');
      assert.deepEqual(await tx.snapshots('el9'), []);
    } finally {
      await tx.close();
    }
  });

  test('a symlink loop is reported as one, not as a missing file', async () => {
    await symlink(join(dir, 'loop-b.rpm'), join(dir, 'loop-a.rpm'));
    await symlink(join(dir, 'loop-a.rpm'), join(dir, 'loop-b.rpm'));
    await assert.rejects(collectRpmFiles([join(dir, 'loop-a.rpm')]), (e: Error) => e instanceof DeployInputError && e.message === `${join(dir, 'loop-a.rpm')}: a loop of symbolic links`);
  });

  test('an invalid name is quoted by its start only', () => {
    assert.throws(() => checkRepoName('a'.repeat(1_000_000)), (e: Error) => e instanceof InvalidNameError && e.message.length < 400 && /"a{128}"… \(1000000 characters\)/.test(e.message));
    assert.throws(() => checkRepoName('../etc'), (e: Error) => e.message.startsWith('repository name "../etc" is not allowed'));
  });
});

describe('inject', () => {
  const list = 'data:,%7B%22el9%22%3A%22http%3A%2F%2Fx%2F%22%7D';

  test('a config file that is a directory is a plain error, not an internal failure', async () => {
    const conf = join(dir, 'a-directory.conf');
    await mkdir(conf);
    const r = await txrepo(['inject', conf, '--mirrors', list]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `txrepo: ${conf}: is a directory\n`);
  });

  test('an endless config file or mirror list is refused after 16 MiB, not read whole into memory', async () => {
    await symlink('/dev/zero', join(dir, 'zero.conf'));
    const r = await txrepo(['inject', join(dir, 'zero.conf'), '--mirrors', list]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `txrepo: ${join(dir, 'zero.conf')}: larger than 16777216 bytes; not a yum configuration file\n`);
    await assert.rejects(loadMirrors('/dev/zero'), (e: Error) => e instanceof MirrorsError && e.message === '/dev/zero: more than 16777216 bytes; a mirror list is at most that');
  });

  test('a mirror list URL without a length is read no further than 16 MiB', async () => {
    const srv = await endlessServer('/all_latest.json', 256 << 20);
    try {
      await assert.rejects(loadMirrors(`${srv.url}/all_latest.json`), (e: Error) => e instanceof MirrorsError && /more than 16777216 bytes/.test(e.message));
      assert.ok(srv.sent() < 64 << 20, `the client took ${srv.sent()} bytes`);
    } finally {
      await srv.close();
    }
  });

  test('a long data: URL is quoted by its start only', async () => {
    const uri = `data:,${'%7B'.repeat(30_000)}`;
    await assert.rejects(loadMirrors(uri), (e: Error) => e instanceof MirrorsError && e.message.length < 400 && e.message.startsWith(`${uri.slice(0, 100)}… (90006 characters): `));
  });
});
