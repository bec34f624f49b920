// The step trace a txrepo process writes with TXREPO_CRASH_TRACE (src/common/crash.ts):
// read by test/helpers/crash.ts; what its steps mean for the scenarios is here.

import type { Step } from '../../test/helpers/crash.ts';

export { readTrace, type Step } from '../../test/helpers/crash.ts';

/**
 * The step after which the operation is committed: the last catalog COMMIT, or for a
 * publish the fsync of the published repodata directory after repomd.xml's rename.
 * Undefined: the operation commits nothing (a no-op run).
 */
export function commitStep(steps: Step[]): number | undefined {
  const publishSwitch = steps.findLast((s) => s.kind === 'rename' && s.path.endsWith('/repodata/repomd.xml'));
  if (publishSwitch) return steps.find((s) => s.n > publishSwitch.n && s.kind === 'fsync-dir')?.n;
  // The last write transaction is the change itself (records and cached renderings
  // are committed before it; the audit row after it is a plain autocommit insert).
  return steps.findLast((s) => s.kind === 'committed')?.n;
}

/** Where a step is, shortened for reports: the store-relative path. */
export function describeStep(s: Step, root: string): string {
  return `${s.kind} ${s.path.startsWith(root) ? s.path.slice(root.length + 1) : s.path}`.trim();
}
