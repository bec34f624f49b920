// What a scenario of the reliability suite is and what it reports. A scenario runs
// trials (each injects faults or feeds inputs), checks the invariants after each, and
// records every violation as a failure; the runner (run.ts) writes the reports into
// docs/reliability.md and exits non-zero if any scenario found one.

export type Scale = 'ci' | 'full';

export interface Failure {
  /** The trial or case, e.g. "deploy, power loss before step 12 (link blobs/…)". */
  trial: string;
  /** What was wrong. */
  detail: string;
}

export interface Table {
  columns: string[];
  rows: (string | number)[][];
}

export interface Report {
  /** Trials run (a trial: one run of the operation under test, with its checks). */
  trials: number;
  /** Faults injected: kills, power losses, hostile inputs, full disks… */
  faults: number;
  failures: Failure[];
  /** Headline figures, in order, for the summary table of the doc. */
  figures: [string, string | number][];
  /** Detail for the scenario's own section. */
  tables?: { title: string; table: Table }[];
  notes?: string[];
}

export interface Context {
  scale: Scale;
  /** A fresh directory for the scenario; removed afterwards. */
  work: string;
  /** Progress output (stderr). */
  log(message: string): void;
  /** A deterministic pseudo-random number in [0, 1), seeded per run (--seed). */
  random(): number;
}

export interface Scenario {
  name: string;
  title: string;
  /** What it proves, for the doc: one paragraph. */
  about: string;
  /** Set for a scenario about the embedded backends' own files: why it does not apply to PostgreSQL and S3. */
  embeddedOnly?: string;
  run(ctx: Context): Promise<Report>;
}

/** Collects failures and counts while a scenario runs. */
export class Recorder {
  trials = 0;
  faults = 0;
  readonly failures: Failure[] = [];

  fail(trial: string, detail: string): void {
    this.failures.push({ trial, detail: detail.length > 2000 ? `${detail.slice(0, 2000)}…` : detail });
  }

  /** Runs a check; an exception is a failure of `trial`, not the end of the scenario. */
  async check(trial: string, fn: () => Promise<void> | void): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      this.fail(trial, (e as Error).stack ?? String(e));
      return false;
    }
  }
}

/** mulberry32: small, seedable, good enough to pick kill instants and cases. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
