// A real browser for the web UI's tests: Debian's chromium, headless, through
// playwright-core (no browser download). Every page opened records its console errors
// and failed requests, so a test can assert a page loaded cleanly.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './run.ts';

/** Where the tests write a screenshot of each page they visit (not committed). */
export const SCREENSHOTS = join(REPO_ROOT, '.cache/ui-screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests so far. */
  problems: string[];
  /** Closes the page's context (and its connections: a server limits those per client). */
  close(): Promise<void>;
}

/** A new page (its own context: `credentials` for HTTP Basic) that records what went wrong. */
export async function openPage(browser: Browser, opts: { credentials?: { username: string; password: string }; colorScheme?: 'light' | 'dark' } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ httpCredentials: opts.credentials, colorScheme: opts.colorScheme ?? 'light', viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A request cut short because the test moved on to another page (the tab's icon, say) is no fault of the page.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { page, problems, close: () => context.close() };
}

/** A full-page screenshot into SCREENSHOTS/NAME.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
