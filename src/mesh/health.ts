import type { Clock } from '../clock/types.ts';
import { MeshError, toMeshError } from '../errors/index.ts';
import { LatencySketch, WindowedLatency, type LatencySummary } from '../metrics/latency.ts';
import type { MetricFamily } from '../metrics/types.ts';
import { INTERNAL_SERVICE } from '../rpc/internal.ts';
import { CallSlot, callFamilies } from '../metrics/calls.ts';
import type { EndpointInfo, Handler, HandlerContext, HandlerMiddleware } from '../rpc/types.ts';

/** One endpoint's share of {@link DebugStats}. */
export interface DebugEndpointStats {
  /** Calls answered (successes and failures) since the service was created. */
  served: number;
  /** Failures by MeshError code since the service was created (untyped throws count as INTERNAL). */
  errors: Record<string, number>;
  /** Median and 99th percentile handler time over the recent window, ms (0 without calls in it). */
  p50: number;
  p99: number;
}

/**
 * What `Debug.Stats` answers. Counts (`served`, `errors`) are totals since
 * the service was created: a dashboard computes rates from the deltas
 * between two polls. Latency is handler time on this node's Clock, ms,
 * measured around the handler and the handler middleware (so a call an auth
 * middleware refuses counts, with its code); for a streamed response, until
 * the stream ends. `$mesh` plumbing and `Debug.*` are left out.
 */
export interface DebugStats {
  /** Since the last start. */
  uptimeMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** The RPC layer's counters (Service.stats()). */
  rpc: Record<string, number>;
  /** Calls answered since the service was created. */
  served: number;
  /** Failures by code since the service was created. */
  errors: Record<string, number>;
  /** Percentiles over the recent window (see `recentWindowMs`): latency now. Server streams are counted in `served`, not timed. */
  latencyMs: LatencySummary;
  /** Percentiles since the service was created. */
  latencyMsSinceStart: LatencySummary;
  /** Time `latencyMs` and the endpoints' p50/p99 cover, ms: 30 to 60 s once running that long. */
  recentWindowMs: number;
  /** The service's own endpoints that were called at least once (or registered), by `Name.Method`. */
  endpoints: Record<string, DebugEndpointStats>;
}

class Slot {
  readonly recent: WindowedLatency;
  /** Since-start outcomes by code (bounded: see CallSlot) and latency, for Debug.Stats and the metrics alike. */
  readonly metric: CallSlot;

  constructor(now: number, service: string, endpoint: string) {
    this.recent = new WindowedLatency(now);
    this.metric = new CallSlot(service, endpoint);
  }
}

/**
 * Counts and times the calls a service serves, as a handler middleware.
 * Each endpoint's slot is resolved once, when the middleware wraps it, so a
 * call costs two clock reads, a few increments and two bucket bumps; only an
 * async handler's `then` allocates (as any middleware awaiting it would).
 */
export class CallStats {
  private readonly clock: Clock;
  private readonly service: string;
  private readonly slots = new Map<string, Slot>();
  private readonly total = new LatencySketch();
  private readonly recent: WindowedLatency;

  constructor(clock: Clock, service: string) {
    this.clock = clock;
    this.service = service;
    this.recent = new WindowedLatency(clock.now());
  }

  /** Install before any other middleware and before any handler is registered (it sees only endpoints registered after it). */
  readonly middleware: HandlerMiddleware = (next: Handler, info: EndpointInfo): Handler => {
    if (info.service === INTERNAL_SERVICE || info.endpoint.startsWith('Debug.')) return next;
    let slot = this.slots.get(info.endpoint);
    if (slot === undefined) this.slots.set(info.endpoint, (slot = new Slot(this.clock.now(), this.service, info.endpoint)));
    const s = slot;
    return (request: unknown, ctx: HandlerContext) => {
      const t0 = this.clock.now();
      let r: unknown;
      try {
        r = next(request, ctx);
      } catch (err) {
        this.done(s, t0, codeOf(err));
        throw err;
      }
      if (r instanceof Promise) {
        return r.then((v: unknown) => this.settled(s, t0, v), (err: unknown) => {
          this.done(s, t0, codeOf(err));
          throw err;
        });
      }
      return this.settled(s, t0, r);
    };
  };

  /**
   * A streamed response is counted when it ends (its outcome), but its
   * duration is how long the caller listened, not a latency: it stays out of
   * the percentiles. Anything else is done now.
   */
  private settled(s: Slot, t0: number, v: unknown): unknown {
    if (isAsyncIterable(v)) return new MeasuredStream(v, (code) => this.done(s, t0, code, false));
    this.done(s, t0, undefined);
    return v;
  }

