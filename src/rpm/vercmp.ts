// rpm's version comparison (rpmvercmp): segments of digits or letters compared in
// turn, '~' sorting before everything (pre-releases) and '^' after the end of the
// string but before anything else (post-release snapshots).

const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string) => isDigit(c) || isAlpha(c);

/** Returns -1, 0 or 1 as `a` is older than, equal to or newer than `b`. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;

    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(a[i]);
    const inSegment = numeric ? isDigit : isAlpha;
    let ie = i;
    let je = j;
    while (ie < a.length && inSegment(a[ie])) ie++;
    while (je < b.length && inSegment(b[je])) je++;
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    // Segments of different kinds: a number is newer than letters.
    if (sb.length === 0) return numeric ? 1 : -1;
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** An epoch:version-release; a dependency's may lack the release (and the epoch). */
export interface Evr {
  epoch?: string;
  version: string;
  release?: string;
}

/**
 * Compares two EVRs as rpm compares a dependency's with a provide's: a missing epoch is
 * 0, and releases count only when both have one (`foo >= 1.2` takes every 1.2-N).
 */
export function evrcmp(a: Evr, b: Evr): number {
  const epoch = Math.sign(Number(a.epoch || '0') - Number(b.epoch || '0'));
  if (epoch) return epoch;
  return rpmvercmp(a.version, b.version) || (a.release && b.release ? rpmvercmp(a.release, b.release) : 0);
}
