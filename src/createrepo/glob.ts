// GLib's simple patterns (g_pattern_match_simple), which createrepo_c's --excludes use:
// '*' matches any run of characters, '/' included; '?' matches one character.

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const c of pattern) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export function matchesAny(patterns: RegExp[], s: string): boolean {
  return patterns.some((p) => p.test(s));
}
