// The one place where text becomes HTML. Everything the UI shows that comes from
// outside (summaries, changelogs, labels, messages, names) passes through `html`,
// which escapes every interpolated value unless it is already an Html made by `html`
// itself. Attribute values are always quoted in the templates, and the escaping below
// covers both text and double- or single-quoted attribute contexts.

/** A piece of markup made by `html` (or `raw`): interpolated as is. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text made safe for an HTML text node or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** What a template may interpolate: text and numbers (escaped), Html (as is), lists of these, nothing (empty). */
export type Interpolated = string | number | Html | null | undefined | false | readonly Interpolated[];

function render(v: Interpolated): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** The tagged template: html`<td>${summary}</td>` escapes summary. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup that is ours (a constant of the layout): never for text that comes from outside. */
export const trusted = (text: string): Html => new Html(text);

/** A path segment or query value, percent-encoded, for links (then escaped as an attribute by `html`). */
export const seg = (s: string): string => encodeURIComponent(s);

/** A link's query string from its parameters, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
