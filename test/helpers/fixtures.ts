// Test fixture helpers: real RPMs built from test/fixtures/specs/*.spec with
// rpmbuild (cached per spec-content hash), and packages rewritten into the layout of
// older rpm versions (legacy-rpm.ts).

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Repository root (the directory holding package.json). */
export const REPO_ROOT: string = path.resolve(import.meta.dirname, '..', '..');

/** Directory with the rpmbuild spec files used by buildTestRpms(). */
export const SPECS_DIR: string = path.join(REPO_ROOT, 'test', 'fixtures', 'specs');

/** Build time / clamped mtime of every fixture RPM (2024-01-01T00:00:00Z). */
export const FIXTURE_SOURCE_DATE_EPOCH = 1704067200;

/**
 * Bump when the way the specs are built changes (flags, environment) so the
 * cache key changes even though the spec files did not.
 */
const BUILD_RECIPE = 'v2';

/** Environment for rpmbuild: fixed timestamps, timezone and locale. */
function rpmbuildEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SOURCE_DATE_EPOCH: String(FIXTURE_SOURCE_DATE_EPOCH),
    // rpm converts %changelog dates with the local timezone.
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
  };
}

function rpmbuildDefines(topdir: string): string[] {
  return [
    '--define', `_topdir ${topdir}`,
    '--define', 'use_source_date_epoch_as_buildtime 1',
    '--define', 'clamp_mtime_to_source_date_epoch 1',
    '--define', '_buildhost txrepo-fixtures',
    // txfix-latin1 carries text that is not UTF-8, as packages of older rpm versions do.
    '--define', '_invalid_encoding_terminates_build 0',
  ];
}

async function listSpecs(): Promise<string[]> {
  const names = (await fs.readdir(SPECS_DIR)).filter((n) => n.endsWith('.spec')).sort();
  if (names.length === 0) throw new Error(`no .spec files in ${SPECS_DIR}`);
  return names;
}

/** sha256 over the recipe version and every spec file's name and contents. */
async function specsHash(names: string[]): Promise<string> {
  const h = createHash('sha256');
  h.update(`txrepo-test-rpms ${BUILD_RECIPE}\0`);
  for (const name of names) {
    h.update(name);
    h.update('\0');
    h.update(await fs.readFile(path.join(SPECS_DIR, name)));
    h.update('\0');
  }
  return h.digest('hex');
}

async function* walkFiles(dir: string): AsyncGenerator<string> {
  for (const ent of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) yield* walkFiles(p);
    else yield p;
  }
}

/** Run `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Move a fully populated `staging` directory to `final` atomically. If another
 * process published `final` first, discard ours and use theirs.
 */
async function publishDir(staging: string, final: string): Promise<void> {
  try {
    await fs.rename(staging, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(final)) {
      await fs.rm(staging, { recursive: true, force: true });
      return;
    }
    throw err;
  }
}

async function rpmbuildSpec(specName: string, topdir: string): Promise<void> {
  await fs.mkdir(topdir, { recursive: true });
  try {
    await execFileAsync('rpmbuild', ['-ba', ...rpmbuildDefines(topdir), path.join(SPECS_DIR, specName)], {
      env: rpmbuildEnv(),
      cwd: topdir,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const tail = (s: string | undefined) => (s ?? '').split('\n').slice(-40).join('\n');
    throw new Error(`rpmbuild failed for ${specName}: ${e.message}\n--- stdout (tail)\n${tail(e.stdout)}\n--- stderr (tail)\n${tail(e.stderr)}`);
  }
}

async function doBuildTestRpms(): Promise<string> {
  const specs = await listSpecs();
  const cacheRoot = path.join(REPO_ROOT, '.cache', 'test-rpms');
  const final = path.join(cacheRoot, await specsHash(specs));
  if (existsSync(final)) return final;

  await fs.mkdir(cacheRoot, { recursive: true });
  const staging = path.join(cacheRoot, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const workRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'txrepo-test-rpms-'));
  try {
    // A separate _topdir per spec so builds can run in parallel.
    await mapLimit(specs, Math.max(1, Math.min(2, os.availableParallelism())), (spec) =>
      rpmbuildSpec(spec, path.join(workRoot, spec.replace(/\.spec$/, ''))),
    );
    await fs.mkdir(staging);
    const seen = new Map<string, string>();
    for (const spec of specs) {
      const topdir = path.join(workRoot, spec.replace(/\.spec$/, ''));
      for (const sub of ['RPMS', 'SRPMS']) {
        const d = path.join(topdir, sub);
        if (!existsSync(d)) continue;
        for await (const file of walkFiles(d)) {
          if (!file.endsWith('.rpm')) continue;
          const base = path.basename(file);
          const prev = seen.get(base);
          if (prev) throw new Error(`two specs produce ${base}: ${prev} and ${spec}`);
          seen.set(base, spec);
          await fs.copyFile(file, path.join(staging, base));
        }
      }
    }
    if (![...seen.keys()].some((n) => n.endsWith('.src.rpm'))) {
      throw new Error('rpmbuild -ba produced no .src.rpm files');
    }
    await publishDir(staging, final);
  } finally {
    await fs.rm(workRoot, { recursive: true, force: true });
    await fs.rm(staging, { recursive: true, force: true });
  }
  return final;
}

let built: Promise<string> | undefined;

/**
 * Build every spec in test/fixtures/specs with `rpmbuild -ba` and return a
 * directory holding all resulting binary and source RPMs (flat). The result
 * is cached in `<repo>/.cache/test-rpms/<sha256 of the specs>/`; treat it as
 * read-only (copy files elsewhere before modifying them).
 */
export function buildTestRpms(): Promise<string> {
  if (!built) {
    built = doBuildTestRpms();
    built.catch(() => {
      built = undefined;
    });
  }
  return built;
}

/** Absolute paths of the .rpm files in the buildTestRpms() directory, sorted. */
export async function testRpmPaths(): Promise<string[]> {
  const dir = await buildTestRpms();
  return (await fs.readdir(dir)).filter((n) => n.endsWith('.rpm')).sort().map((n) => path.join(dir, n));
}

/** The path of one built test package by file name, e.g. testRpm('txfix-complex-2.3.4-5.el8.x86_64.rpm'). */
export async function testRpm(name: string): Promise<string> {
  const p = path.join(await buildTestRpms(), name);
  if (!existsSync(p)) throw new Error(`no test package ${name} in ${path.dirname(p)}`);
  return p;
}

/** txfix-complex, the package with a bit of everything (built for this machine's architecture). */
export async function complexRpm(): Promise<string> {
  const dir = await buildTestRpms();
  const name = (await fs.readdir(dir)).find((n) => n.startsWith('txfix-complex-2.3.4-5.el8.') && !n.endsWith('.src.rpm'));
  if (!name) throw new Error(`no txfix-complex package in ${dir}`);
  return path.join(dir, name);
}
