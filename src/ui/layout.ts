// The page shell: title, navigation, the stylesheet and script, and a footer that says
// which CLI command and which API call give the same data (the UI shows; the CLI and
// the API are how one scripts it).

import { ICON_FILE, SCRIPT_FILE, STYLESHEET } from './assets.ts';
import { html, type Html } from './html.ts';

export interface Page {
  title: string;
  body: Html;
  /** The CLI command that shows the same data. */
  cli?: string;
  /** The API call (a path under the server) that gives the same data. */
  api?: string;
  /** Status of the answer (an error page keeps the API's status). */
  status?: number;
}

export function layout(page: Page): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · txrepo</title>
<link rel="icon" href="${ICON_FILE.path}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLESHEET.path}">
<script src="${SCRIPT_FILE.path}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header>
<a class="brand" href="/">txrepo</a>
<nav aria-label="main"><a href="/">repositories</a> · <a href="/ui/sets">sets</a> · <a href="/ui/compare">compare</a> · <a href="/ui/log">audit log</a></nav>
</header>
<main id="main">
${page.body}
</main>
<footer>
<dl>
${page.cli ? html`<dt>CLI</dt><dd><code class="cli">${page.cli}</code></dd>` : ''}
${page.api ? html`<dt>API</dt><dd><a class="api" href="${page.api}"><code>GET ${page.api}</code></a></dd>` : ''}
</dl>
</footer>
</body>
</html>
`.text;
}

/** An error page: the message the API would give, with its status. */
export function errorPage(status: number, message: string): string {
  return layout({ title: `error ${status}`, status, body: html`<h1>Error ${status}</h1><p class="error">${message}</p><p><a href="/">back to the repositories</a></p>` });
}

/** A time as shown: ISO, to the second, in UTC (the same text the CLI prints, readable). */
export const shownTime = (iso: string | undefined): Html => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html`<span class="muted">—</span>`);

/** A size in bytes, as people read it. */
export function shownSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
