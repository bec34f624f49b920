// txrepo token create|list|revoke

import { randomBytes } from 'node:crypto';
import { checkTokenName, parseDuration } from '../../snapshots/index.ts';
import { actionOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { auditScope, checkScopes, SCOPE_SYNTAX, tokenRefusal, type AuditScope, type TokenInfo } from '../../store/index.ts';
import { actor, LOCAL_HELP, LOCAL_OPTION, withStore } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo token create NAME --scope SCOPE... [--expires DURATION]
       txrepo token list
       txrepo token revoke NAME

Access tokens for a txrepo server: for its API (/api/v1, and every command with
--server) and, on a server run with --private, for its yum paths. 'create' prints
the new token once: the store keeps only its hash. Works on the store directly
(whoever can write the store is its administrator).

Scopes (docs/security.md), one per --scope, at least one:
  read           what every token may: the API's reads (the audit log, tag
                 history, fsck, set manifests too), and every read of a
                 --private server
  deploy:GLOB    deploy and sync into the repositories GLOB matches; upload packages
  tag:GLOB       move tags; create, extend, keep, release and promote sets; in the
                 repositories GLOB matches (all of those a request touches)
  admin          everything: also create and delete repositories, gc, fsck
                 --verify-blobs
GLOB is a repository name where * stands for any characters and ? for one:
deploy:el9, tag:el*, deploy:*. Tokens made before scopes existed are admin.

Options:
      --scope SCOPE        what the new token may do (repeat it for more scopes)
      --expires DURATION   the new token stops working DURATION from now (90d,
                           12h, 1w; default: never)
${LOCAL_HELP}
  -h, --help               this help`;

const options = { ...LOCAL_OPTION, scope: { type: 'string', multiple: true }, expires: { type: 'string' } } as const;

/** The audit row of a token change, written in the change's transaction. */
function audited(command: string, args: Record<string, unknown>): AuditScope {
  return { entry: (result) => ({ at: new Date().toISOString(), actor: actor(), command, args: JSON.stringify(args), result }), written: false };
}

/** The scopes of `token create`, checked before the store is opened. */
function scopesOf(given: string[] | undefined): string[] {
  if (!given?.length) {
    throw new UsageError(`give the new token's scopes: --scope SCOPE, once per scope, where SCOPE is ${SCOPE_SYNTAX}; tokens made before scopes existed are admin, and --scope admin makes one like them`);
  }
  try {
    return checkScopes(given);
  } catch (e) {
    throw new UsageError(`--scope: ${(e as Error).message}`);
  }
}

/** How long a token made for `duration` lives, in ms (checked before the store is opened). */
function lifetimeOf(duration: string): number {
  let ms: number;
  try {
    ms = parseDuration(duration);
  } catch (e) {
    throw new UsageError(`--expires: ${(e as Error).message}`);
  }
  if (ms === 0) throw new UsageError(`--expires ${duration}: give a duration above 0 (a token that never works is no token); to end a token, revoke it`);
  return ms;
}

/** A token as `token list --json` shows it: with whether it may be used now. */
const listed = (t: TokenInfo) => ({ ...t, live: tokenRefusal(t) === undefined });

/** One line of `token list`: name, scopes, made when and by whom, expiry, state. */
function line(t: TokenInfo): string {
  const state = tokenRefusal(t) === undefined ? 'live' : t.revokedAt !== undefined ? `revoked ${t.revokedAt}` : `expired ${t.expiresAt}`;
  return [t.name, t.scopes.join(' '), t.createdAt, t.createdBy, t.expiresAt ? `expires ${t.expiresAt}` : 'no expiry', state].join('\t');
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('token', argv, options);
  const [given, name, ...rest] = positionals;
  const action = actionOf('token', given, ['create', 'list', 'revoke']);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  // Checked before the store is opened: a mistyped command makes no store.
  if (action !== 'list' && !name) throw new UsageError(`give the token's name: txrepo token ${action} NAME`);
  if (action !== 'create') {
    for (const o of ['scope', 'expires'] as const) if (v[o] !== undefined) throw new UsageError(`--${o} is for 'txrepo token create'; 'token ${action}' does not take it`);
  }
  // Same alphabet as repos and tags: the name shows in logs and tag history.
  const needName = () => checkTokenName(name!);
  if (action !== 'list') needName();
  const scopes = action === 'create' ? scopesOf(v.scope) : [];
  const lifetime = v.expires === undefined ? undefined : lifetimeOf(v.expires);
  const { hashToken } = await import('../../server/index.ts');
  return withStore(v, action === 'list' ? 'reads' : 'writes', async ({ catalog }) => {
    switch (action) {
      case 'create': {
        const token = `txr_${randomBytes(32).toString('base64url')}`;
        // The audit row commits with the token (store/catalog.ts, auditScope). The
        // lifetime counts from now, not from the command's start: opening a store can
        // take longer than a short --expires.
        const expiresAt = lifetime === undefined ? undefined : new Date(Date.now() + lifetime).toISOString();
        const request = { name: needName(), scopes, expiresAt };
        const info = await auditScope.run(audited('token create', request), () => catalog.createToken({ ...request, hash: hashToken(token), createdBy: actor() }));
        print(v.json, { ...info, token }, () => token);
        if (!v.json) process.stderr.write(`txrepo: token ${info.name} created (${info.scopes.join(' ')}${info.expiresAt ? `, expires ${info.expiresAt}` : ''}); it is shown only this once\n`);
        return 0;
      }
      case 'list': {
        const tokens = await catalog.listTokens();
        print(v.json, tokens.map(listed), () => tokens.map(line).join('\n') || 'no tokens yet');
        return 0;
      }
      default: {
        const t = await auditScope.run(audited('token revoke', { name: needName() }), () => catalog.revokeToken(needName()));
        print(v.json, t, () => `token ${t.name} revoked`);
        return 0;
      }
    }
  });
}
