/**
 * Whether a gossip batch should wait for subscribers gossipsub cannot send
 * to yet. Gossipsub learns a peer's topics on the peer's stream but sends on
 * its own outbound stream, opened separately; in between (and before it has
 * heard a subscriber the membership already lists) a publish skips that
 * peer in silence. That gap follows every join and new connection, and
 * lasts milliseconds. So a batch waits while one of its missing
 * subscribers has been missing for less than `waitMs`; once all of them
 * have waited longer, they are not coming and the batch goes (their copies
 * lost, at most once, and counted by the caller).
 * Pure: the caller passes the time and the peers, and owns the timer.
 */
export class StreamWait {
  /** Peer id → when it was first seen subscribed without a stream (ms, caller's clock). */
  private readonly since = new Map<string, number>();
  private readonly waitMs: number;

  constructor(waitMs: number) {
    this.waitMs = waitMs;
  }

  /**
   * How long a batch whose skipped subscribers are `missing` should still
   * wait, ms; 0 = send it now. Starts the wait of peers not seen before.
   */
  remaining(missing: Iterable<string>, now: number): number {
    let left = 0;
    for (const id of missing) {
      let t = this.since.get(id);
      if (t === undefined) {
        t = now;
        this.since.set(id, t);
      }
      left = Math.max(left, t + this.waitMs - now);
    }
    return left;
  }

  /**
   * Keeps the peers for which `stillMissing` holds and forgets the others
   * (they have a stream now, or are no subscribers any more): a later gap of
   * theirs starts a new wait. A peer whose stream never comes stays, so it
   * delays its topic once, not at every publish.
   */
  retain(stillMissing: (id: string) => boolean): void {
    for (const id of this.since.keys()) if (!stillMissing(id)) this.since.delete(id);
  }

  /** Peers being waited for or given up on (bounded by the peers gossipsub knows). */
  get size(): number {
    return this.since.size;
  }

  clear(): void {
    this.since.clear();
  }
}
