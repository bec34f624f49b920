// serve --max-upload: the largest package a client may upload. One at the limit is
// taken; one a byte over it is refused (413, naming the limit and the flag)
// before anything is stored; a limit the flag cannot mean is a usage error.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample, sampleRpms } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let dir: string;
let store: string;
let server: Served;
let token: string;
/** The smallest sample package and a larger one. */
let small: string;
let large: string;

before(async () => {
  dir = await tempDir('txrepo-upload-limit-');
  store = join(dir, 'store');
  await inStore(store)(['repo', 'create', 'el9']);
  token = (await inStore(store)(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  const bySize = await Promise.all((await sampleRpms()).map(async (name) => ({ path: sample(name), size: (await stat(sample(name))).size })));
  bySize.sort((a, b) => a.size - b.size);
  small = bySize[0].path;
  large = bySize.at(-1)!.path;
  assert.ok(bySize.at(-1)!.size > bySize[0].size);
  server = await serve(store, ['--quiet', '--workers', '1', '--max-upload', String(bySize[0].size)]);
});
after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('serve --max-upload', () => {
  test('a package of exactly the limit is taken; a larger one is refused, and nothing of it is stored', async () => {
    const ok = await txrepo(['deploy', 'el9', small, '--server', server.url, '--token', token]);
    assert.equal(ok.code, 0, ok.stderr);
    const limit = (await stat(small)).size;
    const refused = await txrepo(['deploy', 'el9', large, '--server', server.url, '--token', token]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`the upload is ${(await stat(large)).size} bytes, more than the ${limit} this server takes \\(its serve --max-upload\\)`));
    const digest = createHash('sha256').update(await readFile(large)).digest('hex');
    const head = await fetch(`${server.url}/api/v1/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    const upload = await fetch(`${server.url}/api/v1/blobs/${digest}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: await readFile(large) });
    assert.equal(upload.status, 413);
    assert.match(((await upload.json()) as { error: { message: string } }).error.message, /more than the \d+ this server takes/);
  });

  test('a size the flag cannot mean is a usage error that says what to give', async () => {
    for (const [value, words] of [
      ['5X', /--max-upload "5X": give a size, such as 512M or 4G/],
      ['1.5G', /give a size, such as 512M or 4G/],
      ['100', /--max-upload 100: give a size from 1K to 64G/],
      ['65G', /--max-upload 65G: give a size from 1K to 64G/],
    ] as const) {
      const r = await txrepo(['serve', '--store', store, '--listen', '127.0.0.1:0', '--max-upload', value]);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, words);
    }
  });
});
