// needs: chromium rpmbuild
// The web UI in a real browser (headless chromium) over `txrepo serve` on a store with
// a few repositories, snapshots, tags, sets and tag moves: every page loads with no
// console error and shows the rows it should; a package whose summary, description and
// changelog hold markup executes nothing; screenshots of each page go to
// .cache/ui-screenshots/.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage, screenshot, type WatchedPage } from '../helpers/browser.ts';
import { buildRpm } from '../helpers/build.ts';
import { binaryTag, mainHeader, openpgpRsaKey, openpgpSignature, SIGTAG, writeWithSignatures } from '../helpers/signing.ts';
import { readFile } from 'node:fs/promises';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { inStore } from '../helpers/run.ts';
import { sample, sampleRpms, SAMPLES } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

const SCRIPT = '<script>window.__xss=1</script>';
const IMG = '"><img src=x onerror="window.__xss=2">';

let dir: string;
let store: string;
let served: Served;
let browser: Browser;
let token: string;
const ids: Record<string, string> = {};
/** The pages a test opened: closed after it. */
const opened: WatchedPage[] = [];

afterEach(async () => {
  for (const w of opened.splice(0)) await w.close();
});

before(async () => {
  dir = await tempDir('txrepo-ui-');
  store = join(dir, 'store');
  const tx = inStore(store);
  const idOf = async (args: string[]) => JSON.parse((await tx([...args, '--json'])).stdout).snapshot as string;
  // --keep 1: the second deploy's builds replace the first's (upgrades, in a diff).
  await tx(['repo', 'create', 'zoo', '--keep', '1']);
  ids.zoo1 = await idOf(['deploy', 'zoo', ...['bear-4.1-1', 'duck-0.6-1', 'kangaroo-0.2-1', 'walrus-0.71-1'].map((n) => sample(`${n}.noarch.rpm`)), '-m', 'the first animals']);
  ids.zoo2 = await idOf(['deploy', 'zoo', ...['duck-0.8-1', 'kangaroo-0.3-1', 'walrus-5.21-1'].map((n) => sample(`${n}.noarch.rpm`)), '-m', 'upgrades']);
  ids.zoo3 = await idOf(['deploy', 'zoo', sample('cat-1.0-1.noarch.rpm'), '-m', 'a cat']);
  await tx(['tag', 'zoo', 'tested', ids.zoo1, '-m', 'first tested']);
  await tx(['tag', 'zoo', 'tested', ids.zoo2, '-m', 'upgrades pass']);
  await tx(['repo', 'create', 'all']);
  ids.all = await idOf(['deploy', 'all', ...(await sampleRpms()).map((f) => join(SAMPLES, f))]);
  const hostile = await buildRpm(join(dir, 'rpms'), { name: 'hostile', version: '1.0', release: '1', summary: `${SCRIPT} ${IMG}`, description: `${SCRIPT}\n${IMG}`, changelog: `- ${SCRIPT} ${IMG}` });
  await tx(['repo', 'create', 'hostile']);
  ids.hostile = await idOf(['deploy', 'hostile', hostile, '-m', `${IMG}`]);
  ids.set = (await tx(['set', 'create', '--label', `nightly ${IMG}`, 'zoo@tested', 'all'])).stdout.trim().split(/\s+/)[0];
  ids.ended = (await tx(['set', 'create', '--label', 'yesterday', 'zoo'])).stdout.trim().split(/\s+/)[0];
  await tx(['set', 'release', ids.ended]);
  // A set promoted to a tag: the move names the set.
  await tx(['promote', ids.set, '--tag', 'stable', '-m', 'release 2.4 validated']);
  // A package signed by a key (its header signature): the snapshot page shows the signer.
  const key = await openpgpRsaKey('ui@txrepo.invalid');
  ids.signer = key.keyId;
  const unsigned = sample('penguin-0.9.1-1.noarch.rpm');
  const signature = await openpgpSignature(key.privateKey, mainHeader(await readFile(unsigned)));
  const signed = await writeWithSignatures(unsigned, join(dir, 'penguin-0.9.1-1.noarch.rpm'), { [SIGTAG.RSAHEADER]: binaryTag(SIGTAG.RSAHEADER, signature) });
  await tx(['repo', 'create', 'signed']);
  ids.signed = await idOf(['deploy', 'signed', signed]);
  // A repository whose retention keeps only its newest snapshot: gc would remove the two before.
  await tx(['repo', 'create', 'short', '--retain-last', '1']);
  for (const n of ['bear-4.1-1', 'cat-1.0-1', 'cow-2.2-3']) ids[`short-${n}`] = await idOf(['deploy', 'short', sample(`${n}.noarch.rpm`)]);
  token = (await tx(['token', 'create', 'viewer', '--scope', 'read'])).stdout.trim();
  served = await serve(store);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await served?.stop();
  await removeDir(dir);
});