  /** `code`: the failure's code, undefined for a success; `timed`: whether the duration is a latency. */
  private done(s: Slot, t0: number, code: string | undefined, timed = true): void {
    s.metric.count(code ?? 'OK');
    if (timed) {
      const now = this.clock.now();
      const ms = now - t0;
      this.total.record(ms);
      this.recent.record(ms, now);
      s.recent.record(ms, now);
      s.metric.latency.record(ms);
    }
  }

  /** Server-side call metrics (`inFlight`: calls being served now). */
  families(inFlight: number): MetricFamily[] {
    return callFamilies('server', [...this.slots.values()].map((s) => s.metric), inFlight);
  }

  /** The call figures of {@link DebugStats}. */
  snapshot(): Pick<DebugStats, 'served' | 'errors' | 'latencyMs' | 'latencyMsSinceStart' | 'recentWindowMs' | 'endpoints'> {
    const now = this.clock.now();
    const endpoints: Record<string, DebugEndpointStats> = {};
    let served = 0;
    const errors: Record<string, number> = {};
    for (const [name, s] of this.slots) {
      // Served and errors are the slot's outcomes: everything, and everything but OK.
      const own: Record<string, number> = {};
      let n = 0;
      for (const [code, count] of s.metric.codes) {
        n += count;
        if (code === 'OK') continue;
        own[code] = count;
        errors[code] = (errors[code] ?? 0) + count;
      }
      served += n;
      endpoints[name] = { served: n, errors: own, p50: round(s.recent.quantile(0.5, now)), p99: round(s.recent.quantile(0.99, now)) };
    }
    return {
      served,
      errors,
      latencyMs: rounded(this.recent.summary(now)),
      latencyMsSinceStart: rounded(this.total.summary()),
      recentWindowMs: Math.round(this.recent.spanMs(now)),
      endpoints,
    };
  }
}

/** The code the caller sees for a thrown value (the server converts it the same way). */
function codeOf(err: unknown): string {
  return err instanceof MeshError ? err.code : toMeshError(err).code;
}

/** Microsecond precision is plenty for a dashboard and keeps the JSON short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function rounded(s: LatencySummary): LatencySummary {
  return { p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max), count: s.count };
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * A response stream that reports once when it ends: done (success), failed
 * (its code), or stopped early by the server (`return()`: the caller
 * cancelled or a message was refused), which counts as CANCELLED. A stream
 * the server never starts reading (the caller already gone) is not counted.
 */
class MeasuredStream implements AsyncIterableIterator<unknown> {
  private it: AsyncIterator<unknown> | undefined;
  private open = true;
  private readonly source: AsyncIterable<unknown>;
  private readonly end: (code: string | undefined) => void;

  constructor(source: AsyncIterable<unknown>, end: (code: string | undefined) => void) {
    this.source = source;
    this.end = end;
  }

  [Symbol.asyncIterator](): this {
    this.it ??= this.source[Symbol.asyncIterator]();
    return this;
  }

  async next(): Promise<IteratorResult<unknown>> {
    this.it ??= this.source[Symbol.asyncIterator]();
    try {
      const r = await this.it.next();
      if (r.done === true) this.finish(undefined);
      return r;
    } catch (err) {
      this.finish(codeOf(err));
      throw err;
    }
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    this.finish('CANCELLED');
    return (await this.it?.return?.(value)) ?? { done: true, value };
  }

  async throw(err?: unknown): Promise<IteratorResult<unknown>> {
    this.finish(codeOf(err));
    if (this.it?.throw === undefined) throw err;
    return this.it.throw(err);
  }

  private finish(code: string | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.end(code);
  }
}

/**
 * Go Micro's built-in `Debug` handler: `Debug.Health` answers `{status: 'ok'}`
 * while the service runs (what `micromesh health` and load balancers call),
 * `Debug.Stats` answers {@link DebugStats}.
 */
export function debugHandler(clock: Clock, started: () => number, stats: () => Record<string, number>, calls: CallStats) {
  return {
    Health: () => ({ status: 'ok' }),
    Stats: (): DebugStats => {
      const m = process.memoryUsage();
      return {
        uptimeMs: Math.round(clock.now() - started()),
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        rpc: stats(),
        ...calls.snapshot(),
      };
    },
  };
}
