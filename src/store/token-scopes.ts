// What a token may do: its scopes (docs/security.md), as `txrepo token create --scope`
// takes them, the catalog keeps them and the server checks them.
//
//   read           read the store through the API and, on a --private server, the yum
//                  paths; every valid token has it
//   deploy:GLOB    deploy and sync into the repositories GLOB matches, upload packages
//   tag:GLOB       move tags, create and change sets, promote, in the repositories
//                  GLOB matches (every repository a request touches)
//   admin          everything: repositories, gc, fsck --verify-blobs
//
// GLOB is a repository name in which `*` stands for any run of characters and `?` for
// one character; nothing else is special.

import { Failure, globMatcher } from '../common/index.ts';

/** The kinds of scope, weakest first. */
export type ScopeKind = 'read' | 'deploy' | 'tag' | 'admin';

/** What `--scope` accepts, for messages. */
export const SCOPE_SYNTAX = 'read, deploy:GLOB, tag:GLOB or admin (GLOB: a repository name where * stands for any characters and ? for one, such as deploy:el9 or tag:el*)';

/** A scope a token cannot have: the message names it and says what is accepted. */
export class ScopeError extends Failure {
  override name = 'ScopeError';
  readonly kind = 'invalid_input';
}

/** The repository names' alphabet (snapshots/names.ts), with the two wildcards. */
const GLOB = /^[A-Za-z0-9._*?-]{1,128}$/;

/** Why `scope` is not one: a hint for the usual slips. */
function refusal(scope: string): string {
  const shown = JSON.stringify(scope.length > 140 ? `${scope.slice(0, 128)}…` : scope);
  const [kind] = scope.split(':', 1);
  let hint = '';
  if (/[,\s]/.test(scope)) hint = ' (one scope per --scope: --scope read --scope deploy:el9)';
  else if (kind === 'deploy' || kind === 'tag') hint = scope.includes(':') ? ` (the part after "${kind}:" is a repository name, with * and ? as wildcards)` : ` (${kind} names the repositories it covers: ${kind}:GLOB, ${kind}:* for every one)`;
  else if (kind === 'read' || kind === 'admin') hint = ` (${kind} covers every repository: give ${kind} alone)`;
  return `scope ${shown} is not one txrepo knows${hint}: give ${SCOPE_SYNTAX}`;
}

/** A scope as given, checked: returned as it is, or a ScopeError. */
export function checkScope(scope: string): string {
  if (scope === 'read' || scope === 'admin') return scope;
  const m = /^(deploy|tag):(.*)$/.exec(scope);
  if (m && GLOB.test(m[2])) return scope;
  throw new ScopeError(refusal(scope));
}

/** A token's scopes, checked: at least one, each valid; a repeated one counts once. */
export function checkScopes(scopes: readonly string[]): string[] {
  if (scopes.length === 0) throw new ScopeError(`a token needs at least one scope: give ${SCOPE_SYNTAX}`);
  return [...new Set(scopes.map(checkScope))];
}

/** Whether GLOB matches a repository name (whole); `[` is no wildcard here (nor in the alphabet). */
function matches(glob: string, repo: string): boolean {
  return globMatcher(glob, { sets: false })(repo);
}

/**
 * The scope a token lacks to do `kind` on every one of `repos`, or undefined: it may.
 * `repos` 'any' (or none): the request names no repository (an upload), and a scope of
 * the kind for some repository will do. admin implies every scope; read is every token's.
 */
export function lackedScope(scopes: readonly string[], kind: ScopeKind, repos: readonly string[] | 'any'): string | undefined {
  if (kind === 'read' || scopes.includes('admin')) return undefined;
  if (kind === 'admin') return 'admin';
  const globs = scopes.filter((s) => s.startsWith(`${kind}:`)).map((s) => s.slice(kind.length + 1));
  if (repos === 'any' || repos.length === 0) return globs.length ? undefined : `${kind}:GLOB for some repository`;
  const outside = repos.find((repo) => !globs.some((g) => matches(g, repo)));
  return outside === undefined ? undefined : `${kind}:${outside}`;
}

/** Scopes as the catalog keeps them: one text, space-separated (a scope has no spaces). */
export const scopesText = (scopes: readonly string[]) => scopes.join(' ');
export const scopesOfText = (text: string | null) => (text ?? '').split(' ').filter(Boolean);
