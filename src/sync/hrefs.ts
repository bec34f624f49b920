// Paths that upstream metadata gives: they must stay inside the repo. Absolute paths,
// URLs, '..' segments, backslashes and control characters are refused.

export class UnsafeHrefError extends Error {
  override name = 'UnsafeHrefError';
}

export function checkHref(href: string, source: string): string {
  const bad = (why: string) => new UnsafeHrefError(`${source}: refusing href ${JSON.stringify(href.slice(0, 200))}: ${why}`);
  if (href === '' || href.length > 4096) throw bad('empty or too long');
  if (/[\x00-\x1f\x7f\\]/.test(href)) throw bad('control characters or backslashes');
  if (href.startsWith('/')) throw bad('an absolute path');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(href)) throw bad('a URL; only paths inside the repo are mirrored');
  const parts = href.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) throw bad("'.', '..' or empty path segments");
  return href;
}
