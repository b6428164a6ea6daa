import { MeshError } from '../errors/index.ts';
import { ENDPOINT_SCHEMAS } from './internal.ts';
import { checkSchemas, JsonSchemaCompiler, requestCheck, validating } from './schema.ts';
import { publishSchemas, schemaFetchHandler, type SchemaTexts } from './schema-publish.ts';
import type { Handler, HandleOptions } from './types.ts';

/**
 * A server's side of endpoint schemas: wraps the handlers `handle` was
 * given schemas for, computes their registry metadata, and answers
 * `$mesh` `Endpoint.Schemas` once some schema is too large to go inline.
 */
export class ServerSchemas {
  private readonly compiler = new JsonSchemaCompiler();
  private readonly refs = new Map<string, SchemaTexts>();
  private readonly id: string;
  private readonly inlineBytes: number;
  private readonly serve: (name: string, handlers: object) => void;

  /** `serve` registers an internal handler (the server's `handleInternal`). */
  constructor(id: string, inlineBytes: number, serve: (name: string, handlers: object) => void) {
    this.id = id;
    this.inlineBytes = inlineBytes;
    this.serve = serve;
  }

  /** The handler to register for `endpoint` (validating when it has a request schema and `validate`) and the metadata to publish. */
  apply(opt: HandleOptions['schemas'], method: string, endpoint: string, handler: Handler, validate = true): { handler: Handler; metadata: Record<string, string> } {
    const given = perMethod(opt, method);
    const schemas = checkSchemas(given, endpoint);
    if (schemas === undefined) return { handler, metadata: {} };
    const h = schemas.request === undefined || !validate ? handler : validating(handler, requestCheck(schemas.request, this.id, this.compiler, endpoint));
    const published = publishSchemas(schemas, this.inlineBytes);
    if (published.ref !== undefined) {
      if (this.refs.size === 0) this.serve(ENDPOINT_SCHEMAS.handler, schemaFetchHandler(this.refs, this.id));
      this.refs.set(published.ref.digest, published.ref.texts);
    }
    return { handler: h, metadata: published.metadata };
  }
}

/** A per-method option of `handle` for one method: from its record, or by calling it. */
export function perMethod<T>(opt: Record<string, T> | ((method: string) => T | undefined) | undefined, method: string): T | undefined {
  return typeof opt === 'function' ? opt(method) : opt?.[method];
}

/**
 * A per-method option of `handle` (`metadata`, `schemas`, `types`): a record whose
 * keys are methods of the handler, or a function of the method name;
 * INVALID_ARGUMENT otherwise.
 */
export function checkPerMethod(option: string, value: unknown, methods: readonly string[], name: string): void {
  if (value === undefined || typeof value === 'function') return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MeshError('INVALID_ARGUMENT', `${option} of handler "${name}" must be a record of methods or a function of the method name`);
  }
  const unknown = Object.keys(value).filter((m) => !methods.includes(m));
  if (unknown.length > 0) throw new MeshError('INVALID_ARGUMENT', `${option} names ${unknown.join(', ')}, not methods of handler "${name}"`);
}
