// other.xml: changelogs (createrepo_c: src/xml_dump_other.c and the changelog rules of
// src/parsehdr.c).

import type { ChangelogEntry, PackageRecord } from '../rpm/index.ts';
import { documentHeader, escapeAttr as a, escapeText as t, packageOpening } from './xml.ts';

export const OTHER_NS = 'http://linux.duke.edu/metadata/other';

export function otherHeader(count: number): string {
  return documentHeader('otherdata', `xmlns="${OTHER_NS}"`, count);
}

export const OTHER_FOOTER = '</otherdata>';

/** -1 keeps every entry. */
export type ChangelogLimit = number;

/**
 * The entries other.xml lists: the newest `limit` in header order, written oldest
 * first. Where entries share a timestamp, createrepo_c bumps the dates of the newer
 * ones by one second each so that dates strictly increase within the run; clients
 * rely on (date, author) being unique.
 */
export function selectChangelogs(entries: ChangelogEntry[], limit: ChangelogLimit): ChangelogEntry[] {
  const n = limit < 0 ? entries.length : Math.min(limit, entries.length);
  const out: ChangelogEntry[] = []; // built newest-last, reversed at the end
  let last = 0;
  for (let i = 0; i < n; i++) {
    const time = entries[i].date;
    out.push({ ...entries[i] });
    if (time === last) {
      let tmp = time;
      for (let j = out.length - 2; j >= 0 && out[j].date === tmp; j--) {
        out[j].date++;
        tmp++;
      }
    } else {
      last = time;
    }
  }
  return out.reverse();
}

export function otherPackage(p: PackageRecord, changelogLimit: ChangelogLimit): string {
  let s = packageOpening(p);
  for (const c of selectChangelogs(p.changelogs, changelogLimit)) {
    s += `  <changelog author="${a(c.author)}" date="${c.date}">${t(c.text)}</changelog>\n`;
  }
  return s + '</package>\n';
}
