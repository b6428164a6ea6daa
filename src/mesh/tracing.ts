/**
 * Tracing glue: W3C trace context through calls, streams and messages, and
 * OpenTelemetry spans when an SDK is registered. It sits in the composition
 * layer because it spans rpc (metadata, middleware) and pubsub (headers).
 *
 * Propagation needs no code of its own: metadata follows the call chain
 * through the CallScope and publish merges it into headers, so a node with
 * no SDK passes `traceparent` on untouched. What this adds:
 * - with an SDK, a span per call, handled call, publish and delivery, whose
 *   context replaces the caller's in what the scope exposes (TracedContext),
 *   so the next hop's parent is this hop's span;
 * - deliveries put the message's trace context in scope (brokers deliver
 *   detached from any call), so a subscriber's calls continue its trace.
 *
 * Cost: without an SDK, one property read per call (is there a global
 * tracer provider?); @opentelemetry/api (~20 ms to load) is required only
 * once one is seen, so `import 'micromesh'` and services that never trace
 * do not pay for it.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';
import { MeshError, toMeshError } from '../errors/index.ts';
import { tryParseHostPort } from '../net/address.ts';
import type { BrokerMessage, Headers } from '../pubsub/types.ts';
import { INTERNAL_SERVICE } from '../rpc/internal.ts';
import { isAsyncIterable } from '../rpc/server-streams.ts';
import { REQUEST_ID, TRACEPARENT, TRACESTATE, acceptTraceState, parseTraceParent } from '../rpc/trace-context.ts';
import type {
  CallHandler, ClientMiddleware, ClientStream, EndpointInfo, Handler, HandlerContext, HandlerMiddleware, Metadata, OutgoingCall,
} from '../rpc/types.ts';
import {
  DeliveryContext, TracedClientStream, TracedContext, finishOnEnd, idsInScope, spanMetadata, type Finish,
} from './tracing-scope.ts';
import {
  ATTR, OPERATION, SYSTEM, TRACER_NAME, type TraceIds, type Tracing, type TracingOptions,
} from './tracing-types.ts';

type Api = typeof Otel;

/** Where @opentelemetry/api 1.x keeps its registered globals (its cross-copy contract). */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** Loaded synchronously on first need; the package is CommonJS, so `import()` would give the same module. */
const load = createRequire(import.meta.url);

/** Cached client span starts; callers naming endpoints at will get theirs built per call past this. */
const MAX_SPAN_STARTS = 1000;

/** A span's name and start options, built once. */
interface SpanStart {
  name: string;
  options: Otel.SpanOptions | undefined;
}

export function createTracing(opts: TracingOptions): Tracing {
  return new TracingImpl(opts);
}

class TracingImpl implements Tracing {
  readonly clientMiddleware: ClientMiddleware;
  readonly handlerMiddleware: HandlerMiddleware;
  private readonly o: TracingOptions;
  private api: Api | undefined;
  /** The global provider the cached tracer came from (a re-registration replaces it). */
  private provider: unknown;
  private tracer: Otel.Tracer | undefined;
  private invalid = 0;
  private readonly ratio: number;
  private readonly parentBased: boolean;
  /** Client span names and start options by callee service, then endpoint; bounded like the call metrics. */
  private readonly starts = new Map<string, Map<string, SpanStart>>();
  private startsSize = 0;

  constructor(o: TracingOptions) {
    const ratio = o.sampleRatio ?? 1;
    if (!(ratio >= 0 && ratio <= 1)) throw new MeshError('INVALID_CONFIG', `tracing.sampleRatio must be a number in [0, 1], got ${String(o.sampleRatio)}`);
    if (ratio < 1 && o.random === undefined) throw new MeshError('INVALID_CONFIG', 'tracing.sampleRatio below 1 needs a Random');
    this.ratio = ratio;
    this.parentBased = o.parentBased ?? true;
    this.o = o;
    this.clientMiddleware = (next) => (call) => this.outgoing(next, call);
    // Node plumbing ($mesh: broker batches, record fetches) is not the application's work.
    this.handlerMiddleware = (next, info) => {
      if (info.service === INTERNAL_SERVICE) return next;
      // Per endpoint, once: the span's name and start options (the SDK copies attributes, never mutates them).
      const start: SpanStart = { name: `${info.service}/${info.endpoint}`, options: undefined };
      return (req, ctx) => this.serve(next, info, start, req, ctx);
    };
  }

