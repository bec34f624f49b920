// The audit log, newest first, filterable by repository, actor and operation (a GET
// form: the filters are in the URL, and links to a filtered log can be shared). The
// catalog filters by repository; actor and operation are filtered here, over the
// newest LOG_WINDOW rows.

import type { Query, UiContext } from '../context.ts';
import { html, query, seg } from '../html.ts';
import { shownTime, type Page } from '../layout.ts';

const LOG_WINDOW = 5000;
const SHOWN = 500;

export async function logPage(ctx: UiContext, q: Query): Promise<Page> {
  const repo = q.repo?.trim() || undefined;
  const actor = q.actor?.trim() || undefined;
  const op = q.op?.trim() || undefined;
  const all = (await ctx.tx.log({ repo, limit: LOG_WINDOW })).reverse();
  const entries = all.filter((e) => (!actor || e.actor === actor) && (!op || e.command === op));
  const options = (values: string[], chosen: string | undefined) => [...new Set(values)].sort().map((v) => html`<option value="${v}"${v === chosen ? html` selected` : ''}>${v}</option>`);
  const repos = (await ctx.tx.listRepos()).map((r) => r.name);
  const body = html`<h1>Audit log</h1>
<form class="inline" method="get" action="/ui/log" aria-label="filter the audit log">
<label for="log-repo">Repository</label><select id="log-repo" name="repo"><option value="">any</option>${options(repos, repo)}</select>
<label for="log-actor">Actor</label><select id="log-actor" name="actor"><option value="">any</option>${options(all.map((e) => e.actor), actor)}</select>
<label for="log-op">Operation</label><select id="log-op" name="op"><option value="">any</option>${options(all.map((e) => e.command), op)}</select>
<button type="submit">Filter</button>
</form>
<p>${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${entries.length > SHOWN ? `, the newest ${SHOWN} shown` : ''}.</p>
<table id="log">
<thead><tr><th class="num">#</th><th>when</th><th>actor</th><th>operation</th><th>repository</th><th>request</th><th>result</th></tr></thead>
<tbody>
${entries.slice(0, SHOWN).map(
  (e) => html`<tr><td class="num">${e.seq}</td><td>${shownTime(e.at)}</td><td><a href="/ui/log${query({ repo, actor: e.actor, op })}">${e.actor}</a></td><td><a href="/ui/log${query({ repo, actor, op: e.command })}">${e.command}</a></td>
<td>${e.repo ? html`<a href="/ui/repos/${seg(e.repo)}">${e.repo}</a>` : ''}</td><td class="mono">${JSON.stringify(e.args)}</td><td class="${e.result === 'ok' ? '' : 'del'}">${e.result}</td></tr>`,
)}
</tbody>
</table>`;
  return { title: 'audit log', body, cli: `txrepo log${repo ? ` ${repo}` : ''}`, api: `/api/v1/log${query({ repo })}` };
}
