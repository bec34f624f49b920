// txrepo repo create|update|list|show|delete

import type { UpdateRepoRequest } from '../../core/index.ts';
import type { MirrorFilter, MirrorFilterChange, Repository } from '../../store/index.ts';
import { actionOf, integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { readKeyFile } from '../key-files.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo repo create NAME [--upstream URL] [--keep N] [--retain-last N] [--retain-days D]
                        [--require-signed KEYFILE...] [--include GLOB...] [--exclude GLOB...]
                        [--arch ARCH...] [--newest N]
       txrepo repo update NAME [the options of create] [--no-keep] [--no-retain]
                        [--allow-unsigned] [--no-filter] [--no-include] [--no-exclude]
                        [--no-arch] [--no-newest]
       txrepo repo list
       txrepo repo show NAME
       txrepo repo delete NAME

Options:
      --upstream URL       the yum repo this one mirrors (for 'txrepo sync')
      --keep N             keep the newest N builds of each name.arch (default: all)
      --retain-last N      'txrepo gc' keeps the newest N snapshots (and those younger
                           than --retain-days); default: keep every snapshot
      --retain-days D      'txrepo gc' keeps snapshots younger than D days (and the
                           newest --retain-last); default: keep every snapshot
      --require-signed KEYFILE
                           deploy and sync take only packages whose OpenPGP
                           signature verifies against a key of KEYFILE (a public key
                           file, as gpg exports it; repeat for more keys,
                           such as the old and new key of a rotation); update: the
                           keys given replace the repo's (docs/signing.md)
      --allow-unsigned     update: packages need no signature any more
      --include GLOB       mirror filter: sync takes only packages a GLOB matches
                           (repeat for more); a glob matches NAME, NAME.ARCH,
                           NAME-VERSION, NAME-VERSION-RELEASE[.ARCH] or
                           NAME-EPOCH:VERSION-RELEASE[.ARCH]; * ? [a-z] [!a-z]
      --exclude GLOB       mirror filter: sync takes no package a GLOB matches
                           (repeat for more; wins over --include)
      --arch ARCH          mirror filter: sync takes packages of these architectures
                           (repeat for more) and noarch ones; source packages only
                           with --arch src
      --newest N           mirror filter: sync takes the newest N builds of each
                           name.arch (of those the other filters take), and the
                           repo keeps no older ones, even without --mirror
      --with-deps          mirror filter: sync also takes what the packages it
                           takes need (resolved as 'copy --with-deps' does), from
                           the upstream packages of the arches taken, not
                           excluded, and among the newest N builds
                           update: a filter option given replaces that setting
      --no-filter          update: sync takes every package again
      --no-include, --no-exclude, --no-arch, --no-newest, --no-with-deps
                           update: clear that filter setting
      --no-keep            update: keep every build again
      --no-retain          update: gc keeps every snapshot again
${STORE_HELP}
  -h, --help               this help

The filters apply before sync downloads anything: what they leave out is never
fetched; sync reports how many packages they left out (docs/sync.md).

Whatever the retention, gc keeps snapshots a tag points at (or pointed at within its
grace window) and those a live set pins.`;

const options = {
  ...STORE_OPTION,
  upstream: { type: 'string' },
  keep: { type: 'string' },
  'retain-last': { type: 'string' },
  'retain-days': { type: 'string' },
  'require-signed': { type: 'string', multiple: true },
  'allow-unsigned': { type: 'boolean' },
  'no-keep': { type: 'boolean' },
  'no-retain': { type: 'boolean' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  newest: { type: 'string' },
  'with-deps': { type: 'boolean' },
  'no-filter': { type: 'boolean' },
  'no-include': { type: 'boolean' },
  'no-exclude': { type: 'boolean' },
  'no-arch': { type: 'boolean' },
  'no-newest': { type: 'boolean' },
  'no-with-deps': { type: 'boolean' },
} as const;

/** The filter options given (create), or the change they make with their --no-* (update). */
function filterOf(v: { include?: string[]; exclude?: string[]; arch?: string[]; newest?: string; 'with-deps'?: boolean }): MirrorFilter | undefined {
  const filter: MirrorFilter = { include: v.include, exclude: v.exclude, arches: v.arch, newest: integer('newest', v.newest, 1, 1_000_000), withDeps: v['with-deps'] || undefined };
  const given = Object.entries(filter).filter(([, x]) => x !== undefined);
  return given.length ? (Object.fromEntries(given) as MirrorFilter) : undefined;
}

const CLEARS = { 'no-include': 'include', 'no-exclude': 'exclude', 'no-arch': 'arches', 'no-newest': 'newest', 'no-with-deps': 'withDeps' } as const;

function filterChange(v: Parameters<typeof filterOf>[0] & Partial<Record<keyof typeof CLEARS | 'no-filter', boolean>>): MirrorFilterChange | null | undefined {
  const set = filterOf(v);
  const change: MirrorFilterChange = { ...set };
  for (const [option, field] of Object.entries(CLEARS)) {
    if (!v[option as keyof typeof CLEARS]) continue;
    if (change[field] !== undefined) throw new UsageError(`give --${option} or --${option.slice(3)}, not both`);
    change[field] = null;
  }
  if (v['no-filter']) {
    if (Object.keys(change).length) throw new UsageError('--no-filter clears the whole filter: give it alone, or the filter options without it');
    return null;
  }
  return Object.keys(change).length ? change : undefined;
}

/** The key files of --require-signed, read and checked here: a bad one is named by its file. */
async function keyFiles(paths: string[] | undefined): Promise<string[] | undefined> {
  if (!paths?.length) return undefined;
  const { loadPolicyKeys } = await import('../../signing/index.ts');
  const texts = [];
  for (const path of paths) {
    const bytes = await readKeyFile(path, '--require-signed ');
    // Sent armoured: a binary key file becomes text the API carries.
    texts.push((await loadPolicyKeys(bytes, path)).map((k) => k.key.armor()).join(''));
  }
  return texts;
}

/** How a repo's package policy shows: the fingerprints, or that there is none. */
const policyOf = (r: Repository) => (r.requireSigned?.length ? `signed by ${r.requireSigned.map((k) => k.fingerprint).join(', ')}` : 'any (no signature required)');

/** A repo's mirror filter in words: what sync takes. */
function filterText(filter: MirrorFilter | undefined): string {
  if (!filter) return 'none (sync takes every package)';
  const f = filter as Record<string, unknown>;
  const list = (x: unknown) => (Array.isArray(x) ? x.join(' ') : JSON.stringify(x));
  const parts = [
    f.include !== undefined && `include ${list(f.include)}`,
    f.exclude !== undefined && `exclude ${list(f.exclude)}`,
    f.arches !== undefined && `arch ${list(f.arches)}${Array.isArray(f.arches) && !f.arches.includes('noarch') ? ' (and noarch)' : ''}`,
    f.newest !== undefined && `newest ${JSON.stringify(f.newest)} per name.arch`,
    f.withDeps !== undefined && (f.withDeps === true ? 'with what they need' : `withDeps ${JSON.stringify(f.withDeps)}`),
  ].filter(Boolean);
  // A damaged stored filter shows as it is; sync names what is wrong with it.
  return parts.length ? parts.join('; ') : JSON.stringify(filter);
}

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 100_000) throw new UsageError(`--retain-days ${JSON.stringify(value)}: give a number of days above 0`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('repo', argv, options);
  const [given, name, ...rest] = positionals;
  const action = actionOf('repo', given, ['create', 'update', 'list', 'show', 'delete']);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const needName = () => {
    if (!name) throw new UsageError(`give the repository name: txrepo repo ${action} NAME`);
    return name;
  };
  const settings = action === 'create' || action === 'update';
  for (const o of ['upstream', 'keep', 'retain-last', 'retain-days', 'require-signed', 'include', 'exclude', 'arch', 'newest', 'with-deps'] as const) {
    if (!settings && v[o] !== undefined) throw new UsageError(`--${o} is for 'txrepo repo create' and 'repo update'; 'repo ${action}' does not take it`);
  }
  for (const o of ['allow-unsigned', 'no-keep', 'no-retain', 'no-filter', 'no-include', 'no-exclude', 'no-arch', 'no-newest', 'no-with-deps'] as const) {
    if (action !== 'update' && v[o] !== undefined) throw new UsageError(`--${o} is for 'txrepo repo update'; 'repo ${action}' does not take it`);
  }
  if (v['allow-unsigned'] && v['require-signed']) throw new UsageError('give --require-signed KEYFILE or --allow-unsigned, not both');
  const given_ = settings ? { keep: integer('keep', v.keep, 1, 1_000_000), retainLast: integer('retain-last', v['retain-last'], 1, 1_000_000), retainDays: days(v['retain-days']), requireSigned: await keyFiles(v['require-signed']) } : undefined;
  const use = action === 'create' || action === 'delete' || action === 'update' ? 'writes' : 'reads';
  return withTxrepo(v, use, async (tx) => {
    switch (action) {
      case 'create': {
        const filter = filterOf(v);
        const repo = await tx.createRepo({ name: needName(), upstream: v.upstream, ...given_, ...(filter && { filter }) });
        print(v.json, repo, () => `created repository ${repo.name}${repo.requireSigned ? `; packages must be ${policyOf(repo)}` : ''}${repo.filter ? `; sync takes ${filterText(repo.filter)}` : ''}`);
        return 0;
      }
      case 'update': {
        const change: Omit<UpdateRepoRequest, 'name'> = Object.fromEntries(Object.entries({ upstream: v.upstream, ...given_ }).filter(([, x]) => x !== undefined));
        if (v['no-keep']) change.keep = null;
        if (v['no-retain']) Object.assign(change, { retainLast: null, retainDays: null });
        if (v['allow-unsigned']) change.requireSigned = null;
        const filter = filterChange(v);
        if (filter !== undefined) change.filter = filter;
        if (!Object.keys(change).length) {
          throw new UsageError('give what to change: --upstream, --keep, --retain-last, --retain-days, --require-signed, --allow-unsigned, --no-keep, --no-retain, or the filter options (--include, --exclude, --arch, --newest, --with-deps, --no-filter, --no-include, ...)');
        }
        const repo = await tx.updateRepo({ name: needName(), ...change });
        print(v.json, repo, () => `updated repository ${repo.name}; packages: ${policyOf(repo)}`);
        return 0;
      }
      case 'list': {
        const rows = await tx.listRepos();
        print(v.json, rows, () => (rows.length ? rows.map((r) => `${r.name}\t${r.latest ?? '(empty)'}`).join('\n') : 'no repositories yet'));
        return 0;
      }
      case 'show': {
        const repo = await tx.showRepo(needName());
        const retention = repo.retainLast === undefined && repo.retainDays === undefined ? 'all snapshots' : [repo.retainLast && `newest ${repo.retainLast}`, repo.retainDays && `${repo.retainDays} days`].filter(Boolean).join(' and ');
        print(v.json, repo, () =>
          [
            `repository ${repo.name}`,
            `  created   ${repo.createdAt} by ${repo.createdBy}`,
            `  upstream  ${repo.upstream ?? '-'}`,
            `  keep      ${repo.keep ?? 'all'} builds per name.arch`,
            `  retain    ${retention}`,
            `  packages  ${policyOf(repo)}`,
            `  filter    ${filterText(repo.filter)}`,
            `  snapshots ${repo.snapshots}`,
            ...repo.tags.map((t) => `  tag       ${t.tag} -> ${t.snapshot}`),
          ].join('\n'),
        );
        return 0;
      }
      default: {
        const r = await tx.deleteRepo(needName());
        print(v.json, r, () => `deleted repository ${r.deleted} (its files go at the next 'txrepo gc')`);
        return 0;
      }
    }
  });
}
