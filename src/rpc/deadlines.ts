import type { Clock, TimerHandle } from '../clock/types.ts';

/** Something that can expire; the wheel keeps its slot on it to remove it in O(1). */
export interface Expirable {
  deadlineSlot: number;
}

/**
 * A timing wheel for per-call deadlines. One Clock timer serves every pending
 * call: adding and removing an entry are a Set insert/delete (~40 ns), where
 * a Node timer per call costs ~400 ns with churn, which matters at 10^5
 * calls/s. Deadlines fire up to `resolutionMs` late, never early.
 */
export class DeadlineWheel<T extends Expirable> {
  private readonly buckets = new Map<number, Set<T>>();
  /** Min-heap of slots that have (or had) a bucket. */
  private readonly slots: number[] = [];
  private timer: TimerHandle | undefined;
  private armedSlot = Infinity;
  private readonly clock: Clock;
  private readonly resolutionMs: number;
  private readonly onExpire: (item: T) => void;

  constructor(clock: Clock, resolutionMs: number, onExpire: (item: T) => void) {
    this.clock = clock;
    this.resolutionMs = resolutionMs;
    this.onExpire = onExpire;
  }

  /** Schedules `item` to expire at clock time `at`. */
  add(item: T, at: number): void {
    const slot = Math.ceil(at / this.resolutionMs);
    item.deadlineSlot = slot;
    let bucket = this.buckets.get(slot);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(slot, bucket);
      this.pushSlot(slot);
    }
    bucket.add(item);
    if (slot < this.armedSlot) this.arm(slot);
  }

  /** Forgets `item` (it completed). A no-op if it already expired or was removed. */
  remove(item: T): void {
    // Empty buckets stay until their slot is pruned, so each bucket keeps
    // exactly one heap entry even when calls start and end within one slot.
    this.buckets.get(item.deadlineSlot)?.delete(item);
  }

  /** Number of pending entries (for tests and leak checks). */
  size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  /** Cancels the timer and forgets everything. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedSlot = Infinity;
    this.buckets.clear();
    this.slots.length = 0;
  }

  private arm(slot: number): void {
    this.clock.clearTimeout(this.timer);
    this.armedSlot = slot;
    this.timer = this.clock.setTimeout(() => this.fire(), slot * this.resolutionMs - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedSlot = Infinity;
    const nowSlot = Math.floor(this.clock.now() / this.resolutionMs);
    while (this.slots.length > 0 && this.slots[0]! <= nowSlot) {
      const slot = this.popSlot();
      const bucket = this.buckets.get(slot);
      if (bucket === undefined) continue;
      this.buckets.delete(slot);
      for (const item of bucket) this.onExpire(item);
    }
    // Prune buckets that emptied, then arm for the next live one.
    while (this.slots.length > 0 && (this.buckets.get(this.slots[0]!)?.size ?? 0) === 0) {
      this.buckets.delete(this.popSlot());
    }
    if (this.slots.length > 0) this.arm(this.slots[0]!);
  }

  private pushSlot(slot: number): void {
    const h = this.slots;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= h[i]!) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private popSlot(): number {
    const h = this.slots;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]! < h[m]!) m = l;
        if (r < h.length && h[r]! < h[m]!) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
