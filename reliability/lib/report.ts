// Renders the suite's results as docs/reliability.md: a summary table, then one
// section per scenario with its figures, tables and failures.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Report, Scale, Scenario, Table } from './harness.ts';

export interface RunResults {
  scale: Scale;
  seed: number;
  started: Date;
  machine: string;
  /** The commit the run tested. */
  commit: string;
  command: string;
  /** The catalog and blob store the run's stores used. */
  backends: string;
  results: { scenario: Scenario; report: Report; seconds: number }[];
  /** Scenarios left out on these backends, and why. */
  skipped: { scenario: Scenario; why: string }[];
}

function table(t: Table): string {
  const esc = (v: string | number) => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${t.columns.map(esc).join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** How many bugs docs/reliability-method.md lists as found by the suite (its table's numbered rows). */
function bugsFixed(): number {
  try {
    const text = readFileSync(resolve(import.meta.dirname, '../../docs/reliability-method.md'), 'utf8');
    return text.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length;
  } catch {
    return 0;
  }
}

export function renderReport(run: RunResults): string {
  const total = (k: 'trials' | 'faults') => run.results.reduce((n, r) => n + r.report[k], 0);
  const failures = run.results.reduce((n, r) => n + r.report.failures.length, 0);
  const out: string[] = [];
  out.push('# Reliability: what txrepo survives');
  out.push('');
  out.push('Written by the reliability suite (`reliability/`) from its latest run; do not edit by hand.');
  out.push('Run it with `npm run test:reliability` (this file) or `node reliability/run.ts --scale ci` (the bounded run CI does).');
  out.push('How each scenario works, and the bugs it found, are in [reliability-method.md](reliability-method.md).');
  out.push('');
  out.push(`- Run: ${run.started.toISOString()}, scale \`${run.scale}\`, seed ${run.seed} (\`${run.command}\`)`);
  out.push(`- Code: commit ${run.commit}`);
  out.push(`- Machine: ${run.machine}`);
  out.push(`- Backends: ${run.backends}`);
  out.push(`- Trials: ${total('trials')}; faults injected and hostile inputs tried: ${total('faults')}`);
  out.push(`- Open failures: **${failures}**`);
  out.push(`- Failures the suite has found and that were fixed, each with a regression test: ${bugsFixed()} (listed in reliability-method.md)`);
  out.push('');
  out.push(
    table({
      columns: ['scenario', 'trials', 'faults / inputs', 'failures', 'time'],
      rows: run.results.map(({ scenario, report, seconds }) => [scenario.title, report.trials, report.faults, report.failures.length, `${seconds.toFixed(0)} s`]),
    }),
  );
  for (const { scenario, why } of run.skipped) out.push('', `Not run on these backends: ${scenario.title} (${why}).`);
  for (const { scenario, report } of run.results) {
    out.push('');
    out.push(`## ${scenario.title}`);
    out.push('');
    out.push(scenario.about);
    out.push('');
    if (report.figures.length) out.push(table({ columns: ['figure', 'value'], rows: report.figures }));
    for (const t of report.tables ?? []) {
      out.push('');
      out.push(`**${t.title}**`);
      out.push('');
      out.push(table(t.table));
    }
    for (const n of report.notes ?? []) {
      out.push('');
      out.push(n);
    }
    if (report.failures.length) {
      out.push('');
      out.push(`**Failures (${report.failures.length})**`);
      out.push('');
      for (const f of report.failures.slice(0, 50)) out.push(`- ${f.trial}: \`${f.detail.split('\n')[0]}\``);
    }
  }
  return out.join('\n') + '\n';
}
