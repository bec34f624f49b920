// A tag's history: every move (from, to, who, when, why, the set it came from), newest
// first, each with the diff of the move. Tag history is for token holders, as in the API.

import { checkTagName } from '../../snapshots/index.ts';
import type { UiContext } from '../context.ts';
import { html, query, seg } from '../html.ts';
import { shownTime, type Page } from '../layout.ts';

export async function tagPage(ctx: UiContext, p: { repo: string; tag: string }): Promise<Page> {
  const tag = checkTagName(p.tag);
  const moves = (await ctx.tx.tagHistory(p.repo, tag)).reverse();
  const current = (await ctx.tx.tags(p.repo)).find((t) => t.tag === tag);
  const r = seg(p.repo);
  const snap = (id: string) => html`<a class="mono" href="/ui/repos/${r}/snapshots/${seg(id)}">${id}</a>`;
  const body = html`<h1>Tag <span class="tag">${tag}</span> of <a href="/ui/repos/${r}">${p.repo}</a></h1>
<p>${current ? html`Points at ${snap(current.snapshot)} since ${shownTime(current.movedAt)}; served at <a href="/repos/${r}/tags/${seg(tag)}/">/repos/${p.repo}/tags/${tag}/</a>.` : html`<span class="muted">The tag does not exist now.</span>`}</p>
<h2>Moves (${moves.length})</h2>
<table id="moves">
<thead><tr><th>when</th><th>from</th><th>to</th><th>who</th><th>why</th><th>set</th><th>diff</th></tr></thead>
<tbody>
${moves.map(
  (m) => html`<tr><td>${shownTime(m.at)}</td><td>${m.from ? snap(m.from) : html`<span class="muted">(new)</span>`}</td><td>${snap(m.to)}</td><td>${m.actor}</td><td>${m.reason}</td>
<td>${m.set ? html`<a class="mono" href="/ui/sets/${seg(m.set)}">${m.set}</a>` : ''}</td>
<td>${m.from ? html`<a class="diff" href="/ui/compare${query({ a: `${p.repo}@${m.from}`, b: `${p.repo}@${m.to}` })}">diff</a>` : ''}</td></tr>`,
)}
</tbody>
</table>`;
  return { title: `${p.repo} ${tag}`, body, cli: `txrepo tags ${p.repo} --history --tag ${tag}`, api: `/api/v1/repos/${r}/history?tag=${seg(tag)}` };
}
