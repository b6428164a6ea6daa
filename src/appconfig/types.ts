/**
 * Application config (issue 22, Go Micro's `config` package): sources
 * (file, env, flags, the mesh's key/value store) merged in order, validated
 * by any Standard Schema, typed, frozen and watched.
 */
import type { Clock, Logger, MeshError, StandardIssue, StandardResult, StandardSchemaV1 } from '../index.ts';

/** A config tree: what a source yields and what the sources merge into. */
export type ConfigTree = Record<string, unknown>;

/**
 * What one source read: its tree, and where each part of it came from
 * (`origins`: `pathKey(path)` → e.g. `env APP_SERVER_PORT`).
 * A leaf with no entry takes its nearest ancestor's, then `name`'s.
 */
export interface SourceSnapshot {
  tree: ConfigTree;
  origins: ReadonlyMap<string, string>;
}

/** Handed to {@link ConfigSource.watch}: call `changed()` on any change; the loader debounces and reloads. */
export interface SourceWatchContext {
  changed(): void;
  /** A watch failure worth the application's attention (reported through `config.onError`). */
  error(err: MeshError): void;
  /** Aborts when the config closes: stop watching then. */
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
}

/** One place config comes from. The built-ins: `file`, `env`, `flags`, `mesh`. */
export interface ConfigSource {
  /** For messages: `file config.yaml`, `env APP_`, `flags`, `mesh test/server`. */
  readonly name: string;
  /** Reads the source now. Throws MeshError (NOT_FOUND, INVALID_CONFIG, ...) naming the source. */
  load(signal?: AbortSignal): Promise<SourceSnapshot>;
  /** Starts watching (sources that never change omit it); stops when `ctx.signal` aborts. */
  watch?(ctx: SourceWatchContext): void;
}

/** The Standard Schema v1 types (zod 4, valibot, arktype): the RPC layer's, from the public surface. */
export type { StandardIssue, StandardResult, StandardSchemaV1 };

/** A schema's output type. */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : ConfigTree;

type Depth = [never, 0, 1, 2, 3, 4, 5, 6];

/** Dotted paths into `T` (`'server'`, `'server.port'`), at most 7 levels; any string when `T` is untyped. */
export type ConfigPath<T, D extends number = 7> = [D] extends [never]
  ? never
  : T extends readonly unknown[]
    ? never
    : T extends object
      ? { [K in keyof T & string]: K | `${K}.${ConfigPath<T[K], Depth[D]>}` }[keyof T & string]
      : never;

/** The type at a dotted path of `T`. */
export type ConfigValueAt<T, P extends string> = P extends keyof T
  ? T[P]
  : P extends `${infer H}.${infer R}`
    ? H extends keyof T
      ? ConfigValueAt<T[H], R>
      : unknown
    : unknown;

export interface LoadConfigOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /** Merged in this order: a later source wins, plain objects merge deeply, arrays are replaced. */
  sources: ConfigSource[];
  /** Validates (and may transform) the merged tree; `config.value` is its output. */
  schema?: S;
  /** Cancels loading; aborting it later closes the config. */
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Logger;
  /** Quiet time after a source's last change before it is reloaded (editors write in steps). Default 100, in [0, 60000]. */
  debounceMs?: number;
  /** Watch the sources. Default true. */
  watch?: boolean;
}

export type ConfigWatchFn<V> = (value: V, previous: V) => void | Promise<void>;

export interface Config<T> {
  /** The validated config, deeply frozen; replaced (never mutated) on reload. */
  readonly value: T;
  /** The value at a dotted path (`'server.port'`); `''` is the whole config. */
  get<P extends ConfigPath<T>>(path: P): ConfigValueAt<T, P>;
  /** Where the merged value at `path` came from, e.g. `env APP_SERVER_PORT`; undefined when no source sets it. */
  sourceOf(path: string): string | undefined;
  /** Calls `fn(value, previous)` whenever a reload changes the value at `path`. Returns the unsubscribe function. */
  watch<P extends ConfigPath<T>>(path: P, fn: ConfigWatchFn<ConfigValueAt<T, P>>): () => void;
  /** A reload that failed (a source unreadable, or the schema refusing the result): the old value stays. */
  onError(fn: (err: MeshError) => void): () => void;
  /** Stops watching every source; idempotent. */
  close(): Promise<void>;
}

