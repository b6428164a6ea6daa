/**
 * Typed clients without code generation: from a service definition (its
 * kinds are known at run time), or from a handler's own type
 * (`createClient<typeof greeter>(client, 'greeter', 'Greeter')`), where
 * only the type is imported and a method's kind is read from its type.
 */
import { MeshError } from '../errors/index.ts';
import type { MethodKind, ServiceDefinition } from './types.ts';
import type { CallOptions, Client, ClientStream } from './types.ts';

/** What one handler method becomes on the client. */
export type ClientMethod<F> =
  F extends (req: AsyncIterable<infer I>, ...rest: any[]) => infer R
    ? (opts?: CallOptions) => Promise<ClientStream<I, StreamedOut<R>>>
    : F extends (req: infer I, ...rest: any[]) => AsyncIterable<infer O>
      ? (req: I, opts?: CallOptions) => AsyncIterable<O>
      : F extends (req: infer I, ...rest: any[]) => infer R
        ? (req: I, opts?: CallOptions) => Promise<Awaited<R>>
        : never;

/** A response stream's messages, or a client stream's single response. */
type StreamedOut<R> = R extends AsyncIterable<infer O> ? O : Awaited<R>;

/** The client of an implementation type: one method per handler method. */
export type TypedClient<Impl> = { readonly [K in keyof Impl as Impl[K] extends (...a: any[]) => any ? K : never]: ClientMethod<Impl[K]> };

/** Options of a client made from a handler's type, where kinds can't be read at run time. */
export interface TypedClientOptions<Impl> {
  /** Methods whose input is a stream (the type says so, run time can't): `{Chat: 'bidi', Upload: 'client'}`. */
  streams?: { [K in keyof Impl]?: 'client' | 'bidi' };
  /** Merged under each call's own options (contentType, timeoutMs...). */
  defaults?: CallOptions;
}

export function createClient<Impl>(client: Client, service: string, definition: ServiceDefinition<Impl>, opts?: { defaults?: CallOptions }): TypedClient<Impl>;
export function createClient<Impl>(client: Client, service: string, handler: string, opts?: TypedClientOptions<Impl>): TypedClient<Impl>;
export function createClient<Impl>(client: Client, service: string, target: string | ServiceDefinition<Impl>, opts: TypedClientOptions<Impl> = {}): TypedClient<Impl> {
  const defaults = opts.defaults ?? {};
  const methods: Record<string, unknown> = {};
  if (typeof target !== 'string') {
    for (const [method, m] of Object.entries(target.methods)) {
      const o = m.types === undefined ? defaults : { ...defaults, types: m.types };
      methods[m.local] = invoker(client, service, `${target.name}.${method}`, m.kind, o);
    }
    return Object.freeze(methods) as TypedClient<Impl>;
  }
  const streams = (opts.streams ?? {}) as Record<string, 'client' | 'bidi' | undefined>;
  // Any property is a method of the handler: its type alone says which exist.
  return new Proxy(methods, {
    get: (cache, key) => {
      if (typeof key !== 'string' || key === 'then') return undefined;
      return (cache[key] ??= invoker(client, service, `${target}.${key}`, streams[key], defaults));
    },
  }) as TypedClient<Impl>;
}

/** `kind` undefined: unary or server stream, told apart by how the result is used (awaited or iterated). */
function invoker(client: Client, service: string, endpoint: string, kind: MethodKind | undefined, defaults: CallOptions): unknown {
  const merge = (o: CallOptions | undefined): CallOptions => (o === undefined ? defaults : { ...defaults, ...o });
  switch (kind) {
    case 'unary':
      return (req: unknown, o?: CallOptions) => client.call(service, endpoint, req, merge(o));
    case 'server':
      return (req: unknown, o?: CallOptions) => responses(() => client.stream(service, endpoint, req, merge(o)));
    case 'client':
    case 'bidi':
      return (o?: CallOptions) => client.stream(service, endpoint, undefined, merge(o));
    case undefined:
      return (req: unknown, o?: CallOptions) => new Pending(() => client.call(service, endpoint, req, merge(o)), () => client.stream(service, endpoint, req, merge(o)));
    default:
      throw new MeshError('INVALID_ARGUMENT', `${endpoint}: unknown method kind "${String(kind)}"`);
  }
}

/** A server stream's messages, opened when iteration starts. */
function responses<O>(open: () => Promise<ClientStream<unknown, O>>): AsyncIterable<O> {
  return {
    async *[Symbol.asyncIterator]() {
      const s = await open();
      try {
        yield* s;
      } finally {
        s.cancel('iteration stopped');
      }
    },
  };
}

/**
 * A call whose kind only its use tells: awaiting it makes a unary call,
 * iterating it opens a server stream. Nothing is sent until one happens.
 */
class Pending<O> implements PromiseLike<O>, AsyncIterable<O> {
  private readonly unary: () => Promise<O>;
  private readonly stream: () => Promise<ClientStream<unknown, O>>;
  private started: Promise<O> | undefined;

  constructor(unary: () => Promise<O>, stream: () => Promise<ClientStream<unknown, O>>) {
    this.unary = unary;
    this.stream = stream;
  }

  then<A = O, B = never>(ok?: ((v: O) => A | PromiseLike<A>) | null, fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return (this.started ??= this.unary()).then(ok, fail);
  }

  [Symbol.asyncIterator](): AsyncIterator<O> {
    return responses(this.stream)[Symbol.asyncIterator]();
  }
}
