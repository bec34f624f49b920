// Reads the step trace a txrepo process writes with TXREPO_CRASH_TRACE (src/common/crash.ts).

import { readFile } from 'node:fs/promises';

export interface Step {
  n: number;
  kind: string;
  path: string;
}

export async function readTrace(file: string): Promise<Step[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [n, kind, path] = line.split('\t');
      return { n: Number(n), kind: kind!, path: path ?? '' };
    });
}

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