/** Opens PATH in a fresh page, asserts it answered `status` with no console error, and screenshots it as NAME. */
async function visit(path: string, name: string, opts: { status?: number; token?: boolean } = {}): Promise<WatchedPage> {
  const w = await openPage(browser, opts.token ? { credentials: { username: 'txrepo', password: token } } : {});
  opened.push(w);
  const response = await w.page.goto(served.url + path);
  assert.equal(response?.status(), opts.status ?? 200, `${path}: ${await w.page.content()}`);
  await w.page.waitForLoadState('load');
  await screenshot(w.page, name);
  // An error page's own status is logged by the browser as a failed load: that one is expected.
  const problems = w.problems.filter((p) => !(opts.status && p.includes(`status of ${opts.status}`)));
  assert.deepEqual(problems, [], `${path}: ${w.problems.join('\n')}`);
  return w;
}

const rowsOf = (page: Page, table: string) => page.locator(`table#${table} tbody tr`);
const texts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

describe('pages', () => {
  test('home: a row per repository with its latest snapshot, and the recent changes', async () => {
    const { page } = await visit('/', 'home');
    assert.equal(await page.title(), 'repositories · txrepo');
    const repos = await texts(page, 'table#repos tbody tr td:first-child');
    assert.deepEqual(repos.sort(), ['all', 'hostile', 'short', 'signed', 'zoo']);
    const zoo = rowsOf(page, 'repos').filter({ hasText: 'zoo' });
    assert.match(await zoo.innerText(), new RegExp(`${ids.zoo3}\\s+5\\s+latest\\s+stable\\s+tested`));
    assert.ok((await rowsOf(page, 'recent').count()) >= 5);
    assert.equal(await page.locator('footer code.cli').innerText(), 'txrepo repo list');
    assert.equal(await page.locator('footer a.api').getAttribute('href'), '/api/v1/repos');
    // The script shows the filter box, and it filters.
    await page.getByLabel('Filter repositories').fill('zo');
    assert.equal(await rowsOf(page, 'repos').locator('visible=true').count(), 1);
  });

  test('a repository: its timeline, tags, the live set that pins it, compare pickers', async () => {
    const { page } = await visit('/ui/repos/zoo', 'repo');
    assert.equal(await rowsOf(page, 'timeline').count(), 3);
    assert.match(await rowsOf(page, 'timeline').first().innerText(), /a cat\s+5\s+\+1 −0/);
    // --keep 1: three builds in, three out.
    assert.match(await rowsOf(page, 'timeline').nth(1).innerText(), /upgrades\s+4\s+\+3 −3.*tested/s);
    assert.deepEqual((await texts(page, 'table#tags tbody td:first-child')).sort(), ['latest', 'stable', 'tested']);
    assert.equal(await rowsOf(page, 'sets').count(), 1);
    assert.match(await rowsOf(page, 'sets').innerText(), new RegExp(ids.set));
    assert.equal(await page.getByLabel(`compare from ${ids.zoo2}`).isChecked(), true);
  });

  test('a snapshot: its packages paged and searchable', async () => {
    const { page } = await visit(`/ui/repos/all/snapshots/${ids.all}?per=10`, 'snapshot');
    assert.equal(await rowsOf(page, 'packages').count(), 10);
    assert.match(await page.locator('nav.pages').first().innerText(), /page 1 of 4 \(35 packages\)/);
    await page.locator('a[rel=next]').first().click();
    await page.waitForURL(/page=2/);
    assert.match(await page.locator('nav.pages').first().innerText(), /page 2 of 4/);
    assert.equal(await rowsOf(page, 'packages').count(), 10);
    await page.getByLabel('Search packages by name').fill('duck');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=duck/);
    assert.deepEqual(await texts(page, 'table#packages tbody td:nth-child(2)'), ['0.6-1', '0.7-1', '0.8-1']);
    assert.deepEqual(await page.locator('footer code.cli').innerText(), `txrepo show all@${ids.all} --files`);
  });

  test('a package: details, changelog, and a download link that works', async () => {
    const { page } = await visit(`/ui/repos/zoo/snapshots/${ids.zoo2}/packages/Packages/d/duck-0.8-1.noarch.rpm`, 'package');
    assert.equal(await page.locator('h1').innerText(), 'duck-0.8-1.noarch');
    assert.match(await page.locator('.changelog').innerText(), /- duck 0\.8/);
    assert.deepEqual(await texts(page, 'ul.files li'), ['/usr/bin/duck']);
    const href = await page.getByRole('link', { name: 'Packages/d/duck-0.8-1.noarch.rpm' }).getAttribute('href');
    const r = await fetch(served.url + href!);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/x-rpm');
  });

  test('a signed package: its signer in the package list and on its page', async () => {
    const { page } = await visit(`/ui/repos/signed/snapshots/${ids.signed}`, 'snapshot-signed');
    assert.deepEqual(await texts(page, 'table#packages tbody td:nth-child(5)'), [ids.signer]);
    const pkg = await visit(`/ui/repos/signed/snapshots/${ids.signed}/packages/Packages/p/penguin-0.9.1-1.noarch.rpm`, 'package-signed');
    assert.match(await pkg.page.locator('dl.facts').innerText(), new RegExp(`signer\\s+${ids.signer}`));
  });

  test('a repository with a retention policy: what gc would remove', async () => {
    const { page } = await visit('/ui/repos/short', 'repo-retention');
    const marked = await rowsOf(page, 'timeline').filter({ hasText: 'gc removes' }).allInnerTexts();
    assert.equal(marked.length, 2);
    assert.ok(marked[0].includes(ids['short-cat-1.0-1']) && marked[1].includes(ids['short-bear-4.1-1']), marked.join('\n'));
    assert.match(await page.locator('main').innerText(), /2 snapshot\(s\) beyond the retention policy/);
  });

  test('an unknown snapshot: an HTML error page with the API status', async () => {
    const { page } = await visit('/ui/repos/zoo/snapshots/20000101-000000-0001', 'error', { status: 404 });
    assert.match(await page.locator('p.error').innerText(), /no snapshot|20000101-000000-0001/);
  });
});

