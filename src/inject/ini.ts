// Rewrites a yum / reposync .repo-style INI file the way the established CI
// mirror-injection client does, but line by line, so that everything it does not have
// to touch stays byte for byte: comments, blank lines, option order, other sections,
// continuation lines and line endings.
//
// A section whose id equals a mirror's name gets `baseurl=<url>` (replacing its
// baseurl, or taking the place of its mirrorlist/metalink, or added after its last
// option), loses `mirrorlist` and `metalink`, and gets `proxy=_none_` unless proxies
// are allowed. Every other option of the section is kept, but for gpgcheck,
// repo_gpgcheck and gpgkey when the mirror is a signed txrepo repo: those say what its
// clients check (src/snapshots/client-config.ts).
import { Failure } from '../common/index.ts';
import { gpgLines, type GpgChecks } from '../snapshots/index.ts';

export interface InjectOptions {
  /** Leave each section's proxy setting alone (default: proxy=_none_). */
  allowProxy?: boolean;
  /**
   * What the clients of a mirror check (signed repos): its section's gpgcheck,
   * repo_gpgcheck and gpgkey are replaced by these. A mirror without: left as they are.
   */
  checks?: ReadonlyMap<string, GpgChecks>;
}

export interface InjectResult {
  text: string;
  /** Section ids that were rewritten, in file order. */
  injected: string[];
}

export class IniError extends Failure {
  override name = 'IniError';
  readonly kind = 'invalid_input';
}

const SECTION = /^\[([^\]]*)\]\s*(?:[#;].*)?$/;
const OPTION = /^([^\s=:#;[][^=:]*?)\s*[=:]/;

interface Line {
  text: string;
  /** Lower-cased option key, for option lines (continuations share their option's key). */
  key?: string;
  continuation?: boolean;
}

interface Section {
  id: string | undefined;
  /** The header line, then the body. */
  lines: Line[];
}

function split(text: string): { sections: Section[]; eol: string; finalEol: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const finalEol = text.endsWith('\n');
  const raw = text.split(/\r?\n/);
  if (finalEol) raw.pop();
  const sections: Section[] = [{ id: undefined, lines: [] }];
  let key: string | undefined;
  for (const [i, text] of raw.entries()) {
    const header = SECTION.exec(text);
    if (header) {
      sections.push({ id: header[1].trim(), lines: [{ text }] });
      key = undefined;
      continue;
    }
    const lines = sections[sections.length - 1].lines;
    if (/^\s*$/.test(text) || /^[#;]/.test(text)) {
      // A blank line or comment ends a continued value.
      lines.push({ text });
      key = undefined;
    } else if (/^\s/.test(text)) {
      if (key === undefined) throw new IniError(`line ${i + 1}: an indented line that continues no option: ${JSON.stringify(text.trim())}`);
      lines.push({ text, key, continuation: true });
    } else {
      const option = OPTION.exec(text);
      if (!option) throw new IniError(`line ${i + 1}: not a section header, option, comment or blank line: ${JSON.stringify(text)}`);
      key = option[1].trim().toLowerCase();
      lines.push({ text, key });
    }
  }
  return { sections, eol, finalEol };
}

function rewrite(section: Section, url: string, opts: InjectOptions, checks: GpgChecks | undefined): void {
  const body = section.lines.slice(1);
  const drop = new Set(['baseurl', 'mirrorlist', 'metalink', ...(opts.allowProxy ? [] : ['proxy']), ...(checks ? ['gpgcheck', 'repo_gpgcheck', 'gpgkey'] : [])]);
  // Where the new baseurl goes: where the first baseurl/mirrorlist/metalink was, else
  // after the last option (trailing comments and blank lines stay after it).
  let at = body.findIndex((l) => l.key !== undefined && !l.continuation && ['baseurl', 'mirrorlist', 'metalink'].includes(l.key));
  let lastOption = -1;
  body.forEach((l, i) => {
    if (l.key !== undefined) lastOption = i;
  });
  if (at === -1) at = lastOption + 1;
  const added: Line[] = [{ text: `baseurl=${url}`, key: 'baseurl' }];
  if (!opts.allowProxy) added.push({ text: 'proxy=_none_', key: 'proxy' });
  if (checks) added.push(...gpgLines(checks).map((text) => ({ text, key: text.slice(0, text.indexOf('=')) })));
  const kept: Line[] = [];
  for (const [i, l] of body.entries()) {
    if (i === at) kept.push(...added);
    if (l.key === undefined || !drop.has(l.key)) kept.push(l);
  }
  if (at >= body.length) kept.push(...added);
  section.lines = [section.lines[0], ...kept];
}

/** Rewrites the sections of `text` named in `mirrors` (section id -> baseurl). */
export function injectMirrors(text: string, mirrors: ReadonlyMap<string, string>, opts: InjectOptions = {}): InjectResult {
  const { sections, eol, finalEol } = split(text);
  const injected: string[] = [];
  for (const s of sections) {
    const url = s.id === undefined ? undefined : mirrors.get(s.id);
    if (url === undefined || s.id === undefined) continue;
    if (/[\r\n]/.test(url)) throw new IniError(`the URL for ${s.id} has a line break in it`);
    rewrite(s, url, opts, opts.checks?.get(s.id));
    injected.push(s.id);
  }
  const lines = sections.flatMap((s) => s.lines.map((l) => l.text));
  return { text: lines.join(eol) + (finalEol && lines.length ? eol : ''), injected };
}
