// txrepo diff REPO@A REPO@B

import { parseRepoRef, type PackageChange } from '../../snapshots/index.ts';
import { parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { STORE_HELP, STORE_OPTION, withTxrepo } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo diff REPO@A REPO@B

Compares the newest build of each name.arch in snapshot A and in snapshot B (REF: a
snapshot id, a tag or TAG@TIME). Upgrades show the changelog entries they bring.

Options:
${STORE_HELP}
  -h, --help               this help`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('diff', argv, STORE_OPTION);
  if (positionals.length !== 2) throw new UsageError('give two snapshots: txrepo diff REPO@A REPO@B');
  const [a, b] = positionals.map(parseRepoRef);
  const diff = await withTxrepo(v, 'reads', (tx) => tx.diff(positionals[0], positionals[1]));
  print(v.json, diff, () => {
    const lines = [`${a.repo}@${diff.from} -> ${b.repo}@${diff.to}`];
    const by = (p: PackageChange) => (p.signer ? `  (signed by ${p.signer})` : '');
    for (const p of diff.added) lines.push(`  added      ${p.name}.${p.arch} ${p.to}${by(p)}`);
    for (const p of diff.removed) lines.push(`  removed    ${p.name}.${p.arch} ${p.from}${by(p)}`);
    for (const p of diff.downgraded) lines.push(`  downgraded ${p.name}.${p.arch} ${p.from} -> ${p.to}${by(p)}`);
    for (const p of diff.upgraded) {
      lines.push(`  upgraded   ${p.name}.${p.arch} ${p.from} -> ${p.to}${by(p)}`);
      for (const c of p.changelog ?? []) lines.push(`             * ${new Date(c.date * 1000).toISOString().slice(0, 10)} ${c.author}\n${c.text.replace(/^/gm, '               ')}`);
    }
    for (const m of diff.metadata) lines.push(`  metadata   ${m.type} ${m.from && m.to ? 'changed' : m.to ? 'added' : 'removed'}`);
    if (lines.length === 1) lines.push('  no changes: the same packages and metadata');
    return lines.join('\n');
  });
  return 0;
}
