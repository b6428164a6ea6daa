/**
 * Client and Server: request/response and streaming RPC over direct,
 * multiplexed connections (Go Micro's client and server packages).
 */
import type { EndpointTypes } from '../codec/types.ts';
import type { Metadata } from '../registry/types.ts';
import type { SelectOptions } from '../selector/types.ts';

export type { Metadata };

// ---------------------------------------------------------------- client

export interface CallOptions {
  /**
   * Timeout of each attempt, ms. Default 5000 (Go Micro's). The remaining
   * time travels with the request so the server knows its deadline. A
   * deadline inherited from an enclosing handler is never extended.
   */
  timeoutMs?: number;
  /** Extra attempts after a retryable failure (timeout, unavailable, connection lost), each on another node. Default 1. */
  retries?: number;
  /** Aborting cancels the call; the server's handler sees its own signal fire. */
  signal?: AbortSignal;
  /** Sent with the request; merged over metadata inherited from an enclosing handler. */
  metadata?: Metadata;
  /** Call this `host:port` directly, bypassing registry and selector. */
  address?: string;
  /** Content type of the request; the response comes back in the same. Default: the client's default (CBOR). */
  contentType?: string;
  /**
   * The endpoint's message types (what generated protobuf clients pass):
   * the request is encoded as its type and the response decoded into its
   * type, in any codec; needed for `application/protobuf`.
   */
  types?: EndpointTypes;
  /** Node selection: strategy and filters. */
  select?: SelectOptions;
  /** Delay before retry `attempt` (1-based), ms. Default: 0 for the first retry, then 100, 200, ... capped at 2000. */
  backoff?: (attempt: number) => number;
  /**
   * Hedging, for endpoints safe to run twice (off by default): if the call
   * has not answered after the endpoint's p95 latency on this client (once
   * 20 calls have been timed; `afterMs` fixes the delay instead), a second
   * attempt goes to another node; the first answer wins and the other is
   * cancelled. Unary calls chosen by the selector only (not with `address`).
   */
  hedge?: boolean | { afterMs: number };
}

/** The client's side of a stream. Iterate it for the server's messages; errors arrive as thrown MeshErrors. */
export interface ClientStream<Req = unknown, Res = unknown> extends AsyncIterable<Res> {
  /** Sends one message; resolves once flow-control credit allowed it onto the wire buffer. */
  send(message: Req, opts?: { signal?: AbortSignal }): Promise<void>;
  /** No more messages from this side (half-close). Idempotent. */
  end(): void;
  /** Abandons the stream; the server's handler signal fires. Idempotent. */
  cancel(reason?: string): void;
  /** For client-streaming calls: ends the sending side if still open and resolves with the single response. */
  response(): Promise<Res>;
}

/** A call as client middleware sees it. */
export interface OutgoingCall {
  kind: 'unary' | 'stream';
  service: string;
  endpoint: string;
  /** The request value (unary, server stream) or undefined (input stream). */
  request: unknown;
  options: CallOptions;
}

/** Performs a call: resolves with the response (unary) or the opened ClientStream (stream). */
export type CallHandler = (call: OutgoingCall) => Promise<unknown>;

/** Client middleware (Go Micro's client wrapper): wraps every call and stream. */
export type ClientMiddleware = (next: CallHandler) => CallHandler;

export interface Client {
  /** Unary call: `call('greeter', 'Greeter.Hello', {name: 'Ada'})`. */
  call<Res = unknown>(service: string, endpoint: string, request: unknown, opts?: CallOptions): Promise<Res>;
  /**
   * Opens a stream. With a `request` it is a server stream (the handler gets
   * that value); without one the caller streams its messages with `send` and
   * the handler gets an AsyncIterable (client or bidirectional stream).
   */
  stream<Req = unknown, Res = unknown>(service: string, endpoint: string, request?: Req, opts?: CallOptions): Promise<ClientStream<Req, Res>>;
}

// ---------------------------------------------------------------- server

export interface HandlerContext {
  readonly service: string;
  /** `Name.Method`. */
  readonly endpoint: string;
  /** The caller's metadata (including what it inherited). */
  readonly metadata: Readonly<Metadata>;
  /** Absolute deadline on this node's Clock, undefined when the caller set none. */
  readonly deadline: number | undefined;
  /** Fires when the caller cancels, the deadline passes, or the server stops hard. */
  readonly signal: AbortSignal;
  readonly contentType: string;
  /** The caller's transport address. */
  readonly remoteAddress: string;
}

/**
 * A handler. Its input is the request value, or an AsyncIterable of values
 * when the caller streams. Returning an AsyncIterable (e.g. an async
 * generator) streams the response; throwing a MeshError sends it to the
 * caller as is, anything else becomes INTERNAL.
 */
export type Handler<Req = any, Res = any> = (request: Req, ctx: HandlerContext) => Res | Promise<Res> | AsyncIterable<Res>;

