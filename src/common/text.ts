// Text that someone else chose (a label, a message, a reason, a file name, an href)
// ends up in XML metadata, INI files (repos.repo), terminals and log lines. These are
// the rules for it, in one place: what XML 1.0 can hold at all, what one line of
// printable text is, and how to show anything else on a terminal without letting it
// act there.

import { Failure } from './failures.ts';

export class InvalidTextError extends Failure {
  override name = 'InvalidTextError';
  readonly kind = 'invalid_input';
}

/**
 * Characters no XML 1.0 document may contain, even escaped: C0 controls but tab, line
 * feed and carriage return; lone surrogates; U+FFFE and U+FFFF. One of them in a file
 * name or href makes primary.xml unreadable for dnf, for everyone.
 */
export const XML_UNSAFE = /[\u{0}-\u{8}\u{B}\u{C}\u{E}-\u{1F}\u{D800}-\u{DFFF}\u{FFFE}\u{FFFF}]/u;

/**
 * Characters that break a line of text or act on a terminal: every C0 and C1 control
 * (line feeds, escape sequences), DEL, the Unicode line and paragraph separators, and
 * the XML-unsafe ones.
 */
const NOT_PRINTABLE = /[\u{0}-\u{1F}\u{7F}-\u{9F}\u{2028}\u{2029}\u{D800}-\u{DFFF}\u{FFFE}\u{FFFF}]/u;
const NOT_PRINTABLE_ALL = new RegExp(NOT_PRINTABLE.source, 'gu');

const NAMES: Record<number, string> = { 0x9: 'a tab', 0xa: 'a line feed', 0xd: 'a carriage return', 0x1b: 'an escape', 0x7f: 'a delete' };

/** "a line feed (U+000A)", for messages. */
export function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${NAMES[code] ?? 'the character'} (${hex})`;
}

function refuse(value: string, what: string, bad: RegExp, rule: string): never {
  const m = bad.exec(value)!;
  throw new InvalidTextError(`${what} ${forTerminal(JSON.stringify(value.slice(0, 80)))}: ${describeChar(m[0])} at character ${m.index + 1}; ${rule}`);
}

/** Refuses `value` (named `what`) if XML 1.0 cannot hold it. */
export function checkXmlText(value: string, what: string): string {
  if (XML_UNSAFE.test(value)) refuse(value, what, XML_UNSAFE, 'XML metadata cannot hold it: rename it');
  return value;
}

/** Refuses `value` (named `what`) unless it is one line of printable text, of at most `max` characters. */
export function checkOneLine(value: string, what: string, max = 1000): string {
  if (NOT_PRINTABLE.test(value)) refuse(value, what, NOT_PRINTABLE, `a ${what} is one line of printable text`);
  if (value.length > max) throw new InvalidTextError(`${what} ${JSON.stringify(value.slice(0, 40) + '…')}: ${value.length} characters; at most ${max}`);
  return value;
}

/**
 * `s` as a terminal may show it: every character that is not printable (see above)
 * becomes a visible escape (\n, \x1b, \u2028), so a stored value cannot clear the
 * screen or forge a row, whatever wrote it.
 */
export function forTerminal(s: string): string {
  return s.replace(NOT_PRINTABLE_ALL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
