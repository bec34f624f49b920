// gc --grace 0s (0 of any unit is a duration), and what `set show` says once a set's
// lease ended: how and when, and which pinned snapshots gc has removed since.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { sample } from '../helpers/samples.ts';
import { assertJsonError, document, on } from './cli.ts';

let dir: string;
let n = 0;

before(async () => {
  dir = await tempDir('txrepo-cli-sets-');
});

after(() => removeDir(dir));

/** A store with `web`, which keeps one snapshot, and `app`, which keeps all. */
async function twoRepos() {
  const tx = on(join(dir, `store-${n++}`));
  await tx(['repo', 'create', 'web', '--retain-last', '1']);
  await tx(['repo', 'create', 'app']);
  const web1 = document(await tx(['deploy', 'web', sample('bear-4.1-1.noarch.rpm'), '--json'])).snapshot as string;
  const app1 = document(await tx(['deploy', 'app', sample('cat-1.0-1.noarch.rpm'), '--json'])).snapshot as string;
  return { tx, web1, app1 };
}

describe('gc --grace', () => {
  test('0s (or 0 of any unit) is no grace at all: what only the grace window kept goes', async () => {
    const { tx, web1 } = await twoRepos();
    await tx(['deploy', 'web', sample('cat-1.0-1.noarch.rpm')]);
    // latest left web1 a moment ago: the default grace window keeps it.
    assert.deepEqual(document(await tx(['gc', '--dry-run', '--json'])).snapshots, []);
    for (const zero of ['0s', '0m', '0h0m']) {
      const r = document(await tx(['gc', '--dry-run', '--grace', zero, '--json']));
      assert.deepEqual(r.snapshots.map((s: { id: string }) => s.id), [web1], zero);
    }
    const r = await tx(['gc', '--grace', '0s']);
    assert.match(r.stdout, new RegExp(`removed snapshot web@${web1}`));
    assert.equal(document(await tx(['snapshots', 'web', '--json'])).length, 1);
  });

  test('a lease of 0 is refused, not a set that is dead on arrival', async () => {
    const { tx } = await twoRepos();
    assertJsonError(await tx(['set', 'create', 'app', '--ttl', '0s', '--json'], 1), 1, 'invalid_input', /give a duration above 0/);
    assertJsonError(await tx(['gc', '--grace=-1s', '--json'], 1), 1, 'invalid_input', /"-1s" is not a duration/);
  });
});

describe('set show after the lease', () => {
  test('released: when, and that it was a release', async () => {
    const { tx } = await twoRepos();
    const id = document(await tx(['set', 'create', 'app', 'web', '--label', 'run-1', '--json'])).id;
    const live = document(await tx(['set', 'show', id, '--json']));
    assert.equal(live.live, true);
    assert.equal(live.ended, undefined);
    const released = document(await tx(['set', 'release', id, '--json']));
    assert.deepEqual(released.ended, { how: 'released', at: released.releasedAt });
    const shown = document(await tx(['set', 'show', id, '--json']));
    assert.equal(shown.live, false);
    assert.deepEqual(shown.ended, { how: 'released', at: released.releasedAt });
    assert.match((await tx(['set', 'show', id])).stdout, new RegExp(`^set ${id} \\(run-1\\): lease ended ${released.releasedAt} \\(released\\)\\n`));
  });

  test('expired: when the lease ran out', async () => {
    const { tx } = await twoRepos();
    const set = document(await tx(['set', 'create', 'app', '--ttl', '1s', '--json']));
    await new Promise((r) => setTimeout(r, 1200));
    const shown = document(await tx(['set', 'show', set.id, '--json']));
    assert.deepEqual([shown.live, shown.ended], [false, { how: 'expired', at: set.expiresAt }]);
    assert.match((await tx(['set', 'show', set.id])).stdout, new RegExp(`lease ended ${set.expiresAt} \\(expired\\)`));
    assert.equal(document(await tx(['set', 'list', '--json'])).find((s: { id: string }) => s.id === set.id).ended.how, 'expired');
  });

  test('after gc: which snapshots are gone, without their dead paths; inject refuses the set', async () => {
    const { tx, web1, app1 } = await twoRepos();
    const id = document(await tx(['set', 'create', 'app', 'web', '--json'])).id;
    await tx(['set', 'release', id]);
    await tx(['deploy', 'web', sample('cat-1.0-1.noarch.rpm')]);
    await tx(['gc', '--grace', '0s']);
    const shown = document(await tx(['set', 'show', id, '--json']));
    const web = shown.repos.find((r: { repo: string }) => r.repo === 'web');
    const app = shown.repos.find((r: { repo: string }) => r.repo === 'app');
    assert.deepEqual(web, { repo: 'web', snapshot: web1, gone: true, files: [] });
    assert.deepEqual([app.snapshot, app.gone, app.path], [app1, false, `/sets/${id}/app/`]);
    assert.ok(app.files.length > 0);
    const text = (await tx(['set', 'show', id])).stdout;
    assert.match(text, new RegExp(`  web@${web1}: removed by gc since the lease ended`));
    assert.match(text, new RegExp(`  app@${app1}: \\d+ files at /sets/${id}/app/`));
    assert.doesNotMatch(text, new RegExp(`/sets/${id}/web/`));
    const conf = join(dir, `inject-${n}.conf`);
    await writeFile(conf, '[web]\nbaseurl=http://old.example/\n');
    assertJsonError(await tx(['inject', conf, '--set', id, '--base-url', 'http://repos.example', '--json'], 1), 1, 'not_found', new RegExp(`gc has removed web@${web1}`));
  });
});
