// txrepo tag REPO TAG REF [--expect REF|none]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo tag REPO TAG REF [--expect REF|none] [-m REASON]

Moves TAG of REPO to the snapshot REF names (a snapshot id, a tag or TAG@TIME). Every
move is recorded: see 'txrepo tags REPO --history'.

Options:
      --expect REF|none    move only if TAG points at REF now ('none': TAG must not
                           exist yet); otherwise fail and change nothing
  -m, --message REASON     why the tag moves (recorded in its history)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, expect: { type: 'string' }, message: { type: 'string', short: 'm' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('tag', argv, options);
  if (positionals.length !== 3) throw new UsageError('give REPO, TAG and REF: txrepo tag REPO TAG REF');
  const [repo, tag, ref] = positionals;
  return withTxrepo(v, 'writes', async (tx) => {
    const move = await tx.tag({ repo, tag, ref, expect: v.expect, reason: v.message });
    print(v.json, move, () => `${repo}: ${tag} ${move.from ?? '(new)'} -> ${move.to}`);
    return 0;
  });
}
