// txrepo show REPO@REF

import { parseRepoRef } from '../../snapshots/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import { forTerminal as t } from '../../common/index.ts';

export const help = `Usage: txrepo show REPO[@REF]

REF is a snapshot id, a tag (default: latest) or TAG@TIME (where the tag pointed at
TIME: ISO 8601 or Unix seconds).

Options:
      --files              list every file (packages and repodata)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, files: { type: 'boolean' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('show', argv, options);
  if (positionals.length !== 1) throw new UsageError('give one REPO@REF: txrepo show REPO@REF');
  const { repo, ref } = parseRepoRef(positionals[0]);
  return withTxrepo(v, 'reads', async (tx) => {
    const value = await tx.showSnapshot(repo, ref, { files: v.files });
    const { files, tags } = value;
    const s = value;
    print(v.json, value, () =>
      [
        `snapshot ${s.id} of ${repo}${tags.length ? ` [${tags.join(', ')}]` : ''}`,
        `  parent    ${s.parent ?? '-'}`,
        `  created   ${s.createdAt} by ${t(s.createdBy)}`,
        `  message   ${t(s.message)}`,
        `  packages  ${s.packages}`,
        `  path      ${value.path}`,
        ...(files ? files.map((f) => `  ${f.kind === 'package' ? 'package ' : 'metadata'}  ${f.href}  ${f.sha256}${f.kind === 'package' ? `  ${f.signer ? `signed by ${f.signer}` : 'unsigned'}` : ''}`) : []),
      ].join('\n'),
    );
    return 0;
  });
}
