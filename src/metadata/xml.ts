// What the metadata writers share (createrepo_c keeps it in one dump module,
// src/xml_dump.c): XML text and attribute escaping as libxml2 serialises createrepo_c's
// trees, so that our files match createrepo_c's byte for byte, and the elements more
// than one file writes.

import type { PackageFile, PackageRecord } from '../rpm/index.ts';

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

/** <?xml ...?> and the opening of a metadata document of `count` packages. */
export function documentHeader(element: string, namespaces: string, count: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${element} ${namespaces} packages="${count}">\n`;
}

/** A package's <version/>, in primary, filelists and other alike. */
export function versionElement(p: PackageRecord): string {
  return `  <version epoch="${escapeAttr(p.epoch)}" ver="${escapeAttr(p.version)}" rel="${escapeAttr(p.release)}"/>\n`;
}

/** The <package pkgid name arch> opening and <version/> of filelists and other. */
export function packageOpening(p: PackageRecord): string {
  return `<package pkgid="${p.pkgid}" name="${escapeAttr(p.name)}" arch="${escapeAttr(p.arch)}">\n` + versionElement(p);
}

/** A <file> element: primary lists some of a package's files, filelists all of them. */
export function fileElement(f: PackageFile, indent: string): string {
  const type = f.type === 'file' ? '' : ` type="${f.type}"`;
  return `${indent}<file${type}>${escapeText(f.path)}</file>\n`;
}
