// Home: every repository with its latest snapshot, package count, tags, upstream and
// last change; below, the most recent snapshots across the store.

import { html, seg } from '../html.ts';
import { shownTime, type Page } from '../layout.ts';
import type { UiContext } from '../context.ts';
import type { Snapshot } from '../../store/index.ts';

/** How many of the newest snapshots the home page lists. */
const RECENT = 15;

export async function homePage(ctx: UiContext): Promise<Page> {
  const { catalog } = ctx.store;
  const repos = await ctx.tx.listRepos();
  const rows = await Promise.all(
    repos.map(async (r) => {
      const latest = r.latest ? await catalog.getSnapshot(r.name, r.latest) : undefined;
      const tags = await catalog.listTags(r.name);
      const snapshots = await catalog.listSnapshots(r.name);
      return { repo: r, latest, tags, snapshots };
    }),
  );
  const recent: Snapshot[] = rows
    .flatMap((r) => r.snapshots)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, RECENT);
  const body = html`<h1>Repositories</h1>
<label hidden>Filter repositories <input type="search" data-filter="repos" hidden></label>
<table id="repos">
<thead><tr><th>repository</th><th>latest snapshot</th><th class="num">packages</th><th>tags</th><th>upstream</th><th>last change</th></tr></thead>
<tbody>
${rows.map(
  ({ repo, latest, tags }) => html`<tr>
<td><a href="/ui/repos/${seg(repo.name)}">${repo.name}</a></td>
<td>${latest ? html`<a class="mono" href="/ui/repos/${seg(repo.name)}/snapshots/${seg(latest.id)}">${latest.id}</a>` : html`<span class="muted">none yet</span>`}</td>
<td class="num">${latest?.packages ?? 0}</td>
<td>${tags.map((t) => html`<a class="tag" href="/ui/repos/${seg(repo.name)}/tags/${seg(t.tag)}">${t.tag}</a> `)}</td>
<td class="mono">${repo.upstream ?? ''}</td>
<td>${latest ? html`${shownTime(latest.createdAt)} <span class="muted">${latest.createdBy}: ${latest.message}</span>` : ''}</td>
</tr>`,
)}
</tbody>
</table>
${rows.length === 0 ? html`<p class="muted">No repositories yet: <code>txrepo repo create NAME</code>.</p>` : ''}
<h2>Recent changes</h2>
<table id="recent">
<thead><tr><th>when</th><th>repository</th><th>snapshot</th><th>by</th><th>message</th><th class="num">packages</th></tr></thead>
<tbody>
${recent.map(
  (s) => html`<tr><td>${shownTime(s.createdAt)}</td><td><a href="/ui/repos/${seg(s.repo)}">${s.repo}</a></td><td><a class="mono" href="/ui/repos/${seg(s.repo)}/snapshots/${seg(s.id)}">${s.id}</a></td><td>${s.createdBy}</td><td>${s.message}</td><td class="num">${s.packages}</td></tr>`,
)}
</tbody>
</table>`;
  return { title: 'repositories', body, cli: 'txrepo repo list', api: '/api/v1/repos' };
}
