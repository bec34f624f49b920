// needs: rpm rpmbuild
// The committed sample packages (samples/zoo) are what their recipe
// (scripts/build-samples.ts) builds: byte for byte with the rpmbuild they were built
// with, else the same packages header by header. So the demo's and the tests'
// packages can always be rebuilt from the tree, and nobody edits them by hand.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { BUILT_WITH, buildZoo, rpmName, ZOO } from '../scripts/build-samples.ts';
import { removeDir, tempDir } from './helpers/repo.ts';
import { SAMPLES, sampleRpms } from './helpers/samples.ts';

const exec = promisify(execFile);

let dir: string;
before(async () => {
  dir = await tempDir('txrepo-samples-');
});
after(() => removeDir(dir));

const HEADER = '%{NEVRA}|%{SUMMARY}|%{BUILDTIME}|%{BUILDHOST}|%{PAYLOADCOMPRESSOR}\n[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n][%{FILENAMES} %{FILEMODES:perms} %{FILESIZES}\n]';

test('samples/zoo holds exactly the recipe\'s packages and the three metadata files', async () => {
  assert.deepEqual(await sampleRpms(), ZOO.map(rpmName).sort());
  assert.deepEqual((await readdir(SAMPLES)).filter((f) => !f.endsWith('.rpm')).sort(), ['comps.xml', 'modules.yaml', 'updateinfo.xml']);
});

test('the committed samples are what scripts/build-samples.ts builds', { timeout: 120_000 }, async () => {
  await buildZoo(dir);
  const version = (await exec('rpmbuild', ['--version'])).stdout.trim();
  for (const name of ZOO.map(rpmName)) {
    const committed = join(SAMPLES, name);
    const rebuilt = join(dir, name);
    if (version === BUILT_WITH) {
      assert.deepEqual(await readFile(rebuilt), await readFile(committed), `${name} differs from what the recipe builds; run node scripts/build-samples.ts`);
    } else {
      const q = async (f: string) => (await exec('rpm', ['-qp', '--qf', HEADER, f], { env: { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' } })).stdout;
      assert.equal(await q(rebuilt), await q(committed), `${name} differs from what the recipe builds (with ${version}; the samples were built with ${BUILT_WITH})`);
    }
  }
});
