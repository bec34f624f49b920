// The one table of /api/v1: every route's method, path (with named parameters), what it
// takes (query, body) and answers, as JSON Schema, and the scope it needs. The
// server dispatches from it (src/server/api.ts), the remote client calls from it
// (src/remote/client.ts) and the OpenAPI document is made from it (openapi.ts);
// docs/http-api.md describes it for people.

import { boolean, extended, integer, listOf, object, orNull, sha256, shape, string, time, type JsonSchema } from './shapes.ts';

/**
 * What a request to a route needs (docs/security.md; a token's scopes: src/store/token-scopes.ts):
 *
 *   none    nothing, ever: health checks, the API document
 *   public  nothing, unless the server runs with --private: then any valid token
 *   read    any valid token: reads that reveal operations (the audit log, tag history,
 *           fsck, set manifests) or cost the server much
 *   deploy  deploy:GLOB matching every repository the request touches
 *   tag     tag:GLOB matching every repository the request touches
 *   admin   admin
 *
 * A token a request presents is checked on every route but 'none' ones (401 if it is
 * unknown, expired or revoked); admin implies every scope.
 */
export type RouteScope = 'none' | 'public' | 'read' | 'deploy' | 'tag' | 'admin';

/**
 * Where a deploy or tag route's request names the repositories it touches: the :repo
 * path parameter, the REPO[@REF] entries of the body's `refs`, the repositories the
 * set :set pins, or none (an upload: a deploy scope for any repository will do).
 */
export type ReposOf = 'path' | 'refs' | 'set' | 'any';

/** A route's scope, and for deploy and tag, where the repositories are. */
export type Access = { scope: 'none' | 'public' | 'read' | 'admin'; repos?: never } | { scope: 'deploy' | 'tag'; repos: ReposOf };

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Route = Access & {
  method: Method;
  /** Under /api/v1, parameters as `:name`. */
  path: string;
  summary: string;
  /** A query parameter's value that makes the request cost much more, and the scope it then needs (fsck's verifyBlobs=1: admin). */
  heavier?: { query: string; value: string; scope: 'admin' };
  /** The query parameters, as an object schema of strings. */
  query?: JsonSchema;
  /** The JSON body. */
  body?: JsonSchema;
  /** The body is a file, streamed (Content-Length required), not JSON. */
  upload?: true;
  /** The answer: its status and shape. */
  answer: { status: number; schema: JsonSchema };
  /** The answer may come as NDJSON progress lines when asked (Accept: application/x-ndjson). */
  progress?: true;
};

/** An optional string field of a body (null means absent). */
const text = (description?: string) => orNull(string(description));
const flag = orNull(boolean);
const number = (description: string) => orNull({ type: 'number', description });
const ok = (schema: JsonSchema, status = 200) => ({ status, schema });
/** Query parameters; others are ignored, as they always were. */
const queryOf = object;

const REPO_NAME = string('[A-Za-z0-9][A-Za-z0-9._-]*');
const PATTERN = string('a package name, name.arch, NEVRA, N-V-R[.A], file name, or a shell glob of one');
const TTL = string("a duration (3d, 12h, 1d12h) or 'forever'");
const REQUIRE_SIGNED = listOf(string('OpenPGP public keys, armoured: deploy and sync take only packages signed by one of them'));
/** A mirror filter's fields (docs/sync.md, "Mirror filters"); in a change, null clears one. */
const filterFields = (change: boolean): Record<string, JsonSchema> => {
  const field = (schema: JsonSchema) => (change ? orNull(schema) : schema);
  return {
    'include?': field(listOf(string('a glob over NAME, NAME.ARCH, NAME-VERSION-RELEASE.ARCH, ...: sync takes only packages one matches'))),
    'exclude?': field(listOf(string('a glob: sync takes no package one matches'))),
    'arches?': field(listOf(string('an architecture sync takes (noarch always; src only if listed)'))),
    'newest?': field(integer('sync takes the newest N builds of each name.arch')),
    'withDeps?': field(boolean),
  };
};

