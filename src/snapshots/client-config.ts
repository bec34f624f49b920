// What a yum or dnf client of a snapshot checks, written once for every place that
// writes client configuration: a set's repos.repo, the index all_latest.json (for
// `txrepo inject --mirrors`), `txrepo inject --set` and the demo (docs/signing.md).
//
//   repo_gpgcheck=1   when the snapshot is signed: dnf checks repodata/repomd.xml.asc
//                     against the keys of repodata/repomd.xml.key
//   gpgcheck=1        when the repository requires signed packages: dnf checks every
//                     package against the repository's package keys (/keys/<fpr>.asc)
//
// gpgkey lists the URLs of both kinds of key; dnf imports what it needs from them.

import { REPOMD_KEY_HREF } from '../metadata/index.ts';
import { keyPath } from './paths.ts';

export interface GpgChecks {
  gpgcheck: boolean;
  repoGpgcheck: boolean;
  /** Absolute URLs of the keys to import. */
  gpgkey: string[];
}

/**
 * The checks for a client of the snapshot at `snapshotUrl` (ending in /) on the server
 * at `base`: undefined when there is nothing to check (unsigned, no package policy).
 */
export function gpgChecks(base: string, snapshotUrl: string, facts: { signed: boolean; packageKeys: string[] }): GpgChecks | undefined {
  if (!facts.signed && !facts.packageKeys.length) return undefined;
  return {
    gpgcheck: facts.packageKeys.length > 0,
    repoGpgcheck: facts.signed,
    gpgkey: [...(facts.signed ? [snapshotUrl + REPOMD_KEY_HREF] : []), ...facts.packageKeys.map((fp) => base + keyPath(fp))],
  };
}

/** The .repo lines of `checks`; none given: no checks (what txrepo always wrote before signing). */
export function gpgLines(checks: GpgChecks | undefined): string[] {
  if (!checks) return ['gpgcheck=0'];
  return [`gpgcheck=${checks.gpgcheck ? 1 : 0}`, `repo_gpgcheck=${checks.repoGpgcheck ? 1 : 0}`, `gpgkey=${checks.gpgkey.join(' ')}`];
}
