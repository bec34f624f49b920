// filelists.xml: every file of every package (createrepo_c: src/xml_dump_filelists.c).

import type { PackageRecord } from '../rpm/index.ts';
import { fileElement } from './primary.ts';
import { escapeAttr as a } from './xml.ts';

export const FILELISTS_NS = 'http://linux.duke.edu/metadata/filelists';

export function filelistsHeader(count: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="${FILELISTS_NS}" packages="${count}">\n`;
}

export const FILELISTS_FOOTER = '</filelists>';

/** The <package pkgid name arch> opening and <version/> shared by filelists and other. */
export function packageOpening(p: PackageRecord): string {
  return (
    `<package pkgid="${p.pkgid}" name="${a(p.name)}" arch="${a(p.arch)}">\n` +
    `  <version epoch="${a(p.epoch)}" ver="${a(p.version)}" rel="${a(p.release)}"/>\n`
  );
}

export function filelistsPackage(p: PackageRecord): string {
  let s = packageOpening(p);
  for (const f of p.files) s += fileElement(f, '  ');
  return s + '</package>\n';
}
