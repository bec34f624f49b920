// Who may do what on this server (docs/security.md). Two steps, both from the route
// table (src/api/routes.ts) for /api/v1:
//
//   authenticate  the token a request presents (Authorization: Bearer TOKEN, or HTTP
//                 Basic with the token as password, which is what dnf's username= and
//                 password= send), found in the catalog and live: else 401, with a
//                 WWW-Authenticate challenge. Done before a body is read.
//   authorize     the token's scopes cover what the route needs on every repository
//                 the request touches: else 403, naming the scope it lacks.
//
// The yum paths only authenticate: on a --private server every read needs a token, and
// any token may read.

import type { IncomingMessage } from 'node:http';
import type { Route, RouteScope } from '../api/index.ts';
import { parseRepoRef } from '../snapshots/index.ts';
import { lackedScope, tokenRefusal, type Catalog, type ScopeKind, type TokenInfo } from '../store/index.ts';
import { HttpError } from './http.ts';
import { hashToken } from './tokens.ts';

/**
 * The scheme a 401 invites: Bearer for the API; Basic for the yum paths, since dnf (and
 * curl, and browsers) send the username and password of a repo only when challenged so.
 */
export type Challenge = 'Bearer' | 'Basic';

/** How to give a token, for the messages of the API and of the yum paths. */
const HOW: Record<Challenge, string> = {
  Bearer: 'Authorization: Bearer TOKEN; txrepo --token or $TXREPO_TOKEN',
  Basic: "as the password of HTTP Basic, any username: dnf's password=TOKEN and username=txrepo in the .repo file, curl -u txrepo:TOKEN",
};

function unauthorized(challenge: Challenge, message: string, error?: 'invalid_token' | 'invalid_request'): HttpError {
  // RFC 6750 gives Bearer challenges an error; Basic ones (RFC 7617) have none.
  const params = challenge === 'Bearer' ? `realm="txrepo"${error ? `, error="${error}"` : ''}` : 'realm="txrepo", charset="UTF-8"';
  return new HttpError('auth', message, { 'www-authenticate': `${challenge} ${params}` });
}

/** The token a request presents, undefined if none; an Authorization header of another kind is a 401. */
function presentedToken(req: IncomingMessage, challenge: Challenge): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (basic) {
    // USERNAME:PASSWORD; the username is the client's to choose, the password is the token.
    const credentials = Buffer.from(basic[1], 'base64').toString('utf8');
    const password = credentials.slice(credentials.indexOf(':') + 1);
    if (credentials.includes(':') && password) return password;
  }
  throw unauthorized(challenge, `the Authorization header is not one txrepo takes: give the token (${HOW[challenge]})`, 'invalid_request');
}

/**
 * The request's token, found and live; undefined if it presents none and none is
 * `required` (`why` then says why one is). A token presented where none is needed is
 * checked all the same: a client learns that its token is bad before it matters.
 */
export async function authenticate(req: IncomingMessage, catalog: Catalog, opts: { required: boolean; why: string; challenge: Challenge }): Promise<TokenInfo | undefined> {
  const presented = presentedToken(req, opts.challenge);
  if (presented === undefined) {
    if (!opts.required) return undefined;
    throw unauthorized(opts.challenge, `${opts.why}: give a token (${HOW[opts.challenge]})`);
  }
  const token = await catalog.findToken(hashToken(presented));
  if (!token) throw unauthorized(opts.challenge, 'the token is not valid: this server does not know it (check the token given)', 'invalid_token');
  const refusal = tokenRefusal(token);
  if (refusal) throw unauthorized(opts.challenge, `the token is not valid: ${refusal}; ask for a new one`, 'invalid_token');
  return token;
}

/** What a request to `route` needs here: its scope, stronger for a heavier query. */
export function scopeNeeded(route: Route, query: Record<string, unknown>): RouteScope {
  return route.heavier && query[route.heavier.query] === route.heavier.value ? route.heavier.scope : route.scope;
}

/** Whether a request needing `scope` must present a token, on a server that is `isPrivate` or not. */
export function needsToken(scope: RouteScope, isPrivate: boolean): boolean {
  return scope === 'public' ? isPrivate : scope !== 'none';
}

/** Why a request needing `scope` needs a token, for the 401 of one without. */
export function whyToken(scope: RouteScope, method: string): string {
  if (scope === 'public') return 'this server is private';
  if (scope === 'read') return 'this read is not public (the audit log, tag history, fsck and set manifests are for token holders)';
  return method === 'GET' || method === 'HEAD' ? `this request needs ${scope}` : 'this request changes the store';
}

export interface RequestParts {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** The JSON body, parsed but not yet checked against the route's schema. */
  body: unknown;
}

/**
 * The repositories a request touches, where the route table says they are named.
 * 'any' when it names none (an upload; a set that does not exist, or refs that are no
 * list: the route answers those with 404 or 400 once allowed).
 */
async function reposOf(route: Route, r: RequestParts, catalog: Catalog): Promise<string[] | 'any'> {
  switch (route.repos) {
    case 'path':
      return [r.params.repo];
    case 'refs': {
      const refs = (r.body as { refs?: unknown } | undefined)?.refs;
      return Array.isArray(refs) ? refs.filter((x): x is string => typeof x === 'string').map((x) => parseRepoRef(x).repo) : 'any';
    }
    case 'set':
      return (await catalog.getSet(r.params.set))?.members.map((m) => m.repo) ?? 'any';
    default:
      return 'any';
  }
}

/** 403 unless `token` holds the scope the request needs on every repository it touches. */
export async function authorize(token: TokenInfo, route: Route, r: RequestParts, catalog: Catalog): Promise<void> {
  const scope = scopeNeeded(route, r.query);
  if (scope === 'none' || scope === 'public') return;
  const kind: ScopeKind = scope;
  const lacked = lackedScope(token.scopes, kind, kind === 'deploy' || kind === 'tag' ? await reposOf(route, r, catalog) : 'any');
  if (lacked) {
    const has = token.scopes.length ? token.scopes.join(' ') : 'no scope but read';
    throw new HttpError('forbidden', `this token lacks ${lacked}: token ${token.name} has ${has}; ask for a token that has it ('txrepo token create NAME --scope ...', see docs/security.md)`);
  }
}
