// /api/v1 (docs/http-api.md), on Fastify: the routes come from the one table
// (src/api/routes.ts), each with its handler (handlers.ts); Fastify matches them,
// checks query and body against the table's schemas, and runs the hooks that every
// route shares: the token and scope the table says a route needs (access.ts: the token
// before the body is read, the scope before the body is checked), the 1 MiB limit of
// JSON bodies, no caching, errors as {"error": {"type", "message"}} with the status of
// their kind.

import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { API_PREFIX, ROUTES, type Route, type RouteId } from '../api/index.ts';
import { kindOfStatus } from '../common/index.ts';
import { LocalTxrepo } from '../core/index.ts';
import type { Store, TokenInfo } from '../store/index.ts';
import { HANDLERS, type Call } from './handlers.ts';
import { failure, HttpError, MAX_PATH, readJson, type Explain } from './http.ts';
import { schemaError } from './schema-errors.ts';
import type { FetchPolicy } from '../sync/index.ts';
import { authenticate, authorize, needsToken, scopeNeeded, whyToken } from './access.ts';
import type { ServerMetrics } from './metrics.ts';

export interface ApiContext {
  store: Store;
  /** Largest package upload accepted. */
  maxUpload: number;
  /** The message of a failure, as the client is to read it. */
  explain?: Explain;
  /** Every read needs a token (txrepo serve --private), not only those the table says. */
  private?: boolean;
  /** Where the server may fetch from for a client (deploy sources, sync upstreams). */
  fetchPolicy: FetchPolicy;
  /** Counts and times the operations the routes run. */
  metrics?: ServerMetrics;
  /** Hears of every route the server registers (METHOD, URL): for the test that holds them to the OpenAPI document. */
  onRoute?: (method: string, url: string) => void;
}

/** Largest JSON request body. */
const JSON_LIMIT = 1 << 20;

/** The actor recorded for a request: the token's name, and who the client says it is. */
function actorOf(req: IncomingMessage, token: TokenInfo | undefined): string {
  const claimed = String(req.headers['x-txrepo-actor'] ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  const who = token ? `token:${token.name}` : 'anonymous';
  return claimed ? `${who} (${claimed})` : who;
}

interface RouteConfig {
  id: RouteId;
  route: Route;
}

const tokens = new WeakMap<FastifyRequest, TokenInfo>();

/** The table's route a request matched (none: no such route). */
function routeOf(request: FastifyRequest): RouteConfig | undefined {
  const config = request.routeOptions.config as Partial<RouteConfig>;
  return config.route ? (config as RouteConfig) : undefined;
}

/** A request body as the handlers read it: null fields are absent ones, as they always were. */
function present(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

/** Fastify's own refusals (a body it cannot take, a content type it refuses) in our kinds. */
function asFailure(e: FastifyError): Error {
  if (e.validation) return new HttpError('invalid_input', schemaError(e.validation, e.validationContext));
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && typeof e.statusCode === 'number') return new HttpError(kindOfStatus(e.statusCode), e.message);
  return e;
}

/** The API as a Fastify instance, ready to route requests (`app.routing(req, res)`). */
export async function createApi(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    exposeHeadRoutes: true,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH },
    // The table's schemas as written: no coercion ("42" is no number), no defaults, no stripping.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, verbose: true } },
  });

  // Every body is JSON of at most 1 MiB, whatever its declared type, except an
  // upload's, which its handler streams into the blob store.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    if (routeOf(request)?.route.upload) return done(null);
    readJson(request.raw, JSON_LIMIT).then((body) => done(null, body), done);
  });

  // Who may call a route, from the table (access.ts): the token first, before a body
  // is read (401); its scope once the body names the repositories (403), before the
  // body is checked, so that a request it may not make learns nothing more.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const route = routeOf(request)?.route;
    if (!route || route.scope === 'none') return;
    const scope = scopeNeeded(route, request.query as Record<string, unknown>);
    const required = needsToken(scope, ctx.private === true);
    const token = await authenticate(request.raw, ctx.store.catalog, { required, why: whyToken(scope, request.method), challenge: 'Bearer' });
    if (token) tokens.set(request, token);
  });
  app.addHook('preValidation', async (request) => {
    const route = routeOf(request)?.route;
    const token = tokens.get(request);
    if (route && token) await authorize(token, route, { params: request.params as Record<string, string>, query: request.query as Record<string, unknown>, body: request.body }, ctx.store.catalog);
    // A route that takes a body gets {} for none.
    if (route?.body && request.body === undefined) request.body = {};
  });

  const onRoute = ctx.onRoute;
  if (onRoute) app.addHook('onRoute', (r) => (Array.isArray(r.method) ? r.method : [r.method]).forEach((m) => onRoute(m, r.url)));

  app.setReplySerializer((value) => JSON.stringify(value, null, 2) + '\n');
  app.setNotFoundHandler((request) => {
    throw new HttpError('not_found', `no API route ${request.method} ${request.url.split('?')[0]}; see docs/http-api.md`);
  });
  app.setErrorHandler((e: FastifyError, request, reply) => {
    // The client went away mid-request (an upload cut off): nobody is left to answer,
    // and it is no failure of the server's. Logged as nginx does, 499.
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' && request.raw.destroyed) {
      reply.raw.statusCode = 499;
      reply.raw.destroy();
      return;
    }
    const { status, body, headers } = failure(request.raw, asFailure(e), ctx.explain);
    return reply.code(status).headers(headers).send(body);
  });

  const instrumented = (tx: LocalTxrepo) => ctx.metrics?.instrument(tx) ?? tx;
  for (const [id, route] of Object.entries(ROUTES) as [RouteId, Route][]) {
    const handler = HANDLERS[id];
    app.route({
      method: route.method,
      url: `${API_PREFIX}${route.path}`,
      config: { id, route } satisfies RouteConfig,
      schema: { ...(route.body && { body: route.body }), ...(route.query && { querystring: route.query }) },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const token = tokens.get(request);
        const call: Call = {
          params: request.params as Record<string, string>,
          query: request.query as Record<string, string | undefined>,
          body: present(request.body),
          tx: instrumented(new LocalTxrepo(ctx.store, actorOf(request.raw, token), { fetchPolicy: ctx.fetchPolicy })),
          store: ctx.store,
          maxUpload: ctx.maxUpload,
          request,
          reply,
          explain: ctx.explain,
        };
        const answer = await handler(call);
        if (reply.sent) return reply;
        return reply.code(answer.status ?? route.answer.status).send(answer.value);
      },
    });
  }
  await app.ready();
  return app;
}
