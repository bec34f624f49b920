// txrepo token create|list|revoke

import { randomBytes } from 'node:crypto';
import { checkTokenName } from '../../snapshots/index.ts';
import { actionOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { auditScope, type AuditScope } from '../../store/index.ts';
import { actor, LOCAL_HELP, LOCAL_OPTION, withStore } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo token create NAME
       txrepo token list
       txrepo token revoke NAME

Access tokens for the changes a txrepo server takes (/api/v1, and every command with
--server). 'create' prints the new token once: the store keeps only its hash. Works
on the store directly (whoever can write the store is its administrator).

Options:
${LOCAL_HELP}
  -h, --help               this help`;

/** The audit row of a token change, written in the change's transaction. */
function audited(command: string, name: string): AuditScope {
  return { entry: (result) => ({ at: new Date().toISOString(), actor: actor(), command, args: JSON.stringify({ name }), result }), written: false };
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('token', argv, LOCAL_OPTION);
  const [given, name, ...rest] = positionals;
  const action = actionOf('token', given, ['create', 'list', 'revoke']);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  // Checked before the store is opened: a mistyped command makes no store.
  if (action !== 'list' && !name) throw new UsageError(`give the token's name: txrepo token ${action} NAME`);
  // Same alphabet as repos and tags: the name shows in logs and tag history.
  const needName = () => checkTokenName(name!);
  if (action !== 'list') needName();
  const { hashToken } = await import('../../server/index.ts');
  return withStore(v, action === 'list' ? 'reads' : 'writes', async ({ catalog }) => {
    switch (action) {
      case 'create': {
        const token = `txr_${randomBytes(32).toString('base64url')}`;
        // The audit row commits with the token (store/catalog.ts, auditScope).
        const info = await auditScope.run(audited('token create', needName()), () => catalog.createToken({ name: needName(), hash: hashToken(token), createdBy: actor() }));
        print(v.json, { ...info, token }, () => token);
        if (!v.json) process.stderr.write(`txrepo: token ${info.name} created; it is shown only this once\n`);
        return 0;
      }
      case 'list': {
        const tokens = await catalog.listTokens();
        print(v.json, tokens, () => tokens.map((t) => `${t.name}\t${t.createdAt}\t${t.createdBy}${t.revokedAt ? `\trevoked ${t.revokedAt}` : ''}`).join('\n') || 'no tokens yet');
        return 0;
      }
      default: {
        const t = await auditScope.run(audited('token revoke', needName()), () => catalog.revokeToken(needName()));
        print(v.json, t, () => `token ${t.name} revoked`);
        return 0;
      }
    }
  });
}
