// The benchmark's summary: one row per ratio of issue 19's table (txrepo against the
// reference tool, with its goal), written as docs/benchmarks.md and as a chart,
// docs/benchmarks.svg. Pure functions of their input, so a test can check them without
// running a benchmark (test/bench/report.test.ts).

/** A goal on a ratio: at most (`<=`) or at least (`>=`) `value`. */
export interface Goal {
  op: '<=' | '>=';
  value: number;
}

export interface SummaryRow {
  /** What was measured, e.g. "full createrepo, 5000 small packages, wall". */
  work: string;
  /** txrepo's figure, formatted with its unit. */
  txrepo: string;
  /** The reference's figure, formatted, with the reference's name. */
  reference: string;
  /** txrepo / reference (or throughput txrepo / reference: then above 1.0 is better). */
  ratio: number;
  goal?: Goal;
}

export interface Report {
  /** ISO date of the run. */
  date: string;
  /** The machine, the tools and their versions, one line each ("cores: 2"). */
  machine: string[];
  /** How the run was made (corpus, runs, options), one paragraph each. */
  notes: string[];
  rows: SummaryRow[];
  /** The per-section tables the run printed, verbatim. */
  details: string;
  /** What bench/profile.ts printed: the functions with the most self time, the busiest system calls. */
  profile?: string;
}

/** Whether the row meets its goal; undefined when it has none. */
export function met(row: SummaryRow): boolean | undefined {
  if (!row.goal) return undefined;
  return row.goal.op === '<=' ? row.ratio <= row.goal.value : row.ratio >= row.goal.value;
}

const goalText = (g: Goal) => `${g.op === '<=' ? '≤' : '≥'} ${g.value}`;
const verdict = (row: SummaryRow) => ({ true: 'met', false: 'MISSED', undefined: '' })[String(met(row)) as 'true' | 'false' | 'undefined'];
/** Ratios printed with 2 decimals, small ones with 3. */
export const ratioText = (r: number) => (r < 0.1 ? r.toFixed(3) : r.toFixed(2));
/** A row's ratio as printed: with one more decimal where rounding would hide its verdict (1.002 against at most 1). */
const rowRatio = (row: SummaryRow) => {
  const short = ratioText(row.ratio);
  return met({ ...row, ratio: Number(short) }) === met(row) ? short : row.ratio.toFixed(3);
};

