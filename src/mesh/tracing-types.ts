/**
 * Tracing's interface and the names it writes: the attributes of the
 * OpenTelemetry RPC and messaging semantic conventions it uses, defined once
 * here rather than through @opentelemetry/semantic-conventions (a large
 * package for a dozen strings).
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Random } from '../clock/types.ts';
import type { BrokerMessage, Headers } from '../pubsub/types.ts';
import type { CallScope } from '../rpc/scope.ts';
import type { ClientMiddleware, HandlerMiddleware, Metadata } from '../rpc/types.ts';

/** `rpc.system` and `messaging.system`: the protocol is micromesh's own. */
export const SYSTEM = 'micromesh';
/** Instrumentation scope name of every span. */
export const TRACER_NAME = 'micromesh';

export const ATTR = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  /** `OK`, or the MeshError code the call failed with. */
  rpcStatus: 'rpc.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  peerAddress: 'network.peer.address',
  peerPort: 'network.peer.port',
  errorType: 'error.type',
  messagingSystem: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  consumerGroup: 'messaging.consumer.group.name',
} as const;

/** `messaging.operation.type` values (`send` replaced `publish` in the conventions). */
export const OPERATION = { send: 'send', process: 'process' } as const;

export interface TracingOptions {
  /** The service's name (the scope a delivery runs in names it). */
  service: string;
  /** The service's call scope: what a handler or subscriber is serving, and so the parent of what it calls. */
  scope: CallScope;
  /** A provider to use instead of the global one (`trace.setGlobalTracerProvider`). */
  tracerProvider?: TracerProvider;
  /** Share of new traces to make spans for, before the SDK's own sampler; see ServiceOptions.tracing. Default 1. */
  sampleRatio?: number;
  /** Follow a valid parent's sampled flag without asking the SDK (its default sampler does the same). Default true. */
  parentBased?: boolean;
  /** Draws for `sampleRatio` (required below 1). */
  random?: Random;
}

/** Trace and span id of the work in progress, for log lines. */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/**
 * Propagation of W3C trace context and, when an OpenTelemetry SDK is
 * registered, spans: CLIENT per outgoing call or stream, SERVER per handled
 * call, PRODUCER per publish, CONSUMER per delivery.
 */
export interface Tracing {
  /** Outermost client middleware: a CLIENT span, its context injected into the call's metadata. */
  readonly clientMiddleware: ClientMiddleware;
  /** Handler middleware: a SERVER span, made the parent of what the handler calls and publishes. */
  readonly handlerMiddleware: HandlerMiddleware;
  /**
   * A publish: a PRODUCER span whose context goes into `headers` (the
   * message's own, changed in place) before `send` runs. `own` is the
   * metadata the publisher passed, which may name a parent.
   */
  publish(topic: string, headers: Headers, own: Metadata | undefined, bodySize: number, send: () => Promise<void>): Promise<void>;
  /**
   * A delivery to a subscriber of queue group `queue` (or none): runs `run`
   * with the message's trace context (and a CONSUMER span) current, so what
   * the subscriber calls or publishes continues the publisher's trace.
   */
  deliver(message: BrokerMessage, queue: string | undefined, run: (message: BrokerMessage) => Promise<void>): Promise<void>;
  /** Ids for a log line written now: the active span, else the call or delivery in scope. */
  currentIds(): TraceIds | undefined;
  /** Incoming trace context that was malformed and ignored. */
  stats(): { invalidTraceContext: number };
}