  /** A client span's name and options, built once per (service, endpoint) up to MAX_SPAN_STARTS, then per call. */
  private clientStart(api: Api, service: string, endpoint: string): Required<SpanStart> {
    let eps = this.starts.get(service);
    const hit = eps?.get(endpoint);
    if (hit !== undefined) return hit as Required<SpanStart>;
    const start = {
      name: `${service}/${endpoint}`,
      options: { kind: api.SpanKind.CLIENT, attributes: Object.freeze({ [ATTR.rpcSystem]: SYSTEM, [ATTR.rpcService]: service, [ATTR.rpcMethod]: endpoint }) },
    };
    if (this.startsSize < MAX_SPAN_STARTS) {
      if (eps === undefined) this.starts.set(service, (eps = new Map()));
      eps.set(endpoint, start);
      this.startsSize++;
    }
    return start;
  }

  /**
   * Head sampling before the SDK (`sampleRatio` below 1): a span whose
   * parent is sampled is always made and one whose parent is not never is
   * (traces stay whole); a new trace is started for that share of roots.
   * When it says no, the SDK is not asked at all, which is what makes
   * sampling off nearly free (the SDK makes ids for every span it is asked for).
   * With `parentBased` (the default) a span whose parent is unsampled is
   * never asked for at any ratio, as the SDK's default ParentBased sampler
   * would decide.
   */
  private admit(api: Api, parent: Otel.Context): boolean {
    const ratio = this.ratio;
    if (ratio >= 1 && !this.parentBased) return true;
    const sc = api.trace.getSpanContext(parent);
    if (sc !== undefined && api.trace.isSpanContextValid(sc)) return !this.parentBased || (sc.traceFlags & api.TraceFlags.SAMPLED) !== 0;
    return ratio >= 1 || (ratio > 0 && this.o.random!.next() < ratio);
  }

  stats(): { invalidTraceContext: number } {
    return { invalidTraceContext: this.invalid };
  }

  /** The tracer, when an SDK is registered (globally or given); undefined otherwise, at the cost of a property read. */
  private current(): Otel.Tracer | undefined {
    const given = this.o.tracerProvider;
    if (given !== undefined) {
      if (this.tracer === undefined) {
        this.api ??= load('@opentelemetry/api') as Api;
        this.tracer = given.getTracer(TRACER_NAME);
      }
      return this.tracer;
    }
    const provider = (globalThis as { [OTEL_GLOBAL]?: { trace?: Otel.TracerProvider } })[OTEL_GLOBAL]?.trace;
    if (provider === undefined) return undefined;
    if (provider !== this.provider) {
      this.api ??= load('@opentelemetry/api') as Api;
      this.provider = provider;
      // The global is a proxy; its delegate's tracer skips one indirection per span.
      const proxy = provider as Partial<Otel.ProxyTracerProvider>;
      this.tracer = proxy.getDelegateTracer?.(TRACER_NAME) ?? provider.getTracer(TRACER_NAME);
    }
    return this.tracer;
  }

  // ------------------------------------------------------------ parents

  /**
   * The parent of a span started here: the active OpenTelemetry span (user
   * code's own, or ours under a context manager), else a `traceparent` the
   * caller passed itself, else the call or delivery in scope.
   */
  private parent(api: Api, own: Readonly<Metadata> | undefined): Otel.Context {
    const active = api.context.active();
    if (api.trace.getSpan(active) !== undefined) return active;
    if (own?.[TRACEPARENT] !== undefined) return this.remote(api, active, own);
    const cur = this.o.scope.current();
    if (cur === undefined) return active;
    if (cur instanceof TracedContext && cur.otel !== undefined) return cur.otel;
    return this.remote(api, active, cur.metadata);
  }

  /** `base` with the remote span context `md` carries; `base` alone when it carries none or a malformed one (counted). */
  private remote(api: Api, base: Otel.Context, md: Readonly<Record<string, string>>): Otel.Context {
    const raw = md[TRACEPARENT];
    if (raw === undefined) return base;
    const tp = parseTraceParent(raw);
    if (tp === undefined) {
      this.invalid++;
      return base;
    }
    const state = acceptTraceState(md[TRACESTATE]);
    return api.trace.setSpanContext(base, {
      traceId: tp.traceId, spanId: tp.spanId, traceFlags: tp.flags, isRemote: true,
      traceState: state === undefined ? undefined : api.createTraceState(state),
    });
  }

