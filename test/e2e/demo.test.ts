// npm start (the README's main job) starts, serves its demo repository, and stops.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { REPO_ROOT } from '../helpers/run.ts';

test('the demo serves a repository dnf can read, and stops on SIGTERM', async () => {
  const dir = await tempDir('txrepo-demo-');
  const child = spawn(join(REPO_ROOT, 'node_modules/node/bin/node'), [join(REPO_ROOT, 'scripts/demo.ts'), '--listen', '127.0.0.1:0', '--store', join(dir, 'store')], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m && out.includes('Ctrl-C')) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`the demo exited ${code}: ${out}`)));
    });
    assert.match(out, /--repofrompath=demo,http:\/\/127\.0\.0\.1:\d+\/repos\/demo\/tags\/latest\//);
    const repomd = await fetch(`${url}/repos/demo/tags/latest/repodata/repomd.xml`);
    assert.equal(repomd.status, 200);
    assert.match(await repomd.text(), /<data type="primary">/);
    const index = (await (await fetch(`${url}/repos/all_latest.json`)).json()) as { latest_ci_repos: Record<string, string> };
    assert.deepEqual(Object.keys(index.latest_ci_repos), ['demo']);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
    await removeDir(dir);
  }
});
