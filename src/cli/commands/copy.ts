// txrepo copy SRC[@REF] DST PATTERN... [--with-deps] [-m MESSAGE] [--dry-run]

import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo copy SRC[@REF] DST PATTERN... [--with-deps] [-m MESSAGE] [--dry-run]

Makes a snapshot of DST's latest with the packages each PATTERN names in the snapshot
SRC@REF (REF: a snapshot id, a tag or TAG@TIME; default latest), and moves DST's
'latest' to it. Packages are taken from the store as they are, not read again; DST's
policies apply as to a deploy (--keep; a signature policy refuses unsigned packages).
A file name DST has with other content is refused. A PATTERN is a package name,
name.arch, NAME-VERSION, N-V-R, N-V-R.A, NEVRA (N-E:V-R.A) or file name, or a shell
glob of one ('*', '?', '[...]'); one that names no package of SRC@REF is an error.

With --with-deps, also what those packages require, resolved within SRC@REF as dnf
would (provides, file provides, versioned and rich dependencies; the newest build of
the best provider), leaving out what DST already provides. What neither provides is
listed as unresolved (it may come from another repository, such as the base OS).

Options:
      --with-deps          also copy what the packages need from SRC@REF
  -m, --message MSG        a message recorded with the snapshot
      --dry-run            only list what would be copied; commit nothing
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, message: { type: 'string', short: 'm' }, 'dry-run': { type: 'boolean' }, 'with-deps': { type: 'boolean' } } as const;

const fileName = (href: string) => href.slice(href.lastIndexOf('/') + 1);

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('copy', argv, options);
  const [from, repo, ...patterns] = positionals;
  if (!from || !repo || patterns.length === 0) throw new UsageError('give the source, the destination and at least one package pattern: txrepo copy SRC[@REF] DST PATTERN...');
  const dryRun = v['dry-run'];
  const result = await withTxrepo(v, dryRun ? 'reads' : 'writes', (tx) => tx.copy({ from, repo, patterns, withDeps: v['with-deps'], message: v.message, dryRun }));
  print(v.json, result, () => {
    const deps = new Set(result.dependencies);
    const verb = dryRun ? 'would copy' : 'copied';
    const lines = result.added.map((h) => `${verb} ${fileName(h)}${deps.has(h) ? ' (dependency)' : ''}`);
    for (const h of result.removed) lines.push(`${dryRun ? 'would remove' : 'removed'} ${fileName(h)} (keep policy)`);
    for (const h of result.notKept) lines.push(`not kept ${fileName(h)} (older than the builds ${repo} keeps)`);
    for (const u of result.unresolved) lines.push(`unresolved: ${u.package} requires ${u.requires}${u.why ? ` (${u.why})` : ''}`);
    const source = `${result.from.repo}@${result.from.snapshot}`;
    if (dryRun) lines.push(`(dry run: from ${source}; ${repo}'s latest stays ${result.snapshot || '(none yet)'})`);
    else lines.push(result.unchanged ? `${result.snapshot}\t${result.path}\t(nothing new from ${source}: latest stays)` : `${result.snapshot}\t${result.path}\t(+${result.added.length}${result.removed.length ? ` -${result.removed.length}` : ''} packages from ${source}, ${result.packages} in all)`);
    return lines.join('\n');
  });
  return 0;
}
