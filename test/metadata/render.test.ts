import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectChangelogs } from '../../src/metadata/index.ts';
import { escapeAttr, escapeText } from '../../src/metadata/xml.ts';
import { compareRecords, parseDistro, parseRepomd, renderRepomd, type RepomdRecord } from '../../src/metadata/index.ts';

test('changelogs: the newest N, oldest first, equal dates made strictly increasing', () => {
  const e = (date: number, text: string) => ({ author: 'a', date, text });
  // Header order is newest first.
  const header = [e(300, 'c'), e(200, 'b2'), e(200, 'b1'), e(200, 'b0'), e(100, 'a')];
  assert.deepEqual(selectChangelogs(header, -1).map((c) => [c.date, c.text]), [[100, 'a'], [200, 'b0'], [201, 'b1'], [202, 'b2'], [300, 'c']]);
  assert.deepEqual(selectChangelogs(header, 2).map((c) => c.text), ['b2', 'c']);
  assert.deepEqual(selectChangelogs(header, 0), []);
  // The input is not modified.
  assert.equal(header[1].date, 200);
});

test('escaping matches libxml2', () => {
  assert.equal(escapeText('a<b>&c\r"\'\t\n'), 'a&lt;b&gt;&amp;c&#13;"\'\t\n');
  assert.equal(escapeAttr('a<b>&c"\t\n\r\''), 'a&lt;b&gt;&amp;c&quot;&#9;&#10;&#13;\'');
  assert.equal(escapeAttr('Zoë 🎄'), 'Zo&#xEB; &#x1F384;');
  assert.equal(escapeText('Zoë 🎄'), 'Zoë 🎄');
});

test('repomd renders in createrepo_c order and parses back', () => {
  const rec = (type: string): RepomdRecord => ({ type, href: `repodata/x-${type}.xml.gz`, checksum: { type: 'sha256', value: 'ab'.repeat(32) }, timestamp: 5, size: 10, openSize: 20, openChecksum: { type: 'sha256', value: 'cd'.repeat(32) } });
  const md = { revision: '7', content: ['c'], repo: ['r'], distro: [parseDistro('cpe:/o:x,X 1')!, parseDistro('Plain')!], records: ['updateinfo', 'other', 'group', 'primary', 'filelists'].map(rec) };
  const xml = renderRepomd(md);
  assert.deepEqual([...xml.matchAll(/<data type="([^"]+)"/g)].map((m) => m[1]), ['primary', 'filelists', 'other', 'group', 'updateinfo']);
  const back = parseRepomd(xml, 'test');
  assert.deepEqual(back.records.sort(compareRecords), md.records.sort(compareRecords));
  assert.deepEqual(back.distro, [{ cpeid: 'cpe:/o:x', name: 'X 1' }, { name: 'Plain' }]);
  assert.equal(parseDistro(''), undefined);
});

test('hostile repomd.xml is refused with a clear error', () => {
  const bad: [string, RegExp][] = [
    ['<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><repomd>&b;</repomd>', /DOCTYPE is not allowed/],
    ['<repomd><data type="primary"><location href="x"/></data></repomd>', /no valid checksum/],
    ['<repomd><data type="primary"><checksum type="sha256">zz</checksum><location href="x"/></data></repomd>', /no valid checksum/],
    ['<repomd><data type="primary"><checksum type="sha256">ab</checksum><location href="x"/><size>-1</size></data></repomd>', /not a number/],
    ['<metadata/>', /root element is <metadata>/],
    ['<repomd><revision>1</revision>', /malformed XML|Unclosed/],
    ['<repomd>&unknown;</repomd>', /malformed XML/],
    ['not xml at all', /malformed XML|no <repomd>/],
  ];
  for (const [xml, pattern] of bad) assert.throws(() => parseRepomd(xml, 'upstream/repomd.xml'), (e: Error) => e.message.startsWith('upstream/repomd.xml: ') && pattern.test(e.message), xml);
});
