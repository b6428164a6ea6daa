/** Text into config values: the rules env, flags, files and mesh keys share. */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { MeshError } from '../index.ts';
import { isPlainObject } from './merge.ts';
import type { ConfigTree } from './types.ts';

export const ID = 'micromesh.config';

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
      return parseYaml(text);
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
    doc = format === 'json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, maxAliasCount: 100 });
  } catch (err) {
    const why = err instanceof YAMLParseError ? err.message.split('\n')[0] : err instanceof Error ? err.message : String(err);
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