export interface EndpointInfo {
  service: string;
  endpoint: string;
}

/** Handler middleware (Go Micro's handler wrapper), applied once per endpoint at registration. */
export type HandlerMiddleware = (next: Handler, endpoint: EndpointInfo) => Handler;

export interface ServerStartOptions {
  signal?: AbortSignal;
}

export interface ServerStopOptions {
  signal?: AbortSignal;
  /** Longest wait for in-flight calls before they are cancelled. Default: the server's drainTimeoutMs. */
  drainTimeoutMs?: number;
}

/** Options of `handle`. */
export interface HandleOptions {
  /**
   * Registry metadata per method (`{Get: {...}}`), or a function of the
   * method name; merged over what the server writes itself (`stream`). How
   * toolkit parts learn about an endpoint: HTTP routes for the API gateway,
   * `stream: 'client' | 'bidi'` for handlers whose input is a stream. A
   * method named in the record but not in `handlers` is an error.
   */
  metadata?: Record<string, Metadata> | ((method: string) => Metadata | undefined);
  /**
   * Request and response schemas per method (`{Hello: {request, response}}`),
   * or a function of the method name. The server validates each request
   * (each message of an input stream) before the handler runs and answers
   * BAD_REQUEST naming the field; the JSON Schema of both sides is published
   * with the endpoint. Responses are not validated. See src/rpc/schema.ts.
   */
  schemas?: Record<string, EndpointSchemas> | ((method: string) => EndpointSchemas | undefined);
  /**
   * Message types per method (protobuf messages, adapted by
   * `micromesh/proto`): the handler gets its request as that type whatever
   * the caller's codec, its response is encoded as its type, and the
   * endpoint can be called with `application/protobuf`. The request is
   * then checked by its type, not by `schemas` (published only).
   */
  types?: Record<string, EndpointTypes> | ((method: string) => EndpointTypes | undefined);
}

/**
 * A validator following Standard Schema v1 (zod 4, valibot 1, arktype...),
 * the part the server uses; `jsonSchema` is the Standard JSON Schema
 * extension, present when the vendor can describe itself.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly jsonSchema?: {
      readonly input: (options: { target: string }) => Record<string, unknown>;
      readonly output: (options: { target: string }) => Record<string, unknown>;
    };
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` returns. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] };

export interface StandardIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** A plain JSON Schema document (draft 2020-12, or draft-07 when its `$schema` says so). */
export type JsonSchema = Record<string, unknown>;

/** One side of an endpoint: a Standard Schema validator or a plain JSON Schema. */
export type Schema = StandardSchemaV1 | JsonSchema;

/** What an endpoint takes and returns. */
export interface EndpointSchemas {
  request?: Schema;
  /** Documentation only: published, never checked. */
  response?: Schema;
}

export interface Server {
  /** The listening address once started (`host:port`). */
  readonly address: string | undefined;
  /** Exposes every method of `handlers` as endpoint `name.method`. */
  handle(name: string, handlers: object, opts?: HandleOptions): void;
  /** Serves `impl` as the endpoints `definition` describes (generated from `.proto`, or `defineService`). */
  handle<Impl extends object>(definition: ServiceDefinition<Impl>, impl: Impl, opts?: HandleOptions): void;
  /**
   * Exposes `handlers` as node-level endpoints under the reserved service
   * name `$mesh` (every server answers them; they are not registered).
   */
  handleInternal(name: string, handlers: object): void;
  /** Adds handler middleware; it applies to endpoints registered after it. */
  use(middleware: HandlerMiddleware): void;
  /** Idempotent. */
  start(opts?: ServerStartOptions): Promise<void>;
  /** Stops accepting, drains in-flight calls (bounded), then closes. Idempotent. */
  stop(opts?: ServerStopOptions): Promise<void>;
}

// ---------------------------------------------------------------- definitions

/** How a method streams: Go Micro's and gRPC's four kinds. */
export type MethodKind = 'unary' | 'server' | 'client' | 'bidi';

export interface MethodDefinition {
  /** The implementation's property that serves it (`hello` for endpoint method `Hello`). */
  readonly local: string;
  readonly kind: MethodKind;
  /** Message types: typed requests and responses in every codec, and `application/protobuf`. */
  readonly types?: EndpointTypes;
  /** Validation (without types) and the JSON Schemas published with the endpoint. */
  readonly schemas?: EndpointSchemas;
  /** Extra registry metadata of the endpoint. */
  readonly metadata?: Metadata;
}

/** A handler's endpoints `name.Method`, and (at the type level only) the implementation that serves them. */
export interface ServiceDefinition<Impl = unknown> {
  /** The handler's name: endpoints are `name.Method` (`Greeter.Hello`). */
  readonly name: string;
  /** By endpoint method name (`Hello`). */
  readonly methods: Readonly<Record<string, MethodDefinition>>;
  /** Never set: carries the implementation's type for `handle` and typed clients. */
  readonly '~impl'?: Impl;
}
