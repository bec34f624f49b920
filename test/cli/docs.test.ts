// docs/cli.md and the README's Commands section keep up with the commands: every
// command has its section, every option of a command's --help is documented, and the
// error types documented are exactly the kinds txrepo reports.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { FAILURE_TYPES } from '../../src/common/index.ts';
import { REPO_ROOT } from '../helpers/run.ts';

const read = (path: string) => readFile(join(REPO_ROOT, path), 'utf8');

describe('docs/cli.md', () => {
  test("every command has a section, which names every option of its --help (the global ones have theirs)", async () => {
    const doc = await read('docs/cli.md');
    const sections = doc.split(/^(?=### )/m).filter((s) => s.startsWith('### '));
    const globals = doc.slice(doc.indexOf('## Global options'), doc.indexOf('## Exit statuses'));
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const section = sections.find((s) => s.slice(4, s.indexOf('\n')).split(', ').includes(name));
      assert.ok(section, `docs/cli.md has no section for ${name}`);
      const { help } = await entry.load();
      for (const [option] of help.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)) {
        if (option === '--help' || globals.includes(`| \`${option}`)) continue;
        assert.match(section, new RegExp(`(?<![\\w-])${option}(?![\\w-])`), `${name}: ${option} is not in its section of docs/cli.md`);
      }
    }
  });

  test('the error types are the kinds txrepo reports, no more, no fewer', async () => {
    const doc = await read('docs/cli.md');
    const table = doc.slice(doc.indexOf('### Error types'), doc.indexOf('## Names'));
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented, [...FAILURE_TYPES]);
  });
});

describe('README', () => {
  test("the Commands section names every command and points at docs/cli.md", async () => {
    const readme = await read('README.md');
    const section = readme.slice(readme.indexOf('## Commands'), readme.indexOf('\n## ', readme.indexOf('## Commands') + 1));
    for (const name of Object.keys(COMMANDS)) assert.match(section, new RegExp(`\\b${name}\\b`), name);
    assert.match(section, /docs\/cli\.md/);
  });
});