export function renderMarkdown(report: Report): string {
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const table = [
    '| work | txrepo | reference | ratio | goal | |',
    '|---|---|---|---|---|---|',
    ...report.rows.map((r) => `| ${cell(r.work)} | ${cell(r.txrepo)} | ${cell(r.reference)} | ${rowRatio(r)} | ${r.goal ? goalText(r.goal) : ''} | ${verdict(r)} |`),
  ];
  const metCount = report.rows.filter((r) => met(r) === true).length;
  const goals = report.rows.filter((r) => r.goal).length;
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${report.date}; do not edit by hand (see [Running it](#running-it)).`,
    `${metCount} of ${goals} goals met.`,
    '',
    '![ratios against their goals](benchmarks.svg)',
    '',
    ...table,
    '',
    ...report.notes.flatMap((n) => [n, '']),
    '## Machine',
    '',
    ...report.machine.map((m) => `- ${m}`),
    '',
    '## Every section of the run',
    '',
    '```',
    report.details.trimEnd(),
    '```',
    '',
    '## Where the time goes',
    '',
    PROFILE_RECIPE,
    '',
    ...(report.profile ? ['From this run:', '', '```', report.profile.trim(), '```', ''] : []),
    '## Running it',
    '',
    RUNNING_IT,
    '',
  ].join('\n');
}

const PROFILE_RECIPE = `\`npm run bench -- --profile DIR\` (bench/profile.ts; a whole run does it too, at its end) runs txrepo's createrepo, sync (from nginx) and serve (5,000 downloads, 8 parallel) on the small packages under Node's CPU profiler, every thread included, and the sync again under \`strace -c -f\`; it prints the functions with the most self time and the busiest system calls, and leaves the \`.cpuprofile\` files in DIR (open them in Chrome DevTools' Performance tab or https://www.speedscope.app). By hand, the same on any txrepo command:

\`\`\`
NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" bin/txrepo createrepo --quiet DIR
strace -c -f -o /tmp/sync.strace bin/txrepo sync REPO --from URL --store STORE
/usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KiB peak' bin/txrepo ...
\`\`\``;

const RUNNING_IT = `\`npm run bench\` (bench/run.ts) runs every section and writes this file and benchmarks.svg (\`--out DIR\` to write them elsewhere, \`--json FILE\` for every figure). It needs createrepo_c, dnf, nginx (nginx-light) and curl; the backends section measures PostgreSQL + S3 too when \`$TXREPO_TEST_PG\` is set. The first run builds the corpus with rpmbuild (cached in .cache/). A whole run takes about 20-30 minutes on 2 cores; to shorten it:

- \`--only createrepo|sync|store|serve|backends|ui\`: one section (prints its table; does not write the docs);
- \`--runs N\` (default 3): runs per measurement;
- \`--sync-large N\` (default 50000; 0 leaves it out): the size of the sync measured for peak RSS, 3-4 minutes at 50,000;
- \`--sizes 1000,10000\` (default 1000,10000,50000): the backends section's repo sizes;
- \`--replicas N\` (default 4): the deploy-into repo is the small packages times N;
- \`--small N --large N\` (default 5000, 40): the corpus (another size is built anew, which takes a while).`;

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/**
 * A chart of the ratios on a log scale, one line per row: a bar from 1.0 (parity with
 * the reference) to the ratio, the goal marked by a vertical stroke, and the verdict in
 * words as well as in colour (green met, red missed, grey no goal).
 */
export function renderSvg(rows: SummaryRow[], title = 'txrepo / reference tool (log scale)'): string {
  const values = rows.flatMap((r) => [r.ratio, r.goal?.value ?? 1]).filter((v) => v > 0 && Number.isFinite(v));
  // A margin around the data, so that no bar or goal sits on the chart's edge.
  const lo = Math.floor(Math.log10(Math.min(0.1, ...values) / 1.5));
  const hi = Math.ceil(Math.log10(Math.max(10, ...values) * 1.5));
  // Room for the longest label (about 7 px a character at 12 px sans-serif): a fixed
  // 400 px cut the start off "serve: downloads of 5000 small packages (8 parallel), throughput".
  const labelW = Math.max(400, Math.ceil(Math.max(...rows.map((r) => r.work.length)) * 7) + 16);
  const plotW = 420;
  const textW = 230;
  const rowH = 26;
  const top = 50;
  const width = labelW + plotW + textW;
  const height = top + rows.length * rowH + 40;
  const x = (v: number) => labelW + ((Math.log10(Math.min(Math.max(v, 10 ** lo), 10 ** hi)) - lo) / (hi - lo)) * plotW;
  const colour = (r: SummaryRow) => ({ true: '#1a7f37', false: '#cf222e', undefined: '#8c959f' })[String(met(r)) as 'true' | 'false' | 'undefined'];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${labelW}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${labelW}" y="36" fill="#57606a">bar: from 1.0 (parity) to the ratio; black stroke: the goal. Times, memory: lower is better; throughput: higher</text>`,
  ];
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + rows.length * rowH}" stroke="${p === 0 ? '#57606a' : '#d0d7de'}"/>`);
    out.push(`<text x="${gx}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#57606a">${10 ** p >= 1 ? 10 ** p : (10 ** p).toFixed(-p)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    const [a, b] = [x(1), x(r.ratio)].sort((m, n) => m - n);
    out.push(`<g>`);
    out.push(`<title>${esc(`${r.work}: ${r.txrepo} vs ${r.reference}, ratio ${rowRatio(r)}${r.goal ? `, goal ${goalText(r.goal)}: ${verdict(r)}` : ''}`)}</title>`);
    out.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${esc(r.work)}</text>`);
    out.push(`<rect x="${a.toFixed(1)}" y="${y + 6}" width="${Math.max(b - a, 2).toFixed(1)}" height="${rowH - 12}" fill="${colour(r)}"/>`);
    if (r.goal) {
      const gx = x(r.goal.value).toFixed(1);
      out.push(`<line x1="${gx}" y1="${y + 2}" x2="${gx}" y2="${y + rowH - 2}" stroke="#000000" stroke-width="2"/>`);
    }
    const words = `${rowRatio(r)}${r.goal ? ` (goal ${goalText(r.goal)}: ${verdict(r)})` : ''}`;
    out.push(`<text x="${labelW + plotW + 8}" y="${mid + 4}" fill="${colour(r)}">${esc(words)}</text>`);
    out.push(`</g>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
