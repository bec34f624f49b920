// txrepo deploy REPO SOURCE...

import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { collectRpmFiles, commitPackages, ingestFiles, packageHref, type IngestedPackage } from '../../snapshots/index.ts';
import { NotFoundError, type Store } from '../../store/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { progressBar } from '../progress.ts';
import { actor, print, STORE_HELP, STORE_OPTION, withStore } from '../store.ts';

export const help = `Usage: txrepo deploy REPO SOURCE... [-m MESSAGE]

Adds the packages of each SOURCE to REPO. A SOURCE is an .rpm file, a directory of
them, or a yum repo: a directory with repodata/ or an http(s) URL (such as a build
job's exported artifacts), whose packages are verified against its checksums.

The new snapshot is REPO's latest snapshot plus the new packages (under the repo's
--keep policy); 'latest' moves to it. A package already in the repo is skipped; a
different file under the same name is refused. Prints the snapshot id and its URL
path.

Options:
  -m, --message MSG        a message recorded with the snapshot
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, message: { type: 'string', short: 'm' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('deploy', argv, options);
  const [repo, ...sources] = positionals;
  if (!repo || sources.length === 0) throw new UsageError('give the repository and at least one source: txrepo deploy REPO SOURCE...');
  const progress = progressBar('reading packages', !v.json && Boolean(process.stderr.isTTY));
  const result = await withStore(v.store, async (store) => {
    if (!(await store.catalog.getRepo(repo))) throw new NotFoundError(`no repository ${repo}; create it with 'txrepo repo create ${repo}'`);
    const packages: IngestedPackage[] = [];
    for (const source of sources) packages.push(...(await ingestSource(store, source, (d, t) => progress.update(d, t))));
    progress.finish();
    return commitPackages(store, { repo, packages, actor: actor(), message: v.message });
  });
  print(v.json, result, () =>
    result.snapshot
      ? `${result.snapshot.id}\t${result.path}\t(+${result.added.length}${result.removed.length ? ` -${result.removed.length}` : ''} packages, ${result.snapshot.packages} in all)`
      : `${result.latest}\t${result.path}\t(nothing new: latest stays)`,
  );
  return 0;
}

/** A yum repo (URL, or directory with repodata) or local RPM files. */
async function ingestSource(store: Store, source: string, onProgress: (done: number, total: number) => void): Promise<IngestedPackage[]> {
  const isRepo = /^https?:\/\//i.test(source) || Boolean(await stat(join(source, 'repodata', 'repomd.xml')).catch(() => undefined));
  if (!isRepo) return ingestFiles(store, await collectRpmFiles([source]), onProgress);
  // Loaded only for yum repo sources: deploying files needs no HTTP client.
  const { ingestRepo } = await import('../../sync/index.ts');
  const { packages } = await ingestRepo(store, source, { onProgress });
  return packages.map((p) => ({ ...p, href: packageHref(basename(p.href)) }));
}
