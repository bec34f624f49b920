// Sets: the list, live and ended (anyone may read it, as in the API), and one set with
// its members, lease, manifest and its repos.repo (a manifest is for token holders).

import type { UiContext } from '../context.ts';
import { html, seg } from '../html.ts';
import { shownSize, shownTime, type Page } from '../layout.ts';
import type { SetView } from '../../snapshots/index.ts';

const lease = (s: SetView) => (s.ended ? html`${s.ended.how} ${shownTime(s.ended.at)}` : s.expiresAt ? html`until ${shownTime(s.expiresAt)}` : html`kept until released`);

export async function setsPage(ctx: UiContext): Promise<Page> {
  const sets = (await ctx.tx.listSets()).reverse();
  const table = (id: string, rows: SetView[]) => html`<table id="${id}">
<thead><tr><th>set</th><th>label</th><th>made</th><th>by</th><th>lease</th><th>members</th></tr></thead>
<tbody>
${rows.map(
  (s) => html`<tr><td><a class="mono" href="/ui/sets/${seg(s.id)}">${s.id}</a></td><td>${s.label ?? ''}</td><td>${shownTime(s.createdAt)}</td><td>${s.createdBy}</td><td>${lease(s)}</td>
<td>${s.members.map((m) => html`<a href="/ui/repos/${seg(m.repo)}/snapshots/${seg(m.snapshot)}">${m.repo}@${m.snapshot}</a> `)}</td></tr>`,
)}
</tbody></table>`;
  const live = sets.filter((s) => s.live);
  const ended = sets.filter((s) => !s.live);
  const body = html`<h1>Sets</h1>
<h2>Live (${live.length})</h2>${table('live-sets', live)}
<h2>Ended (${ended.length})</h2>${table('ended-sets', ended)}`;
  return { title: 'sets', body, cli: 'txrepo set list', api: '/api/v1/sets' };
}

export async function setPage(ctx: UiContext, p: { set: string }): Promise<Page> {
  const m = await ctx.tx.showSet(p.set);
  const body = html`<h1>Set <span class="mono">${m.id}</span></h1>
<dl class="facts">
<dt>label</dt><dd>${m.label ?? '—'}</dd>
<dt>made</dt><dd>${shownTime(m.createdAt)} by ${m.createdBy}</dd>
<dt>lease</dt><dd>${m.live ? 'live, ' : 'ended: '}${lease(m)}</dd>
<dt>yum config</dt><dd><a href="/sets/${seg(m.id)}/repos.repo">/sets/${m.id}/repos.repo</a></dd>
</dl>
<h2>Members</h2>
<table id="members">
<thead><tr><th>repository</th><th>snapshot</th><th>path</th><th class="num">files</th><th class="num">size</th></tr></thead>
<tbody>
${m.repos.map(
  (r) => html`<tr><td><a href="/ui/repos/${seg(r.repo)}">${r.repo}</a></td><td>${r.gone ? html`<span class="del">${r.snapshot} (gone)</span>` : html`<a class="mono" href="/ui/repos/${seg(r.repo)}/snapshots/${seg(r.snapshot)}">${r.snapshot}</a>`}</td>
<td>${r.path ? html`<a href="${r.path}">${r.path}</a>` : '—'}</td><td class="num">${r.files.length}</td><td class="num">${shownSize(r.files.reduce((n, f) => n + f.size, 0))}</td></tr>`,
)}
</tbody>
</table>
<h2>Manifest</h2>
${m.repos.map(
  (r) => html`<details><summary>${r.repo}@${r.snapshot}: ${r.files.length} files</summary><table class="manifest"><thead><tr><th>file</th><th class="num">size</th><th>sha256</th></tr></thead><tbody>
${r.files.map((f) => html`<tr><td><a href="${f.path}">${f.href}</a></td><td class="num">${shownSize(f.size)}</td><td class="mono">${f.sha256}</td></tr>`)}
</tbody></table></details>`,
)}`;
  return { title: `set ${m.id}`, body, cli: `txrepo set show ${m.id}`, api: `/api/v1/sets/${seg(m.id)}` };
}
