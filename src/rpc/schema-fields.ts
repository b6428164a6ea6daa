// An endpoint's JSON Schema as `micro get service` showed request and
// response types: one `field type` line per field, nested objects indented
// in braces, required fields marked.

type Json = Record<string, unknown>;

/** Deepest nesting shown; deeper objects print as `{...}` (and recursive `$ref`s stop at once). */
const MAX_DEPTH = 8;

/**
 * Lines describing `schema` under the label `side` (`request`, `response`),
 * each starting with `indent`: `request {`, `  name string (required)`, `}`;
 * or one line, `request string`, for a schema that is not an object.
 */
export function schemaLines(side: string, schema: Json, indent: string): string[] {
  const out: string[] = [];
  describe(side, schema, schema, indent, out, new Set(), 0, '', '');
  return out;
}

// `prefix` is `[]` for the items of an array: `tags []{`.
function describe(label: string, s: Json, root: Json, indent: string, out: string[], seen: Set<string>, depth: number, suffix: string, prefix: string): void {
  const { schema, ref } = resolve(s, root);
  if (prefix === '' && schema.type === 'array' && isObject(schema.items) && isObject(resolve(schema.items, root).schema.properties)) {
    describe(label, schema.items, root, indent, out, seen, depth, suffix, '[]');
    return;
  }
  const props = isObject(schema.properties) ? schema.properties : undefined;
  if (props === undefined || (ref !== undefined && seen.has(ref)) || depth >= MAX_DEPTH) {
    out.push(`${indent}${label} ${prefix}${typeName(schema, root, ref, props !== undefined)}${suffix}`);
    return;
  }
  const inner = ref === undefined ? seen : new Set([...seen, ref]);
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  out.push(`${indent}${label} ${prefix}${ref === undefined ? '' : `${refName(ref)} `}{${suffix}`);
  for (const [name, p] of Object.entries(props)) {
    if (!isObject(p)) continue;
    const mark = `${required.has(name) ? ' (required)' : ''}${typeof p.description === 'string' ? `  // ${p.description.split('\n')[0]}` : ''}`;
    describe(fieldName(name), p, root, `${indent}  `, out, inner, depth + 1, mark, '');
  }
  out.push(`${indent}}`);
}

/** A type in one word, Go Micro's way: `string`, `[]int`, `map[string]Foo`, `"a"|"b"`. */
function typeName(s: Json, root: Json, ref: string | undefined, hasProps: boolean): string {
  if (ref !== undefined) return refName(ref);
  if (hasProps) return '{...}';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if ('const' in s) return JSON.stringify(s.const);
  const alts = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (alts !== undefined) return alts.filter(isObject).map((a) => typeName(...typeArgs(a, root))).join('|');
  const t = s.type;
  if (Array.isArray(t)) return t.map((one) => typeName({ ...s, type: one }, root, undefined, false)).join('|');
  if (t === 'array') return `[]${isObject(s.items) ? typeName(...typeArgs(s.items, root)) : 'any'}`;
  if (t === 'integer') return 'int';
  if (t === 'object') return isObject(s.additionalProperties) ? `map[string]${typeName(...typeArgs(s.additionalProperties, root))}` : 'object';
  return typeof t === 'string' ? t : 'any';
}

function typeArgs(s: Json, root: Json): [Json, Json, string | undefined, boolean] {
  const r = resolve(s, root);
  return [r.schema, root, r.ref, isObject(r.schema.properties)];
}

/** Follows a local `$ref` (`#/$defs/X`, `#/definitions/X`); other refs stay as they are. */
function resolve(s: Json, root: Json): { schema: Json; ref: string | undefined } {
  const ref = s.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return { schema: s, ref: undefined };
  let target: unknown = root;
  for (const seg of ref.slice(1).split('/').filter(Boolean)) {
    target = isObject(target) ? target[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return { schema: isObject(target) ? target : {}, ref };
}

function refName(ref: string): string {
  return ref === '#' ? 'self' : ref.slice(ref.lastIndexOf('/') + 1);
}

function fieldName(name: string): string {
  return /^[\w$-]+$/.test(name) ? name : JSON.stringify(name);
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
