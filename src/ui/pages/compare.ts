// Compare any two snapshots, of one repository or two: packages added, removed,
// upgraded (with the changelog entries the upgrade brings) and downgraded, and the
// metadata files that differ. The pickers are a plain GET form.

import type { PackageChange } from '../../snapshots/index.ts';
import { parseRepoRef, resolveRef } from '../../snapshots/index.ts';
import type { SnapshotFile } from '../../store/index.ts';
import type { Query, UiContext } from '../context.ts';
import { html, seg, type Html } from '../html.ts';
import { shownSize, shownTime, type Page } from '../layout.ts';

/** A repodata file's type: its href without the checksum prefix (repodata/<sha>-primary.xml.gz: primary.xml.gz). */
const typeOf = (href: string) => href.replace(/^repodata\//, '').replace(/^[0-9a-f]{16,}-/, '');

function changeTable(id: string, title: string, changes: PackageChange[], withChangelog = false): Html {
  return html`<h2>${title} (${changes.length})</h2>
${
  changes.length
    ? html`<table id="${id}"><thead><tr><th>package</th><th>arch</th><th>from</th><th>to</th><th>signer</th>${withChangelog ? html`<th>changelog</th>` : ''}</tr></thead><tbody>
${changes.map(
  (c) => html`<tr><td>${c.name}</td><td>${c.arch}</td><td class="mono">${c.from ?? ''}</td><td class="mono">${c.to ?? ''}</td><td class="mono">${c.signer ?? ''}</td>${
    withChangelog ? html`<td class="changelog">${(c.changelog ?? []).map((e) => html`<div><strong>${shownTime(new Date(e.date * 1000).toISOString())} ${e.author}</strong><pre>${e.text}</pre></div>`)}</td>` : ''
  }</tr>`,
)}
</tbody></table>`
    : html`<p class="muted">none</p>`
}`;
}

function metadataTable(a: SnapshotFile[], b: SnapshotFile[]): Html {
  const types = [...new Set([...a, ...b].map((f) => typeOf(f.href)))].sort();
  const of = (files: SnapshotFile[], t: string) => files.find((f) => typeOf(f.href) === t);
  return html`<h2>Metadata</h2><table id="metadata"><thead><tr><th>file</th><th class="num">from</th><th class="num">to</th><th>change</th></tr></thead><tbody>
${types.map((t) => {
  const x = of(a, t);
  const y = of(b, t);
  const change = !x ? 'added' : !y ? 'removed' : x.digest === y.digest ? 'same' : 'changed';
  return html`<tr><td>${t}</td><td class="num">${x ? shownSize(x.size) : '—'}</td><td class="num">${y ? shownSize(y.size) : '—'}</td><td>${change}</td></tr>`;
})}
</tbody></table>`;
}

export async function comparePage(ctx: UiContext, q: Query): Promise<Page> {
  const a = (q.a ?? '').trim();
  const b = (q.b ?? '').trim();
  const form = html`<h1>Compare snapshots</h1>
<form class="inline" method="get" action="/ui/compare">
<label for="compare-a">From (REPO@REF)</label><input id="compare-a" name="a" value="${a}" placeholder="repo@latest" required>
<label for="compare-b">To (REPO@REF)</label><input id="compare-b" name="b" value="${b}" placeholder="repo@tested" required>
<button type="submit">Compare</button>
</form>`;
  if (!a || !b) return { title: 'compare', body: html`${form}<p class="muted">Give two snapshots: REPO@ID, REPO@TAG or REPO@TAG@TIME (of one repository or two).</p>`, cli: 'txrepo diff REPO@A REPO@B' };
  const diff = await ctx.tx.diff(a, b);
  const [x, y] = [a, b].map(parseRepoRef);
  const [sa, sb] = await Promise.all([resolveRef(ctx.store.catalog, x.repo, x.ref), resolveRef(ctx.store.catalog, y.repo, y.ref)]);
  const [ma, mb] = await Promise.all([ctx.store.catalog.snapshotMetadata(sa.id), ctx.store.catalog.snapshotMetadata(sb.id)]);
  const link = (repo: string, id: string) => html`<a class="mono" href="/ui/repos/${seg(repo)}/snapshots/${seg(id)}">${repo}@${id}</a>`;
  const body = html`${form}
<p>From ${link(x.repo, diff.from)} to ${link(y.repo, diff.to)}.</p>
${changeTable('upgraded', 'Upgraded', diff.upgraded, true)}
${changeTable('downgraded', 'Downgraded', diff.downgraded)}
${changeTable('added', 'Added', diff.added)}
${changeTable('removed', 'Removed', diff.removed)}
${metadataTable(ma, mb)}`;
  return { title: `compare ${a} ${b}`, body, cli: `txrepo diff ${a} ${b}`, api: `/api/v1/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}` };
}
