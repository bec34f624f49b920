// XML text and attribute escaping as libxml2 serialises createrepo_c's trees, so that
// our files match createrepo_c's byte for byte.

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>"\t\n\r\u0080-\u{10FFFF}]/u;
// C0 controls other than TAB, LF and CR are not allowed in XML 1.0 documents.
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

export function escapeText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s;
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/**
 * Attribute values: libxml2 without a document encoding (createrepo_c serialises
 * detached nodes) also writes every non-ASCII character as a hex character reference.
 */
export function escapeAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  return s.replace(/[&<>"\t\n\r\u0080-\u{10FFFF}]/gu, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case '\t':
        return '&#9;';
      case '\n':
        return '&#10;';
      case '\r':
        return '&#13;';
      default:
        return `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`;
    }
  });
}

/** The first character XML cannot carry, if any (createrepo_c rejects such packages). */
export function forbiddenChar(s: string): string | undefined {
  const m = FORBIDDEN.exec(s);
  return m ? m[0] : undefined;
}
