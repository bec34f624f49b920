// Writes docs/openapi.json, the OpenAPI 3.1 document of /api/v1, from the route table
// (src/api/routes.ts): run it after changing a route (`node scripts/openapi.ts`).
// test/server/openapi.test.ts fails while the file and the table disagree.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../src/api/index.ts';

const ROOT = join(import.meta.dirname, '..');
export const OPENAPI_FILE = join(ROOT, 'docs', 'openapi.json');

/** The document as docs/openapi.json holds it. */
export function openApiText(): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return JSON.stringify(openApiDocument(version), null, 2) + '\n';
}

if (import.meta.main) {
  writeFileSync(OPENAPI_FILE, openApiText());
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}
