// npm start: the main job on the embedded defaults. Copies the sample RPMs (the pulp
// fixtures beside this repo) into .cache/demo-repo, turns the directory into a yum
// repo with `txrepo createrepo`, and prints how to point dnf at it.

import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createrepo } from '../src/createrepo/index.ts';

const root = resolve(import.meta.dirname, '..');
const samples = resolve(root, '../shared/fixtures/pulp-fixtures/rpm/assets');
const repo = join(root, '.cache/demo-repo');

const files = await readdir(samples).catch(() => {
  process.stderr.write(`npm start: the sample packages are missing (${samples}); run it from a checkout with shared/ beside it\n`);
  process.exit(1);
});
await rm(repo, { recursive: true, force: true });
await mkdir(repo, { recursive: true });
for (const f of files) if (f.endsWith('.rpm') || f === 'comps.xml') await cp(join(samples, f), join(repo, f), { dereference: true, preserveTimestamps: true });

const result = await createrepo({ dir: repo, groupfile: join(repo, 'comps.xml') });
console.log(`made a yum repo of ${result.packages} packages in ${repo}`);
for (const r of result.records) console.log(`  ${r.type.padEnd(10)} ${r.href}`);
console.log(`\nTry it with dnf:\n  dnf --repofrompath=demo,file://${repo} --repo=demo --nogpgcheck list --available`);
console.log(`Update it after adding or removing RPMs:\n  bin/txrepo createrepo --update ${repo}`);
