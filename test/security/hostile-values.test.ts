// needs: dnf root
// Values someone else chose end up in XML metadata, repos.repo, terminals and logs
// (issue 15, findings 1, 5, 7 and 9): what XML cannot hold is refused before anything
// is stored, free text is one printable line, a package cannot sit in repodata/, and
// whatever an older store holds is shown escaped. After every refused case, real dnf
// still loads the repo.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { LOCAL_ONLY } from '../helpers/backends.ts';
import { dnf, describe as describeDnf } from '../helpers/dnf.ts';
import { serveDirectory } from '../helpers/http.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

let work: string;
let store: string;
let server: Served;
let token: string;
let n = 0;
const tx = () => inStore(store);

before(async () => {
  work = await tempDir('txrepo-hostile-values-');
  store = join(work, 'store');
  await tx()(['repo', 'create', 'el9']);
  await tx()(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm')]);
  token = (await tx()(['token', 'create', 'ci', '--scope', 'admin'])).stdout.trim();
  server = await serve(store);
});
after(async () => {
  await server?.stop();
  await removeDir(work);
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

/** Real dnf loads el9's latest from the server and sees bear in it. */
async function dnfStillLoads(): Promise<void> {
  const root = join(work, `dnf-${n++}`);
  const r = await dnf(root, { el9: `${server.url}/repos/el9/tags/latest/` }, ['list', '--available']);
  assert.equal(r.code, 0, describeDnf(r));
  assert.match(r.stdout, /^bear\.noarch/m, describeDnf(r));
}

const latest = async () => JSON.parse((await tx()(['show', 'el9', '--json'])).stdout).id as string;

describe('what XML cannot hold is refused before anything is stored', () => {
  for (const [name, char] of [['a lone surrogate', '\ud800'], ['U+FFFE', '\ufffe'], ['U+FFFF', '\uffff']] as const) {
    test(`an upload named with ${name}: 400, latest stays, dnf still loads the repo`, async () => {
      const before = await latest();
      const bytes = await readFile(sample('camel-0.1-1.noarch.rpm'));
      const sha = createHash('sha256').update(bytes).digest('hex');
      const put = await fetch(`${server.url}/api/v1/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-length': String(bytes.length) }, body: bytes });
      assert.ok(put.status === 201 || put.status === 200, `upload: ${put.status}`);
      const r = await api('POST', '/repos/el9/deploy', { uploads: [{ sha256: sha, fileName: `camel${char}-0.1-1.noarch.rpm` }] });
      const body = (await r.json()) as { error: { type: string; message: string } };
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(body.error.type, 'invalid_input');
      assert.match(body.error.message, /XML metadata cannot hold it/);
      assert.equal(await latest(), before);
      await dnfStillLoads();
    });
  }

  test('a local file named with U+FFFF: refused by name, nothing committed', async () => {
    const dir = join(work, 'odd-names');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'camel\uffff-0.1-1.noarch.rpm');
    await copyFile(sample('camel-0.1-1.noarch.rpm'), file);
    const before = await latest();
    const r = await txrepo(['deploy', 'el9', file, '--store', store]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the character \(U\+FFFF\) at character \d+; XML metadata cannot hold it/);
    assert.equal(await latest(), before);
    await dnfStillLoads();
  });
});

/** A yum repo whose primary.xml lists one package at `href` (a character reference or two allowed). */
async function upstreamListing(href: string): Promise<string> {
  const dir = join(work, `upstream-${n++}`);
  await mkdir(join(dir, 'repodata'), { recursive: true });
  const primary = zlib.gzipSync(
    `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1"><package type="rpm"><name>x</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">${'ab'.repeat(32)}</checksum><summary/><description/><packager/><url/><time file="1" build="1"/><size package="10" installed="1" archive="1"/><location href="${href}"/><format/></package></metadata>`,
  );
  await writeFile(join(dir, 'repodata', 'primary.xml.gz'), primary);
  const sum = createHash('sha256').update(primary).digest('hex');
  await writeFile(
    join(dir, 'repodata', 'repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision><data type="primary"><checksum type="sha256">${sum}</checksum><location href="repodata/primary.xml.gz"/><timestamp>1</timestamp><size>${primary.length}</size></data></repomd>\n`,
  );
  return dir;
}

describe('hrefs an upstream lists', () => {
  for (const [what, href, pattern] of [
    ['U+FFFE', 'Packages/x\ufffe-1-1.noarch.rpm', /malformed XML at line 2, column \d+: disallowed character/],
    ['U+FFFF as a character reference', 'Packages/x&#xFFFF;-1-1.noarch.rpm', /malformed XML at line 2, column \d+: malformed character entity/],
    ['repodata/repomd.xml', 'repodata/repomd.xml', /refusing package href "repodata\/repomd\.xml": repodata\/ is where the repo's metadata lives/],
    ['a package inside repodata/', 'repodata/x-1-1.noarch.rpm', /repodata\/ is where the repo's metadata lives/],
  ] as const) {
    test(`${what}: sync and deploy refuse it, nothing committed, dnf still loads the repo`, async () => {
      const up = await upstreamListing(href);
      const http = await serveDirectory(up);
      try {
        const before = await latest();
        for (const args of [['sync', 'el9', '--from', http.url], ['deploy', 'el9', http.url], ['deploy', 'el9', up]]) {
          const r = await txrepo([...args, '--store', store, '--json']);
          assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
          const error = JSON.parse(r.stdout).error;
          assert.equal(error.type, 'bad_metadata', `${args.join(' ')}: ${r.stdout}`);
          assert.match(error.message, pattern);
        }
        assert.equal(await latest(), before);
        await dnfStillLoads();
      } finally {
        await http.close();
      }
    });
  }
});

describe('free text is one line of printable text', () => {
  test('a set label with a section of its own (finding 1): refused through the API and the CLI; no set made', async () => {
    const label = 'x\n\n[evil]\nbaseurl=http://127.0.0.1:1/\ngpgcheck=0\n#';
    const r = await api('POST', '/sets', { refs: ['el9'], label });
    const body = (await r.json()) as { error: { type: string; message: string } };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /^label "x\\n\\n\[evil\]\\nbaseurl=.*": a line feed \(U\+000A\) at character 2; a label is one line of printable text$/);
    const cli = await txrepo(['set', 'create', 'el9', '--label', label, '--store', store]);
    assert.equal(cli.code, 1);
    assert.deepEqual(JSON.parse((await tx()(['set', 'list', '--json'])).stdout), []);
  });

  test('messages and reasons with escape sequences: refused, named, nothing changed', async () => {
    const before = await latest();
    for (const args of [
      ['deploy', 'el9', sample('cat-1.0-1.noarch.rpm'), '-m', 'ok\x1b[2J'],
      ['tag', 'el9', 'tested', 'latest', '-m', 'fine\r\nforged row'],
      ['set', 'create', 'el9', '--label', 'a\u2028b'],
    ]) {
      const r = await txrepo([...args, '--store', store, '--json']);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(JSON.parse(r.stdout).error.type, 'invalid_input');
    }
    assert.equal(await latest(), before);
    assert.deepEqual(JSON.parse((await tx()(['tags', 'el9', '--json'])).stdout).map((t: { tag: string }) => t.tag), ['latest']);
  });
});

describe('what an older store holds is shown, not obeyed', () => {
  test('snapshots, set list, tags --history, log and repos.repo escape stored control characters (finding 9)', LOCAL_ONLY, async () => {
    const old = join(work, 'old-store');
    const otx = inStore(old);
    await otx(['repo', 'create', 'el9']);
    await otx(['deploy', 'el9', sample('bear-4.1-1.noarch.rpm')]);
    await otx(['tag', 'el9', 'tested', 'latest']);
    await otx(['set', 'create', 'el9', '--label', 'plain']);
    // What an older txrepo let in, written straight into the catalog.
    const db = new DatabaseSync(join(old, 'catalog.sqlite'));
    const evil = 'ok\x1b[2J\n\nforged\trow';
    db.prepare('UPDATE snapshots SET message = ?').run(evil);
    db.prepare('UPDATE tag_history SET reason = ?').run(evil);
    db.prepare('UPDATE sets SET label = ?').run('x\n\n[evil]\nbaseurl=http://127.0.0.1:1/\n#');
    db.close();
    for (const args of [['snapshots', 'el9'], ['set', 'list'], ['tags', 'el9', '--history'], ['show', 'el9']]) {
      const out = (await otx(args)).stdout;
      assert.doesNotMatch(out, /\x1b/, args.join(' '));
      assert.doesNotMatch(out, /^forged|^\[evil\]/m, `${args.join(' ')}: ${out}`);
    }
    const oldServer = await serve(old);
    try {
      const sets = JSON.parse((await otx(['set', 'list', '--json'])).stdout) as { id: string }[];
      const repoFile = await (await fetch(`${oldServer.url}/sets/${sets[0].id}/repos.repo`)).text();
      assert.deepEqual(repoFile.match(/^\[.*\]$/gm), ['[el9]'], repoFile);
      assert.doesNotMatch(repoFile, /^baseurl=http:\/\/127\.0\.0\.1:1/m);
    } finally {
      await oldServer.stop();
    }
  });
});

describe('log lines', () => {
  test("the access log shows a client's control characters and quotes in the path, escaped", async () => {
    const { accessLogLine } = await import('../../src/server/index.ts');
    const line = accessLogLine({ time: 't', remote: '127.0.0.1', method: 'GET', path: '/x\x1b[2J"\n200 forged', status: 400, bytes: 0, ms: 1 });
    assert.equal(line, 't 127.0.0.1 "GET /x\\x1b[2J\\"\\n200 forged" 400 0 1.0ms');
  });
});
