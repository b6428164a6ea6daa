import { z } from 'zod';
import { MeshError } from '../errors/index.ts';

/**
 * Config validation on zod (a well-kept schema library; it gives us typed
 * defaults and field paths for free). Every numeric field is built with
 * {@link intIn} / {@link numIn}, whose error text states the allowed range,
 * so an invalid config fails with "swim.probeIntervalMs must be an integer in
 * [10, 60000], got 5" (DEVELOPERS.md rule 4).
 */

/** An integer in [min, max]. */
export function intIn(min: number, max: number) {
  const error = `must be an integer in [${min}, ${max}]`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in [min, max]. */
export function numIn(min: number, max: number) {
  const error = `must be a number in [${min}, ${max}]`;
  return z.number({ error }).min(min, { error }).max(max, { error }).refine(Number.isFinite, { error });
}

/** A non-empty string of at most `max` characters. */
export function str(max = 256) {
  const error = `must be a string of 1 to ${max} characters`;
  return z.string({ error }).min(1, { error }).max(max, { error });
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Drops keys whose value is `undefined`, so an explicit undefined never overrides a default. */
export function definedOnly<T extends object>(partial: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (partial === undefined) return out;
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Validates `input` against `schema`. Throws MeshError `INVALID_CONFIG` whose
 * detail names every bad field (prefixed with `scope`), its allowed range and
 * the value given.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, scope: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${[scope, ...issue.path, k].join('.')} is not a known setting`).join('; ');
    }
    const field = [scope, ...issue.path.map(String)].join('.');
    return `${field} ${issue.message}, got ${JSON.stringify(valueAt(input, issue.path))}`;
  });
  throw new MeshError('INVALID_CONFIG', problems.join('; '));
}
