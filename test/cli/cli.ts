// Shared by the tests of the command-line contract (docs/cli.md): stores with a
// little in them, and the one-JSON-document rule of --json.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/repo.ts';
import { txrepo, type RunResult } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';

/** stdout as the one JSON document --json promises (JSON.parse refuses two). */
export function document(r: RunResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    assert.fail(`stdout is not one JSON document (${(e as Error).message}):\n${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** A failure under --json: the exit status, one error document on stdout, the human line on stderr. */
export function assertJsonError(r: RunResult, status: number, type: string, message: RegExp): void {
  assert.equal(r.code, status, `exit status: ${r.stdout}${r.stderr}`);
  const doc = document(r);
  assert.deepEqual(Object.keys(doc), ['error'], r.stdout);
  assert.deepEqual(Object.keys(doc.error).sort(), ['message', 'type'], r.stdout);
  assert.equal(doc.error.type, type, r.stdout);
  assert.match(doc.error.message, message);
  assert.ok(r.stderr.includes(`txrepo: ${doc.error.message.split('\n')[0]}`), `stderr has the human line: ${r.stderr}`);
}

/** Runs txrepo on `store` (--store appended) and fails unless it exits `code`. */
export function on(store: string) {
  return async (args: string[], code = 0): Promise<RunResult> => {
    const r = await txrepo([...args, '--store', store]);
    assert.equal(r.code, code, `txrepo ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
}

/** A fresh store with repository `app` holding bear and cat (one snapshot). */
export async function storeWithApp(prefix: string): Promise<{ dir: string; store: string; tx: ReturnType<typeof on>; snapshot: string }> {
  const dir = await tempDir(prefix);
  const store = join(dir, 'store');
  const tx = on(store);
  await tx(['repo', 'create', 'app']);
  const snapshot = document(await tx(['deploy', 'app', sample('bear-4.1-1.noarch.rpm'), sample('cat-1.0-1.noarch.rpm'), '--json'])).snapshot;
  return { dir, store, tx, snapshot };
}