describe('escaping', () => {
  for (const [name, path] of [
    ['snapshot', () => `/ui/repos/hostile/snapshots/${ids.hostile}`],
    ['package', () => `/ui/repos/hostile/snapshots/${ids.hostile}/packages/Packages/h/hostile-1.0-1.noarch.rpm`],
    ['repo', () => '/ui/repos/hostile'],
    ['home', () => '/'],
  ] as const) {
    test(`${name}: markup in a summary, description, changelog or message is shown, never run`, async () => {
      const { page } = await visit(path(), `xss-${name}`);
      assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
      assert.equal(await page.locator('main img').count(), 0);
      assert.equal(await page.locator('main script').count(), 0);
      const text = await page.locator('main').innerText();
      assert.ok(text.includes(IMG), text);
      if (name !== 'home' && name !== 'repo') assert.ok(text.includes(SCRIPT), text);
    });
  }
});

describe('directory listings', () => {
  test('a browser opening a tag path gets index pages whose links lead to the files', async () => {
    const { page } = await visit('/repos/zoo/tags/latest/', 'listing-root');
    assert.deepEqual(await texts(page, 'table#listing tbody td:first-child'), ['Packages/', 'repodata/']);
    await page.getByRole('link', { name: 'Packages/' }).click();
    await page.waitForURL(/\/tags\/latest\/Packages\/$/);
    assert.deepEqual(await texts(page, 'table#listing tbody td:first-child'), ['../', 'b/', 'c/', 'd/', 'k/', 'w/']);
    await page.getByRole('link', { name: 'd/' }).click();
    await page.waitForURL(/\/Packages\/d\/$/);
    await screenshot(page, 'listing-packages');
    assert.deepEqual(await texts(page, 'table#listing tbody td:first-child'), ['../', 'duck-0.8-1.noarch.rpm']);
    const href = await page.getByRole('link', { name: 'duck-0.8-1.noarch.rpm' }).evaluate((a) => (a as unknown as { href: string }).href);
    assert.equal(href, `${served.url}/repos/zoo/tags/latest/Packages/d/duck-0.8-1.noarch.rpm`);
    const r = await page.request.get(href);
    assert.equal(r.status(), 200);
    assert.equal(r.headers()['content-type'], 'application/x-rpm');
    await page.getByRole('link', { name: '../' }).click();
    await page.waitForURL(/\/tags\/latest\/Packages\/$/);
  });

  test('snapshot, time and set paths list their folders too', async () => {
    const now = encodeURIComponent(new Date(Date.now() + 1000).toISOString());
    for (const [path, name, expected] of [
      [`/repos/zoo/snapshots/${ids.zoo1}/`, 'listing-snapshot', ['Packages/', 'repodata/']],
      [`/repos/zoo/snapshots/${ids.zoo1}/repodata/`, 'listing-repodata', ['../']],
      [`/repos/zoo/at/${now}/Packages/c/`, 'listing-at', ['../', 'cat-1.0-1.noarch.rpm']],
      [`/sets/${ids.set}/zoo/Packages/w/`, 'listing-set', ['../', 'walrus-5.21-1.noarch.rpm']],
    ] as const) {
      const { page } = await visit(path, name);
      const names = await texts(page, 'table#listing tbody td:first-child');
      assert.deepEqual(names.slice(0, expected.length), expected, path);
    }
    const { page } = await visit(`/repos/zoo/snapshots/${ids.zoo1}/repodata/`, 'listing-repodata');
    await page.getByRole('link', { name: 'repomd.xml', exact: true }).click();
    assert.match(await page.content(), /repomd/);
  });

  test('dnf-like and curl-like requests get what they always got', async () => {
    const clients = {
      dnf: { 'user-agent': 'libdnf (Fedora Linux 41; generic; Linux.x86_64)', accept: '*/*' },
      curl: { 'user-agent': 'curl/8.5.0', accept: '*/*' },
      script: {},
    };
    for (const [who, headers] of Object.entries(clients)) {
      // A folder is no file: a 404 with the JSON error document, as before the UI.
      for (const path of ['/repos/zoo/tags/latest/', `/repos/zoo/snapshots/${ids.zoo1}/Packages/`, `/sets/${ids.set}/zoo/`]) {
        const r = await fetch(served.url + path, { headers });
        assert.equal(r.status, 404, `${who} ${path}`);
        assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', `${who} ${path}`);
        assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'; sandbox");
        assert.equal(((await r.json()) as { error: { type: string } }).error.type, 'not_found');
      }
      const md = await fetch(`${served.url}/repos/zoo/tags/latest/repodata/repomd.xml`, { headers });
      assert.equal(md.status, 200);
      assert.equal(md.headers.get('content-type'), 'application/xml');
      assert.equal(md.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'; sandbox");
      assert.match(await md.text(), /^<\?xml/);
      const root = await fetch(`${served.url}/`, { headers });
      assert.equal(root.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(await root.text(), /^txrepo: yum repositories under/);
    }
  });
});

describe('compare, tags, sets and the log', () => {
  test('compare: an upgrade with the changelog entries it brings, and the metadata that changed', async () => {
    const { page } = await visit(`/ui/compare?a=zoo@${ids.zoo1}&b=zoo@${ids.zoo2}`, 'compare');
    const upgraded = rowsOf(page, 'upgraded');
    assert.deepEqual(await texts(page, 'table#upgraded tbody td:first-child'), ['duck', 'kangaroo', 'walrus']);
    const duck = upgraded.filter({ hasText: 'duck' });
    assert.match(await duck.innerText(), /0\.6-1\s+0\.8-1/);
    assert.match(await duck.locator('td.changelog').innerText(), /- 0\.8-1\s+- duck 0\.8/);
    assert.doesNotMatch(await duck.locator('td.changelog').innerText(), /- duck 0\.6/);
    assert.match(await rowsOf(page, 'metadata').filter({ hasText: 'primary.xml.gz' }).innerText(), /changed/);
    assert.equal(await page.locator('footer code.cli').innerText(), `txrepo diff zoo@${ids.zoo1} zoo@${ids.zoo2}`);
    // Two repositories: `all` has every sample, zoo a few.
    const two = await visit(`/ui/compare?a=zoo@latest&b=all@latest`, 'compare-repos');
    assert.ok((await rowsOf(two.page, 'added').count()) > 20);
  });

  test('compare: the pickers of a repository page lead to the diff', async () => {
    const { page } = await visit('/ui/repos/zoo', 'repo-pick');
    await page.getByLabel(`compare from ${ids.zoo1}`).check();
    await page.getByLabel(`compare to ${ids.zoo3}`).check();
    await page.getByRole('button', { name: 'Compare the two picked' }).click();
    await page.waitForURL(/\/ui\/compare\?/);
    assert.equal(await page.getByLabel('From (REPO@REF)').inputValue(), `zoo@${ids.zoo1}`);
    assert.deepEqual(await texts(page, 'table#added tbody td:first-child'), ['cat']);
  });

  test('tag history: every move, with its diff; a token is needed, as in the API', async () => {
    const refused = await fetch(`${served.url}/ui/repos/zoo/tags/tested`, { headers: { accept: 'text/html' } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.match(refused.headers.get('content-type') ?? '', /text\/html/);
    const { page } = await visit('/ui/repos/zoo/tags/tested', 'tag-history', { token: true });
    assert.equal(await rowsOf(page, 'moves').count(), 2);
    assert.match(await rowsOf(page, 'moves').first().innerText(), /upgrades pass/);
    await rowsOf(page, 'moves').first().locator('a.diff').click();
    await page.waitForURL(/\/ui\/compare\?/);
    assert.deepEqual(await texts(page, 'table#upgraded tbody td:first-child'), ['duck', 'kangaroo', 'walrus']);
    // A move made by promoting a set names the set, and links to it.
    const stable = await visit('/ui/repos/zoo/tags/stable', 'tag-history-promoted', { token: true });
    assert.match(await rowsOf(stable.page, 'moves').innerText(), new RegExp(`release 2\\.4 validated\\s+${ids.set}`));
    assert.equal(await stable.page.getByRole('link', { name: ids.set }).getAttribute('href'), `/ui/sets/${ids.set}`);
  });

  test('sets: live and ended; a set with its members, manifest and repos.repo', async () => {
    const { page } = await visit('/ui/sets', 'sets');
    assert.match(await rowsOf(page, 'live-sets').innerText(), new RegExp(`${ids.set}\\s+nightly`));
    assert.ok((await rowsOf(page, 'live-sets').innerText()).includes(IMG));
    assert.match(await rowsOf(page, 'ended-sets').innerText(), new RegExp(`${ids.ended}\\s+yesterday[\\s\\S]*released`));
    assert.equal((await fetch(`${served.url}/ui/sets/${ids.set}`, { headers: { accept: 'text/html' } })).status, 401);
    const set = await visit(`/ui/sets/${ids.set}`, 'set', { token: true });
    assert.deepEqual((await texts(set.page, 'table#members tbody td:first-child')).sort(), ['all', 'zoo']);
    assert.equal(await set.page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    const repoFile = await set.page.request.get(served.url + (await set.page.getByRole('link', { name: `/sets/${ids.set}/repos.repo` }).getAttribute('href'))!);
    assert.match(await repoFile.text(), /\[zoo\][\s\S]*baseurl=/);
  });

  test('the audit log: filtered by repository, actor and operation', async () => {
    const { page } = await visit('/ui/log', 'log', { token: true });
    assert.ok((await rowsOf(page, 'log').count()) >= 10);
    await page.getByLabel('Repository').selectOption('zoo');
    await page.getByLabel('Operation').selectOption('tag');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/op=tag/);
    assert.deepEqual(await texts(page, 'table#log tbody td:nth-child(4)'), ['tag', 'tag']);
    assert.match(await rowsOf(page, 'log').first().innerText(), /upgrades pass/);
    await page.goto(`${served.url}/ui/log?op=deploy&actor=nobody`);
    assert.equal(await rowsOf(page, 'log').count(), 0);
  });
});

describe('keyboard and labels', () => {
  /** Presses Tab until the focused element matches `selector`; fails after `max` presses. */
  async function tabTo(page: Page, selector: string, max = 40): Promise<number> {
    for (let i = 1; i <= max; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((s) => (globalThis as unknown as { document: { activeElement: { matches(s: string): boolean } | null } }).document.activeElement?.matches(s) ?? false, selector)) return i;
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  /** Every form control of the page has an accessible name (a label, or aria-label). */
  async function assertLabelled(page: Page): Promise<void> {
    const unlabelled = await page.locator('input:not([type=hidden]), select, textarea').evaluateAll((els) =>
      els.filter((e) => !((e as unknown as { labels?: { length: number } }).labels?.length || e.getAttribute('aria-label'))).map((e) => e.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
  }

  test('Tab reaches the search box of a snapshot, and Enter searches', async () => {
    const { page } = await visit(`/ui/repos/all/snapshots/${ids.all}`, 'keyboard-snapshot');
    // The first Tab reaches the link that skips the navigation.
    assert.equal(await tabTo(page, 'a.skip', 1), 1);
    await tabTo(page, 'input#q');
    await page.keyboard.type('walrus');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=walrus/);
    assert.equal(await rowsOf(page, 'packages').count(), 2);
    await assertLabelled(page);
  });

  test('Tab reaches the compare pickers, and the form submits from the keyboard', async () => {
    const { page } = await visit('/ui/compare', 'keyboard-compare');
    await tabTo(page, 'input#compare-a');
    await page.keyboard.type(`zoo@${ids.zoo1}`);
    await page.keyboard.press('Tab');
    await page.keyboard.type(`zoo@${ids.zoo2}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/b=zoo/);
    assert.equal(await rowsOf(page, 'upgraded').count(), 3);
    await assertLabelled(page);
  });

  test('every control of the main pages is labelled, and links are reachable by Tab', async () => {
    for (const [name, path, token] of [
      ['home', '/', false],
      ['repo', '/ui/repos/zoo', false],
      ['snapshot', `/ui/repos/zoo/snapshots/${ids.zoo2}`, false],
      ['sets', '/ui/sets', false],
      ['log', '/ui/log', true],
      ['compare', '/ui/compare', false],
    ] as const) {
      const { page } = await visit(path, `labels-${name}`, { token });
      await assertLabelled(page);
      await tabTo(page, 'a[href="/ui/sets"]');
      // Nothing pushes the page wider than the window (a control or a column grown too wide).
      const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      assert.ok(width <= 1200, `${path} is ${width} px wide`);
    }
    // The repository page's pickers have names a screen reader reads.
    const { page } = await visit('/ui/repos/zoo', 'labels-pickers');
    assert.equal(await page.getByRole('radio', { name: `compare to ${ids.zoo3}` }).count(), 1);
  });
});

describe('a --private server', () => {
  let closed: Served;
  before(async () => {
    closed = await serve(store, ['--private']);
  });
  after(async () => {
    await closed?.stop();
  });

  test('every page asks a browser for the token (HTTP Basic), and shows with it', async () => {
    for (const path of ['/', '/ui/repos/zoo', `/ui/repos/zoo/snapshots/${ids.zoo1}`, '/ui/sets', '/repos/zoo/tags/latest/']) {
      const r = await fetch(closed.url + path, { headers: { accept: 'text/html' } });
      assert.equal(r.status, 401, path);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="txrepo"/, path);
    }
    const w = await openPage(browser, { credentials: { username: 'anyone', password: token } });
    opened.push(w);
    for (const path of ['/', '/ui/repos/zoo', '/ui/log', '/repos/zoo/tags/latest/Packages/']) {
      const r = await w.page.goto(closed.url + path);
      assert.equal(r?.status(), 200, path);
    }
    await screenshot(w.page, 'private-listing');
    assert.deepEqual(w.problems, []);
    const wrong = await openPage(browser, { credentials: { username: 'anyone', password: 'not-a-token' } });
    opened.push(wrong);
    assert.equal((await wrong.page.goto(closed.url + '/'))?.status(), 401);
  });
});

describe('light and dark', () => {
  test('the stylesheet follows prefers-color-scheme', async () => {
    const background = async (colorScheme: 'light' | 'dark') => {
      const w = await openPage(browser, { colorScheme });
      opened.push(w);
      await w.page.goto(`${served.url}/ui/repos/zoo`);
      await screenshot(w.page, `repo-${colorScheme}`);
      assert.deepEqual(w.problems, []);
      return w.page.evaluate(() => {
        const g = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } };
        return g.getComputedStyle(g.document.body).backgroundColor;
      });
    };
    assert.equal(await background('light'), 'rgb(255, 255, 255)');
    assert.equal(await background('dark'), 'rgb(13, 17, 23)');
  });
});
