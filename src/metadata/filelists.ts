// filelists.xml: every file of every package (createrepo_c: src/xml_dump_filelists.c).

import type { PackageRecord } from '../rpm/index.ts';
import { documentHeader, fileElement, packageOpening } from './xml.ts';

export const FILELISTS_NS = 'http://linux.duke.edu/metadata/filelists';

export function filelistsHeader(count: number): string {
  return documentHeader('filelists', `xmlns="${FILELISTS_NS}"`, count);
}

export const FILELISTS_FOOTER = '</filelists>';

export function filelistsPackage(p: PackageRecord): string {
  let s = packageOpening(p);
  for (const f of p.files) s += fileElement(f, '  ');
  return s + '</package>\n';
}
