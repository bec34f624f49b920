// The OpenAPI 3.1 document of /api/v1, made from the route table: served at
// GET /api/v1/openapi.json and kept in docs/openapi.json (scripts/openapi.ts writes it;
// test/server/openapi.test.ts checks that both agree with the server's routes).

import { FAILURE_KINDS, httpStatusOf } from '../common/index.ts';
import { API_PREFIX, pathParameters, ROUTES, type Route } from './routes.ts';
import { SHAPES, shape, type JsonSchema } from './shapes.ts';

const PROGRESS_MEDIA_TYPE = 'application/x-ndjson';

/** The statuses a route may fail with: every one the kinds give, and the ones of its input. */
function failures(route: Route): Record<string, unknown> {
  const statuses = new Set<number>([400, 404, 500, 503]);
  if (route.permission === 'write') statuses.add(401).add(403).add(409).add(507);
  if (route.body) statuses.add(413);
  if (route.upload) statuses.add(411).add(413);
  if (route.progress) statuses.add(502);
  return Object.fromEntries([...statuses].sort().map((s) => [String(s), { $ref: '#/components/responses/Failure' }]));
}

function operation(id: string, route: Route, head = false): Record<string, unknown> {
  const parameters = [
    ...pathParameters(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...Object.entries((route.query?.properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({
      name,
      in: 'query',
      required: ((route.query?.required ?? []) as string[]).includes(name),
      schema,
    })),
  ];
  const content: Record<string, unknown> = { 'application/json': { schema: route.answer.schema } };
  if (route.progress) {
    content[PROGRESS_MEDIA_TYPE] = {
      schema: { type: 'string', description: 'one JSON object a line: {"progress": {stage, unit, done, total}} reports, then {"status", "result"} or {"status", "error"} (docs/http-api.md)' },
    };
  }
  const op: Record<string, unknown> = {
    operationId: head ? `${id}Head` : id,
    summary: head ? `${route.summary} (headers only)` : route.summary,
    'x-permission': route.permission,
  };
  if (parameters.length) op.parameters = parameters;
  if (route.body) op.requestBody = { required: false, content: { 'application/json': { schema: route.body } } };
  if (route.upload) op.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } } } };
  op.responses = { [String(route.answer.status)]: { description: head ? 'the headers of the answer to GET' : 'done', ...(head ? {} : { content }) }, ...failures(route) };
  if (route.permission === 'write') op.security = [{ token: [] }];
  return op;
}

/** The document, from the route table. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, route] of Object.entries(ROUTES) as [string, Route][]) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const item = (paths[path] ??= {});
    item[route.method.toLowerCase()] = operation(id, route);
    // Every GET answers HEAD too: the same status and headers, no body.
    if (route.method === 'GET') item.head = operation(id, route, true);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'txrepo API',
      version,
      description: `Every txrepo operation as JSON (docs/http-api.md). Reads are anonymous; changes need a token (txrepo token create NAME). Errors are {"error": {"type", "message"}}; the status follows the kind: ${FAILURE_KINDS.map((k) => `${k} ${httpStatusOf(k)}`).join(', ')}.`,
    },
    servers: [{ url: API_PREFIX }],
    paths,
    components: {
      schemas: SHAPES,
      responses: { Failure: { description: 'a failure: its type and message (docs/cli.md, "Error types")', content: { 'application/json': { schema: shape('Error') } } } },
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'a token of txrepo token create' } },
    },
  };
}
