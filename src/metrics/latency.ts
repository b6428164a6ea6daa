/**
 * Latency percentiles in fixed memory: a log-bucketed histogram (the
 * DDSketch idea without its collapsing, since the range is bounded).
 * Bucket i > 0 holds values in (min·γ^(i-1), min·γ^i] with
 * γ = (1+α)/(1-α); reporting 2·min·γ^i/(γ+1) for it is within relative error
 * α of any value in it. Recording is one log, one increment: no allocation,
 * so it can sit on the RPC hot path.
 */
import { MeshError } from '../errors/index.ts';

const invalid = (detail: string): MeshError => new MeshError('INVALID_CONFIG', detail);

/** Percentiles of a set of durations, ms. All 0 when `count` is 0. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  /** Exact largest value recorded. */
  max: number;
  count: number;
}

export interface LatencySketchOptions {
  /** Relative error of a reported percentile, (0, 0.5]. Default 0.05. */
  relativeError?: number;
  /** Smallest value told apart, ms; smaller ones count as it. Default 0.001 (1 µs). */
  minMs?: number;
  /** Largest value told apart, ms; larger ones share the top bucket (`max` stays exact). Default 600000 (10 min). */
  maxMs?: number;
}

/** Nearest-rank percentile: the smallest recorded value with at least q·count values at or below it. */
export class LatencySketch {
  readonly relativeError: number;
  readonly minMs: number;
  readonly maxMs: number;
  private readonly gamma: number;
  private readonly logGamma: number;
  /** Float64 so counts never wrap (exact up to 2^53). */
  private readonly counts: Float64Array;
  private n = 0;
  private total = 0;
  private lo = Infinity;
  private hi = 0;

  constructor(opts: LatencySketchOptions = {}) {
    const a = opts.relativeError ?? 0.05;
    const min = opts.minMs ?? 0.001;
    const max = opts.maxMs ?? 600_000;
    if (!(a > 0 && a <= 0.5)) throw invalid(`latency.relativeError must be a number in (0, 0.5], got ${a}`);
    if (!(min > 0 && Number.isFinite(min))) throw invalid(`latency.minMs must be a finite number above 0, got ${min}`);
    if (!(max > min && Number.isFinite(max))) throw invalid(`latency.maxMs must be a finite number above minMs (${min}), got ${max}`);
    this.relativeError = a;
    this.minMs = min;
    this.maxMs = max;
    this.gamma = (1 + a) / (1 - a);
    this.logGamma = Math.log(this.gamma);
    this.counts = new Float64Array(Math.ceil(Math.log(max / min) / this.logGamma) + 1);
  }

  /** Number of buckets (memory is 8 bytes each). */
  get buckets(): number {
    return this.counts.length;
  }

  get count(): number {
    return this.n;
  }

  /** Sum of the values recorded, ms, exact (a Prometheus histogram's `_sum`). */
  get sum(): number {
    return this.total;
  }

  /**
   * Values at or below each bound (ascending, ms): a Prometheus histogram's
   * cumulative buckets. A sketch bucket is counted under the first bound its
   * upper edge does not exceed, so a count is exact up to the sketch's
   * relative error around the bound.
   */
  cumulative(boundsMs: readonly number[]): number[] {
    const out = new Array<number>(boundsMs.length).fill(0);
    let b = 0;
    let seen = 0;
    for (let i = 0; i < this.counts.length && b < boundsMs.length; i++) {
      const upper = i === 0 ? this.minMs : this.minMs * this.gamma ** i;
      while (b < boundsMs.length && upper > boundsMs[b]!) out[b++] = seen;
      seen += this.counts[i]!;
    }
    while (b < boundsMs.length) out[b++] = seen;
    return out;
  }

  /** Largest value recorded, exact; 0 when empty. */
  get max(): number {
    return this.hi;
  }

  /** Adds one duration, ms. Negative, NaN or infinite values count as 0 (a clock can't go back; bad input must not poison the sketch). */
  record(ms: number): void {
    if (!(ms >= 0 && ms < Infinity)) ms = 0;
    this.counts[this.indexOf(ms)]!++;
    this.n++;
    this.total += ms;
    if (ms > this.hi) this.hi = ms;
    if (ms < this.lo) this.lo = ms;
  }

