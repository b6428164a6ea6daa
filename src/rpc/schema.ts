/**
 * Endpoint schemas (`handle(name, handlers, {schemas})`): checking what
 * `handle` was given, and validating requests before the handler runs.
 * A side is a Standard Schema v1 validator (zod, valibot, arktype...) or a
 * plain JSON Schema (what sidecar apps in other languages declare), checked
 * with ajv, which is imported only when such a schema is declared: most
 * processes never pay for loading it.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { MeshError } from '../errors/index.ts';
import { isAsyncIterable } from './server-streams.ts';
import type { EndpointSchemas, Handler, JsonSchema, Schema, StandardIssue, StandardSchemaV1 } from './types.ts';

/** Issues named in a BAD_REQUEST detail; the rest are counted. */
const MAX_ISSUES = 3;
/** The root of issue paths in BAD_REQUEST details. */
const ROOT = 'request';

export function isStandardSchema(s: Schema): s is StandardSchemaV1 {
  return typeof (s as Partial<StandardSchemaV1>)['~standard'] === 'object';
}

/** Checks what `handle` was given for one method; INVALID_ARGUMENT naming what is wrong. */
export function checkSchemas(given: unknown, where: string): EndpointSchemas | undefined {
  if (given === undefined) return undefined;
  const bad = (what: string): MeshError => new MeshError('INVALID_ARGUMENT', `schemas of ${where}: ${what}`);
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw bad('expected {request?, response?}');
  const out: EndpointSchemas = {};
  for (const [side, s] of Object.entries(given)) {
    if (side !== 'request' && side !== 'response') throw bad(`unknown key "${side}" (expected request, response)`);
    if (s === undefined) continue;
    if (s === null || (typeof s !== 'object' && typeof s !== 'function') || Array.isArray(s)) {
      throw bad(`${side} must be a Standard Schema validator or a JSON Schema object`);
    }
    if ('~standard' in s) {
      const std = (s as StandardSchemaV1)['~standard'];
      if (std?.version !== 1 || typeof std.validate !== 'function') throw bad(`${side} is not a Standard Schema v1 validator (no ~standard.validate)`);
    } else {
      try {
        JSON.stringify(s);
      } catch (err) {
        throw bad(`${side} is not a JSON Schema: ${(err as Error).message}`);
      }
    }
    out[side] = s as Schema;
  }
  return out;
}

/** Renders an issue path: `request.items[2].name`, `request["a b"]`. */
export function formatPath(path: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined): string {
  let out = ROOT;
  for (const seg of path ?? []) {
    const k = typeof seg === 'object' && seg !== null ? seg.key : seg;
    if (typeof k === 'number') out += `[${k}]`;
    else if (typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k)) out += `.${k}`;
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out;
}

/** The BAD_REQUEST for a failed validation: the first few `path: problem` pairs. */
export function invalidRequest(issues: readonly { path: string; message: string }[], id: string): MeshError {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length > MAX_ISSUES ? ` (and ${issues.length - MAX_ISSUES} more)` : '';
  return new MeshError('BAD_REQUEST', `${shown.join('; ')}${more}`, { id });
}

/** The type name of a JSON value, as a validation message says it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** An ajv error as `{path, message}`: JSON pointer to dotted path, missing and extra properties named in the path. */
export function ajvIssue(e: ErrorObject, input: unknown): { path: string; message: string } {
  const segs: string[] = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let value = input;
  const path: (string | number)[] = [];
  for (const s of segs) {
    const isIndex = Array.isArray(value) && /^\d+$/.test(s);
    path.push(isIndex ? Number(s) : s);
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[s] : undefined;
  }
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return { path: formatPath(path), message: `expected ${String(params.type)}, got ${jsonType(value)}` };
    case 'required':
      return { path: formatPath([...path, String(params.missingProperty)]), message: 'required' };
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return { path: formatPath([...path, String(params.additionalProperty ?? params.unevaluatedProperty)]), message: 'not allowed' };
    default:
      return { path: formatPath(path), message: e.message ?? e.keyword };
  }
}

