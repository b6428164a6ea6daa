/**
 * `env('APP_')`: environment variables under a prefix, Go Micro's env
 * source. `APP_SERVER_PORT=8080` → `{ server: { port: 8080 } }`: lower-cased,
 * `_` splits levels, `__` is a literal `_`; values are JSON when they parse.
 */
import { MeshError } from '../index.ts';
import { TreeBuilder } from './merge.ts';
import { ID, parseScalar } from './parse.ts';
import type { ConfigSource } from './types.ts';

export interface EnvOptions {
  /** The variables to read. Default `process.env` (read at each load). */
  env?: Record<string, string | undefined>;
}

/** `SERVER_MAX__CONN` → `['server', 'max_conn']`; undefined when a level would be empty. */
export function envPath(rest: string): string[] | undefined {
  const path: string[] = [];
  let seg = '';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== '_') {
      seg += rest[i];
    } else if (rest[i + 1] === '_') {
      seg += '_';
      i++;
    } else {
      path.push(seg);
      seg = '';
    }
  }
  path.push(seg);
  return path.every((s) => s.length > 0) ? path.map((s) => s.toLowerCase()) : undefined;
}

export function env(prefix: string, opts: EnvOptions = {}): ConfigSource {
  if (typeof prefix !== 'string') throw new MeshError('INVALID_ARGUMENT', 'env(prefix): prefix must be a string such as "APP_"', { id: ID });
  const name = `env ${prefix}`;
  return {
    name,
    async load(signal) {
      signal?.throwIfAborted();
      const vars = opts.env ?? process.env;
      const out = new TreeBuilder();
      // Sorted, so APP_DB=... then APP_DB_HOST=... always ends the same way (the deeper wins).
      for (const key of Object.keys(vars).sort()) {
        const value = vars[key];
        if (!key.startsWith(prefix) || key.length === prefix.length || value === undefined) continue;
        const path = envPath(key.slice(prefix.length));
        if (path !== undefined) out.set(path, parseScalar(value), `env ${key}`);
      }
      return out.snapshot();
    },
  };
}
