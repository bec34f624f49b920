// txrepo inject CONF... (--set ID | --mirrors URI) [--allow-proxy] [-o OUT]

import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { readSmallFile, replaceFile } from '../../common/index.ts';
import { IniError, injectMirrors, loadMirrorList } from '../../inject/index.ts';
import { REPOMD_SIGNATURE_HREF } from '../../metadata/index.ts';
import { gpgChecks, type GpgChecks } from '../../snapshots/index.ts';
import { NotFoundError } from '../../store/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { serverOf, STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo inject CONF... (--set ID | --mirrors URI) [--allow-proxy] [-o OUT]

Points the repositories of yum / reposync configuration files (INI, .repo style) at
txrepo snapshots, like the CI mirror client: a section whose id equals a repository
name gets baseurl=<snapshot URL>, loses mirrorlist and metalink, and gets
proxy=_none_ (unless --allow-proxy). Every other option, section and comment stays as
it was, in order. Each file is replaced atomically (or written to -o).

Options:
      --set ID             the snapshots a set pins (/sets/ID/REPO/ on the server)
      --mirrors URI        a mirror list in the shape of /repos/all_latest.json, from a
                           file, an http(s) URL or a data: URL
      --base-url URL       with --set on a local store: the URL of the server that
                           serves it (default: --server / $TXREPO_SERVER)
      --allow-proxy        keep each section's proxy setting
  -o, --output OUT         write the result to OUT (one CONF only)
${STORE_HELP}
  -h, --help               this help`;

const options = {
  ...STORE_OPTION,
  set: { type: 'string' },
  mirrors: { type: 'string' },
  'base-url': { type: 'string' },
  'allow-proxy': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const;

/** Far more than any yum configuration file: a larger one is not one (or is /dev/zero). */
const MAX_CONF_BYTES = 16 << 20;

/** Replaces `path` with `text` in one rename, keeping its mode. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const mode = (await stat(path).catch(() => undefined))?.mode;
  await replaceFile(join(dirname(path), `.${basename(path)}.txrepo-${randomBytes(6).toString('hex')}`), path, text, mode === undefined ? 0o644 : mode & 0o7777);
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals: confs } = parse('inject', argv, options);
  if (confs.length === 0) throw new UsageError('give at least one config file: txrepo inject CONF... --set ID');
  if ((v.set === undefined) === (v.mirrors === undefined)) throw new UsageError('give either --set ID or --mirrors URI');
  if (v.output !== undefined && confs.length !== 1) throw new UsageError('-o takes one CONF only');

  let mirrors: Map<string, string>;
  let checks = new Map<string, GpgChecks>();
  if (v.mirrors !== undefined) {
    ({ urls: mirrors, checks } = await loadMirrorList(v.mirrors));
  } else {
    const base = (v['base-url'] ?? serverOf(v))?.replace(/\/+$/, '');
    if (!base) throw new UsageError('--set on a local store needs the URL of the server that serves it: give --base-url URL (or --server URL)');
    if (!/^https?:\/\/[^/]/.test(base)) throw new UsageError(`--base-url ${JSON.stringify(base)}: give an http(s) URL`);
    const manifest = await withTxrepo(v, 'reads', (tx) => tx.showSet(v.set!));
    // A removed snapshot's URL answers 410: a config pointing there fails later, and worse.
    const gone = manifest.repos.filter((r) => r.gone).map((r) => `${r.repo}@${r.snapshot}`);
    if (gone.length) throw new NotFoundError(`set ${manifest.id}: gc has removed ${gone.join(', ')} since its lease ended; pin the snapshots again in a new set ('txrepo set create')`);
    mirrors = new Map(manifest.repos.map((r) => [r.repo, `${base}${r.path}`]));
    for (const r of manifest.repos) {
      const signed = r.files.some((f) => f.href === REPOMD_SIGNATURE_HREF);
      const c = gpgChecks(base, `${base}${r.path}`, { signed, packageKeys: r.packageKeys ?? [] });
      if (c) checks.set(r.repo, c);
    }
  }

  // Every file is read and rewritten before any is written: a bad one changes nothing.
  const results: { conf: string; text: string; injected: string[] }[] = [];
  for (const conf of confs) {
    const data = await readSmallFile(conf, MAX_CONF_BYTES);
    if (data === undefined) throw new IniError(`${conf}: larger than ${MAX_CONF_BYTES} bytes; not a yum configuration file`);
    const text = data.toString('utf8');
    try {
      results.push({ conf, ...injectMirrors(text, mirrors, { allowProxy: v['allow-proxy'], checks }) });
    } catch (e) {
      (e as Error).message = `${conf}: ${(e as Error).message}`;
      throw e;
    }
  }
  for (const r of results) await writeAtomically(v.output ?? r.conf, r.text);
  print(
    v.json,
    results.map((r) => ({ conf: r.conf, output: v.output ?? r.conf, injected: r.injected })),
    () => results.map((r) => `${v.output ?? r.conf}: ${r.injected.length ? `injected ${r.injected.join(', ')}` : 'no section matched a repository (unchanged)'}`).join('\n'),
  );
  return 0;
}