  // ------------------------------------------------------------ RPC

  private outgoing(next: CallHandler, call: OutgoingCall): Promise<unknown> {
    if (call.service === INTERNAL_SERVICE) return next(call);
    const tracer = this.current();
    if (tracer === undefined) return next(call);
    const api = this.api!;
    const o = call.options;
    const parent = this.parent(api, o.metadata);
    if (!this.admit(api, parent)) return next(call);
    const start = this.clientStart(api, call.service, call.endpoint);
    const span = tracer.startSpan(start.name, start.options, parent);
    // Unsampled: the callee learns the decision (flags 00), so its side
    // neither asks its SDK nor starts an orphan trace of its own.
    if (!span.isRecording()) return next(withTraceContext(api, call, span));
    const target = o.address === undefined ? undefined : tryParseHostPort(o.address);
    if (target !== undefined) span.setAttributes({ [ATTR.serverAddress]: target.host, [ATTR.serverPort]: target.port });
    const finish = this.finisher(api, span, true);
    const traced = withTraceContext(api, call, span);
    // A stream's span ends with the stream, not when it opens.
    const opened = call.kind === 'unary' ? undefined : (s: unknown) => new TracedClientStream(s as ClientStream, finish);
    return settle(finish, () => next(traced), opened);
  }

  private serve(next: Handler, info: EndpointInfo, start: SpanStart, req: unknown, ctx: HandlerContext): unknown {
    const tracer = this.current();
    if (tracer === undefined) return next(req, ctx);
    const api = this.api!;
    // What a sampler may look at goes in at the start; the rest only into recorded spans.
    start.options ??= {
      kind: api.SpanKind.SERVER,
      attributes: Object.freeze({ [ATTR.rpcSystem]: SYSTEM, [ATTR.rpcService]: info.service, [ATTR.rpcMethod]: info.endpoint }),
    };
    // The caller decided not to sample (most calls, under a ratio sampler): nothing to parse or ask.
    if (this.parentBased && unsampled(ctx.metadata)) return next(req, ctx);
    // A server span's parent is the caller's, never whatever context the connection was opened in.
    const parent = this.remote(api, api.ROOT_CONTEXT, ctx.metadata);
    if (!this.admit(api, parent)) return next(req, ctx);
    const span = tracer.startSpan(start.name, start.options, parent);
    if (!span.isRecording()) return next(req, ctx);
    const peer = tryParseHostPort(ctx.remoteAddress);
    if (peer !== undefined) span.setAttributes({ [ATTR.peerAddress]: peer.host, [ATTR.peerPort]: peer.port });
    const otel = api.trace.setSpan(parent, span);
    const traced = new TracedContext(ctx, span, otel);
    // The server entered the call's context just before; this replaces it for the handler's turn.
    this.o.scope.enter(traced);
    const finish = this.finisher(api, span, true);
    const settled = (v: unknown): unknown => {
      if (isAsyncIterable(v)) return finishOnEnd(v, finish, (fn) => api.context.with(otel, fn));
      finish();
      return v;
    };
    let result: unknown;
    try {
      result = api.context.with(otel, next, undefined, req, traced);
    } catch (error) {
      finish({ error });
      throw error;
    }
    if (!(result instanceof Promise)) return settled(result);
    return result.then(settled, (error: unknown) => {
      finish({ error });
      throw error;
    });
  }

  // ------------------------------------------------------------ pubsub

