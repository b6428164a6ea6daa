import { remainingSuspicionMs } from './math.ts';

/**
 * The Lifeguard suspicion of one member (LHA-Suspicion): a deadline that starts
 * at maxMs and moves toward minMs as independent peers confirm. Pure
 * bookkeeping; the protocol shell keeps one clock timer per suspect at
 * `deadlineMs`.
 */
export class Suspicion {
  readonly startMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Confirmations wanted to reach the minimum. */
  readonly k: number;
  /** When the member should be declared dead, absent news. */
  deadlineMs: number;
  /** Independent confirmations so far (the first accuser excluded). */
  confirmations = 0;
  /** Whether the deadline was already extended once because our own timer fired late. */
  graced = false;
  /** Whether the timer, having fired late, already let the inbox be read once (see Timers). */
  inboxRead = false;
  /** Whether a last direct check of the suspect was made before convicting it without its k confirmations. */
  verified = false;
  // The accuser first, then each confirmer; at most k + 1 names.
  private readonly seen: string[];

  constructor(from: string, k: number, minMs: number, maxMs: number, startMs: number) {
    this.seen = [from];
    this.k = k;
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.startMs = startMs;
    // With no confirmations to wait for, there is nothing to shrink: use the minimum.
    this.deadlineMs = startMs + (k < 1 ? minMs : maxMs);
  }

  /**
   * Records a suspicion of the same member from `from`. Returns true when it is
   * a new independent confirmation (the caller then re-gossips it so other
   * nodes' timers shrink too); the deadline is recomputed.
   */
  confirm(from: string, nowMs: number): boolean {
    if (this.confirmations >= this.k) return false;
    if (this.seen.includes(from)) return false;
    this.seen.push(from);
    this.confirmations++;
    const elapsed = nowMs - this.startMs;
    this.deadlineMs = nowMs + remainingSuspicionMs(this.confirmations, this.k, elapsed, this.minMs, this.maxMs);
    return true;
  }
}
