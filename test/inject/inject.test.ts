// inject: yum/reposync INI files rewritten with the mirror-client rules, line by line;
// mirror lists from files, http(s) and data: URLs.

import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { injectMirrors, IniError, loadMirrors, MirrorsError } from '../../src/inject/index.ts';
import { serveDirectory } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { txrepo } from '../helpers/run.ts';

const OST = `[main]
reposdir=/etc/reposync.repos.d
max_connections=50

# the CI repo, tested builds
[ovirt-master-tested-el7]
name = oVirt tested
mirrorlist=http://mirrors.example.org/?repo=tested
metalink=https://mirrors.example.org/metalink?repo=tested
  &arch=x86_64
gpgcheck=0
max_connections=5
proxy=http://proxy.example.org:3128
; trailing comment

[centos-base-el7]
baseurl=http://mirror.centos.org/centos/7/os/x86_64/
includepkgs=gtk2 python2-pyasn1
exclude= *i686

[ovirt-master-snapshot-static-el7]
BaseURL=http://old.example.org/static/
exclude=ovirt-engine-appliance
`;

const mirrors = new Map([
  ['ovirt-master-tested-el7', 'http://txrepo:8080/sets/S1/ovirt-master-tested-el7/'],
  ['ovirt-master-snapshot-static-el7', 'http://txrepo:8080/sets/S1/ovirt-master-snapshot-static-el7/'],
  ['not-in-the-file', 'http://txrepo:8080/x/'],
]);

/** OST with `mirrors` injected, as the mirror-client rules say, written out by hand. */
const OST_INJECTED = `[main]
reposdir=/etc/reposync.repos.d
max_connections=50

# the CI repo, tested builds
[ovirt-master-tested-el7]
name = oVirt tested
baseurl=http://txrepo:8080/sets/S1/ovirt-master-tested-el7/
proxy=_none_
gpgcheck=0
max_connections=5
; trailing comment

[centos-base-el7]
baseurl=http://mirror.centos.org/centos/7/os/x86_64/
includepkgs=gtk2 python2-pyasn1
exclude= *i686

[ovirt-master-snapshot-static-el7]
baseurl=http://txrepo:8080/sets/S1/ovirt-master-snapshot-static-el7/
proxy=_none_
exclude=ovirt-engine-appliance
`;

describe('injecting mirrors into INI files', () => {
  test('matching sections get baseurl and proxy=_none_, lose mirrorlist and metalink; the rest is kept byte for byte', () => {
    const r = injectMirrors(OST, mirrors);
    assert.deepEqual(r.injected, ['ovirt-master-tested-el7', 'ovirt-master-snapshot-static-el7']);
    assert.equal(r.text, OST_INJECTED);
  });

  test('--allow-proxy keeps proxy settings; a section without any URL gets one after its options', () => {
    const r = injectMirrors(OST, mirrors, { allowProxy: true });
    assert.match(r.text, /proxy=http:\/\/proxy.example.org:3128/);
    assert.doesNotMatch(r.text, /_none_/);
    const bare = injectMirrors('[a]\nname=A\ngpgcheck=0\n\n# end\n', new Map([['a', 'http://x/a/']]));
    assert.equal(bare.text, '[a]\nname=A\ngpgcheck=0\nbaseurl=http://x/a/\nproxy=_none_\n\n# end\n');
  });

  test('line endings and a missing final newline are kept; injecting twice gives the same file', () => {
    const crlf = '[a]\r\nmirrorlist=http://m/\r\nname=A';
    const once = injectMirrors(crlf, new Map([['a', 'http://x/']]));
    assert.equal(once.text, '[a]\r\nbaseurl=http://x/\r\nproxy=_none_\r\nname=A');
    assert.equal(injectMirrors(once.text, new Map([['a', 'http://x/']])).text, once.text);
    assert.equal(injectMirrors(OST_INJECTED, mirrors).text, OST_INJECTED);
  });

  test('exact section ids only: el8 does not match el8stream', () => {
    const r = injectMirrors('[centos-base-el8stream]\nbaseurl=http://keep/\n', new Map([['centos-base-el8', 'http://new/']]));
    assert.deepEqual(r.injected, []);
    assert.equal(r.text, '[centos-base-el8stream]\nbaseurl=http://keep/\n');
  });

  test('what is not INI is refused with the line number', () => {
    assert.throws(() => injectMirrors('[a]\nthis line has no equals sign\n', mirrors), (e: Error) => e instanceof IniError && /line 2/.test(e.message));
    assert.throws(() => injectMirrors('  indented=before any option\n', mirrors), /line 1/);
    assert.throws(() => injectMirrors('[a]\n', new Map([['a', 'http://x/\nevil=1']])), IniError);
  });
});

