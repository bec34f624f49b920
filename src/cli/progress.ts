// Progress bars on stderr: only when stderr is a terminal (not with --json or --quiet),
// and only once a stage has run long enough to need one. Redrawn at most ten times a
// second. Byte counts show as sizes (KiB, MiB, ...) with a rate.

import type { ProgressReport, ProgressStage } from '../core/index.ts';

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export type Unit = 'packages' | 'bytes';

const QUIET: Progress = { update() {}, finish() {} };

/** Whether a command shows progress: the rule for every command that has any. */
export function showsProgress(v: { json?: boolean; quiet?: boolean }): boolean {
  return !v.json && !v.quiet && Boolean(process.stderr.isTTY);
}

const SIZES = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function humanSize(bytes: number): string {
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < SIZES.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${SIZES[i]}`;
}

function counts(unit: Unit, done: number, total: number, perSecond: number): string {
  if (unit === 'bytes') return `${humanSize(done)}/${humanSize(total)} (${humanSize(Math.round(perSecond))}/s)`;
  return `${done}/${total} (${perSecond.toFixed(0)}/s)`;
}

export function progressBar(label: string, enabled = Boolean(process.stderr.isTTY), unit: Unit = 'packages'): Progress {
  if (!enabled) return QUIET;
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      // A stage done within half a second needs no bar; a bar shown ends full.
      if (now - started < 500 && !drawn) return;
      if (done < total && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = total ? Math.min(width, Math.round((done / total) * width)) : width;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts(unit, done, total, rate)}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) process.stderr.write('\n');
    },
  };
}

const LABELS: Record<ProgressStage, string> = {
  read: 'reading packages',
  hash: 'hashing packages',
  upload: 'uploading packages',
  fetch: 'fetching packages',
  sync: 'syncing packages',
};

export interface StagedProgress {
  report(r: ProgressReport): void;
  finish(): void;
}

/**
 * A bar for each stage of an operation's reports, each on a line of its own; none when
 * progress is not shown, so that the operation is not asked for reports (through a
 * server: an answer that streams them).
 */
export function stagedProgress(enabled: boolean): StagedProgress | undefined {
  if (!enabled) return undefined;
  let stage: ProgressStage | undefined;
  let bar = QUIET;
  return {
    report(r) {
      if (r.stage !== stage) {
        bar.finish();
        stage = r.stage;
        bar = progressBar(LABELS[r.stage] ?? r.stage, true, r.unit);
      }
      bar.update(r.done, r.total);
    },
    finish() {
      bar.finish();
    },
  };
}
