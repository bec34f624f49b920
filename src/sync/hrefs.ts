// Paths that upstream metadata gives: they must stay inside the repo. Absolute paths,
// URLs, '..' segments (also percent-encoded), encoded slashes, backslashes and control
// characters are refused, and characters XML cannot hold; a package may not sit in
// repodata/.

import { Failure, XML_UNSAFE } from '../common/index.ts';
import { inRepodata, refusedInRepodata, UNSERVABLE_NAME } from '../snapshots/index.ts';

export class UnsafeHrefError extends Failure {
  override name = 'UnsafeHrefError';
  readonly kind = 'bad_metadata';
}

export function checkHref(href: string, source: string): string {
  const bad = (why: string) => new UnsafeHrefError(`${source}: refusing href ${JSON.stringify(href.slice(0, 200))}: ${why}`);
  if (href === '' || href.length > 4096) throw bad('empty or too long');
  if (UNSERVABLE_NAME.test(href)) throw bad('control characters or backslashes');
  // It goes into the snapshot's own XML metadata: what XML cannot hold would make the
  // repo unreadable for every client.
  if (XML_UNSAFE.test(href)) throw bad('a character XML metadata cannot hold (a lone surrogate, U+FFFE or U+FFFF)');
  if (href.startsWith('/')) throw bad('an absolute path');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(href)) throw bad('a URL; only paths inside the repo are mirrored');
  const parts = href.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) throw bad("'.', '..' or empty path segments");
  // An href is resolved as a URL, and URL resolution reads %2e%2e as '..' (and a server
  // may decode %2f into '/'): encoded, they would climb out of the repo all the same.
  if (parts.some((p) => /^(\.|%2e){1,2}$/i.test(p)) || /%(2f|5c)/i.test(href)) throw bad("percent-encoded '.', '..', slashes or backslashes");
  return href;
}

/** A package's href: as any href, and not where the repo's metadata lives (it would stand beside, or over, repomd.xml). */
export function checkPackageHref(href: string, source: string): string {
  checkHref(href, source);
  if (inRepodata(href)) throw new UnsafeHrefError(`${source}: ${refusedInRepodata(href)}`);
  return href;
}