describe('mirror lists', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('txrepo-mirrors-');
  });
  after(() => removeDir(dir));

  test('all_latest.json from a file, an http URL and a data: URL; relative URLs resolve against the source', async () => {
    const doc = { latest_ci_repos: { a: 'http://h/repos/a/snapshots/1/', b: 'b/snapshots/2/' } };
    await mkdir(join(dir, 'web', 'repos'), { recursive: true });
    await writeFile(join(dir, 'web', 'repos', 'all_latest.json'), JSON.stringify(doc));
    const server = await serveDirectory(join(dir, 'web'));
    try {
      const fromHttp = await loadMirrors(`${server.url}/repos/all_latest.json`);
      assert.deepEqual([...fromHttp], [
        ['a', 'http://h/repos/a/snapshots/1/'],
        ['b', `${server.url}/repos/b/snapshots/2/`],
      ]);
      await assert.rejects(loadMirrors(`${server.url}/repos/missing.json`), (e: Error) => e instanceof MirrorsError && /HTTP 404/.test(e.message));
    } finally {
      await server.close();
    }
    const data = `data:application/json;base64,${Buffer.from(JSON.stringify({ latest_ci_repos: { a: 'http://h/a/' } })).toString('base64')}`;
    assert.deepEqual([...(await loadMirrors(data))], [['a', 'http://h/a/']]);
    const yaml = join(dir, 'mirrors.yaml');
    await writeFile(yaml, 'a: http://h/a/\nb: https://h/b/\n');
    assert.deepEqual([...(await loadMirrors(yaml))], [
      ['a', 'http://h/a/'],
      ['b', 'https://h/b/'],
    ]);
  });

  test('broken sources are errors, never a silent fall-back', async () => {
    await assert.rejects(loadMirrors(join(dir, 'nope.json')), /no such file/);
    await assert.rejects(loadMirrors('ftp://h/all_latest.json'), /not ftp:/);
    await assert.rejects(loadMirrors('http://127.0.0.1:9/all_latest.json'), (e: Error) => e instanceof MirrorsError && /tried 3 times/.test(e.message));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"latest_ci_repos": {"a": 42}}');
    await assert.rejects(loadMirrors(bad), /"a" is not a URL string/);
    await writeFile(bad, '{"latest_ci_repos": {"a": "javascript:alert(1)"}}');
    await assert.rejects(loadMirrors(bad), /javascript: URL/);
    await writeFile(bad, '[1, 2');
    await assert.rejects(loadMirrors(bad), /neither JSON nor YAML/);
  });
});

describe('txrepo inject', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('txrepo-inject-');
  });
  after(() => removeDir(dir));

  test('rewrites in place atomically (mode kept), or to -o; a bad file among several changes none', async () => {
    const conf = join(dir, 'reposync.conf');
    await writeFile(conf, OST);
    await chmod(conf, 0o640);
    const list = join(dir, 'all_latest.json');
    await writeFile(list, JSON.stringify({ latest_ci_repos: Object.fromEntries(mirrors) }));
    const out = join(dir, 'out.conf');
    let r = await txrepo(['inject', conf, '--mirrors', list, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(conf, 'utf8'), OST);
    assert.equal(await readFile(out, 'utf8'), OST_INJECTED);
    const broken = join(dir, 'broken.conf');
    await writeFile(broken, '[x]\nnot an option\n');
    r = await txrepo(['inject', conf, broken, '--mirrors', list]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.conf: line 2/);
    assert.equal(await readFile(conf, 'utf8'), OST, 'nothing written when one file is bad');
    r = await txrepo(['inject', conf, '--mirrors', list, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout)[0].injected, ['ovirt-master-tested-el7', 'ovirt-master-snapshot-static-el7']);
    assert.equal((await stat(conf)).mode & 0o777, 0o640);
    assert.equal(await readFile(conf, 'utf8'), OST_INJECTED);
  });

  test('usage errors', async () => {
    const conf = join(dir, 'u.conf');
    await writeFile(conf, '[a]\n');
    for (const args of [['inject', conf], ['inject', '--set', 'x'], ['inject', conf, '--set', 'S', '--mirrors', 'm'], ['inject', conf, conf, '--mirrors', 'm', '-o', 'x']]) {
      const r = await txrepo(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    const r = await txrepo(['inject', conf, '--set', '20260101-000000-0001', '--store', join(dir, 'store')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--base-url/);
  });
});