  publish(topic: string, headers: Headers, own: Metadata | undefined, bodySize: number, send: () => Promise<void>): Promise<void> {
    const tracer = this.current();
    if (tracer === undefined) return send();
    const api = this.api!;
    const parent = this.parent(api, own);
    if (!this.admit(api, parent)) return send();
    const span = tracer.startSpan(`publish ${topic}`, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        [ATTR.messagingSystem]: SYSTEM, [ATTR.destination]: topic, [ATTR.operationType]: OPERATION.send,
        [ATTR.operationName]: 'publish', [ATTR.bodySize]: bodySize,
      },
    }, parent);
    if (headers[TRACESTATE] !== undefined) delete headers[TRACESTATE];
    // Unsampled too: subscribers follow the publisher's decision.
    if (api.trace.isSpanContextValid(span.spanContext())) Object.assign(headers, spanMetadata(span));
    if (!span.isRecording()) return send();
    return settle(this.finisher(api, span, false), send);
  }

  deliver(m: BrokerMessage, queue: string | undefined, run: (m: BrokerMessage) => Promise<void>): Promise<void> {
    const scope = this.o.scope;
    const tracer = this.current();
    const api = this.api;
    if (tracer === undefined || api === undefined) return this.passOn(m, run);
    if (this.parentBased && unsampled(m.headers)) return this.passOn(m, run);
    const parent = this.remote(api, api.ROOT_CONTEXT, m.headers);
    if (!this.admit(api, parent)) return this.passOn(m, run);
    const attributes: Otel.Attributes = {
      [ATTR.messagingSystem]: SYSTEM, [ATTR.destination]: m.topic, [ATTR.operationType]: OPERATION.process,
      [ATTR.operationName]: 'process', [ATTR.messageId]: m.id, [ATTR.bodySize]: m.body.length,
    };
    if (queue !== undefined) attributes[ATTR.consumerGroup] = queue;
    const span = tracer.startSpan(`process ${m.topic}`, { kind: api.SpanKind.CONSUMER, attributes }, parent);
    if (!span.isRecording()) return this.passOn(m, run);
    const otel = api.trace.setSpan(parent, span);
    const finish = this.finisher(api, span, false);
    const traced = new TracedContext(new DeliveryContext(this.o.service, m), span, otel);
    return settle(finish, () => scope.run(traced, (msg) => api.context.with(otel, run, undefined, msg), m));
  }

  /** No span: the message's trace context and request id still reach what the subscriber calls. */
  private passOn(m: BrokerMessage, run: (m: BrokerMessage) => Promise<void>): Promise<void> {
    const h = m.headers;
    if (h[TRACEPARENT] === undefined && h[REQUEST_ID] === undefined) return run(m);
    return this.o.scope.run(new TracedContext(new DeliveryContext(this.o.service, m)), run, m);
  }

  // ------------------------------------------------------------ spans

  /** Ends `span` once: OK, or ERROR with the MeshError code as `error.type` (and the RPC status for calls). */
  private finisher(api: Api, span: Otel.Span, rpc: boolean): Finish {
    return (err) => {
      if (err === undefined) {
        if (rpc) span.setAttribute(ATTR.rpcStatus, 'OK');
      } else {
        const e = toMeshError(err.error, 'micromesh');
        span.setAttribute(ATTR.errorType, e.code);
        if (rpc) span.setAttribute(ATTR.rpcStatus, e.code);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.detail });
      }
      span.end();
    };
  }

  currentIds(): TraceIds | undefined {
    const api = this.api;
    if (api !== undefined) {
      const sc = api.trace.getActiveSpan()?.spanContext();
      if (sc !== undefined && api.isSpanContextValid(sc)) return { traceId: sc.traceId, spanId: sc.spanId };
    }
    return idsInScope(this.o.scope.current());
  }
}

/**
 * Runs `run` and ends its span by the outcome: a throw or a rejection ends
 * it with the error (and is passed on); a result goes to `done`, by default
 * ending the span OK and passing the result on.
 */
function settle<T, R = T>(finish: Finish, run: () => Promise<T>, done?: (v: T) => R): Promise<R> {
  let p: Promise<T>;
  try {
    p = run();
  } catch (error) {
    finish({ error });
    throw error;
  }
  return p.then(done ?? ((v) => {
    finish();
    return v as unknown as R;
  }), (error: unknown) => {
    finish({ error });
    throw error;
  });
}

/** `call` carrying `span`'s trace context; unchanged when the span has none (tracing suppressed). */
function withTraceContext(api: Api, call: OutgoingCall, span: Otel.Span): OutgoingCall {
  if (!api.trace.isSpanContextValid(span.spanContext())) return call;
  const o = call.options;
  return { ...call, options: { ...o, metadata: { ...o.metadata, ...spanMetadata(span) } } };
}

/**
 * A version-00 `traceparent` whose flags say unsampled, read from its last
 * characters only: the common case under a ratio sampler skips parsing.
 * (A malformed one that ends the same way is passed on as is, unsampled.)
 */
function unsampled(md: Readonly<Record<string, string>>): boolean {
  const tp = md[TRACEPARENT];
  return tp !== undefined && tp.length === 55 && tp.charCodeAt(54) === 0x30 && tp.charCodeAt(53) === 0x30 && tp.startsWith('00-');
}
