// Runs txrepo and other programs from tests, never through a shell.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { storeEnv } from './backends.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const TXREPO = resolve(REPO_ROOT, 'bin/txrepo');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<RunResult> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 300_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as NodeJS.ErrnoException).code as unknown as number) : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** txrepo, on this pass's backends for the store its --store names (helpers/backends.ts). */
export const txrepo = (args: string[], opts: Parameters<typeof run>[2] = {}) => {
  const i = args.indexOf('--store');
  return run(TXREPO, args, i >= 0 && i + 1 < args.length ? { ...opts, env: storeEnv(args[i + 1], opts.env ?? process.env) } : opts);
};

/** Runs a command and fails with its output if it does not exit 0. */
export async function mustRun(cmd: string, args: string[], opts?: Parameters<typeof run>[2]): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * txrepo against one store: each call adds `--store STORE` and fails the test, with
 * the output, unless the exit status is `expectCode`.
 */
export function inStore(store: string) {
  return async (args: string[], expectCode = 0): Promise<RunResult> => {
    const r = await txrepo([...args, '--store', store]);
    assert.equal(r.code, expectCode, `txrepo ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
}

/**
 * Waits until `ready()` holds, polling: for what happens in another process at its own
 * pace (a log line, a file). Fails with `what` if it has not happened in `ms`.
 */
export async function waitFor(what: string, ready: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The URL of a module of src/, for code finishesWithin() runs: `srcUrl('rpm/index.ts')`. */
export const srcUrl = (path: string) => JSON.stringify(pathToFileURL(resolve(REPO_ROOT, 'src', path)).href);

/**
 * Runs `code` (an ES module; `assert` is imported for it) in a child Node.js, killed
 * after `ms`, and fails unless it exits 0. For what must not take exponential or
 * quadratic time on hostile input: a runaway blocks its event loop, where no test
 * timeout could stop it, so it runs in a process of its own.
 */
export function finishesWithin(ms: number, code: string): void {
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', `import assert from 'node:assert/strict';\n${code}`], { timeout: ms, encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.signal, null, `killed after ${ms / 1000} s: it runs in more than linear time\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
}
