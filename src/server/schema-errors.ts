// A request that does not fit its route's schema, said as a clear 400 that names the
// field: `give "name" (a string)`, `"keep" must be a number`, `"uploads[0].sha256"
// must be a string`, `"limit" must be a whole number` (the schema's description).

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  schema?: unknown;
  parentSchema?: { description?: string; type?: unknown };
}

const WHERE: Record<string, string> = { body: 'the request body', querystring: 'the query', params: 'the path' };

/** A JSON pointer into the request as a field name: /uploads/0/sha256 -> uploads[0].sha256. */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((name, p) => (/^\d+$/.test(p) ? `${name}[${p}]` : name ? `${name}.${p}` : p), '');
}

/** A JSON Schema type in words. */
function typeWords(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).filter((t) => t !== 'null');
  const words: Record<string, string> = { string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object' };
  return types.map((t) => words[String(t)] ?? String(t)).join(' or ');
}

export function schemaError(errors: SchemaError[], context: string | undefined): string {
  const e = errors[0];
  if (!e) return `${WHERE[context ?? 'body'] ?? 'the request'} is not valid`;
  if (e.keyword === 'required') {
    const missing = String(e.params.missingProperty);
    const name = fieldName(`${e.instancePath}/${missing}`);
    const wanted = (e.parentSchema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties?.[missing]?.type;
    return `give "${name}"${wanted ? ` (${typeWords(wanted)})` : ''}`;
  }
  const name = fieldName(e.instancePath);
  if (!name) return `${WHERE[context ?? 'body'] ?? 'the request'} must be ${e.keyword === 'type' ? typeWords(e.params.type) : 'as docs/http-api.md says'}`;
  if (e.keyword === 'type') return `"${name}" must be ${typeWords(e.params.type)}`;
  const described = e.parentSchema?.description;
  return `"${name}" must be ${described ?? e.message ?? 'as docs/http-api.md says'}`;
}
