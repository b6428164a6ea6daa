import type { Clock } from '../index.ts';

/** Whether an identity is on the allowlist: exact entries, or `*` matching any run of characters. */
export function allowlist(patterns: readonly string[]): (identity: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*'))
    .map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (identity) => exact.has(identity) || globs.some((g) => g.test(identity));
}

/**
 * A token bucket per identity: `burst` commands at once, then `ratePerMinute`
 * refilled evenly. Buckets that are full again are forgotten, so a room of
 * passers-by costs nothing once quiet.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; warned: boolean }>();
  private readonly perMs: number;
  private readonly clock: Clock;
  private readonly burst: number;

  constructor(clock: Clock, ratePerMinute: number, burst: number) {
    this.clock = clock;
    this.burst = burst;
    this.perMs = ratePerMinute / 60_000;
  }

  /** `ok`: run it; `warn`: refuse and say so (first refusal since the last allowed command); `drop`: refuse silently. */
  take(identity: string): 'ok' | 'warn' | 'drop' {
    const now = this.clock.now();
    const b = this.buckets.get(identity) ?? { tokens: this.burst, at: now, warned: false };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    this.buckets.set(identity, b);
    if (this.buckets.size > 10_000) this.sweep();
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.warned = false;
      return 'ok';
    }
    if (b.warned) return 'drop';
    b.warned = true;
    return 'warn';
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
  }
}
