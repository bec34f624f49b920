// The OpenAPI 3.1 document of /api/v1, made from the route table: served at
// GET /api/v1/openapi.json and kept in docs/openapi.json (scripts/openapi.ts writes it;
// test/server/openapi.test.ts checks that both agree with the server's routes).

import { FAILURE_KINDS, httpStatusOf } from '../common/index.ts';
import { API_PREFIX, pathParameters, ROUTES, type ReposOf, type Route } from './routes.ts';
import { SHAPES, shape, type JsonSchema } from './shapes.ts';

const PROGRESS_MEDIA_TYPE = 'application/x-ndjson';

/** Whether a route changes the store. */
const changes = (route: Route) => route.method !== 'GET';

/** The statuses a route may fail with: every one the kinds give, and the ones of its input and scope. */
function failures(route: Route): Record<string, unknown> {
  const statuses = new Set<number>([400, 404, 500, 503]);
  if (route.scope !== 'none') statuses.add(401);
  if (route.scope === 'deploy' || route.scope === 'tag' || route.scope === 'admin' || route.heavier) statuses.add(403);
  if (changes(route)) statuses.add(409).add(507);
  if (route.body) statuses.add(413);
  if (route.upload) statuses.add(411).add(413);
  if (route.progress) statuses.add(502);
  return Object.fromEntries([...statuses].sort().map((s) => [String(s), { $ref: '#/components/responses/Failure' }]));
}

/** Where the repositories a deploy or tag request touches are, in the document's words. */
const REPOS_OF: Record<ReposOf, string> = {
  path: '{repo}',
  refs: 'REPO of each REPO[@REF] of refs',
  set: 'REPO of each repository the set pins',
  any: 'REPO for any repository',
};

/** The scope a route needs, as docs/security.md words it: read, deploy:{repo}, admin, ... */
function scopeOf(route: Route): string {
  const scope = route.repos ? `${route.scope}:${REPOS_OF[route.repos]}` : route.scope;
  return route.heavier ? `${scope}; ${route.heavier.scope} with ${route.heavier.query}=${route.heavier.value}` : scope;
}

/**
 * The security requirement: none, a token optional (public: needed on a --private
 * server), or a token with the route's scope (named as a role of the bearer scheme).
 */
function security(route: Route): Record<string, string[]>[] | undefined {
  if (route.scope === 'none') return undefined;
  if (route.scope === 'public') return [{}, { token: [] }];
  return [{ token: route.scope === 'read' && !route.heavier ? [] : [scopeOf(route)] }];
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
    'x-scope': scopeOf(route),
  };
  if (parameters.length) op.parameters = parameters;
  if (route.body) op.requestBody = { required: false, content: { 'application/json': { schema: route.body } } };
  if (route.upload) op.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } } } };
  op.responses = { [String(route.answer.status)]: { description: head ? 'the headers of the answer to GET' : 'done', ...(head ? {} : { content }) }, ...failures(route) };
  const requirement = security(route);
  if (requirement) op.security = requirement;
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
      description: `Every txrepo operation as JSON (docs/http-api.md). Each operation's x-scope says what it needs (docs/security.md): none, public (no token, unless the server runs with --private: then any valid token), read (any valid token), deploy:REPO, tag:REPO or admin (txrepo token create NAME --scope SCOPE; admin implies every scope). A token goes in Authorization: Bearer TOKEN, or as the password of HTTP Basic; an unknown, expired or revoked one gets 401, one without the scope 403. Errors are {"error": {"type", "message"}}; the status follows the kind: ${FAILURE_KINDS.map((k) => `${k} ${httpStatusOf(k)}`).join(', ')}.`,
    },
    servers: [{ url: API_PREFIX }],
    paths,
    components: {
      schemas: SHAPES,
      responses: { Failure: { description: 'a failure: its type and message (docs/cli.md, "Error types")', content: { 'application/json': { schema: shape('Error') } } } },
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'a token of txrepo token create (HTTP Basic with the token as password works too); the requirement names the scope it needs' } },
    },
  };
}
