// Kills a txrepo run inside its commit protocol, for the kill tests. The run records
// its protocol steps (TXREPO_CRASH_TRACE, src/common/crash.ts) and waits a moment
// before each (TXREPO_CRASH_PAUSE), so a SIGKILL sent once its trace shows step N
// lands after step N began and before step N+1: inside the protocol, by construction,
// however fast the machine. The trace says where the kill landed.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { TXREPO } from './run.ts';

export interface Step {
  n: number;
  kind: string;
  path: string;
}

/** The steps of a trace file (none if it does not exist). */
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

const lineCount = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

/** Runs `txrepo ARGS` to the end with a trace: its protocol steps ("exit" last). */
export async function protocolSteps(args: string[], trace: string, env: NodeJS.ProcessEnv = process.env): Promise<Step[]> {
  await rm(trace, { force: true });
  const code = await new Promise<number | null>((done) => spawn(TXREPO, args, { stdio: 'ignore', env: { ...env, TXREPO_CRASH_TRACE: trace } }).on('exit', done));
  if (code !== 0) throw new Error(`txrepo ${args.join(' ')} exited ${code}`);
  return readTrace(trace);
}

/**
 * Runs `txrepo ARGS`, SIGKILLs it once its trace shows `step`, and returns the steps it
 * had begun. `midProtocol`: the kill came after that step began and before the run's
 * last step ("exit").
 */
export async function killAfterStep(args: string[], trace: string, step: number, opts: { env?: NodeJS.ProcessEnv; pauseMs?: number } = {}): Promise<{ steps: Step[]; midProtocol: boolean }> {
  await rm(trace, { force: true });
  const pause = opts.pauseMs ?? 20;
  const child = spawn(TXREPO, args, { stdio: 'ignore', env: { ...(opts.env ?? process.env), TXREPO_CRASH_TRACE: trace, TXREPO_CRASH_PAUSE: String(pause) } });
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  const poll = setInterval(() => {
    if (lineCount(trace) >= step) {
      clearInterval(poll);
      child.kill('SIGKILL');
    }
  }, 1);
  const signal = await exited;
  clearInterval(poll);
  const steps = await readTrace(trace);
  return { steps, midProtocol: signal === 'SIGKILL' && steps.length >= step && steps.at(-1)?.kind !== 'exit' };
}
