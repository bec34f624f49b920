// Runs a command under GNU time: wall seconds, CPU seconds (user + system, of the
// command and the children it waited for) and peak RSS (ru_maxrss, exact).

import { execFile } from 'node:child_process';

export interface Measure {
  wall: number;
  /** User + system CPU seconds. */
  cpu: number;
  rssKiB: number;
}

export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measure> {
  return new Promise((done, fail) => {
    execFile('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { maxBuffer: 64 << 20, env }, (err, _stdout, stderr) => {
      const last = stderr.trim().split('\n').pop() ?? '';
      const m = /^([0-9.]+) ([0-9.]+) ([0-9.]+) ([0-9]+)$/.exec(last);
      if (err || !m) return fail(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`));
      done({ wall: Number(m[1]), cpu: Number((Number(m[2]) + Number(m[3])).toFixed(2)), rssKiB: Number(m[4]) });
    });
  });
}

const mid = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall and CPU time (each on its own), highest peak memory. */
export function median(samples: Measure[]): Measure {
  return { wall: mid(samples.map((m) => m.wall)), cpu: mid(samples.map((m) => m.cpu)), rssKiB: Math.max(...samples.map((m) => m.rssKiB)) };
}

/** How far apart the runs were: (slowest - fastest) / median wall, e.g. 0.12 for 12 %. */
export function spread(samples: Measure[]): number {
  const walls = samples.map((m) => m.wall);
  const m = mid(walls);
  return m > 0 ? (Math.max(...walls) - Math.min(...walls)) / m : 0;
}
