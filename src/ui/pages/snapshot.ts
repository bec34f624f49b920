// A snapshot: its packages, searchable and paged, and its metadata files. A snapshot's
// package list is a sequence of pages of ~32 packages (src/store/pages.ts); the first
// screens of a 50,000-package snapshot read only the pages they show, then only those
// records. A search reads the list of file names (one query), never the records.

import type { PackageRecord } from '../../rpm/index.ts';
import { fileUnder, resolveRef, snapshotPath } from '../../snapshots/index.ts';
import type { Catalog, SnapshotFile } from '../../store/index.ts';
import type { Query, UiContext } from '../context.ts';
import { html, query, seg } from '../html.ts';
import { shownSize, shownTime, type Page } from '../layout.ts';

export const PAGE_SIZE = 50;
/** Rows a page may ask for (?per=N): a long page of a large snapshot stays bounded. */
const MAX_PER_PAGE = 500;

/** The files [from, from + count) of a snapshot's package list, reading only the pages they fall in. */
async function packageSlice(catalog: Catalog, snapshot: string, from: number, count: number): Promise<{ files: SnapshotFile[]; total: number }> {
  const pages = await catalog.snapshotPages(snapshot);
  const wanted: string[] = [];
  let start = 0;
  let skipped = 0;
  for (const p of pages) {
    const end = start + p.count;
    if (end > from && start < from + count) wanted.push(p.key);
    else if (end <= from) skipped = end;
    start = end;
  }
  const read = await catalog.getPages(wanted);
  const files = wanted.flatMap((k) => read.get(k) ?? []);
  return { files: files.slice(from - skipped, from - skipped + count), total: start };
}

/** The packages whose file name holds every word of `q` (case-insensitive). */
async function searchPackages(catalog: Catalog, snapshot: string, q: string): Promise<SnapshotFile[]> {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const files = (await catalog.snapshotFiles(snapshot)).filter((f) => f.kind === 'package');
  return files.filter((f) => {
    const name = f.href.slice(f.href.lastIndexOf('/') + 1).toLowerCase();
    return words.every((w) => name.includes(w));
  });
}

export const evrOf = (r: Pick<PackageRecord, 'epoch' | 'version' | 'release'>) => `${r.epoch && r.epoch !== '0' ? `${r.epoch}:` : ''}${r.version}-${r.release}`;

/** The UI path of a package of a snapshot, by its href. */
export const packageUiPath = (repo: string, id: string, href: string) => `/ui/repos/${seg(repo)}/snapshots/${seg(id)}/packages/${href.split('/').map(seg).join('/')}`;

export async function snapshotPage(ctx: UiContext, p: { repo: string; id: string }, q: Query): Promise<Page> {
  const { catalog } = ctx.store;
  const s = await resolveRef(catalog, p.repo, p.id);
  const search = (q.q ?? '').trim().slice(0, 200);
  const pageNo = Math.max(1, Math.floor(Number(q.page)) || 1);
  const per = Math.min(MAX_PER_PAGE, Math.max(1, Math.floor(Number(q.per)) || PAGE_SIZE));
  const from = (pageNo - 1) * per;
  let files: SnapshotFile[];
  let total: number;
  if (search) {
    const found = await searchPackages(catalog, s.id, search);
    total = found.length;
    files = found.slice(from, from + per);
  } else {
    ({ files, total } = await packageSlice(catalog, s.id, from, per));
  }
  const records = await catalog.getPackages(files.map((f) => f.digest));
  const pages = Math.max(1, Math.ceil(total / per));
  const r = seg(p.repo);
  const here = `/ui/repos/${r}/snapshots/${seg(s.id)}`;
  const tags = (await catalog.listTags(p.repo)).filter((t) => t.snapshot === s.id);
  const metadata = await catalog.snapshotMetadata(s.id);
  const root = snapshotPath(p.repo, s.id);
  const pager = html`<nav class="pages" aria-label="pages of packages">
${pageNo > 1 ? html`<a rel="prev" href="${here}${query({ q: search, per: per === PAGE_SIZE ? undefined : per, page: pageNo - 1 })}">← previous</a>` : ''}
<span>page ${pageNo} of ${pages} (${total} package${total === 1 ? '' : 's'}${search ? html` matching “${search}”` : ''})</span>
${pageNo < pages ? html`<a rel="next" href="${here}${query({ q: search, per: per === PAGE_SIZE ? undefined : per, page: pageNo + 1 })}">next →</a>` : ''}
</nav>`;
  const body = html`<h1>Snapshot <span class="mono">${s.id}</span> of <a href="/ui/repos/${r}">${s.repo}</a></h1>
<dl class="facts">
<dt>made</dt><dd>${shownTime(s.createdAt)} by ${s.createdBy}</dd>
<dt>message</dt><dd>${s.message}</dd>
<dt>packages</dt><dd>${s.packages}</dd>
<dt>parent</dt><dd>${s.parent ? html`<a class="mono" href="/ui/repos/${r}/snapshots/${seg(s.parent)}">${s.parent}</a> (<a href="/ui/compare${query({ a: `${p.repo}@${s.parent}`, b: `${p.repo}@${s.id}` })}">diff</a>)` : '—'}</dd>
<dt>tags</dt><dd>${tags.length ? tags.map((t) => html`<a class="tag" href="/ui/repos/${r}/tags/${seg(t.tag)}">${t.tag}</a>`) : '—'}</dd>
<dt>yum path</dt><dd><a href="${root}">${root}</a></dd>
</dl>
<h2>Packages</h2>
<form class="inline" method="get" action="${here}" role="search">
<label for="q">Search packages by name</label>
<input id="q" type="search" name="q" value="${search}" placeholder="name or version">
${per !== PAGE_SIZE ? html`<input type="hidden" name="per" value="${per}">` : ''}
<button type="submit">Search</button>
${search ? html`<a href="${here}">clear</a>` : ''}
</form>
${pager}
<table id="packages">
<thead><tr><th>name</th><th>version</th><th>arch</th><th class="num">size</th><th>signer</th><th>summary</th></tr></thead>
<tbody>
${files.map((f) => {
  const rec = records.get(f.digest);
  return html`<tr>
<td><a href="${packageUiPath(p.repo, s.id, f.href)}">${rec?.name ?? f.href}</a></td>
<td class="mono">${rec ? evrOf(rec) : ''}</td><td>${rec?.arch ?? ''}</td><td class="num">${shownSize(f.size)}</td>
<td class="mono">${rec?.signer ?? html`<span class="muted">unsigned</span>`}</td><td>${rec?.summary ?? ''}</td>
</tr>`;
})}
</tbody>
</table>
${pager}
<h2>Metadata</h2>
<table id="metadata">
<thead><tr><th>file</th><th class="num">size</th><th>sha256</th></tr></thead>
<tbody>${metadata.map((f) => html`<tr><td><a href="${fileUnder(root, f.href)}">${f.href}</a></td><td class="num">${shownSize(f.size)}</td><td class="mono">${f.digest}</td></tr>`)}</tbody>
</table>`;
  return { title: `${s.repo} ${s.id}`, body, cli: `txrepo show ${p.repo}@${s.id} --files`, api: `/api/v1/repos/${r}/snapshots/${seg(s.id)}?files=1` };
}
