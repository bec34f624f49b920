// txrepo tag REPO TAG REF [--expect REF|none]

import { checkTagName, parseRepoRef, resolveRef } from '../../snapshots/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { actor, print, STORE_HELP, STORE_OPTION, withStore } from '../store.ts';

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
  const [repo, tagName, ref] = positionals;
  const tag = checkTagName(tagName);
  return withStore(v.store, async ({ catalog }) => {
    const target = await resolveRef(catalog, parseRepoRef(`${repo}@${ref}`).repo, ref);
    let expect: string | null | undefined;
    if (v.expect === 'none') expect = null;
    else if (v.expect !== undefined) expect = (await resolveRef(catalog, repo, v.expect)).id;
    const move = await catalog.moveTag({ repo, tag, to: target.id, expect, actor: actor(), reason: v.message ?? `tag ${ref}` });
    print(v.json, move, () => `${repo}: ${tag} ${move.from ?? '(new)'} -> ${move.to}`);
    return 0;
  });
}
