/**
 * Service definitions: a handler's endpoints described once (name, kind,
 * message types, schemas), so that `handle(definition, impl)` and a typed
 * client agree by construction. Generated from `.proto` by
 * protoc-gen-micromesh, or written with `defineService` and zod schemas.
 */
import type { EndpointTypes } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';
import { STREAM_METADATA } from './endpoint-meta.ts';
import { perMethod } from './schema-server.ts';
import type { EndpointSchemas, HandleOptions, Metadata, ServiceDefinition } from './types.ts';

/** Whether `v` is a ServiceDefinition rather than a handler name. */
export function isServiceDefinition(v: unknown): v is ServiceDefinition {
  return typeof v === 'object' && v !== null && typeof (v as ServiceDefinition).name === 'string' && typeof (v as ServiceDefinition).methods === 'object';
}

/**
 * What `handle(name, handlers, opts)` needs to serve `impl` as `def`: one
 * bound method per endpoint, with stream kinds, types and schemas as
 * options. INVALID_ARGUMENT when `impl` lacks a method the definition names.
 */
export function fromDefinition(def: ServiceDefinition, impl: object, extra: HandleOptions = {}): { handlers: Record<string, unknown>; opts: HandleOptions } {
  const handlers: Record<string, unknown> = {};
  const metadata: Record<string, Metadata> = {};
  const types: Record<string, EndpointTypes> = {};
  const schemas: Record<string, EndpointSchemas> = {};
  for (const [method, m] of Object.entries(def.methods)) {
    const fn = (impl as Record<string, unknown>)[m.local];
    if (typeof fn !== 'function') throw new MeshError('INVALID_ARGUMENT', `the implementation of ${def.name} has no method ${m.local}() for ${def.name}.${method}`);
    handlers[method] = (fn as (...a: unknown[]) => unknown).bind(impl);
    const md: Metadata = { ...m.metadata };
    // `true` is the server's own spelling for a streamed response; input streams are declared.
    if (m.kind === 'server') md[STREAM_METADATA] = 'true';
    else if (m.kind !== 'unary') md[STREAM_METADATA] = m.kind;
    metadata[method] = md;
    if (m.types !== undefined) types[method] = m.types;
    if (m.schemas !== undefined) schemas[method] = m.schemas;
  }
  return {
    handlers,
    opts: {
      metadata: (method) => ({ ...metadata[method], ...perMethod(extra.metadata, method) }),
      types: (method) => types[method] ?? perMethod(extra.types, method),
      schemas: (method) => schemas[method] ?? perMethod(extra.schemas, method),
    },
  };
}
