// A one-line progress bar on stderr, only when stderr is a terminal and the run is long
// enough to need one. Redrawn at most ten times a second.

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const QUIET: Progress = { update() {}, finish() {} };

export function progressBar(label: string, enabled = Boolean(process.stderr.isTTY)): Progress {
  if (!enabled) return QUIET;
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (done < total && (now - last < 100 || now - started < 500)) return;
      last = now;
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : width;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${rate.toFixed(0)}/s)\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) process.stderr.write('\n');
    },
  };
}
