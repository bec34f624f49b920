// REF: a snapshot id, a tag name, or tag@TIME (where the tag pointed at TIME).

import { type Catalog, isSnapshotId, NotFoundError, repoOrFail, type Snapshot } from '../store/index.ts';
import { Failure } from '../common/index.ts';

export class RefError extends Failure {
  override name = 'RefError';
  readonly kind = 'invalid_input';
}

/** Splits REPO@REF; REF defaults to `latest`. */
export function parseRepoRef(s: string): { repo: string; ref: string } {
  const at = s.indexOf('@');
  return at === -1 ? { repo: s, ref: 'latest' } : { repo: s.slice(0, at), ref: s.slice(at + 1) };
}

/** Parses the TIME of tag@TIME: ISO 8601, or a Unix time in seconds. */
export function parseTime(s: string): string {
  const d = /^\d+$/.test(s) ? new Date(Number(s) * 1000) : new Date(s);
  if (Number.isNaN(d.getTime())) throw new RefError(`${JSON.stringify(s)} is not a time: use ISO 8601 (2026-11-24T13:00:00Z) or Unix seconds`);
  return d.toISOString();
}

export async function resolveRef(catalog: Catalog, repo: string, ref: string): Promise<Snapshot> {
  await repoOrFail(catalog, repo);
  let id: string | undefined;
  if (isSnapshotId(ref)) {
    id = ref;
  } else {
    const at = ref.indexOf('@');
    if (at !== -1) {
      const tag = ref.slice(0, at);
      const time = parseTime(ref.slice(at + 1));
      id = await catalog.tagAt(repo, tag, time);
      if (!id) throw new NotFoundError(`tag ${tag} of ${repo} pointed at nothing at ${time}`);
    } else {
      id = (await catalog.getTag(repo, ref))?.snapshot;
      if (!id) throw new NotFoundError(`${repo} has no tag ${ref}${ref === 'latest' ? ' (nothing was deployed yet)' : ''}`, { list: 'tags', repo });
    }
  }
  const snapshot = await catalog.getSnapshot(repo, id);
  if (!snapshot) throw new NotFoundError(`${repo} has no snapshot ${id}`, { list: 'snapshots', repo });
  return snapshot;
}
