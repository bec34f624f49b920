// OpenPGP keys made at run time, with the real gpg (2.2 or later), for tests of signed
// repos: a throw-away GNUPGHOME, keys generated in it and exported as files (the
// private key for `txrepo key import`, the public key for `--require-signed` and for
// clients), packages signed with rpmsign, detached signatures checked with
// `gpg --verify`. No key is ever committed: every one is made when the test runs.
//
// gpg starts a gpg-agent per home, and dnf (through librepo and gpgme) one per
// repository pubring in an installroot: stopAgents() ends those under a directory.

import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import { mustRun, run } from './run.ts';

export interface GpgHome {
  dir: string;
  env: NodeJS.ProcessEnv;
}

export interface TestKey {
  /** "Name <email>". */
  uid: string;
  email: string;
  /** Of the primary key, lowercase hex (as txrepo shows it). */
  fingerprint: string;
  /** The short id rpm and dnf show, lowercase: the last 8 hex digits. */
  shortId: string;
  /** Armoured public key (gpg --export --armor). */
  publicFile: string;
  /** Armoured private key (gpg --export-secret-keys --armor), protected when `passphrase` is. */
  secretFile: string;
  passphrase?: string;
}

/** The absolute path of PROGRAM on $PATH (rpmsign runs %__gpg by absolute path only). */
export function which(program: string): string {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    try {
      accessSync(join(d, program), constants.X_OK);
      return join(d, program);
    } catch {
      // keep looking
    }
  }
  throw new Error(`${program} is not on PATH`);
}

/** A new, empty GNUPGHOME at `dir`. */
export async function gpgHome(dir: string): Promise<GpgHome> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return { dir, env: { ...process.env, GNUPGHOME: dir, LC_ALL: 'C.UTF-8' } };
}

/**
 * Generates a signing key in `home` (ALGO as gpg --quick-gen-key takes it: rsa3072,
 * ed25519...) and exports it to OUTDIR/<email>.pub.asc and .sec.asc.
 */
export async function generateKey(home: GpgHome, outDir: string, k: { name: string; email: string; algo: string; passphrase?: string }): Promise<TestKey> {
  const uid = `${k.name} <${k.email}>`;
  const pass = ['--pinentry-mode', 'loopback', '--passphrase', k.passphrase ?? ''];
  const made = await mustRun('gpg', ['--batch', '--status-fd', '1', ...pass, '--quick-gen-key', uid, k.algo, 'sign', 'never'], { env: home.env });
  const fingerprint = /^\[GNUPG:\] KEY_CREATED \w+ ([0-9A-F]{40})$/m.exec(made.stdout)?.[1]?.toLowerCase();
  if (!fingerprint) throw new Error(`gpg --quick-gen-key ${uid}: no KEY_CREATED in\n${made.stdout}\n${made.stderr}`);
  await mkdir(outDir, { recursive: true });
  const publicFile = join(outDir, `${k.email}.pub.asc`);
  const secretFile = join(outDir, `${k.email}.sec.asc`);
  await writeFile(publicFile, (await mustRun('gpg', ['--batch', '--armor', '--export', fingerprint], { env: home.env })).stdout);
  await writeFile(secretFile, (await mustRun('gpg', ['--batch', ...pass, '--armor', '--export-secret-keys', fingerprint], { env: home.env })).stdout, { mode: 0o600 });
  return { uid, email: k.email, fingerprint, shortId: fingerprint.slice(-8), publicFile, secretFile, passphrase: k.passphrase };
}

/** Signs the packages FILES in place with `key` (unprotected), as a build system does. */
export async function rpmSign(home: GpgHome, key: TestKey, files: string[]): Promise<void> {
  if (key.passphrase) throw new Error('rpmSign: give an unprotected key');
  await mustRun('rpmsign', ['--addsign', '--define', `_gpg_name ${key.email}`, '--define', `__gpg ${which('gpg')}`, ...files], { env: home.env });
}

export interface Verdict {
  /** Fingerprints (lowercase) of the keys whose signatures are good. */
  goodBy: string[];
  /** Key ids of signatures made by keys the home lacks. */
  noKey: string[];
  /** Key ids of signatures that do not verify. */
  bad: string[];
  /** gpg's exit status and status lines, for messages. */
  code: number;
  status: string;
}

/**
 * What `gpg --verify SIGNATURE DATA` says in a fresh home holding only the keys of
 * PUBLICFILES: which signatures of the detached signature are good, by whom.
 */
export async function verifyDetached(scratch: string, publicFiles: string[], data: Uint8Array, signature: Uint8Array | string): Promise<Verdict> {
  await mkdir(scratch, { recursive: true });
  const home = await gpgHome(await mkdtemp(join(scratch, 'verify-')));
  try {
    if (publicFiles.length) await mustRun('gpg', ['--batch', '--quiet', '--import', ...publicFiles], { env: home.env });
    const dataFile = join(home.dir, 'data');
    const sigFile = join(home.dir, 'data.asc');
    await writeFile(dataFile, data);
    await writeFile(sigFile, signature);
    const r = await run('gpg', ['--batch', '--status-fd', '1', '--verify', sigFile, dataFile], { env: home.env });
    const all = (re: RegExp) => [...r.stdout.matchAll(re)].map((m) => m[1].toLowerCase());
    return {
      goodBy: all(/^\[GNUPG:\] VALIDSIG ([0-9A-F]+) /gm),
      noKey: all(/^\[GNUPG:\] NO_PUBKEY ([0-9A-F]+)/gm),
      bad: all(/^\[GNUPG:\] BADSIG ([0-9A-F]+) /gm),
      code: r.code,
      status: r.stdout + r.stderr,
    };
  } finally {
    await stopAgents(home.dir);
  }
}

/**
 * Ends the gpg-agent of every GNUPGHOME under `dir`: the test's own homes, and the
 * pubrings dnf keeps in installroots (librepo imports repo keys there with gpgme,
 * which starts an agent that would outlive the test).
 */
export async function stopAgents(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const homes = new Set<string>();
  for (const e of entries) if (/(^|\/)(pubring\.kbx|trustdb\.gpg)$/.test(e)) homes.add(join(dir, dirname(e)));
  await Promise.all([...homes].map((h) => run('gpgconf', ['--homedir', h, '--kill', 'all'])));
}
