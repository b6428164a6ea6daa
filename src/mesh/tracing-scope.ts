/**
 * What tracing puts in the call scope, and the wrappers that end a span
 * when a stream ends. Only built for recording spans (and, without an SDK,
 * for deliveries that carry trace context), never on the plain call path.
 */
import type { Context, Span } from '@opentelemetry/api';
import { CONTENT_TYPE_HEADER, type BrokerMessage } from '../pubsub/types.ts';
import { REQUEST_ID, TRACEPARENT, TRACESTATE, formatTraceParent, parseTraceParent } from '../rpc/trace-context.ts';
import type { ClientStream, HandlerContext, Metadata } from '../rpc/types.ts';
import type { TraceIds } from './tracing-types.ts';

/** The trace-context metadata of a span: its `traceparent`, and its `tracestate` when it has one. */
export function spanMetadata(span: Span): Metadata {
  const sc = span.spanContext();
  const md: Metadata = { [TRACEPARENT]: formatTraceParent(sc.traceId, sc.spanId, sc.traceFlags) };
  const state = sc.traceState?.serialize();
  if (state !== undefined && state.length > 0) md[TRACESTATE] = state;
  return md;
}

/**
 * A handler's or subscriber's context as its scope exposes it: the same
 * call, but with its own span's trace context in place of the caller's,
 * so calls and publishes made inside inherit this span as their parent
 * (and a node without a client span still links to it). The metadata is
 * built on first read: a handler that calls nobody never formats it.
 */
export class TracedContext implements HandlerContext {
  private readonly inner: HandlerContext;
  /** This work's span; undefined when only passing trace context on (no SDK). */
  readonly span: Span | undefined;
  /** The OpenTelemetry context with `span` set: the parent of spans started under it. */
  readonly otel: Context | undefined;
  private meta: Readonly<Metadata> | undefined;

  constructor(inner: HandlerContext, span?: Span, otel?: Context) {
    this.inner = inner;
    this.span = span;
    this.otel = otel;
  }

  get service(): string {
    return this.inner.service;
  }

  get endpoint(): string {
    return this.inner.endpoint;
  }

  get deadline(): number | undefined {
    return this.inner.deadline;
  }

  get signal(): AbortSignal {
    return this.inner.signal;
  }

  get contentType(): string {
    return this.inner.contentType;
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get metadata(): Readonly<Metadata> {
    if (this.meta === undefined) {
      const own = this.inner.metadata;
      if (this.span === undefined) this.meta = own;
      else {
        // Without tracestate of its own, a caller's must not survive beside the new traceparent.
        const { [TRACESTATE]: _dropped, ...rest } = own;
        this.meta = { ...rest, ...spanMetadata(this.span) };
      }
    }
    return this.meta;
  }
}

/**
 * A delivery seen as a call in scope: the subscriber's calls and publishes
 * inherit the message's trace context and request id (only those: other
 * headers describe the message, not the work). No deadline, a signal that
 * never fires (a delivery is not cancelled by its publisher).
 */
export class DeliveryContext implements HandlerContext {
  readonly service: string;
  readonly endpoint: string;
  readonly metadata: Readonly<Metadata>;
  readonly deadline = undefined;
  readonly contentType: string;
  readonly remoteAddress = '';
  private aborts: AbortController | undefined;

  constructor(service: string, m: BrokerMessage) {
    this.service = service;
    this.endpoint = m.topic;
    this.contentType = m.headers[CONTENT_TYPE_HEADER] ?? '';
    this.metadata = pickPropagated(m.headers);
  }

  get signal(): AbortSignal {
    this.aborts ??= new AbortController();
    return this.aborts.signal;
  }
}

/** The headers a delivery passes on to the work it starts. */
export function pickPropagated(h: Readonly<Record<string, string>>): Metadata {
  const md: Metadata = {};
  const tp = h[TRACEPARENT];
  if (tp !== undefined) md[TRACEPARENT] = tp;
  const ts = h[TRACESTATE];
  if (ts !== undefined) md[TRACESTATE] = ts;
  const rid = h[REQUEST_ID];
  if (rid !== undefined) md[REQUEST_ID] = rid;
  return md;
}

/** Called once when traced work ends: no argument on success, the error on failure. */
export type Finish = (err?: { error: unknown }) => void;

/**
 * An AsyncIterable whose end (done, thrown, or abandoned with `return`)
 * finishes a span; each step runs under `step` (the span's OpenTelemetry
 * context), so a generator's body sees its span as active.
 */
export function finishOnEnd<T>(source: AsyncIterable<T>, finish: Finish, step: <R>(fn: () => R) => R): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let open = true;
      const end = (err?: { error: unknown }): void => {
        if (!open) return;
        open = false;
        finish(err);
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          try {
            const r = await step(() => it.next());
            if (r.done === true) end();
            return r;
          } catch (error) {
            end({ error });
            throw error;
          }
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          end();
          return it.return !== undefined ? it.return(value) : { done: true, value: value as T };
        },
      };
    },
  };
}

/** A ClientStream whose span ends with the stream: read to the end, failed, cancelled, or its single response settled. */
export class TracedClientStream<Req, Res> implements ClientStream<Req, Res> {
  private readonly inner: ClientStream<Req, Res>;
  private readonly finish: Finish;
  private open = true;

  constructor(inner: ClientStream<Req, Res>, finish: Finish) {
    this.inner = inner;
    this.finish = finish;
  }

  send(message: Req, opts?: { signal?: AbortSignal }): Promise<void> {
    return this.inner.send(message, opts);
  }

  end(): void {
    this.inner.end();
  }

  cancel(reason?: string): void {
    this.inner.cancel(reason);
    this.done();
  }

  async response(): Promise<Res> {
    try {
      const r = await this.inner.response();
      this.done();
      return r;
    } catch (error) {
      this.done({ error });
      throw error;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Res> {
    return finishOnEnd(this.inner, (err) => this.done(err), (fn) => fn())[Symbol.asyncIterator]();
  }

  private done(err?: { error: unknown }): void {
    if (!this.open) return;
    this.open = false;
    this.finish(err);
  }
}

/** Ids of the call or delivery in scope: its span, else the `traceparent` it came with. */
export function idsInScope(cur: HandlerContext | undefined): TraceIds | undefined {
  if (cur === undefined) return undefined;
  if (cur instanceof TracedContext && cur.span !== undefined) {
    const sc = cur.span.spanContext();
    return { traceId: sc.traceId, spanId: sc.spanId };
  }
  const tp = parseTraceParent(cur.metadata[TRACEPARENT]);
  return tp === undefined ? undefined : { traceId: tp.traceId, spanId: tp.spanId };
}
