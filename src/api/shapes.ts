// The JSON shapes of /api/v1, as JSON Schema (2020-12, the dialect of OpenAPI 3.1):
// the answers are the shapes docs/cli.md names (Repository, Snapshot, Tag, Move, Set,
// commit outcome ...), the same a CLI prints with --json. Shapes allow fields they do
// not list (a newer server may add some); request bodies are checked against theirs.

export type JsonSchema = Record<string, unknown>;

export const string = (description?: string): JsonSchema => (description ? { type: 'string', description } : { type: 'string' });
export const integer = (description?: string): JsonSchema => (description ? { type: 'integer', description } : { type: 'integer' });
export const boolean: JsonSchema = { type: 'boolean' };
export const time: JsonSchema = { type: 'string', format: 'date-time' };
export const sha256: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{64}$' };
export const listOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** An object: its fields, the required ones first (`?` marks the optional ones). */
export function object(fields: Record<string, JsonSchema>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, schema] of Object.entries(fields)) {
    const optional = name.endsWith('?');
    properties[optional ? name.slice(0, -1) : name] = schema;
    if (!optional) required.push(name);
  }
  return required.length ? { type: 'object', properties, required } : { type: 'object', properties };
}

/** A field of a request body that may also be null, which means the same as absent. */
export const orNull = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as string, 'null'] });

/** The named shapes, as components of the OpenAPI document; routes refer to them with `shape()`. */
export const SHAPES: Record<string, JsonSchema> = {
  Error: object({
    error: object({
      type: { type: 'string', description: "the kind of failure, one of docs/cli.md's error types (not_found, conflict, ...)" },
      message: string('for people; it may change'),
      'kind?': string('a finer kind, when it says more than the type (storage_full, gone, upload_missing, ...)'),
    }),
  }),
  Repository: object({
    name: string(),
    'upstream?': string('the yum repo sync reads'),
    'keep?': integer('builds kept per name.arch'),
    'retainLast?': integer(),
    'retainDays?': { type: 'number' },
    'requireSigned?': listOf(object({ fingerprint: string('of an OpenPGP key its packages may be signed by'), publicKey: string('the key, armoured') })),
    'filter?': object({ 'include?': listOf(string()), 'exclude?': listOf(string()), 'arches?': listOf(string()), 'newest?': integer(), 'withDeps?': boolean }),
    createdAt: time,
    createdBy: string(),
  }),
  Tag: object({ repo: string(), tag: string(), snapshot: string(), movedAt: time }),
  Move: object({ repo: string(), tag: string(), 'from?': string(), to: string(), at: time, actor: string(), reason: string(), 'set?': string() }),
  Snapshot: object({
    id: string(),
    repo: string(),
    'parent?': string(),
    createdAt: time,
    createdBy: string(),
    message: string(),
    packages: integer(),
    repomd: string('sha256 of its repodata/repomd.xml'),
    tags: listOf(string()),
  }),
  Set: object({
    id: string(),
    'label?': string(),
    createdAt: time,
    createdBy: string(),
    'expiresAt?': time,
    'releasedAt?': time,
    members: listOf(object({ repo: string(), snapshot: string() })),
    live: boolean,
    'ended?': object({ how: { type: 'string', enum: ['released', 'expired'] }, at: time }),
  }),
  CommitOutcome: object({ repo: string(), snapshot: string(), unchanged: boolean, path: string(), packages: integer() }),
  Blob: object({ sha256, size: integer() }),
  PackageChange: object({
    name: string(),
    arch: string(),
    'from?': string(),
    'to?': string(),
    'changelog?': listOf(object({ author: string(), date: integer('Unix seconds'), text: string() })),
    'signer?': string('key id (16 hex digits) of the OpenPGP signature of the build; absent: unsigned'),
  }),
};

export const shape = (name: keyof typeof SHAPES & string): JsonSchema => ref(name);

/** A shape with more fields. */
export const extended = (name: string, fields: Record<string, JsonSchema>): JsonSchema => ({ allOf: [ref(name), object(fields)] });
