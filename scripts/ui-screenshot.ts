// Makes docs/ui-home.png, the README's picture of the web UI: a store of the sample
// packages (a few repositories, snapshots, a tag moved twice, a set), served by
// `txrepo serve`, its home page shot by headless chromium (test/helpers/browser.ts).
//
//   node scripts/ui-screenshot.ts

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, openPage } from '../test/helpers/browser.ts';
import { mustRun, REPO_ROOT, TXREPO } from '../test/helpers/run.ts';
import { sample, SAMPLES } from '../test/helpers/samples.ts';
import { serve } from '../test/helpers/serve.ts';

const dir = await mkdtemp(join(tmpdir(), 'txrepo-ui-shot-'));
const store = join(dir, 'store');
const tx = (...args: string[]) => mustRun(TXREPO, [...args, '--store', store]);
const rpm = (n: string) => sample(`${n}.noarch.rpm`);
try {
  await tx('repo', 'create', 'zoo', '--retain-last', '10');
  await tx('deploy', 'zoo', rpm('bear-4.1-1'), rpm('duck-0.6-1'), rpm('kangaroo-0.2-1'), rpm('walrus-0.71-1'), '-m', 'the first animals');
  await tx('tag', 'zoo', 'tested', 'latest', '-m', 'nightly run 41 passed');
  await tx('deploy', 'zoo', rpm('duck-0.8-1'), rpm('kangaroo-0.3-1'), rpm('walrus-5.21-1'), '-m', 'duck, kangaroo and walrus upgrades');
  await tx('tag', 'zoo', 'tested', 'latest', '-m', 'nightly run 42 passed');
  await tx('deploy', 'zoo', rpm('cat-1.0-1'), '-m', 'a cat');
  await tx('repo', 'create', 'farm', '--upstream', 'https://mirror.example.org/farm/');
  await tx('deploy', 'farm', rpm('cow-2.2-3'), rpm('horse-0.22-2'), rpm('dog-4.23-1'), '-m', 'sync from upstream');
  await tx('repo', 'create', 'sea');
  const sea = (await readdir(SAMPLES)).filter((f) => /^(dolphin|shark|whale|trout|penguin)-/.test(f));
  await tx('deploy', 'sea', ...sea.map((f) => join(SAMPLES, f)), '-m', 'the sea animals');
  await tx('set', 'create', '--label', 'release 2.4 validation', 'zoo@tested', 'farm', 'sea');
  const served = await serve(store);
  const browser = await launchBrowser();
  try {
    const { page, problems } = await openPage(browser, { colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 640 });
    await page.goto(served.url + '/');
    await page.screenshot({ path: join(REPO_ROOT, 'docs/ui-home.png'), fullPage: true });
    if (problems.length) throw new Error(problems.join('\n'));
  } finally {
    await browser.close();
    await served.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
