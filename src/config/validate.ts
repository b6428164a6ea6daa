import * as v from 'valibot';
import { MeshError } from '../errors/index.ts';

/**
 * Config validation on valibot: a well-kept schema library (Standard Schema,
 * typed output, issue paths) that costs about 20 ms and 2.5 MB to load where
 * zod costs about 100 ms and 18 MB, which every `import 'micromesh'` and
 * every CLI command paid (bench/startup.ts). Every numeric field is built
 * with {@link intIn} / {@link numIn}, whose error text states the allowed
 * range, so an invalid config fails with "swim.probeIntervalMs must be an
 * integer in [10, 60000], got 5" (DEVELOPERS.md rule 4).
 */

/** An integer in [min, max]. */
export function intIn(min: number, max: number) {
  const error = `must be an integer in [${min}, ${max}]`;
  return v.pipe(v.number(error), v.integer(error), v.minValue(min, error), v.maxValue(max, error));
}

/** A finite number in [min, max]. */
export function numIn(min: number, max: number) {
  const error = `must be a number in [${min}, ${max}]`;
  return v.pipe(v.number(error), v.finite(error), v.minValue(min, error), v.maxValue(max, error));
}

/** A non-empty string of at most `max` characters. */
export function str(max = 256) {
  const error = `must be a string of 1 to ${max} characters`;
  return v.pipe(v.string(error), v.minLength(1, error), v.maxLength(max, error));
}

/** A boolean. */
export function bool(error = 'must be true or false') {
  return v.boolean(error);
}

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return v.picklist(values, `must be one of ${values.join(', ')}`);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let val: unknown = input;
  for (const k of path) val = val !== null && typeof val === 'object' ? (val as Record<PropertyKey, unknown>)[k] : undefined;
  return val;
}

/** Drops keys whose value is `undefined`, so an explicit undefined never overrides a default. */
export function definedOnly<T extends object>(partial: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (partial === undefined) return out;
  for (const [k, val] of Object.entries(partial)) if (val !== undefined) (out as Record<string, unknown>)[k] = val;
  return out;
}

/**
 * Validates `input` against `schema`. Throws MeshError `INVALID_CONFIG` whose
 * detail names every bad field (prefixed with `scope`), its allowed range and
 * the value given.
 */
export function parseConfig<S extends v.GenericSchema>(schema: S, input: unknown, scope: string): v.InferOutput<S> {
  // One issue per field (a value out of range fails the range once, not each bound).
  const r = v.safeParse(schema, input, { abortPipeEarly: true });
  if (r.success) return r.output;
  const problems = r.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => p.key as PropertyKey);
    const field = [scope, ...path.map(String)].join('.');
    if (issue.type === 'strict_object') return `${field} is not a known setting`;
    return `${field} ${issue.message}, got ${JSON.stringify(valueAt(input, path))}`;
  });
  throw new MeshError('INVALID_CONFIG', problems.join('; '));
}
