// txrepo deploy: ingest packages into the store (ingest.ts) and commit one snapshot =
// the repo's latest snapshot + the new packages, under the repo's policy (commit.ts).

import { stat } from 'node:fs/promises';
import { Failure } from '../common/index.ts';
import { repoOrFail, type Store } from '../store/index.ts';
import { commitOnLatest, type CommitResult } from './commit.ts';
import { ingestFiles, type IngestedPackage } from './ingest.ts';

export interface DeployOptions {
  repo: string;
  sources: string[];
  actor: string;
  message?: string;
  onProgress?: (done: number, total: number) => void;
}

/** What a deploy did: the commit's outcome (no snapshot when every package was already in latest). */
export type DeployResult = CommitResult;

export class DeployInputError extends Failure {
  override name = 'DeployInputError';
  readonly kind = 'invalid_input';
}

/** The .rpm files of SOURCEs that are files or plain directories. */
export async function collectRpmFiles(sources: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const source of sources) {
    const st = await stat(source).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      const why: Record<string, string> = { ENOENT: 'no such file or directory', ELOOP: 'a loop of symbolic links', EACCES: 'permission denied', ENOTDIR: 'a path through something that is not a directory' };
      throw new DeployInputError(`${source}: ${why[st.code ?? ''] ?? st.message}`);
    }
    if (st.isDirectory()) {
      // Loaded on demand: deploying files needs none of the createrepo layer.
      const { scanPackages } = await import('../createrepo/index.ts');
      const { packages, broken } = await scanPackages(source);
      // A package that cannot be read fails the deploy, a broken link to one included.
      if (broken.length) throw new DeployInputError(broken.map((b) => `${b.path}: ${b.problem}; fix or remove it`).join('\n'));
      if (packages.length === 0) throw new DeployInputError(`${source}: no .rpm files in this directory`);
      files.push(...packages.map((p) => p.path));
    } else if (source.endsWith('.rpm')) {
      files.push(source);
    } else {
      throw new DeployInputError(`${source}: not an .rpm file or a directory of them`);
    }
  }
  return files;
}

/** Deploys local .rpm files and directories of them (see also the CLI, which adds yum repos). */
export async function deploy(store: Store, opts: DeployOptions): Promise<DeployResult> {
  await repoOrFail(store.catalog, opts.repo, { createRepo: opts.repo });
  const packages = await ingestFiles(store, await collectRpmFiles(opts.sources), opts.onProgress);
  return commitPackages(store, { repo: opts.repo, packages, actor: opts.actor, message: opts.message });
}

export interface CommitPackagesOptions {
  repo: string;
  packages: IngestedPackage[];
  actor: string;
  message?: string;
}

/**
 * Commits a snapshot = the repo's latest + `packages`, under its keep policy. A file
 * name already there with other content is refused: a rebuild needs a new release.
 */
export function commitPackages(store: Store, opts: CommitPackagesOptions): Promise<DeployResult> {
  return commitOnLatest(store, {
    repo: opts.repo,
    change: { kind: 'add', packages: opts.packages, sameHref: 'refuse' },
    underPolicy: true,
    actor: opts.actor,
    message: opts.message ?? (({ added }) => `deploy ${added.length} package${added.length === 1 ? '' : 's'}`),
  });
}
