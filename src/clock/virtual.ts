import type { Clock, TimerHandle } from './types.ts';
import { MinHeap } from './heap.ts';
import { sleepOn } from './util.ts';

interface VirtualTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: (() => void) | undefined; // undefined once fired or cancelled
}

/**
 * Virtual time for tests and the simulator. Nothing moves until `advance`,
 * `runUntil` or `runUntilIdle` is called; timers then fire in (time, creation)
 * order, each seeing `now()` equal to its due time. Timers are kept in a
 * binary min-heap with lazy deletion, so 10^5 pending timers stay cheap.
 */
export class VirtualClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly heap = new MinHeap<VirtualTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private cancelled = 0;

  private readonly epochMs: number;

  /** @param epochMs wall time reported at virtual time 0 */
  constructor(epochMs = 1_700_000_000_000) {
    this.epochMs = epochMs;
  }

  now(): number {
    return this.current;
  }

  wallTime(): number {
    return this.epochMs + this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { __timer: true, at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.heap.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const t = handle as VirtualTimer | undefined;
    if (t === undefined || t.fn === undefined) return;
    t.fn = undefined;
    this.cancelled++;
    // Rebuild when dead entries dominate, so cancelled timers can't grow the heap without bound.
    if (this.cancelled > 1024 && this.cancelled > this.heap.size / 2) this.compact();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal, true);
  }

  /** Number of timers still due to fire. */
  pending(): number {
    return this.heap.size - this.cancelled;
  }

  /** Time of the next live timer, or undefined when idle. */
  nextDue(): number | undefined {
    this.dropCancelledTop();
    return this.heap.peek()?.at;
  }

  /** Fires every timer due within `ms` from now, then sets now to now + ms. */
  advance(ms: number): void {
    this.runUntilTime(this.current + ms);
  }

  /** Fires every timer due at or before `t`, then sets now to `t` (if later). */
  runUntilTime(t: number): void {
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap.peek();
      if (top === undefined || top.at > t) break;
      this.fireTop();
    }
    if (t > this.current) this.current = t;
  }

  /**
   * Fires timers until `done()` is true (checked after each timer) or virtual
   * time would pass `limitMs` from now. Returns whether `done()` became true.
   */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.current + limitMs;
    while (!done()) {
      this.dropCancelledTop();
      const top = this.heap.peek();
      if (top === undefined || top.at > end) {
        if (end > this.current) this.current = end;
        return done();
      }
      this.fireTop();
    }
    return true;
  }

  /** Fires timers until none are left, or `maxTimers` have fired. Returns the count fired. */
  runUntilIdle(maxTimers = 1_000_000): number {
    let fired = 0;
    while (fired < maxTimers) {
      this.dropCancelledTop();
      if (this.heap.size === 0) break;
      this.fireTop();
      fired++;
    }
    return fired;
  }

  private fireTop(): void {
    const t = this.heap.pop()!;
    const fn = t.fn!;
    t.fn = undefined;
    if (t.at > this.current) this.current = t.at;
    fn();
  }

  private dropCancelledTop(): void {
    while (this.heap.size > 0 && this.heap.peek()!.fn === undefined) {
      this.heap.pop();
      this.cancelled--;
    }
  }

  private compact(): void {
    this.heap.retain((t) => t.fn !== undefined);
    this.cancelled = 0;
  }
}
