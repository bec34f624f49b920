// txrepo sync REPO [--from URL] [--mirror]

import { integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { showsProgress, stagedProgress } from '../progress.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo sync REPO [--from URL|PATH] [--mirror]

Reads the upstream's repodata (REPO's --upstream, or --from), downloads the packages
and metadata files the store does not have yet (in parallel, with retries; an
interrupted download resumes), verifies each against the upstream's checksums and
sizes, and commits a snapshot with the upstream's packages and its other metadata
(comps, updateinfo, modules, ...), moving 'latest'. Nothing changes when the upstream
did not, and nothing is committed unless every file verified. A repo with a mirror
filter (see 'txrepo repo --help') takes only the packages the filter lets
through, and downloads no other; the result says how many it left
out, and which advisories lost all their packages (docs/sync.md).

Options:
      --from URL|PATH      the upstream (http://, https:// or a directory)
      --mirror             make REPO exactly the upstream: drop packages it no longer has
                           (default: keep them, adding the upstream's)
      --parallel N         downloads at a time (default 16)
  -m, --message MSG        a message recorded with the snapshot
  -q, --quiet              no progress bar (shown on stderr when it is a terminal; with
                           --server, the server sends its progress)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, from: { type: 'string' }, mirror: { type: 'boolean' }, parallel: { type: 'string' }, message: { type: 'string', short: 'm' }, quiet: { type: 'boolean', short: 'q' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('sync', argv, options);
  if (positionals.length !== 1) throw new UsageError('give one repository: txrepo sync REPO [--from URL]');
  const progress = stagedProgress(showsProgress(v));
  const parallel = integer('parallel', v.parallel, 1, 64);
  const request = { repo: positionals[0], from: v.from, mirror: v.mirror, parallel, message: v.message };
  const result = await withTxrepo(v, 'writes', (tx) => tx.sync(request, progress?.report).finally(() => progress?.finish()));
  // What the repo's filter left out is said either way: it explains a count lower than the upstream's.
  const f = result.filtered;
  const filtered = f
    ? `; the filter left out ${f.leftOut} packages${f.advisoriesLeftOut.length ? ` and every package of advisories ${f.advisoriesLeftOut.join(', ')}` : ''}` +
      (f.dependencies ? `; it took ${f.dependencies} as what the others need` : '') +
      f.requiresLeftOut.map((r) => `; ${r.package} requires ${r.requires.join(', ')}, which only left-out packages provide`).join('')
    : '';
  print(v.json, result, () =>
    result.unchanged
      ? `${result.snapshot}\t${result.path}\t(upstream unchanged: no new snapshot${filtered})`
      : `${result.snapshot}\t${result.path}\t(${result.packages} packages, ${result.downloaded} downloaded${filtered})`,
  );
  return 0;
}