function standardIssue(i: StandardIssue): { path: string; message: string } {
  return { path: formatPath(i.path), message: i.message };
}

/** Validates one request: the value the handler gets (a Standard Schema's output), or throws BAD_REQUEST. */
export type RequestCheck = (value: unknown) => unknown;

/** Loads ajv and compiles plain JSON Schemas, once per schema object; one per server (no module state). */
export class JsonSchemaCompiler {
  private ajv: Promise<{ draft2020: AjvLike; draft07: AjvLike }> | undefined;
  private readonly compiled = new WeakMap<object, Promise<ValidateFunction>>();

  compile(schema: JsonSchema): Promise<ValidateFunction> {
    let p = this.compiled.get(schema);
    if (p === undefined) {
      p = this.load().then((a) => (isDraft07(schema) ? a.draft07 : a.draft2020).compile(schema));
      this.compiled.set(schema, p);
    }
    return p;
  }

  private load(): Promise<{ draft2020: AjvLike; draft07: AjvLike }> {
    this.ajv ??= Promise.all([import('ajv/dist/2020.js'), import('ajv')]).then(([m2020, m07]) => {
      // Formats are not checked (no ajv-formats); unknown keywords are allowed; schemas with an $id don't collide.
      const opts = { allErrors: true, strict: false, validateFormats: false, addUsedSchema: false, logger: false } as const;
      return { draft2020: new m2020.Ajv2020(opts), draft07: new m07.Ajv(opts) };
    });
    return this.ajv;
  }
}

interface AjvLike {
  compile(schema: object): ValidateFunction;
}

function isDraft07(schema: JsonSchema): boolean {
  const id = schema.$schema;
  return typeof id === 'string' && /draft-0[4-7]/.test(id);
}

/**
 * The check of a request schema. A Standard Schema's result may be a
 * Promise; a JSON Schema's check is synchronous once compiled (compilation
 * starts here, so the first request rarely waits for it).
 */
export function requestCheck(schema: Schema, id: string, compiler: JsonSchemaCompiler, where: string): RequestCheck {
  if (isStandardSchema(schema)) {
    const validate = schema['~standard'].validate;
    const settle = (r: Awaited<ReturnType<typeof validate>>): unknown => {
      if (r.issues !== undefined) throw invalidRequest(r.issues.map(standardIssue), id);
      return r.value;
    };
    return (value) => {
      const r = validate(value);
      return r instanceof Promise ? r.then(settle) : settle(r);
    };
  }
  let fn: ValidateFunction | undefined;
  let broken: MeshError | undefined;
  const ready = compiler.compile(schema).then((f) => {
    fn = f;
  }, (err: unknown) => {
    broken = new MeshError('INTERNAL', `request schema of ${where} does not compile: ${(err as Error).message}`, { id });
  });
  const run = (f: ValidateFunction, value: unknown): unknown => {
    if (f(value)) return value;
    throw invalidRequest((f.errors ?? []).map((e) => ajvIssue(e, value)), id);
  };
  return (value) => {
    if (fn !== undefined) return run(fn, value);
    return ready.then(() => {
      if (broken !== undefined) throw broken;
      return run(fn!, value);
    });
  };
}

/**
 * Wraps a handler so its request (or each message of its input stream) is
 * validated first, and the handler gets the validated value. Innermost of
 * the handler's middleware, which sees the request as sent.
 */
export function validating(handler: Handler, check: RequestCheck): Handler {
  return (request, ctx) => {
    if (isAsyncIterable(request)) return handler(checkEach(request, check), ctx);
    const v = check(request);
    return v instanceof Promise ? v.then((checked) => handler(checked, ctx)) : handler(v, ctx);
  };
}

async function* checkEach(source: AsyncIterable<unknown>, check: RequestCheck): AsyncGenerator<unknown> {
  for await (const m of source) yield await check(m);
}
