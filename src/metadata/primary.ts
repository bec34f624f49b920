// primary.xml: one <package> element per package (createrepo_c: src/xml_dump_primary.c).

import { isPrimaryFile } from '../rpm/index.ts';
import type { Dependency, PackageRecord } from '../rpm/index.ts';
import { documentHeader, escapeAttr as a, escapeText as t, fileElement, versionElement } from './xml.ts';

export const PRIMARY_NS = 'http://linux.duke.edu/metadata/common';
export const RPM_NS = 'http://linux.duke.edu/metadata/rpm';

export function primaryHeader(count: number): string {
  return documentHeader('metadata', `xmlns="${PRIMARY_NS}" xmlns:rpm="${RPM_NS}"`, count);
}

export const PRIMARY_FOOTER = '</metadata>';

function entry(d: Dependency, withPre: boolean): string {
  let s = `      <rpm:entry name="${a(d.name)}"`;
  if (d.flags) {
    s += ` flags="${d.flags}"`;
    if (d.epoch) s += ` epoch="${a(d.epoch)}"`;
    if (d.ver) s += ` ver="${a(d.ver)}"`;
    if (d.rel) s += ` rel="${a(d.rel)}"`;
  }
  if (withPre && d.pre) s += ' pre="1"';
  return s + '/>\n';
}

function dependencies(tag: string, deps: Dependency[], withPre = false): string {
  let s = '';
  for (const d of deps) if (d.name !== '') s += entry(d, withPre);
  // An element whose entries all have empty names still appears, empty (createrepo_c
  // creates the element before it filters the entries).
  return deps.length === 0 ? '' : s === '' ? `    <rpm:${tag}/>\n` : `    <rpm:${tag}>\n${s}    </rpm:${tag}>\n`;
}

export function primaryPackage(p: PackageRecord): string {
  const base = p.locationBase ? ` xml:base="${a(p.locationBase)}"` : '';
  let s =
    '<package type="rpm">\n' +
    `  <name>${t(p.name)}</name>\n` +
    `  <arch>${t(p.arch)}</arch>\n` +
    versionElement(p) +
    `  <checksum type="${a(p.checksumType)}" pkgid="YES">${p.pkgid}</checksum>\n` +
    `  <summary>${t(p.summary)}</summary>\n` +
    `  <description>${t(p.description)}</description>\n` +
    `  <packager>${t(p.packager)}</packager>\n` +
    `  <url>${t(p.url)}</url>\n` +
    `  <time file="${p.timeFile}" build="${p.timeBuild}"/>\n` +
    `  <size package="${p.sizePackage}" installed="${p.sizeInstalled}" archive="${p.sizeArchive}"/>\n` +
    `  <location${base} href="${a(p.locationHref)}"/>\n` +
    '  <format>\n' +
    `    <rpm:license>${t(p.license)}</rpm:license>\n` +
    `    <rpm:vendor>${t(p.vendor)}</rpm:vendor>\n` +
    `    <rpm:group>${t(p.group)}</rpm:group>\n` +
    `    <rpm:buildhost>${t(p.buildhost)}</rpm:buildhost>\n` +
    `    <rpm:sourcerpm>${t(p.sourcerpm)}</rpm:sourcerpm>\n` +
    `    <rpm:header-range start="${p.headerStart}" end="${p.headerEnd}"/>\n` +
    dependencies('provides', p.provides) +
    dependencies('requires', p.requires, true) +
    dependencies('conflicts', p.conflicts) +
    dependencies('obsoletes', p.obsoletes) +
    dependencies('suggests', p.suggests) +
    dependencies('enhances', p.enhances) +
    dependencies('recommends', p.recommends) +
    dependencies('supplements', p.supplements);
  for (const f of p.files) if (isPrimaryFile(f.path)) s += fileElement(f, '    ');
  return s + '  </format>\n</package>\n';
}