export const ROUTES = {
  health: { method: 'GET', path: '/health', summary: 'whether this server reaches its catalog and blobs (503 if not): for load balancers', scope: 'none', answer: ok(object({ catalog: string(), blobs: string() })) },
  openapi: { method: 'GET', path: '/openapi.json', summary: 'this document', scope: 'none', answer: ok({ type: 'object' }) },

  listRepos: { method: 'GET', path: '/repos', summary: 'repositories, with their latest', scope: 'public', answer: ok(listOf(extended('Repository', { 'latest?': string() }))) },
  createRepo: {
    method: 'POST',
    path: '/repos',
    summary: 'create a repository',
    scope: 'admin',
    body: object({
      name: REPO_NAME,
      'upstream?': text('an http(s) URL'),
      'keep?': number('builds kept per name.arch'),
      'retainLast?': number('snapshots gc keeps'),
      'retainDays?': number('days gc keeps snapshots'),
      'requireSigned?': orNull(REQUIRE_SIGNED),
      'filter?': object(filterFields(false)),
    }),
    answer: ok(shape('Repository'), 201),
  },
  updateRepo: {
    method: 'PATCH',
    path: '/repos/:repo',
    summary: "change a repository's settings: a field given replaces it, null clears it",
    scope: 'admin',
    body: object({
      'upstream?': text('an http(s) URL'),
      'keep?': number('builds kept per name.arch'),
      'retainLast?': number('snapshots gc keeps'),
      'retainDays?': number('days gc keeps snapshots'),
      'requireSigned?': orNull(REQUIRE_SIGNED),
      'filter?': orNull(object(filterFields(true))),
    }),
    answer: ok(shape('Repository')),
  },
  showRepo: { method: 'GET', path: '/repos/:repo', summary: 'a repository, its snapshot count and tags', scope: 'public', answer: ok(extended('Repository', { snapshots: integer(), tags: listOf(shape('Tag')) })) },
  deleteRepo: { method: 'DELETE', path: '/repos/:repo', summary: 'delete a repository (refused while a live set pins it)', scope: 'admin', answer: ok(object({ deleted: string() })) },
  deploy: {
    method: 'POST',
    path: '/repos/:repo/deploy',
    summary: 'deploy uploaded packages and yum repos at http(s) URLs into a new snapshot',
    scope: 'deploy',
    repos: 'path',
    body: object({
      'uploads?': orNull(listOf(object({ sha256: string(), fileName: string('NAME.rpm') }))),
      'sources?': orNull(listOf(string('an http(s) URL of a yum repo'))),
      'message?': text(),
    }),
    answer: ok(extended('CommitOutcome', { added: listOf(string()), removed: listOf(string()), 'notKept?': listOf(string('a package given that the keep policy did not take')) }), 201),
    progress: true,
  },
  sync: {
    method: 'POST',
    path: '/repos/:repo/sync',
    summary: 'sync a repository from its upstream',
    scope: 'deploy',
    repos: 'path',
    body: object({ 'from?': text('an http(s) URL'), 'mirror?': flag, 'parallel?': number('downloads at a time, 1 to 64'), 'message?': text() }),
    answer: ok(
      extended('CommitOutcome', {
        downloaded: integer(),
        'filtered?': object({
          leftOut: integer("the upstream's packages the repo's filter left out (not downloaded)"),
          advisoriesLeftOut: listOf(string('an advisory whose packages the filter all left out')),
          requiresLeftOut: listOf(object({ package: string('NAME-[EPOCH:]VERSION-RELEASE.ARCH of a kept package'), requires: listOf(string('a requirement only left-out packages provide')) })),
          'dependencies?': integer('with the filter\'s withDeps: the packages taken because those it takes need them'),
        }),
      }),
    ),
    progress: true,
  },
  remove: {
    method: 'POST',
    path: '/repos/:repo/remove',
    summary: 'a new snapshot of latest without the packages the patterns name (dryRun: only say which)',
    scope: 'deploy',
    repos: 'path',
    body: object({ patterns: { ...listOf(PATTERN), minItems: 1 }, 'message?': text(), 'dryRun?': flag }),
    answer: ok(extended('CommitOutcome', { removed: listOf(string()), dryRun: boolean })),
  },
  copy: {
    method: 'POST',
    path: '/repos/:repo/copy',
    summary: "a new snapshot of latest with the packages the patterns name in another snapshot, and with withDeps what they need from it (dryRun: only say which)",
    scope: 'deploy',
    repos: 'path',
    body: object({ from: string('SRC[@REF]'), patterns: { ...listOf(PATTERN), minItems: 1 }, 'withDeps?': flag, 'message?': text(), 'dryRun?': flag }),
    answer: ok(
      extended('CommitOutcome', {
        added: listOf(string()),
        removed: listOf(string()),
        notKept: listOf(string('a package copied that the keep policy did not take')),
        from: object({ repo: string(), snapshot: string() }),
        dependencies: listOf(string('the href of a package brought as a dependency')),
        unresolved: listOf(object({ package: string('NEVRA'), requires: string(), 'why?': string() })),
        dryRun: boolean,
      }),
    ),
  },
  snapshots: { method: 'GET', path: '/repos/:repo/snapshots', summary: 'snapshots, oldest first', scope: 'public', answer: ok(listOf(shape('Snapshot'))) },
  showSnapshot: {
    method: 'GET',
    path: '/repos/:repo/snapshots/:ref',
    summary: 'one snapshot (REF: id, tag, TAG@TIME), with its files when asked',
    scope: 'public',
    query: queryOf({ 'files?': string('1: with its files') }),
    answer: ok(
      extended('Snapshot', {
        path: string(),
        'files?': listOf(object({ href: string(), kind: { type: 'string', enum: ['package', 'metadata'] }, size: integer(), sha256: string(), 'signer?': string('a package: the key id of its OpenPGP signature; absent: unsigned') })),
      }),
    ),
  },
  tags: { method: 'GET', path: '/repos/:repo/tags', summary: 'tags', scope: 'public', answer: ok(listOf(shape('Tag'))) },
  tag: {
    method: 'PUT',
    path: '/repos/:repo/tags/:tag',
    summary: 'move a tag',
    scope: 'tag',
    repos: 'path',
    body: object({ ref: string('REF'), 'expect?': text("REF, or 'none'"), 'reason?': text() }),
    answer: ok(shape('Move')),
  },
  history: { method: 'GET', path: '/repos/:repo/history', summary: 'tag moves, oldest first', scope: 'read', query: queryOf({ 'tag?': string() }), answer: ok(listOf(shape('Move'))) },
  diff: {
    method: 'GET',
    path: '/diff',
    summary: 'packages added, removed, upgraded, downgraded between two snapshots',
    scope: 'public',
    query: queryOf({ a: string('REPO@REF'), b: string('REPO@REF') }),
    answer: ok(
      object({
        from: string(),
        to: string(),
        added: listOf(shape('PackageChange')),
        removed: listOf(shape('PackageChange')),
        upgraded: listOf(shape('PackageChange')),
        downgraded: listOf(shape('PackageChange')),
        metadata: listOf(object({ type: string("its type in repomd.xml: updateinfo, group, modules, ..."), 'from?': string('its href in the first snapshot'), 'to?': string('its href in the second') })),
      }),
    ),
  },

  listSets: { method: 'GET', path: '/sets', summary: 'sets', scope: 'public', answer: ok(listOf(shape('Set'))) },
  createSet: {
    method: 'POST',
    path: '/sets',
    summary: 'pin snapshots in a set',
    scope: 'tag',
    repos: 'refs',
    body: object({ refs: listOf(string('REPO[@REF]')), 'label?': text(), 'ttl?': orNull(TTL) }),
    answer: ok(shape('Set'), 201),
  },
  showSet: {
    method: 'GET',
    path: '/sets/:set',
    summary: 'a set and its manifest: every file of every pinned snapshot',
    scope: 'read',
    answer: ok(
      extended('Set', {
        repos: listOf(
          object({
            repo: string(),
            snapshot: string(),
            gone: boolean,
            'path?': string(),
            files: listOf(object({ href: string(), sha256: string(), size: integer(), path: string() })),
            'packageKeys?': listOf(string('fingerprint of a key the repository requires its packages to be signed by')),
          }),
        ),
      }),
    ),
  },
  extendSet: { method: 'POST', path: '/sets/:set/extend', summary: 'the lease ends TTL from now', scope: 'tag', repos: 'set', body: object({ ttl: TTL }), answer: ok(shape('Set')) },
  keepSet: { method: 'POST', path: '/sets/:set/keep', summary: 'the lease never ends', scope: 'tag', repos: 'set', body: object({}), answer: ok(shape('Set')) },
  releaseSet: { method: 'POST', path: '/sets/:set/release', summary: 'end the lease now, for good', scope: 'tag', repos: 'set', body: object({}), answer: ok(shape('Set')) },
  promote: {
    method: 'POST',
    path: '/sets/:set/promote',
    summary: 'move TAG in every repository of the set, in one transaction',
    scope: 'tag',
    repos: 'set',
    body: object({ tag: string(), 'force?': flag, 'reason?': text() }),
    answer: ok(listOf(shape('Move'))),
  },

  hasBlob: { method: 'GET', path: '/blobs/:sha256', summary: 'whether the server has a blob (HEAD: skip the upload)', scope: 'public', answer: ok(shape('Blob')) },
  upload: { method: 'PUT', path: '/blobs/:sha256', summary: 'upload a package as the blob of its sha256 (Content-Length required)', scope: 'deploy', repos: 'any', upload: true, answer: ok(shape('Blob'), 201) },

  gc: { method: 'POST', path: '/gc', summary: 'garbage collection', scope: 'admin', body: object({ 'dryRun?': flag, 'grace?': text('a duration') }), answer: ok(object({ dryRun: boolean, snapshots: listOf(object({ repo: string(), id: string(), createdAt: time })), blobs: integer(), bytes: integer(), staging: object({ files: integer(), bytes: integer() }), protectedBy: object({ tags: integer(), tagGrace: integer(), sets: integer() }) })) },
  fsck: { method: 'GET', path: '/fsck', summary: "the store's check", scope: 'read', heavier: { query: 'verifyBlobs', value: '1', scope: 'admin' }, query: queryOf({ 'verifyBlobs?': string('1: re-hash every blob') }), answer: ok(
      object({
        snapshots: integer(),
        files: integer(),
        blobsVerified: integer(),
        problems: listOf(string()),
        damaged: listOf(
          object({
            digest: sha256,
            damage: { type: 'string', enum: ['missing', 'wrong-size', 'corrupted'] },
            'size?': integer('the size the catalog lists'),
            'storedSize?': integer('the size of what is stored'),
            users: listOf(object({ repo: string(), snapshot: string(), tags: listOf(string()), hrefs: listOf(string('a file of the snapshot that is this blob')) })),
          }),
        ),
      }),
    ) },
  log: {
    method: 'GET',
    path: '/log',
    summary: 'the audit log, oldest first',
    scope: 'read',
    query: queryOf({ 'repo?': string(), 'limit?': { type: 'string', pattern: '^[0-9]{1,6}$', description: 'a whole number' } }),
    answer: ok(listOf(object({ seq: integer(), at: time, actor: string(), command: string(), 'repo?': string(), args: {}, result: string() }))),
  },
} as const satisfies Record<string, Route>;

export type RouteId = keyof typeof ROUTES;

export const API_PREFIX = '/api/v1';

/** The names of a path's parameters, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}

/** A route's path with its parameters filled in (encoded), under /api/v1, with the query. */
export function routeUrl(route: Route, params: Record<string, string> = {}, query: Record<string, string | undefined> = {}): string {
  const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    if (params[name] === undefined) throw new Error(`${route.method} ${route.path}: no value for :${name}`);
    return encodeURIComponent(params[name]);
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v);
  return `${API_PREFIX}${path}${q.size ? `?${q}` : ''}`;
}
