// needs: dnf git root
// A user's clone stands on its own: cloned into a directory with nothing beside it,
// `npm ci && npm start` (the README's main job) serves the demo from the project's own
// sample packages, and the dnf command it prints installs a package with the real dnf.
// CI runs every other test on a clean clone on a fresh machine, which has no
// directory beside the checkout either.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIRST_PASS_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { mustRun, REPO_ROOT, run } from '../helpers/run.ts';

/** The lines of the demo's banner from the dnf command on, joined into one shell command. */
function dnfCommand(banner: string): string {
  const lines = banner.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith('dnf '));
  assert.ok(start >= 0, `the demo prints no dnf command:\n${banner}`);
  let cmd = '';
  for (const line of lines.slice(start)) {
    cmd += line.trim();
    if (!cmd.endsWith('\\')) break;
    cmd = cmd.slice(0, -1) + ' ';
  }
  return cmd;
}

test('a clone with nothing beside it: npm ci && npm start serves a demo that dnf installs from', { ...FIRST_PASS_ONLY, timeout: 600_000 }, async () => {
  const parent = await tempDir('txrepo-clone-');
  const clone = join(parent, 'txrepo');
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await mustRun('git', ['clone', '--quiet', REPO_ROOT, clone]);
    assert.deepEqual(await readdir(parent), ['txrepo']);
    await mustRun('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, timeout: 480_000 });

    // `npm start` as the README says; in its own process group, so that it stops whole.
    child = spawn('npm', ['start'], { cwd: clone, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m && out.includes('Ctrl-C')) resolve(m[1]);
      });
      child!.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}\n${err}`)));
    });
    assert.ok(out.includes(`store ${join(clone, '.cache/demo-store')}`), out);
    const index = (await (await fetch(`${url}/repos/all_latest.json`)).json()) as { latest_ci_repos: Record<string, string> };
    assert.deepEqual(Object.keys(index.latest_ci_repos), ['demo']);

    const cmd = dnfCommand(out);
    assert.ok(cmd.includes(`--repofrompath=demo,${url}/repos/demo/tags/latest/`), cmd);
    const dnf = await run('sh', ['-c', cmd], { timeout: 180_000 });
    assert.equal(dnf.code, 0, `${cmd}\n${dnf.stdout}\n${dnf.stderr}`);
    assert.match(dnf.stdout, /Installed:\s+bear-4\.1-1\.noarch/, dnf.stdout);

    // Ctrl-C, as the banner says: the whole process group gets SIGINT. npm dies of the
    // signal it forwards; the demo must stop without an error and close its port.
    const exited = new Promise<string>((r) => child!.once('exit', (code, signal) => r(signal ?? String(code))));
    process.kill(-child.pid!, 'SIGINT');
    assert.ok(['SIGINT', '0', '130'].includes(await exited), `npm start ended with ${await exited}:\n${err}`);
    child = undefined;
    assert.doesNotMatch(err, /Error|at .*:\d+:\d+/, err);
    await assert.rejects(fetch(`${url}/repos/all_latest.json`), 'the demo still serves after Ctrl-C');
  } finally {
    if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    await removeDir(parent);
  }
});

test('no file of the project names a path beside its checkout', async () => {
  // Built here, so that this file does not name them itself.
  const beside = ['..', '/work'].map((up) => `${up}/shared`);
  const r = await run('git', ['grep', '-n', '-I', '-F', ...beside.flatMap((p) => ['-e', p])], { cwd: REPO_ROOT });
  assert.equal(r.code, 1, `these lines reach outside the repository:\n${r.stdout}`);
});
