// Runs a command under GNU time: wall seconds and peak RSS (ru_maxrss, exact).

import { execFile } from 'node:child_process';

export interface Measure {
  wall: number;
  rssKiB: number;
}

export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measure> {
  return new Promise((done, fail) => {
    execFile('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { maxBuffer: 64 << 20, env }, (err, _stdout, stderr) => {
      const last = stderr.trim().split('\n').pop() ?? '';
      const m = /^([0-9.]+) ([0-9]+)$/.exec(last);
      if (err || !m) return fail(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`));
      done({ wall: Number(m[1]), rssKiB: Number(m[2]) });
    });
  });
}

/** Median wall time, peak memory. */
export function median(samples: Measure[]): Measure {
  const walls = samples.map((m) => m.wall).sort((a, b) => a - b);
  return { wall: walls[Math.floor(walls.length / 2)], rssKiB: Math.max(...samples.map((m) => m.rssKiB)) };
}
