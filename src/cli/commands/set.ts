// txrepo set create|list|show|extend|keep|release

import { actionOf, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';
import type { SetManifest, SetView } from '../../snapshots/index.ts';
import { forTerminal as t } from '../../common/index.ts';

export const help = `Usage: txrepo set create [--label L] [--ttl 3d] REPO[@REF]...
       txrepo set list
       txrepo set show ID
       txrepo set extend ID --ttl DURATION
       txrepo set keep ID
       txrepo set release ID

A set pins one snapshot per repository for a run (REF: a snapshot id, a tag, or
TAG@TIME; default latest). While its lease holds, gc keeps those snapshots; any number
of sets can be live at once. Served at /sets/ID/REPO/, with a ready yum config at
/sets/ID/repos.repo; 'txrepo inject --set ID' writes its URLs into yum configs.

  create    pins the snapshots and prints the set's id
  show      the set and its manifest: every file of every snapshot with its sha256,
            enough to reproduce the run (--json); once the lease ended, when and
            how (released or expired), and which snapshots gc has removed since
  extend    sets the lease to end DURATION from now ('forever': no end)
  keep      keeps the set until it is released
  release   ends the lease now (for good)

Options:
      --label L            what the set is for (a run id, a job URL...)
      --ttl DURATION       lease length: 90s, 30m, 12h, 3d, 2w, or 'forever' (default 3d)
${STORE_HELP}
  -h, --help               this help`;

const options = { ...STORE_OPTION, label: { type: 'string' }, ttl: { type: 'string' } } as const;

/** The set's first line: its id, label and lease. */
function heading(s: SetView): string {
  const lease = s.ended ? `lease ended ${s.ended.at} (${s.ended.how})` : s.expiresAt ? `lease until ${s.expiresAt}` : 'kept (no end)';
  return `set ${s.id}${s.label ? ` (${t(s.label)})` : ''}: ${lease}`;
}

function describe(s: SetView): string {
  return [heading(s), ...s.members.map((m) => `  ${m.repo}@${m.snapshot}`)].join('\n');
}

/** The set and what is left of each pinned snapshot: its files, or that gc removed it. */
function describeManifest(m: SetManifest): string {
  const repos = m.repos.map((r) => `  ${r.repo}@${r.snapshot}: ${r.gone ? 'removed by gc since the lease ended' : `${r.files.length} files at ${r.path}`}`);
  return [heading(m), ...repos].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('set', argv, options);
  const [given, ...args] = positionals;
  const action = actionOf('set', given, ['create', 'list', 'show', 'extend', 'keep', 'release']);
  const one = () => {
    if (args.length !== 1) throw new UsageError(`give one set id: txrepo set ${action} ID`);
    return args[0];
  };
  if (action === 'create' && args.length === 0) throw new UsageError('give the repositories to pin: txrepo set create REPO[@REF]...');
  if (action === 'extend' && v.ttl === undefined) throw new UsageError('give the new lease: txrepo set extend ID --ttl DURATION');
  const use = action === 'list' || action === 'show' ? 'reads' : 'writes';
  return withTxrepo(v, use, async (tx) => {
    switch (action) {
      case 'create': {
        const s = await tx.createSet({ refs: args, label: v.label, ttl: v.ttl });
        print(v.json, s, () => s.id);
        return 0;
      }
      case 'list': {
        const sets = await tx.listSets();
        print(v.json, sets, () => sets.map(describe).join('\n') || 'no sets yet');
        return 0;
      }
      case 'show': {
        const m = await tx.showSet(one());
        print(v.json, m, () => describeManifest(m));
        return 0;
      }
      case 'extend': {
        const s = await tx.extendSet(one(), v.ttl!);
        print(v.json, s, () => describe(s));
        return 0;
      }
      case 'keep': {
        const s = await tx.keepSet(one());
        print(v.json, s, () => describe(s));
        return 0;
      }
      default: {
        const s = await tx.releaseSet(one());
        print(v.json, s, () => describe(s));
        return 0;
      }
    }
  });
}
