// txrepo export REPO@REF DIR

import { exportSnapshot, parseRepoRef, resolveRef } from '../../snapshots/index.ts';
import type { ExportOutcome } from '../../core/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { LOCAL_HELP, LOCAL_OPTION, withStore } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo export REPO[@REF] DIR

Writes the snapshot (repodata/ and Packages/) into DIR, which must not exist or be
empty; it appears complete or not at all. Files are hard links into the store where
possible: treat them as read-only.

Options:
${LOCAL_HELP}
  -h, --help               this help`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('export', argv, LOCAL_OPTION);
  if (positionals.length !== 2) throw new UsageError('give REPO@REF and DIR: txrepo export REPO@REF DIR');
  const { repo, ref } = parseRepoRef(positionals[0]);
  return withStore(v, 'reads', async (store) => {
    const snapshot = await resolveRef(store.catalog, repo, ref);
    const result: ExportOutcome = { repo, snapshot: snapshot.id, ...(await exportSnapshot(store, snapshot, positionals[1])) };
    print(v.json, result, () => `exported ${repo} snapshot ${snapshot.id} to ${result.dir} (${result.files} files)`);
    return 0;
  });
}
