/**
 * Named monotonic counters kept by each component (dropped packets, malformed
 * frames, retries...). Increments are plain property bumps so they cost
 * nothing on hot paths; exporters (Prometheus, the dashboard) read
 * `snapshot()`. The key set is fixed at construction, so a typo is a type
 * error rather than a silently new counter.
 */
export class Counters<K extends string> {
  private readonly values: Record<K, number>;

  constructor(keys: readonly K[]) {
    this.values = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  }

  inc(key: K, n = 1): void {
    this.values[key] += n;
  }

  get(key: K): number {
    return this.values[key];
  }

  snapshot(): Readonly<Record<K, number>> {
    return { ...this.values };
  }
}
