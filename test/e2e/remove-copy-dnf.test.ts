// needs: dnf rpmbuild root
// Curating with real packages, a real txrepo server and the real dnf: `remove` pulls a
// build out (dnf at the tag no longer sees it; a tag on the snapshot before still
// serves it), and `copy --with-deps` brings an application with what it requires (a
// library by a versioned provide, the newest build that fits, and a tool by a file
// path), so that dnf installs it from the destination alone; without --with-deps it
// cannot.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { describe as dnfOutput, dnf, installedPackages, mustDnf } from '../helpers/dnf.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore } from '../helpers/run.ts';
import { serve, type Served } from '../helpers/serve.ts';

const run = promisify(execFile);

interface Pkg {
  name: string;
  version: string;
  provides?: string[];
  requires?: string[];
  /** The one file it owns (default /usr/share/NAME/VERSION). */
  file?: string;
}

/**
 * Builds NAME-VERSION-1.noarch.rpm with the given Provides and Requires, and none that
 * rpmbuild would add by itself (a file's interpreter, say), into `out`.
 */
async function build(out: string, p: Pkg): Promise<string> {
  const top = join(out, `.rpmbuild-${p.name}-${p.version}`);
  await mkdir(join(top, 'SPECS'), { recursive: true });
  const file = p.file ?? `/usr/share/${p.name}/${p.version}`;
  const spec = join(top, 'SPECS', `${p.name}.spec`);
  await writeFile(
    spec,
    [
      `Name: ${p.name}`,
      `Version: ${p.version}`,
      'Release: 1',
      `Summary: ${p.name}, built by the remove and copy test`,
      'License: MIT',
      'BuildArch: noarch',
      'AutoReqProv: no',
      ...(p.provides ?? []).map((x) => `Provides: ${x}`),
      ...(p.requires ?? []).map((x) => `Requires: ${x}`),
      '',
      '%description',
      'Built by test/e2e/remove-copy-dnf.test.ts.',
      '',
      '%install',
      `mkdir -p %{buildroot}${file.slice(0, file.lastIndexOf('/'))}`,
      `echo '${p.name} ${p.version}' > %{buildroot}${file}`,
      '',
      '%files',
      file,
      '',
    ].join('\n'),
  );
  await run('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `_rpmdir ${out}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', spec], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
  return join(out, `${p.name}-${p.version}-1.noarch.rpm`);
}

let dir: string;
let tx: ReturnType<typeof inStore>;
let server: Served;
let roots = 0;

const json = async (args: string[]) => JSON.parse((await tx([...args, '--json'])).stdout);
const fileNames = (hrefs: string[]) => hrefs.map((h) => basename(h)).sort();
/** A new installroot: dnf's cache and rpmdb of one check never leak into another. */
const root = () => join(dir, `root-${roots++}`);
const at = (repo: string, tag: string) => ({ [`${repo}-${tag}`.replace(/\W/g, '-')]: `${server.url}/repos/${repo}/tags/${tag}/` });

before(async () => {
  dir = await tempDir('txrepo-curate-dnf-');
  const rpms = join(dir, 'rpms');
  for (const p of [
    { name: 'zoolib', version: '1.0', provides: ['libzoo(api) = 1.0'] },
    { name: 'zoolib', version: '1.2', provides: ['libzoo(api) = 1.2'] },
    { name: 'zoolib', version: '2.0', provides: ['libzoo(api) = 2.0'] },
    { name: 'zootools', version: '3.1', file: '/usr/bin/zootool' },
    { name: 'zooapp', version: '1.0', requires: ['libzoo(api) >= 1.1', 'libzoo(api) < 2', '/usr/bin/zootool'] },
    { name: 'zoonoise', version: '0.1' },
  ]) {
    await build(rpms, p);
  }
  tx = inStore(join(dir, 'store'));
  for (const repo of ['src', 'dst', 'bare']) await tx(['repo', 'create', repo]);
  const rpmFiles = (await readdir(rpms)).filter((f) => f.endsWith('.rpm')).map((f) => join(rpms, f));
  await tx(['deploy', 'src', ...rpmFiles, '-q']);
  server = await serve(join(dir, 'store'));
});

after(async () => {
  await server?.stop();
  await removeDir(dir);
});

describe('remove and copy, as dnf sees them', () => {
  test('remove: dnf at the tag no longer sees the package; a tag on the snapshot before still serves it', async () => {
    await tx(['tag', 'src', 'before-remove', 'latest']);
    const r = await json(['remove', 'src', 'zoonoise']);
    assert.deepEqual(fileNames(r.removed), ['zoonoise-0.1-1.noarch.rpm']);
    const gone = await dnf(root(), at('src', 'latest'), ['list', '--available', 'zoonoise']);
    assert.notEqual(gone.code, 0, `dnf still lists zoonoise at src's latest:\n${dnfOutput(gone)}`);
    assert.doesNotMatch(gone.stdout, /zoonoise\.noarch/);
    const stillThere = root();
    await mustDnf(stillThere, at('src', 'before-remove'), ['install', 'zoonoise']);
    assert.ok((await installedPackages(stillThere)).includes('zoonoise-0.1-1.noarch'));
  });

  test('copy --with-deps: dnf installs the copied package from the destination alone', async () => {
    const r = await json(['copy', 'src', 'dst', 'zooapp', '--with-deps']);
    // The newest zoolib that fits (>= 1.1, < 2): 1.2; the tool by its file.
    assert.deepEqual(fileNames(r.dependencies), ['zoolib-1.2-1.noarch.rpm', 'zootools-3.1-1.noarch.rpm']);
    assert.deepEqual(fileNames(r.added), ['zooapp-1.0-1.noarch.rpm', 'zoolib-1.2-1.noarch.rpm', 'zootools-3.1-1.noarch.rpm']);
    assert.deepEqual(r.unresolved, []);
    const installroot = root();
    await mustDnf(installroot, at('dst', 'latest'), ['install', 'zooapp']);
    assert.deepEqual(await installedPackages(installroot), ['zooapp-1.0-1.noarch', 'zoolib-1.2-1.noarch', 'zootools-3.1-1.noarch']);
  });

  test('copy without --with-deps: the package alone, which dnf cannot install from there', async () => {
    const r = await json(['copy', 'src', 'bare', 'zooapp']);
    assert.deepEqual(fileNames(r.added), ['zooapp-1.0-1.noarch.rpm']);
    const refused = await dnf(root(), at('bare', 'latest'), ['install', 'zooapp']);
    assert.notEqual(refused.code, 0, dnfOutput(refused));
    assert.match(refused.stdout + refused.stderr, /libzoo\(api\)|zootool/);
  });
});
