// txrepo deploy REPO SOURCE...

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { showsProgress, stagedProgress } from '../progress.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo deploy REPO SOURCE... [-m MESSAGE]

Adds the packages of each SOURCE to REPO. A SOURCE is an .rpm file, a directory of
them, or a yum repo: a directory with repodata/ or an http(s) URL (such as a build
job's exported artifacts), whose packages are verified against its checksums.

The new snapshot is REPO's latest snapshot plus the new packages (under the repo's
--keep policy); 'latest' moves to it. A package already in the repo is skipped; a
different file under the same name is refused. Prints the snapshot id and its URL
path.

With --server, local files and directories are uploaded to the server (each checked
against its sha256 on arrival; a yum repo directory's listed packages, checked against
its metadata first) and URLs are fetched by the server.

On a terminal, progress bars show on stderr: packages read, or, with --server, bytes
hashed and uploaded, then the packages the server reads.

Options:
  -m, --message MSG        a message recorded with the snapshot
  -q, --quiet              no progress bars
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, message: { type: 'string', short: 'm' }, quiet: { type: 'boolean', short: 'q' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('deploy', argv, options);
  const [repo, ...sources] = positionals;
  if (!repo || sources.length === 0) throw new UsageError('give the repository and at least one source: txrepo deploy REPO SOURCE...');
  const progress = stagedProgress(showsProgress(v));
  const result = await withTxrepo(v, 'writes', (tx) => tx.deploy({ repo, sources, message: v.message }, progress?.report).finally(() => progress?.finish()));
  // A server before notKept existed leaves it out.
  const notKept = result.notKept ?? [];
  const skipped = notKept.length ? `; not kept, older than the builds the repo keeps: ${notKept.map((h) => h.slice(h.lastIndexOf('/') + 1)).join(', ')}` : '';
  print(v.json, result, () =>
    result.unchanged
      ? `${result.snapshot}\t${result.path}\t(nothing new: latest stays${skipped})`
      : `${result.snapshot}\t${result.path}\t(+${result.added.length}${result.removed.length ? ` -${result.removed.length}` : ''} packages, ${result.packages} in all${skipped})`,
  );
  return 0;
}
