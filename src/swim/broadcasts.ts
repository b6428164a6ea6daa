/**
 * The retransmit-limited broadcast queue (memberlist's TransmitLimitedQueue).
 *
 * Each entry is one encoded state message about one member, keyed by the
 * member's id: a newer message about a member replaces (invalidates) the older
 * one, so the queue holds at most one entry per member. Packing order is
 * fewest transmissions first and, among equals, newest first; an entry is
 * dropped once it has been sent `limit` times (the limit grows with N, and is
 * passed at each take so it follows the cluster's size).
 *
 * Entries live in buckets indexed by transmission count, each bucket ordered
 * oldest → newest, so taking the newest is a pop from the end: packing a
 * packet costs O(entries packed), not O(queue).
 */

interface Entry {
  readonly key: string;
  readonly bytes: Uint8Array;
  transmits: number;
  live: boolean;
  /** Called once when the entry leaves the queue (sent out, invalidated or dropped). */
  readonly notify: (() => void) | undefined;
}

/** Smallest message we could still pack; below this much room, stop looking. */
const MIN_MESSAGE_BYTES = 4;
/** Entries too large for the space left that we skip before giving up on a packet. */
const MAX_MISFITS = 64;

export class BroadcastQueue {
  private readonly buckets: Entry[][] = [[]];
  private readonly byKey = new Map<string, Entry>();
  private readonly moved: Entry[] = [];
  private garbage = 0;
  private readonly maxEntries: number;
  /** Entries dropped because the queue was full. */
  dropped = 0;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  /** Live entries. */
  get size(): number {
    return this.byKey.size;
  }

  /** Queues `bytes` as the current news about `key`, replacing older news about it. */
  enqueue(key: string, bytes: Uint8Array, notify?: () => void): void {
    const old = this.byKey.get(key);
    if (old !== undefined) this.retire(old, true);
    const entry: Entry = { key, bytes, transmits: 0, live: true, notify };
    this.buckets[0]!.push(entry);
    this.byKey.set(key, entry);
    if (this.byKey.size > this.maxEntries) this.dropMostSent();
    if (this.garbage > 1024 && this.garbage > this.byKey.size) this.compact();
  }

  /** Whether news about `key` is queued. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /**
   * Appends to `out` the messages to piggyback in `budget` bytes, counting one
   * transmission for each; entries reaching `limit` leave the queue. Returns
   * the bytes used.
   */
  take(budget: number, limit: number, out: Uint8Array[]): number {
    let used = 0;
    let misfits = 0;
    const moved = this.moved;
    for (let t = 0; t < this.buckets.length && budget - used >= MIN_MESSAGE_BYTES && misfits < MAX_MISFITS; t++) {
      const bucket = this.buckets[t]!;
      for (let i = bucket.length - 1; i >= 0 && budget - used >= MIN_MESSAGE_BYTES; i--) {
        const e = bucket[i]!;
        if (!e.live || e.transmits >= limit) {
          // Invalidated, or the limit fell because N did: remove either way.
          removeAt(bucket, i);
          if (e.live) this.retire(e, false);
          else this.garbage--;
          continue;
        }
        if (e.bytes.length > budget - used) {
          if (++misfits >= MAX_MISFITS) break;
          continue;
        }
        used += e.bytes.length;
        out.push(e.bytes);
        removeAt(bucket, i);
        e.transmits++;
        if (e.transmits >= limit) this.retire(e, false);
        else moved.push(e);
      }
    }
    // Re-file after the scan so an entry is never packed twice in one packet.
    // Entries from one bucket were collected newest first; re-filing in reverse
    // keeps each bucket oldest → newest.
    for (let j = moved.length - 1; j >= 0; j--) {
      const e = moved[j]!;
      (this.buckets[e.transmits] ??= []).push(e);
    }
    moved.length = 0;
    return used;
  }

  /** Drops everything (e.g. on stop), notifying waiters. */
  clear(): void {
    for (const e of this.byKey.values()) this.retire(e, false);
    for (const b of this.buckets) b.length = 0;
    this.garbage = 0;
  }

  /** Keys in packing order (fewest transmissions, then newest): for tests and debugging. */
  order(): string[] {
    const keys: string[] = [];
    for (const bucket of this.buckets) {
      for (let i = bucket.length - 1; i >= 0; i--) if (bucket[i]!.live) keys.push(bucket[i]!.key);
    }
    return keys;
  }

  private retire(e: Entry, leavesGarbage: boolean): void {
    if (!e.live) return;
    e.live = false;
    if (leavesGarbage) this.garbage++;
    if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    e.notify?.();
  }

  private dropMostSent(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      const bucket = this.buckets[t]!;
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i]!;
        if (!e.live) continue;
        removeAt(bucket, i);
        this.retire(e, false);
        this.dropped++;
        return;
      }
    }
  }

  private compact(): void {
    for (let t = 0; t < this.buckets.length; t++) this.buckets[t] = this.buckets[t]!.filter((e) => e.live);
    this.garbage = 0;
  }
}

function removeAt(bucket: Entry[], i: number): void {
  if (i === bucket.length - 1) bucket.pop();
  else bucket.splice(i, 1);
}
