// docs/cli.md and the README's Commands section keep up with the commands: every
// command has its section, every option of a command's --help is documented, and the
// error types documented are exactly the kinds txrepo reports.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { API_PREFIX, ROUTES } from '../../src/api/index.ts';
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

describe('docs/http-api.md', () => {
  test("the route table names every route of /api/v1 with the scope src/api/routes.ts gives it", async () => {
    const doc = await read('docs/http-api.md');
    const table = doc.slice(doc.indexOf('| method and path | scope |'), doc.indexOf('\n\n', doc.indexOf('| method and path | scope |')));
    const documented = new Map<string, string>();
    for (const row of table.split('\n').slice(2)) {
      const [, first, scope] = row.split('|').map((c) => c.trim());
      const m = /`(GET|POST|PUT|PATCH|DELETE)`?.*?(\/api\/v1\S*?)`/.exec(first);
      assert.ok(m, `a row of the table without a method and path: ${row}`);
      documented.set(`${m[1]} ${m[2].replace(/<(\w+)>/g, ':$1')}`, scope);
    }
    for (const [id, route] of Object.entries(ROUTES)) {
      const scope = documented.get(`${route.method} ${API_PREFIX}${route.path}`);
      assert.ok(scope !== undefined, `${id} (${route.method} ${route.path}) is not in docs/http-api.md's route table`);
      assert.equal(scope.split(/[:;( ]/)[0], route.scope, `${id}: docs/http-api.md says ${scope}`);
      if ('heavier' in route) assert.match(scope, new RegExp(`${route.heavier.scope} with \`${route.heavier.query}=${route.heavier.value}\``), id);
    }
    assert.equal(documented.size, Object.keys(ROUTES).length, 'the table has rows for routes the API does not have');
  });
});
