import { REQUEST_SCHEMA_METADATA, type Metadata } from '../index.ts';

/**
 * Query strings and path parameters are text; an endpoint whose request
 * schema says a field is a number, an integer or a boolean gets that field
 * converted (`?count=2` → 2), as grpc-gateway does from its proto types.
 * A value that does not read cleanly is left as text, so the server's
 * validation names the field. Bodies are never touched: JSON has types.
 * Schemas too large for the registry (schema-ref) are not fetched: their
 * endpoints get text, as every endpoint did before schemas.
 */

type Kind = 'number' | 'integer' | 'boolean';
/** Property name → what its text should become; arrays of such values too. */
export type Coercions = Map<string, { kind: Kind; array: boolean }>;

/** The conversions an endpoint's metadata asks for (parsed once per schema text). */
export class CoercionCache {
  private readonly byText = new Map<string, Coercions | null>();

  of(metadata: Metadata | undefined): Coercions | undefined {
    const text = metadata?.[REQUEST_SCHEMA_METADATA];
    if (text === undefined) return undefined;
    let c = this.byText.get(text);
    if (c === undefined) {
      c = plan(text);
      // Schemas change only when services are redeployed; the bound keeps a churning mesh from growing it.
      if (this.byText.size >= 1024) this.byText.clear();
      this.byText.set(text, c);
    }
    return c ?? undefined;
  }
}

function plan(text: string): Coercions | null {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    return null;
  }
  const props = (schema as { properties?: Record<string, unknown> } | null)?.properties;
  if (props === null || typeof props !== 'object') return null;
  const out: Coercions = new Map();
  for (const [name, p] of Object.entries(props)) {
    const k = kindOf(p);
    if (k !== undefined) out.set(name, { kind: k, array: false });
    else if (typeOf(p).has('array')) {
      const item = kindOf((p as { items?: unknown }).items);
      if (item !== undefined) out.set(name, { kind: item, array: true });
    }
  }
  return out.size > 0 ? out : null;
}

/** The JSON types a property allows: `type` as a string or list, and those of `anyOf`/`oneOf` branches (optional fields). */
function typeOf(p: unknown): Set<string> {
  const s = new Set<string>();
  if (p === null || typeof p !== 'object') return s;
  const o = p as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[] };
  if (typeof o.type === 'string') s.add(o.type);
  if (Array.isArray(o.type)) for (const t of o.type) if (typeof t === 'string') s.add(t);
  // A peer's schema is untrusted: a non-array anyOf/oneOf is ignored, not spread.
  for (const b of [...(Array.isArray(o.anyOf) ? o.anyOf : []), ...(Array.isArray(o.oneOf) ? o.oneOf : [])]) for (const t of typeOf(b)) s.add(t);
  return s;
}

/** A field converted only when its type is unambiguous: a string alternative keeps it text. */
function kindOf(p: unknown): Kind | undefined {
  const t = typeOf(p);
  t.delete('null');
  if (t.has('string') || t.size !== 1) return t.size === 2 && t.has('integer') && t.has('number') ? 'number' : undefined;
  const [only] = t;
  return only === 'number' || only === 'integer' || only === 'boolean' ? only : undefined;
}

function convert(v: unknown, kind: Kind): unknown {
  if (typeof v !== 'string') return v;
  if (kind === 'boolean') return v === 'true' ? true : v === 'false' ? false : v;
  if (v.trim() === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim())) return v;
  const n = Number(v);
  return Number.isFinite(n) && (kind === 'number' || Number.isInteger(n)) ? n : v;
}

/** A copy of `values` (query or path parameters) with the planned fields converted. */
export function coerce<T extends Record<string, unknown> | undefined>(values: T, plan: Coercions | undefined): T {
  if (plan === undefined || values === undefined) return values;
  let out: Record<string, unknown> | undefined;
  for (const [name, c] of plan) {
    const v = values[name];
    if (v === undefined) continue;
    const next = c.array ? (Array.isArray(v) ? v : [v]).map((x) => convert(x, c.kind)) : convert(v, c.kind);
    (out ??= { ...values })[name] = next;
  }
  return (out ?? values) as T;
}
