// One package of a snapshot: its details (description, dependencies, files, changelog)
// and where to download it.

import type { Dependency } from '../../rpm/index.ts';
import { nevra } from '../../rpm/index.ts';
import { fileUnder, resolveRef, snapshotPath } from '../../snapshots/index.ts';
import { NotFoundError } from '../../store/index.ts';
import type { UiContext } from '../context.ts';
import { html, seg } from '../html.ts';
import { shownSize, shownTime, type Page } from '../layout.ts';
import { evrOf } from './snapshot.ts';

function dependency(d: Dependency): string {
  if (!d.flags) return d.name;
  const op = { EQ: '=', LT: '<', GT: '>', LE: '<=', GE: '>=' }[d.flags];
  return `${d.name} ${op} ${evrOf({ epoch: d.epoch ?? '0', version: d.ver ?? '', release: d.rel ?? '' }).replace(/-$/, '')}`;
}

const dependencyList = (title: string, deps: Dependency[]) =>
  deps.length ? html`<h2>${title}</h2><ul class="mono">${deps.map((d) => html`<li>${dependency(d)}${d.pre ? ' (pre)' : ''}</li>`)}</ul>` : '';

export async function packagePage(ctx: UiContext, p: { repo: string; id: string; href: string }): Promise<Page> {
  const s = await resolveRef(ctx.store.catalog, p.repo, p.id);
  const file = await ctx.lookup.find(s.id, p.href);
  if (!file || file.kind !== 'package') throw new NotFoundError(`snapshot ${s.id} of ${p.repo} has no package ${p.href}`);
  const rec = (await ctx.store.catalog.getPackages([file.digest])).get(file.digest);
  if (!rec) throw new NotFoundError(`no record of package ${p.href}`);
  const r = seg(p.repo);
  const download = fileUnder(snapshotPath(p.repo, s.id), file.href);
  const body = html`<h1>${nevra(rec)}</h1>
<p>in snapshot <a class="mono" href="/ui/repos/${r}/snapshots/${seg(s.id)}">${s.id}</a> of <a href="/ui/repos/${r}">${p.repo}</a></p>
<p class="summary">${rec.summary}</p>
<dl class="facts">
<dt>download</dt><dd><a href="${download}" download>${file.href}</a> (${shownSize(file.size)})</dd>
<dt>sha256</dt><dd class="mono">${file.digest}</dd>
<dt>signer</dt><dd class="mono">${rec.signer ?? 'unsigned'}</dd>
<dt>license</dt><dd>${rec.license}</dd>
<dt>url</dt><dd>${rec.url}</dd>
<dt>built</dt><dd>${shownTime(new Date(rec.timeBuild * 1000).toISOString())} on ${rec.buildhost}</dd>
<dt>installed size</dt><dd>${shownSize(rec.sizeInstalled)}</dd>
<dt>source</dt><dd>${rec.sourcerpm}</dd>
</dl>
<h2>Description</h2>
<pre class="description">${rec.description}</pre>
${dependencyList('Requires', rec.requires)}
${dependencyList('Provides', rec.provides)}
${dependencyList('Conflicts', rec.conflicts)}
${dependencyList('Obsoletes', rec.obsoletes)}
<h2>Files (${rec.files.length})</h2>
<ul class="mono files">${rec.files.map((f) => html`<li>${f.path}${f.type !== 'file' ? html` <span class="muted">(${f.type})</span>` : ''}</li>`)}</ul>
<h2>Changelog</h2>
<div class="changelog">${rec.changelogs.map((c) => html`<h3>${shownTime(new Date(c.date * 1000).toISOString())} ${c.author}</h3><pre>${c.text}</pre>`)}</div>`;
  return { title: nevra(rec), body, cli: `txrepo show ${p.repo}@${s.id} --files`, api: `/api/v1/repos/${r}/snapshots/${seg(s.id)}?files=1` };
}
