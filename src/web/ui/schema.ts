import type { JsonSchema } from './api.ts';

/**
 * JSON Schema for people: the indented `field type` listing micro's
 * dashboard showed for request and response, and the fields of a call form.
 * Handles what validators emit (object, array, enum, anyOf/oneOf of a type
 * and null, local `$ref`s); anything else falls back to the JSON editor.
 */

type S = JsonSchema & {
  type?: string | string[]; properties?: Record<string, S>; required?: string[]; items?: S; enum?: unknown[]; const?: unknown;
  anyOf?: S[]; oneOf?: S[]; $ref?: string; description?: string; default?: unknown; format?: string;
};

/** Follows a local `$ref` (`#/$defs/X`, `#/definitions/X`) against the root. */
function deref(s: S, root: S, depth = 0): S {
  if (typeof s.$ref !== 'string' || depth > 20) return s;
  const path = s.$ref.replace(/^#\/?/, '').split('/').filter(Boolean);
  let cur: unknown = root;
  for (const p of path) cur = (cur as Record<string, unknown> | undefined)?.[decodeURIComponent(p.replace(/~1/g, '/').replace(/~0/g, '~'))];
  return cur !== null && typeof cur === 'object' ? deref(cur as S, root, depth + 1) : s;
}

/** The one non-null alternative of `anyOf: [T, null]`, which validators emit for optional fields. */
function unwrap(s: S, root: S): S {
  s = deref(s, root);
  const alts = s.anyOf ?? s.oneOf;
  if (alts !== undefined) {
    const real = alts.map((a) => deref(a, root)).filter((a) => a.type !== 'null');
    if (real.length === 1) return { ...real[0]!, description: s.description ?? real[0]!.description };
  }
  return s;
}

/** A short type name: `string`, `int`, `[]string`, `{…}`, `"a"|"b"`. */
export function typeName(schema: S, root: S = schema): string {
  const s = unwrap(schema, root);
  if (s.enum !== undefined) return s.enum.map((e) => JSON.stringify(e)).join('|');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const t = Array.isArray(s.type) ? s.type.filter((x) => x !== 'null').join('|') : s.type;
  if (t === 'array') return `[]${s.items === undefined ? 'any' : typeName(s.items, root)}`;
  if (t === 'integer') return 'int';
  if (t === 'object' || s.properties !== undefined) return s.properties === undefined ? 'map' : '{…}';
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf)!.map((a) => typeName(a, root)).join('|');
  return t ?? 'any';
}

/** The indented field listing of a schema. */
export function describe(schema: JsonSchema): string {
  const root = schema as S;
  const lines: string[] = [];
  const walk = (s: S, indent: string, depth: number): void => {
    const props = s.properties ?? {};
    const req = new Set(s.required ?? []);
    for (const [name, raw] of Object.entries(props)) {
      const p = unwrap(raw, root);
      const nested = (p.type === 'object' || p.properties !== undefined) && p.properties !== undefined && depth < 6;
      const items = p.type === 'array' && p.items !== undefined ? unwrap(p.items, root) : undefined;
      const nestedItems = items?.properties !== undefined && depth < 6;
      const note = `${req.has(name) ? '' : ' (optional)'}${p.description ? `  // ${p.description}` : ''}`;
      if (nested) {
        lines.push(`${indent}${name} {${note}`);
        walk(p, `${indent}  `, depth + 1);
        lines.push(`${indent}}`);
      } else if (nestedItems) {
        lines.push(`${indent}${name} []{${note}`);
        walk(items!, `${indent}  `, depth + 1);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${name} ${typeName(p, root)}${note}`);
      }
    }
  };
  const top = unwrap(root, root);
  if (top.properties !== undefined) walk(top, '', 0);
  else lines.push(typeName(top, root));
  return lines.join('\n');
}

/** One input of a generated form. */
export interface Field {
  /** Dotted path in the request, e.g. `address.city`. */
  path: string;
  label: string;
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';
  required: boolean;
  options?: unknown[];
  description?: string;
  /** Nesting depth, for indentation. */
  depth: number;
}

/** The form fields of a request schema, or undefined when it is not an object (use the JSON editor). */
export function formFields(schema: JsonSchema | undefined): Field[] | undefined {
  if (schema === undefined) return undefined;
  const root = schema as S;
  const top = unwrap(root, root);
  if (top.properties === undefined) return undefined;
  const out: Field[] = [];
  const walk = (s: S, prefix: string, depth: number): void => {
    const req = new Set(s.required ?? []);
    for (const [name, raw] of Object.entries(s.properties ?? {})) {
      const p = unwrap(raw, root);
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const base = { path, label: name, required: req.has(name), description: p.description, depth };
      const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
      if (p.enum !== undefined) out.push({ ...base, kind: 'enum', options: p.enum });
      else if (p.properties !== undefined && depth < 4) walk(p, path, depth + 1);
      else if (t === 'string' || t === 'number' || t === 'integer' || t === 'boolean') out.push({ ...base, kind: t });
      else out.push({ ...base, kind: 'json' });
    }
  };
  walk(top, '', 0);
  return out;
}

/**
 * The request a form's raw values make: empty optional inputs are left
 * out, numbers parsed, JSON inputs parsed. Throws naming the field when an
 * input cannot be read (the server's schema check names the rest).
 */
export function buildRequest(fields: Field[], values: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[f.path];
    if (raw === undefined || raw === '') continue;
    let v: unknown = raw;
    if (f.kind === 'number' || f.kind === 'integer') {
      v = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || Number.isNaN(v)) v = raw; // sent as typed: the server names the field
    } else if (f.kind === 'boolean') {
      v = raw === true || raw === 'true';
    } else if (f.kind === 'enum') {
      v = f.options?.find((o) => JSON.stringify(o) === raw) ?? raw;
    } else if (f.kind === 'json') {
      try {
        v = JSON.parse(String(raw));
      } catch (err) {
        throw new Error(`${f.path}: not JSON (${(err as Error).message})`, { cause: err });
      }
    }
    let cur = out;
    const parts = f.path.split('.');
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1]!] = v;
  }
  return out;
}
