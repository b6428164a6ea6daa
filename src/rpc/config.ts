import * as v from 'valibot';
import { intIn, oneOf, parseConfig, definedOnly } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';

/** Limits and timings of the RPC layer. Every limit is explicit (DEVELOPERS.md rule 6). */
export interface RpcConfig {
  /**
   * Largest message (frame payload) sent or accepted, bytes. Default 4 MiB.
   * A larger request fails locally with FRAME_TOO_LARGE; a larger response is
   * replaced by that error; the connection keeps serving other calls.
   */
  maxFrameBytes: number;
  /**
   * Flow-control window per stream, bytes. A stream's sender may have at most
   * this much (plus one message) unread at the receiver. Default 1 MiB.
   */
  initialWindowBytes: number;
  /** Most concurrent streams a peer may open on one connection; beyond, new ones fail with UNAVAILABLE. Default 16384. */
  maxConcurrentStreams: number;
  /** Most distinct (service, endpoint, content type) routes per connection direction before routes go inline. Default 4096. */
  maxRoutes: number;
  /** Ping an idle connection this often, ms; 0 disables. Default 15000. */
  keepaliveIntervalMs: number;
  /** Close a connection whose ping is unanswered this long, ms. Default 10000. */
  keepaliveTimeoutMs: number;
  /**
   * With calls waiting on a connection and nothing received for this long,
   * ms, ping it (a live peer answers even while its handlers are slow).
   * 0 turns the silence watch off. Default 100.
   */
  silenceProbeMs: number;
  /**
   * Nothing received for this long with calls waiting, ms: those calls are
   * cancelled with UNAVAILABLE (retryable, so the caller's retries go to
   * another node; a call that is not safe to repeat should set retries 0),
   * the peer is reported silent and new calls go to other nodes. Default 200.
   */
  silenceSuspectMs: number;
  /** Nothing received for this long with calls waiting, ms: the connection is closed (CONNECTION_LOST). Default 2000. */
  silenceTimeoutMs: number;
  /** How long `server.stop()` waits for in-flight calls, ms. Default 10000. */
  drainTimeoutMs: number;
  /**
   * A connection that carried no stream for this long, ms, is closed
   * gracefully (GoAway `idle`, both sides agree, nothing in flight is lost);
   * the next call dials again. Checked on the keepalive timer, so it fires
   * up to min(keepaliveIntervalMs, keepaliveTimeoutMs) late and never with
   * keepalives off. 0 keeps connections until a side stops. Default 120000.
   */
  idleTimeoutMs: number;
  /** Connect timeout, ms, of a connection no call is waiting on; a call's own timeout also bounds its wait for one. Default 5000. */
  dialTimeoutMs: number;
  /** Granularity of call deadlines, ms: they fire up to this late. Default 5. */
  deadlineResolutionMs: number;
  /** Default per-attempt call timeout, ms, connecting included. Default 5000. */
  callTimeoutMs: number;
  /** Default retries on retryable errors. Default 1. */
  retries: number;
  /**
   * Write queued small frames once this many bytes are waiting, instead of
   * only at the end of the event-loop turn. Smaller values overlap the two
   * ends of a busy connection better at the cost of more syscalls; 2 KiB was
   * the best on loopback with 64 calls in flight (bench/rpc.ts). Default 2048.
   */
  flushBytes: number;
  /**
   * When queued frames are written: `tick`, at the end of the current
   * callback (lowest latency; a process whose calls come from one place,
   * e.g. a service calling another); `iteration`, at the end of the event
   * loop iteration, so frames made by every socket read of that iteration
   * share one write: for fan-in processes, where many connections each
   * cause a call (the API gateway: 64 HTTP connections into one RPC
   * connection cost 56 instead of 78 µs per request, and the service behind
   * it 6 instead of 22). Default `tick`.
   */
  flush: 'tick' | 'iteration';
  /**
   * Largest size, bytes, of an endpoint's request and response JSON Schemas
   * together for them to ride in its registry metadata; larger ones are
   * published as a `schema-ref` digest and fetched on demand, so a few big
   * schemas don't bloat every member record the mesh gossips. 0 always
   * publishes refs. Default 1024.
   */
  schemaInlineBytes: number;
}

export const RPC_DEFAULTS: Readonly<RpcConfig> = Object.freeze({
  maxFrameBytes: 4 << 20,
  initialWindowBytes: 1 << 20,
  maxConcurrentStreams: 16_384,
  maxRoutes: 4096,
  keepaliveIntervalMs: 15_000,
  keepaliveTimeoutMs: 10_000,
  silenceProbeMs: 100,
  silenceSuspectMs: 200,
  silenceTimeoutMs: 2000,
  drainTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  dialTimeoutMs: 5000,
  deadlineResolutionMs: 5,
  callTimeoutMs: 5000,
  retries: 1,
  flushBytes: 2048,
  flush: 'tick',
  schemaInlineBytes: 1024,
});

const schema = v.strictObject({
  maxFrameBytes: intIn(1024, 256 << 20),
  initialWindowBytes: intIn(64 * 1024, 1 << 30),
  maxConcurrentStreams: intIn(1, 1 << 20),
  maxRoutes: intIn(1, 0xfffe),
  keepaliveIntervalMs: intIn(0, 3_600_000),
  keepaliveTimeoutMs: intIn(10, 3_600_000),
  silenceProbeMs: intIn(0, 60_000),
  silenceSuspectMs: intIn(1, 600_000),
  silenceTimeoutMs: intIn(1, 3_600_000),
  drainTimeoutMs: intIn(0, 3_600_000),
  idleTimeoutMs: intIn(0, 86_400_000),
  dialTimeoutMs: intIn(1, 600_000),
  deadlineResolutionMs: intIn(1, 1000),
  callTimeoutMs: intIn(0, 86_400_000),
  retries: intIn(0, 100),
  flushBytes: intIn(256, 16 << 20),
  flush: oneOf(['tick', 'iteration']),
  schemaInlineBytes: intIn(0, 64 * 1024),
});

/** Defaults overlaid with `overrides` (undefined fields ignored), validated. */
export function resolveRpcConfig(overrides?: Partial<RpcConfig>): RpcConfig {
  const c = parseConfig(schema, { ...RPC_DEFAULTS, ...definedOnly(overrides) }, 'rpc');
  if (c.silenceProbeMs > 0 && !(c.silenceProbeMs < c.silenceSuspectMs && c.silenceSuspectMs < c.silenceTimeoutMs)) {
    throw new MeshError('INVALID_CONFIG', `rpc.silenceProbeMs (${c.silenceProbeMs}) < rpc.silenceSuspectMs (${c.silenceSuspectMs}) < rpc.silenceTimeoutMs (${c.silenceTimeoutMs}) must hold`);
  }
  return c;
}
