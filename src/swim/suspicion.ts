import { remainingSuspicionMs } from './math.ts';

/** Last checks of a suspect short of its confirmations, at most, before it may be convicted though it answers. */
export const MAX_SUSPICION_CHECKS = 3;

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
  /** How many such checks were made. */
  checks = 0;
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
   * The last check found the suspect answering (directly, through a relay or
   * over TCP), yet its refutation has not reached us: lost, or the answer
   * came through a relay, which does not carry it. Convicting a member that
   * just answered would be a false positive, so wait `graceMs` for the
   * refutation and then check again, up to MAX_SUSPICION_CHECKS in all.
   */
  answered(nowMs: number, graceMs: number): void {
    this.deadlineMs = nowMs + graceMs;
    if (this.checks < MAX_SUSPICION_CHECKS) this.verified = false;
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
