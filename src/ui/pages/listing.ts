// The index page of a folder of a snapshot tree, for a browser that opens a repository
// path (dnf and curl never ask a folder for text/html, and get what they always got).
// Links are relative, so the page works under every prefix the tree is served at
// (snapshots, tags, at, sets).

import { NotFoundError, type SnapshotFile } from '../../store/index.ts';
import type { UiContext } from '../context.ts';
import { html, seg } from '../html.ts';
import { shownSize, type Page } from '../layout.ts';

interface Entry {
  name: string;
  folder: boolean;
  size: number;
  files: number;
}

/** The folders and files directly in `dir` of a snapshot's files. */
function entriesOf(files: SnapshotFile[], dir: string): Entry[] {
  const entries = new Map<string, Entry>();
  for (const f of files) {
    if (!f.href.startsWith(dir)) continue;
    const rest = f.href.slice(dir.length);
    const slash = rest.indexOf('/');
    const name = slash === -1 ? rest : rest.slice(0, slash);
    const e = entries.get(name) ?? { name, folder: slash !== -1, size: 0, files: 0 };
    e.size += f.size;
    e.files++;
    entries.set(name, e);
  }
  // Folders first, then files, each by name.
  return [...entries.values()].sort((x, y) => Number(y.folder) - Number(x.folder) || (x.name < y.name ? -1 : 1));
}

export async function listingPage(ctx: UiContext, t: { repo: string; snapshot: string; dir: string; path: string }): Promise<Page> {
  const entries = entriesOf(await ctx.store.catalog.snapshotFiles(t.snapshot), t.dir);
  if (entries.length === 0) throw new NotFoundError(`${t.dir}: no such folder in snapshot ${t.snapshot}`);
  const body = html`<h1>Index of <span class="mono">${t.path}</span></h1>
<p>snapshot <a class="mono" href="/ui/repos/${seg(t.repo)}/snapshots/${seg(t.snapshot)}">${t.snapshot}</a> of <a href="/ui/repos/${seg(t.repo)}">${t.repo}</a></p>
<table id="listing">
<thead><tr><th>name</th><th class="num">size</th><th class="num">files</th></tr></thead>
<tbody>
${t.dir ? html`<tr><td><a href="../">../</a></td><td></td><td></td></tr>` : ''}
${entries.map((e) => html`<tr><td><a href="./${seg(e.name)}${e.folder ? '/' : ''}">${e.name}${e.folder ? '/' : ''}</a></td><td class="num">${shownSize(e.size)}</td><td class="num">${e.folder ? e.files : ''}</td></tr>`)}
</tbody>
</table>`;
  return { title: t.path, body, cli: `txrepo show ${t.repo}@${t.snapshot} --files`, api: `/api/v1/repos/${seg(t.repo)}/snapshots/${seg(t.snapshot)}?files=1` };
}
