/** Text into config values: the rules env, flags, files and mesh keys share. */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { MeshError } from '../index.ts';
import { isPlainObject } from './merge.ts';
import type { ConfigTree } from './types.ts';

export const ID = 'micromesh.config';

/**
 * yaml (250 KB of code, ~8 MB of heap once loaded) is required when the
 * first YAML document is parsed, not when config is imported: the demo node
 * and most services only ever read JSON and single values.
 */
const load = createRequire(import.meta.url);
const yaml = (): typeof Yaml => load('yaml') as typeof Yaml;

/** `8080` → 8080, `true` → true, `{"a":1}` → object: JSON when it parses, else the string itself. */
export function parseScalar(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A mesh key's value: JSON, else YAML when the text is a multi-line
 * document, else the string. One line is never read as YAML, so a greeting
 * "Hello: world" stays a string rather than becoming `{ Hello: 'world' }`.
 */
export function parseKvValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    if (!text.includes('\n')) return text;
    try {
      return yaml().parse(text);
    } catch {
      return text;
    }
  }
}

/**
 * A whole document (a file, a mesh key holding the subtree): YAML, which
 * reads JSON too. Empty means `{}`; anything but a mapping at the top is
 * INVALID_CONFIG naming `what`.
 */
export function parseDocument(text: string, what: string, format: 'json' | 'yaml'): ConfigTree {
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(text) : yaml().parse(text, { prettyErrors: true, maxAliasCount: 100 });
  } catch (err) {
    const why = err instanceof Error && err.name === 'YAMLParseError' ? err.message.split('\n')[0] : err instanceof Error ? err.message : String(err);
    throw new MeshError('INVALID_CONFIG', `${what}: not valid ${format.toUpperCase()}: ${why}`, { id: ID, cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) {
    throw new MeshError('INVALID_CONFIG', `${what}: the document must be a mapping of settings, got ${Array.isArray(doc) ? 'a list' : typeof doc}`, { id: ID });
  }
  return doc;
}

const decoder = new TextDecoder();

export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
