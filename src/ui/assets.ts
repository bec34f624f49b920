// The UI's only assets: one small stylesheet (light and dark, by prefers-color-scheme)
// and one small script (filtering a long table as one types). Served from memory at
// content-hashed paths under /ui/assets/, so they can be cached for good: a new
// release changes the hash, hence the URL. Nothing comes from the network.

import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f23; --muted: #57606a; --line: #d0d7de; --accent: #0550ae; --add: #1a7f37; --del: #cf222e; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --accent: #58a6ff; --add: #3fb950; --del: #f85149; --code: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, sans-serif; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0.75rem 1rem; }
header { display: flex; gap: 1.25rem; align-items: baseline; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header .brand { font-weight: 700; }
a { color: var(--accent); }
a:focus-visible, input:focus-visible, button:focus-visible, select:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
h1 { font-size: 1.4rem; margin: 0.5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td.mono { overflow-wrap: anywhere; }
td.num { white-space: nowrap; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, monospace; font-size: 0.9em; }
a.mono, time { white-space: nowrap; }
pre { background: var(--code); padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
.muted { color: var(--muted); }
.add { color: var(--add); } .del { color: var(--del); }
.pick { width: 1%; text-align: center; }
.tag { white-space: nowrap; display: inline-block; border: 1px solid var(--line); border-radius: 1rem; padding: 0 0.5rem; font-size: 0.85em; margin-right: 0.25rem; }
form.inline { display: flex; gap: 0.5rem; align-items: end; flex-wrap: wrap; margin: 0.5rem 0; }
label { display: inline-flex; flex-direction: column; font-size: 0.85em; color: var(--muted); gap: 0.15rem; }
input[type=search], #compare-a, #compare-b { min-width: 16rem; }
input, select, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0.25rem 0.5rem; }
button { cursor: pointer; }
nav.pages { display: flex; gap: 1rem; margin: 0.5rem 0; }
footer { border-top: 1px solid var(--line); color: var(--muted); font-size: 0.9em; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
footer dd { margin: 0; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.skip { position: absolute; left: -100vw; }
.skip:focus { position: static; display: block; padding: 0.5rem 1rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

// Filters the rows of a table as one types in its filter box (input[data-filter=ID]
// for table#ID): the page works without it, by the server-side search or by reading.
const SCRIPT = `
for (const input of document.querySelectorAll('input[data-filter]')) {
  const table = document.getElementById(input.dataset.filter);
  if (!table) continue;
  input.hidden = false;
  input.closest('label')?.removeAttribute('hidden');
  input.addEventListener('input', () => {
    const words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    for (const row of table.tBodies[0].rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((w) => text.includes(w));
    }
  });
}
`;

// The tab's icon: without one, every browser asks for /favicon.ico, a 404 on each page.
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0550ae"/><path d="M4 4h8v2H9v6H7V6H4z" fill="#fff"/></svg>`;

export interface Asset {
  path: string;
  type: string;
  body: Buffer;
}

function asset(name: string, ext: string, type: string, text: string): Asset {
  const body = Buffer.from(text);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { path: `/ui/assets/${name}.${hash}.${ext}`, type, body };
}

export const STYLESHEET = asset('ui', 'css', 'text/css; charset=utf-8', STYLE);
export const SCRIPT_FILE = asset('ui', 'js', 'text/javascript; charset=utf-8', SCRIPT);
export const ICON_FILE = asset('icon', 'svg', 'image/svg+xml', ICON);

/** The asset at `path`, if it is one (an old hash is not found: the page that asked for it is stale). */
export function assetAt(path: string): Asset | undefined {
  return [STYLESHEET, SCRIPT_FILE, ICON_FILE].find((a) => a.path === path);
}