  /** Forgets everything recorded; keeps the memory. */
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.total = 0;
    this.lo = Infinity;
    this.hi = 0;
  }

  /** The q-quantile (q in [0, 1]), within `relativeError` of the exact nearest-rank value; 0 when empty. */
  quantile(q: number): number {
    return quantileOf(this, undefined, q);
  }

  summary(): LatencySummary {
    return summaryOf(this, undefined);
  }

  /** Bucket of a value (clamped to the first and last bucket). */
  private indexOf(ms: number): number {
    if (ms <= this.minMs) return 0;
    const i = Math.ceil(Math.log(ms / this.minMs) / this.logGamma);
    return i < this.counts.length ? i : this.counts.length - 1;
  }

  /** @internal the value reported for bucket i. */
  representative(i: number): number {
    return i === 0 ? this.minMs : (2 * this.minMs * this.gamma ** i) / (this.gamma + 1);
  }

  /** @internal */
  bucketCount(i: number): number {
    return this.counts[i]!;
  }

  /** @internal smallest value recorded (Infinity when empty). */
  get low(): number {
    return this.lo;
  }
}

/**
 * The q-quantile of one sketch, or of two with the same options taken
 * together (walking both at once, nothing merged or allocated).
 */
function quantileOf(a: LatencySketch, b: LatencySketch | undefined, q: number): number {
  const n = a.count + (b?.count ?? 0);
  if (n === 0) return 0;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * n));
  const lo = Math.min(a.low, b?.low ?? Infinity);
  const hi = Math.max(a.max, b?.max ?? 0);
  // The extremes are known exactly, even outside [minMs, maxMs].
  if (rank === 1) return lo;
  if (rank === n) return hi;
  let seen = 0;
  for (let i = 0; i < a.buckets; i++) {
    seen += a.bucketCount(i) + (b?.bucketCount(i) ?? 0);
    // Clamping to what was seen keeps the answer inside the bucket's true values (and exact for single values).
    if (seen >= rank) return Math.min(hi, Math.max(lo, a.representative(i)));
  }
  return hi;
}

function summaryOf(a: LatencySketch, b: LatencySketch | undefined): LatencySummary {
  return {
    p50: quantileOf(a, b, 0.5),
    p90: quantileOf(a, b, 0.9),
    p99: quantileOf(a, b, 0.99),
    max: Math.max(a.max, b?.max ?? 0),
    count: a.count + (b?.count ?? 0),
  };
}

export interface WindowedLatencyOptions extends LatencySketchOptions {
  /** Length of each of the two alternating halves, ms. Default 30000: percentiles cover the last 30 to 60 s. */
  halfWindowMs?: number;
}

/**
 * Percentiles of recent durations: two sketches of `halfWindowMs` each, the
 * current one and the previous, rotated lazily by the times passed in (no
 * timer to own or stop). Figures cover the previous half plus the current
 * one so far, between one and two halves, so they describe now, not since boot.
 */
export class WindowedLatency {
  readonly halfWindowMs: number;
  private current: LatencySketch;
  private previous: LatencySketch;
  /** When the current half began. */
  private start: number;
  private readonly created: number;

  /** @param now the caller's clock reading (Clock.now), the same time base as later calls */
  constructor(now: number, opts: WindowedLatencyOptions = {}) {
    const half = opts.halfWindowMs ?? 30_000;
    if (!(half > 0 && Number.isFinite(half))) throw invalid(`latency.halfWindowMs must be a finite number above 0, got ${half}`);
    this.halfWindowMs = half;
    this.current = new LatencySketch(opts);
    this.previous = new LatencySketch(opts);
    this.start = now;
    this.created = now;
  }

  record(ms: number, now: number): void {
    if (now - this.start >= this.halfWindowMs) this.rotate(now);
    this.current.record(ms);
  }

  /** Percentiles of the window ending at `now`. */
  summary(now: number): LatencySummary {
    if (now - this.start >= this.halfWindowMs) this.rotate(now);
    return summaryOf(this.current, this.previous);
  }

  /** The q-quantile of the window ending at `now`. */
  quantile(q: number, now: number): number {
    if (now - this.start >= this.halfWindowMs) this.rotate(now);
    return quantileOf(this.current, this.previous, q);
  }

  /** How much time the window's figures cover at `now`, ms (less than two halves early on). */
  spanMs(now: number): number {
    if (now - this.start >= this.halfWindowMs) this.rotate(now);
    return Math.min(now - this.created, this.halfWindowMs + (now - this.start));
  }

  private rotate(now: number): void {
    const halves = Math.floor((now - this.start) / this.halfWindowMs);
    // Swap rather than allocate: the old previous becomes the new, empty, current.
    const old = this.previous;
    this.previous = this.current;
    this.current = old;
    this.current.reset();
    // Two or more halves without a record: the previous half is stale too.
    if (halves >= 2) this.previous.reset();
    this.start += halves * this.halfWindowMs;
  }
}
