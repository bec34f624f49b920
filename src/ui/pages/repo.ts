// A repository: its snapshots as a timeline (newest first) with what each changed,
// where its tags point, which live sets pin which snapshot, and what gc would remove
// under its retention policy. Two radio columns pick snapshots to compare (a plain
// GET form: no script needed).

import { beyondRetention, isLive } from '../../snapshots/index.ts';
import type { Catalog, Snapshot } from '../../store/index.ts';
import type { UiContext } from '../context.ts';
import { html, query, seg } from '../html.ts';
import { shownTime, type Page } from '../layout.ts';

/** Snapshots whose +/- against their parent is computed (older ones show counts only). */
const COUNTED = 50;

/**
 * Packages added and removed against the parent, from the page lists: pages both
 * share hold the same packages, so only the pages that differ are read.
 */
async function changeCounts(catalog: Catalog, s: Snapshot): Promise<{ added: number; removed: number }> {
  if (!s.parent) return { added: s.packages, removed: 0 };
  const [mine, theirs] = await Promise.all([catalog.snapshotPages(s.id), catalog.snapshotPages(s.parent)]);
  const shared = new Set(mine.map((p) => p.key).filter((k) => theirs.some((t) => t.key === k)));
  const read = async (keys: string[]) => new Set([...(await catalog.getPages(keys.filter((k) => !shared.has(k)))).values()].flat().map((f) => f.href));
  const [now, before] = await Promise.all([read(mine.map((p) => p.key)), read(theirs.map((p) => p.key))]);
  let added = 0;
  let removed = 0;
  for (const h of now) if (!before.has(h)) added++;
  for (const h of before) if (!now.has(h)) removed++;
  return { added, removed };
}

export async function repoPage(ctx: UiContext, p: { repo: string }): Promise<Page> {
  const { catalog } = ctx.store;
  const repo = await ctx.tx.showRepo(p.repo);
  const snapshots = (await ctx.tx.snapshots(p.repo)).reverse();
  const now = new Date();
  const liveSets = (await catalog.listSets({ liveAt: now.toISOString() })).filter((s) => isLive(s, now) && s.members.some((m) => m.repo === p.repo));
  const pinnedBy = (id: string) => liveSets.filter((s) => s.members.some((m) => m.repo === p.repo && m.snapshot === id));
  const tagged = new Set(repo.tags.map((t) => t.snapshot));
  const doomed = beyondRetention(repo, snapshots, now).filter((s) => !tagged.has(s.id) && pinnedBy(s.id).length === 0);
  const counts = await Promise.all(snapshots.slice(0, COUNTED).map((s) => changeCounts(catalog, s)));
  const r = seg(p.repo);
  const policy = repo.retainLast === undefined && repo.retainDays === undefined ? 'keeps every snapshot' : `keeps the newest ${repo.retainLast ?? '—'} and those younger than ${repo.retainDays ?? '—'} days`;
  const body = html`<h1>Repository ${repo.name}</h1>
<dl class="facts">
<dt>snapshots</dt><dd>${repo.snapshots}</dd>
<dt>upstream</dt><dd class="mono">${repo.upstream ?? '—'}</dd>
<dt>retention</dt><dd>${policy}</dd>
<dt>created</dt><dd>${shownTime(repo.createdAt)} by ${repo.createdBy}</dd>
<dt>yum path</dt><dd><a href="/repos/${r}/tags/latest/">/repos/${repo.name}/tags/latest/</a></dd>
</dl>
<h2>Tags</h2>
<table id="tags">
<thead><tr><th>tag</th><th>snapshot</th><th>moved</th><th>history</th></tr></thead>
<tbody>
${repo.tags.map((t) => html`<tr><td><span class="tag">${t.tag}</span></td><td><a class="mono" href="/ui/repos/${r}/snapshots/${seg(t.snapshot)}">${t.snapshot}</a></td><td>${shownTime(t.movedAt)}</td><td><a href="/ui/repos/${r}/tags/${seg(t.tag)}">moves of ${t.tag}</a></td></tr>`)}
</tbody>
</table>
<h2>Live sets pinning ${repo.name}</h2>
${
  liveSets.length
    ? html`<table id="sets"><thead><tr><th>set</th><th>label</th><th>snapshot</th><th>lease ends</th></tr></thead><tbody>
${liveSets.map((s) => html`<tr><td><a class="mono" href="/ui/sets/${seg(s.id)}">${s.id}</a></td><td>${s.label ?? ''}</td><td class="mono">${s.members.find((m) => m.repo === p.repo)?.snapshot}</td><td>${s.expiresAt ? shownTime(s.expiresAt) : 'kept until released'}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No live set pins a snapshot of this repository.</p>`
}
<h2>Timeline</h2>
<form method="get" action="/ui/compare" aria-label="compare two snapshots">
<table id="timeline" aria-label="snapshots of ${repo.name}, newest first; pick two to compare">
<thead><tr><th class="pick">from</th><th class="pick">to</th><th>snapshot</th><th>when</th><th>by</th><th>message</th><th class="num">packages</th><th class="num">+/−</th><th>tags</th><th>gc</th></tr></thead>
<tbody>
${snapshots.map((s, i) => {
  const c = counts[i];
  const value = `${p.repo}@${s.id}`;
  return html`<tr>
<td class="pick"><input type="radio" name="a" value="${value}" aria-label="compare from ${s.id}"${i === 1 ? html` checked` : ''}></td>
<td class="pick"><input type="radio" name="b" value="${value}" aria-label="compare to ${s.id}"${i === 0 ? html` checked` : ''}></td>
<td><a class="mono" href="/ui/repos/${r}/snapshots/${seg(s.id)}">${s.id}</a></td>
<td>${shownTime(s.createdAt)}</td><td>${s.createdBy}</td><td>${s.message}</td><td class="num">${s.packages}</td>
<td class="num">${c ? html`<span class="add">+${c.added}</span> <span class="del">−${c.removed}</span>` : ''}${s.parent && c ? html` <a href="/ui/compare${query({ a: `${p.repo}@${s.parent}`, b: value })}" aria-label="diff of ${s.id} against its parent">diff</a>` : ''}</td>
<td>${s.tags.map((t) => html`<span class="tag">${t}</span> `)}${pinnedBy(s.id).map((set) => html`<a class="tag" href="/ui/sets/${seg(set.id)}">set ${set.id}</a> `)}</td>
<td>${doomed.some((d) => d.id === s.id) ? html`<span class="del">gc removes</span>` : ''}</td>
</tr>`;
})}
</tbody>
</table>
<button type="submit">Compare the two picked</button>
</form>
<h2>What gc would remove</h2>
${doomed.length ? html`<p>${doomed.length} snapshot(s) beyond the retention policy, untagged and unpinned (tag moves within the grace window may still keep some): ${doomed.map((d) => html`<code>${d.id}</code> `)}</p>` : html`<p class="muted">Nothing: the policy ${policy}.</p>`}`;
  return { title: repo.name, body, cli: `txrepo snapshots ${p.repo}`, api: `/api/v1/repos/${r}/snapshots` };
}
