// txrepo remove REPO PATTERN... [-m MESSAGE] [--dry-run]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo remove REPO PATTERN... [-m MESSAGE] [--dry-run]

Makes a snapshot of REPO's latest without the packages each PATTERN names, and moves
'latest' to it: how a bad build is pulled out. The snapshots before keep it (a tag
on one still serves it). A PATTERN is a package name, name.arch, NAME-VERSION,
N-V-R, N-V-R.A, NEVRA (N-E:V-R.A) or file name, or a shell glob of one ('*', '?',
'[...]'); it names every build that matches. A PATTERN that names no package of
latest is an error, and nothing is removed.

Options:
  -m, --message MSG        a message recorded with the snapshot
      --dry-run            only list what would be removed; commit nothing
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, message: { type: 'string', short: 'm' }, 'dry-run': { type: 'boolean' } } as const;

const fileName = (href: string) => href.slice(href.lastIndexOf('/') + 1);

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('remove', argv, options);
  const [repo, ...patterns] = positionals;
  if (!repo || patterns.length === 0) throw new UsageError('give the repository and at least one package pattern: txrepo remove REPO PATTERN...');
  const dryRun = v['dry-run'];
  const result = await withTxrepo(v, dryRun ? 'reads' : 'writes', (tx) => tx.remove({ repo, patterns, message: v.message, dryRun }));
  print(v.json, result, () => {
    const lines = result.removed.map((h) => `${dryRun ? 'would remove' : 'removed'} ${fileName(h)}`);
    if (dryRun) lines.push(`(dry run: ${repo}'s latest stays ${result.snapshot})`);
    else lines.push(result.unchanged ? `${result.snapshot}\t${result.path}\t(nothing to remove: latest stays)` : `${result.snapshot}\t${result.path}\t(-${result.removed.length} packages, ${result.packages} in all)`);
    return lines.join('\n');
  });
  return 0;
}
