/**
 * Call latencies in log-spaced buckets (1 % apart, from 10 µs): a window of
 * millions of calls costs a few kilobytes, and quantiles are within 1 %.
 */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private n = 0;
  private top = 0;
  private static readonly STEP = Math.log(1.01);

  record(ms: number): void {
    const b = ms <= 0.01 ? 0 : Math.ceil(Math.log(ms / 0.01) / LatencyHistogram.STEP);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.n++;
    if (ms > this.top) this.top = ms;
  }

  /** The latency below which a share `q` of calls completed, ms (rounded to 0.01). */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.round(Math.min(this.top, 0.01 * 1.01 ** b) * 100) / 100;
    }
    return this.max();
  }

  max(): number {
    return Math.round(this.top * 100) / 100;
  }
}
