/**
 * Trees and their provenance: the deep merge every source and the loader use
 * (plain objects merge, anything else, arrays included, replaces), with the
 * origin of every leaf tracked so a schema error can name the source that
 * gave the offending value.
 */
import type { ConfigTree, SourceSnapshot } from './types.ts';

/** The key of a path in an origins map (NUL cannot occur in a dotted path). */
export function pathKey(path: readonly string[]): string {
  return path.join('\u0000');
}

export function isPlainObject(v: unknown): v is ConfigTree {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A tree under construction and the origin of each of its leaves. */
export class TreeBuilder {
  readonly tree: ConfigTree = {};
  readonly origins = new Map<string, string>();

  /** Merges `value` at `path` (the root for `[]`, which takes only a plain object). */
  set(path: readonly string[], value: unknown, origin: string): void {
    let layer: unknown = value;
    for (let i = path.length - 1; i >= 0; i--) layer = { [path[i]]: layer };
    if (isPlainObject(layer)) this.merge(layer, () => origin);
  }

  /** Merges `layer` over the tree; `originOf(path)` says where each of its leaves came from. */
  merge(layer: ConfigTree, originOf: (path: readonly string[]) => string): void {
    mergeAt(this.tree, this.origins, layer, [], originOf);
  }

  snapshot(): SourceSnapshot {
    return { tree: this.tree, origins: this.origins };
  }
}

function mergeAt(into: ConfigTree, origins: Map<string, string>, layer: ConfigTree, base: string[], originOf: (path: readonly string[]) => string): void {
  for (const [k, v] of Object.entries(layer)) {
    // An own `__proto__` (JSON.parse makes one) would set the prototype on assignment.
    if (k === '__proto__' || v === undefined) continue;
    const path = [...base, k];
    const cur = into[k];
    // Origins are kept for leaves only (an empty object counts as one), so an
    // object's sources are those of the leaves under it.
    if (isPlainObject(v) && isPlainObject(cur)) {
      if (Object.keys(v).length > 0) origins.delete(pathKey(path));
      mergeAt(cur, origins, v, path, originOf);
      continue;
    }
    forget(origins, path);
    if (isPlainObject(v)) {
      const fresh: ConfigTree = {};
      into[k] = fresh;
      if (Object.keys(v).length === 0) origins.set(pathKey(path), originOf(path));
      mergeAt(fresh, origins, v, path, originOf);
    } else {
      into[k] = v;
      origins.set(pathKey(path), originOf(path));
    }
  }
}

/** Drops the origins at and under `path` (its value is being replaced). */
function forget(origins: Map<string, string>, path: readonly string[]): void {
  const key = pathKey(path);
  for (const k of origins.keys()) if (k === key || k.startsWith(key + '\u0000')) origins.delete(k);
}

/** The origin of `path` in a snapshot: its own, its nearest ancestor's, else `fallback`. */
export function snapshotOrigin(origins: ReadonlyMap<string, string>, path: readonly string[], fallback: string): string {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(pathKey(path.slice(0, n)));
    if (o !== undefined) return o;
  }
  return fallback;
}

/** Merges the sources' snapshots in order (later wins), with each leaf's origin. */
export function mergeSnapshots(layers: readonly { name: string; snapshot: SourceSnapshot }[]): TreeBuilder {
  const out = new TreeBuilder();
  for (const { name, snapshot } of layers) out.merge(snapshot.tree, (path) => snapshotOrigin(snapshot.origins, path, name));
  return out;
}

/**
 * Where the merged value at `path` came from: the source of that leaf (or of
 * the leaf above it, for an array element), else the sources of the leaves
 * under it; undefined when no source sets anything there.
 */
export function originOf(origins: ReadonlyMap<string, string>, path: readonly string[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(pathKey(path.slice(0, n)));
    if (o !== undefined) return o;
  }
  const prefix = path.length === 0 ? '' : pathKey(path) + '\u0000';
  const under = new Set<string>();
  for (const [k, o] of origins) if (k.startsWith(prefix)) under.add(o);
  return under.size === 0 ? undefined : [...under].join(', ');
}

/** Splits a dotted path; `''` is the root. */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

/** The value at `path` (own properties only), or undefined. */
export function getAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** Structural equality of config values (plain objects, arrays, dates, primitives). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Freezes plain objects and arrays all the way down; returns `value`. */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
