// The benchmark's report writer (bench/report.ts) on fixed rows, no benchmark run: the
// chart is well-formed SVG with one labelled line per row and its verdict in words,
// and the markdown table carries every ratio, goal and verdict.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sax from 'sax';
import { met, renderMarkdown, renderSvg, type Report, type SummaryRow } from '../../bench/report.ts';

const rows: SummaryRow[] = [
  { work: 'full createrepo, 2118 small packages, wall', txrepo: '0.51 s', reference: '0.29 s (createrepo_c)', ratio: 1.74, goal: { op: '<=', value: 1 } },
  { work: 'serve <small> & "quoted"', txrepo: '100 MiB/s', reference: '200 MiB/s (nginx)', ratio: 0.5, goal: { op: '>=', value: 0.7 } },
  { work: 'deploy 10 into 20000', txrepo: '0.35 s', reference: '4.7 s (createrepo_c --update)', ratio: 0.073, goal: { op: '<=', value: 0.1 } },
  { work: 'createrepo of an empty dir', txrepo: '0.14 s', reference: '0.02 s (createrepo_c)', ratio: 5.8 },
];

/** Parses `xml` strictly; returns the elements by name and the text of every <text>. */
function parse(xml: string): { elements: Map<string, number>; texts: string[] } {
  const parser = sax.parser(true);
  const elements = new Map<string, number>();
  const texts: string[] = [];
  let inText = false;
  parser.onerror = (e) => {
    throw e;
  };
  parser.onopentag = (t) => {
    elements.set(t.name, (elements.get(t.name) ?? 0) + 1);
    if (t.name === 'text') (inText = true), texts.push('');
  };
  parser.onclosetag = (name) => {
    if (name === 'text') inText = false;
  };
  parser.ontext = (s) => {
    if (inText) texts[texts.length - 1] += s;
  };
  parser.write(xml).close();
  return { elements, texts };
}

describe('bench report', () => {
  test('met: at most / at least the goal, undefined without one', () => {
    assert.deepEqual(rows.map(met), [false, false, true, undefined]);
    assert.equal(met({ ...rows[0], ratio: 1 }), true);
    assert.equal(met({ ...rows[1], ratio: 0.7 }), true);
  });

  test('a ratio that rounds onto its goal is printed with the decimal that shows the verdict', () => {
    const near = { ...rows[0], ratio: 1.0024 };
    assert.ok(parse(renderSvg([near])).texts.includes('1.002 (goal ≤ 1: MISSED)'));
    assert.match(renderMarkdown({ date: '', machine: [], notes: [], rows: [near, { ...rows[0], ratio: 1.1 }], details: '' }), /\| 1\.002 \| ≤ 1 \| MISSED \|\n.*\| 1\.10 \| ≤ 1 \| MISSED \|/);
  });

  test('the chart is well-formed SVG: a label, a bar and the verdict in words for every row, a goal stroke for each goal', () => {
    const svg = renderSvg(rows);
    const { elements, texts } = parse(svg);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(elements.get('g'), rows.length);
    for (const r of rows) assert.ok(texts.includes(r.work), `no label for ${r.work}`);
    assert.ok(texts.includes('1.74 (goal ≤ 1: MISSED)'), texts.join(' / '));
    assert.ok(texts.includes('0.50 (goal ≥ 0.7: MISSED)'));
    assert.ok(texts.includes('0.073 (goal ≤ 0.1: met)'));
    assert.ok(texts.includes('5.80'));
    // one bar per row (and the background), one goal stroke per goal besides the grid lines
    assert.equal(elements.get('rect'), rows.length + 1);
    assert.equal((svg.match(/stroke="#000000"/g) ?? []).length, 3);
  });

  test('the longest label fits left of the plot (a label is right-aligned at the plot: a long one ran off the left edge)', () => {
    const long = 'serve: downloads of 5000 small packages (8 parallel), throughput, and a little more';
    const svg = renderSvg([...rows, { work: long, txrepo: '', reference: '', ratio: 0.6 }]);
    const tag = svg.split('\n').find((l) => l.endsWith(`>${long}</text>`))!;
    const x = Number(/<text x="([\d.]+)"/.exec(tag)![1]);
    // Sans-serif at 12 px averages under 7 px a character.
    assert.ok(x >= long.length * 6.5, `the label ends at x=${x}, its ${long.length} characters need about ${long.length * 6.5} px`);
  });

  test('bars on a log scale: a ratio of 1/x is as long as x, and both start at parity', () => {
    const svg = renderSvg([{ work: 'a', txrepo: '', reference: '', ratio: 4 }, { work: 'b', txrepo: '', reference: '', ratio: 0.25 }]);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(bars.length, 2);
    assert.ok(Math.abs(bars[0][1] - bars[1][1]) < 0.2, `bar lengths ${bars[0][1]} and ${bars[1][1]}`);
    assert.ok(Math.abs(bars[0][0] - (bars[1][0] + bars[1][1])) < 0.2, 'the 4x bar starts where the 1/4 bar ends (at 1.0)');
  });

  test('the markdown has the table with every ratio, goal and verdict, the machine and the run details', () => {
    const report: Report = { date: '2026-12-06T23:00:00Z', machine: ['cores: 2'], notes: ['A snapshot from a shared machine.'], rows, details: 'section text' };
    const md = renderMarkdown(report);
    const lines = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| work'));
    assert.equal(lines.length, rows.length);
    assert.equal(lines[0], '| full createrepo, 2118 small packages, wall | 0.51 s | 0.29 s (createrepo_c) | 1.74 | ≤ 1 | MISSED |');
    assert.match(lines[2], /\| 0\.073 \| ≤ 0\.1 \| met \|$/);
    assert.match(lines[3], /\| 5\.80 \|  \|  \|$/);
    assert.match(md, /1 of 3 goals met/);
    assert.match(md, /!\[ratios against their goals\]\(benchmarks\.svg\)/);
    assert.match(md, /- cores: 2/);
    assert.match(md, /```\nsection text\n```/);
    assert.match(md, /^## Running it$/m, 'the link to #running-it has its section');
    assert.match(md, /^## Where the time goes$/m);
    assert.doesNotMatch(md, /From this run:/);
    assert.match(renderMarkdown({ ...report, profile: 'top functions' }), /From this run:\n\n```\ntop functions\n```/);
  });
});
