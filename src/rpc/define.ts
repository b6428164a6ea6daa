/**
 * `defineService`: a service definition from Standard Schemas (zod,
 * valibot...), for TypeScript teams without protobuf. The implementation's
 * type and the typed client's follow from the schemas; the server validates
 * requests with them and publishes their JSON Schemas.
 */
import { MeshError } from '../errors/index.ts';
import type { MethodKind, ServiceDefinition } from './types.ts';
import type { HandlerContext, StandardSchemaV1 } from './types.ts';

/** One method: its kind (default unary) and the schemas of its two sides. */
export interface MethodSpec {
  kind?: MethodKind;
  request?: StandardSchemaV1;
  response?: StandardSchemaV1;
}

type In<S> = S extends StandardSchemaV1<infer I, any> ? I : unknown;
type Out<S> = S extends StandardSchemaV1<any, infer O> ? O : unknown;
type Maybe<T> = T | Promise<T>;

/** The handler a spec asks for: it gets the request as validated and returns what the response schema accepts. */
export type HandlerOf<S extends MethodSpec> =
  S['kind'] extends 'server' ? (req: Out<S['request']>, ctx: HandlerContext) => AsyncIterable<In<S['response']>>
    : S['kind'] extends 'client' ? (req: AsyncIterable<Out<S['request']>>, ctx: HandlerContext) => Maybe<In<S['response']>>
      : S['kind'] extends 'bidi' ? (req: AsyncIterable<Out<S['request']>>, ctx: HandlerContext) => AsyncIterable<In<S['response']>>
        : (req: Out<S['request']>, ctx: HandlerContext) => Maybe<In<S['response']>>;

/** The implementation a definition from `specs` takes: one handler per method. */
export type ImplOf<M extends Record<string, MethodSpec>> = { [K in keyof M]: HandlerOf<M[K]> };

const KINDS: readonly MethodKind[] = ['unary', 'server', 'client', 'bidi'];

/** `defineService('Greeter', {Hello: {request: z.object({name: z.string()}), response: ...}})`. */
export function defineService<const M extends Record<string, MethodSpec>>(name: string, specs: M): ServiceDefinition<ImplOf<M>> {
  const methods: Record<string, ServiceDefinition['methods'][string]> = {};
  for (const [method, spec] of Object.entries(specs)) {
    const kind = spec.kind ?? 'unary';
    if (!KINDS.includes(kind)) throw new MeshError('INVALID_ARGUMENT', `${name}.${method}: kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(spec.kind)}`);
    const schemas = spec.request === undefined && spec.response === undefined ? undefined
      : { ...(spec.request ? { request: spec.request } : {}), ...(spec.response ? { response: spec.response } : {}) };
    methods[method] = { local: method, kind, ...(schemas ? { schemas } : {}) };
  }
  return Object.freeze({ name, methods: Object.freeze(methods) });
}
