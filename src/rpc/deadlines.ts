import { MinHeap } from '../clock/heap.ts';
import type { Clock, TimerHandle } from '../clock/types.ts';

/**
 * Something that can expire. The wheel links items into per-slot lists
 * through these fields (intrusive, so adding and removing never hashes an
 * object); implementations initialise them to undefined in their constructor.
 */
export interface Expirable {
  dlBucket: Bucket | undefined;
  dlPrev: Expirable | undefined;
  dlNext: Expirable | undefined;
}

/** The calls due in one slot, as a doubly-linked list. */
export interface Bucket {
  slot: number;
  head: Expirable | undefined;
}

/**
 * A timing wheel for per-call deadlines. One Clock timer serves every pending
 * call; adding and removing an entry are a few pointer writes (a Node timer
 * per call costs ~400 ns with churn, a Set of calls per slot ~380 ns, both of
 * which show at 10^5 calls/s). Deadlines fire up to `resolutionMs` late,
 * never early.
 */
export class DeadlineWheel<T extends Expirable> {
  private readonly buckets = new Map<number, Bucket>();
  /** Min-heap of the slots that have a bucket (one entry per bucket). */
  private readonly slots = new MinHeap<number>((a, b) => a < b);
  private timer: TimerHandle | undefined;
  private armedSlot = Infinity;
  private count = 0;
  private readonly clock: Clock;
  private readonly resolutionMs: number;
  private readonly onExpire: (item: T) => void;

  constructor(clock: Clock, resolutionMs: number, onExpire: (item: T) => void) {
    this.clock = clock;
    this.resolutionMs = resolutionMs;
    this.onExpire = onExpire;
  }

  /** Schedules `item` to expire at clock time `at`. The item must not be scheduled already. */
  add(item: T, at: number): void {
    const slot = Math.ceil(at / this.resolutionMs);
    let bucket = this.buckets.get(slot);
    if (bucket === undefined) {
      bucket = { slot, head: undefined };
      this.buckets.set(slot, bucket);
      this.slots.push(slot);
    }
    item.dlBucket = bucket;
    item.dlPrev = undefined;
    item.dlNext = bucket.head;
    if (bucket.head !== undefined) bucket.head.dlPrev = item;
    bucket.head = item;
    this.count++;
    if (slot < this.armedSlot) this.arm(slot);
  }

  /** Forgets `item` (it completed). A no-op if it already expired or was removed. */
  remove(item: T): void {
    const bucket = item.dlBucket;
    if (bucket === undefined) return;
    // Empty buckets stay until their slot is pruned, so each keeps exactly one heap entry.
    if (item.dlPrev !== undefined) item.dlPrev.dlNext = item.dlNext;
    else bucket.head = item.dlNext;
    if (item.dlNext !== undefined) item.dlNext.dlPrev = item.dlPrev;
    item.dlBucket = undefined;
    item.dlPrev = undefined;
    item.dlNext = undefined;
    this.count--;
  }

  /** Number of pending entries (for tests and leak checks). */
  size(): number {
    return this.count;
  }

  /** Cancels the timer and forgets everything. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedSlot = Infinity;
    for (const b of this.buckets.values()) {
      for (let it = b.head; it !== undefined;) {
        const next = it.dlNext;
        it.dlBucket = it.dlPrev = it.dlNext = undefined;
        it = next;
      }
    }
    this.buckets.clear();
    this.slots.clear();
    this.count = 0;
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
    while (this.slots.size > 0 && this.slots.peek()! <= nowSlot) {
      const bucket = this.buckets.get(this.slots.pop()!)!;
      this.buckets.delete(bucket.slot);
      // Detach the list first: expiry callbacks may add or remove other items.
      let it = bucket.head;
      bucket.head = undefined;
      while (it !== undefined) {
        const next = it.dlNext;
        it.dlBucket = it.dlPrev = it.dlNext = undefined;
        this.count--;
        this.onExpire(it as T);
        it = next;
      }
    }
    // Prune buckets that emptied, then arm for the next live one.
    while (this.slots.size > 0 && this.buckets.get(this.slots.peek()!)!.head === undefined) {
      this.buckets.delete(this.slots.pop()!);
    }
    if (this.slots.size > 0) this.arm(this.slots.peek()!);
  }
}
