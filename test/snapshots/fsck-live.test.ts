// fsck on a live store (issue 18, item 6): it reads the catalog in one consistent view,
// so while deploys, tag moves, promotions and gc commit beside it, it reports no
// problem that is not there. (Before, reads in separate statements saw a tag move
// land between listing a repo's snapshots and its tags: "tag latest points at ...,
// which is not a snapshot of the repo".)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample, sampleRpms } from '../helpers/samples.ts';

let dir: string;
let store: string;

before(async () => {
  dir = await tempDir('txrepo-fsck-live-');
  store = join(dir, 'store');
});

after(async () => removeDir(dir));

test('fsck beside deploys, tag moves, promotions and gc: no false problems', { timeout: 600_000 }, async () => {
  const tx = inStore(store);
  const rpms = (await sampleRpms()).map(sample);
  for (const repo of ['a', 'b']) await tx(['repo', 'create', repo, '--retain-last', '2']);
  await tx(['deploy', 'a', rpms[0]]);
  await tx(['deploy', 'b', rpms[0]]);
  let writing = true;
  const writes: string[] = [];
  // Writers: each step commits; gc takes the snapshots the retention lets go.
  const writer = (async () => {
    for (let i = 1; i < rpms.length && writing; i++) {
      const repo = i % 2 ? 'a' : 'b';
      await tx(['deploy', repo, rpms[i]]);
      await tx(['tag', repo, 'tested', 'latest']);
      const set = JSON.parse((await tx(['set', 'create', 'a', 'b', '--ttl', '1h', '--json'])).stdout).id as string;
      await tx(['promote', set, '--tag', 'released']);
      await tx(['set', 'release', set]);
      await tx(['gc', '--grace', '0s']);
      writes.push(repo);
    }
  })();
  const problems: string[] = [];
  let runs = 0;
  try {
    while (writes.length < 12 || runs < 30) {
      const r = await txrepo(['fsck', '--store', store, '--json']);
      runs++;
      const report = JSON.parse(r.stdout) as { problems: string[] };
      problems.push(...report.problems);
      if (writes.length >= rpms.length - 1) break;
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.ok(writes.length >= 12, `the writers committed while fsck ran (${writes.length} rounds)`);
  assert.deepEqual(problems, [], `${problems.length} problems in ${runs} fsck runs beside ${writes.length} rounds of writes`);
});
