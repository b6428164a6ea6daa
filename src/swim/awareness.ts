/**
 * Lifeguard's local health multiplier (LHA-Probe). A node that misses nacks
 * it expected, or has to refute suspicions about itself, is probably the slow
 * one; it raises its score and stretches its probe interval by (score + 1), so
 * it accuses others less often and gives their answers more time.
 */
export class Awareness {
  private score = 0;
  private readonly max: number;

  /** @param maxMultiplier scores run 0 .. maxMultiplier − 1; 1 keeps the score at 0 */
  constructor(maxMultiplier: number) {
    this.max = Math.max(1, maxMultiplier);
  }

  /**
   * Adds `delta` (clamped to the range). Deltas, as in memberlist: −1 per
   * successful probe; +1 per expected nack missing from a failed probe, or +1
   * when no nack could be expected; +1 per refutation.
   */
  applyDelta(delta: number): number {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
    return this.score;
  }

  get healthScore(): number {
    return this.score;
  }

  /** `ms` stretched by the current score. */
  scaleMs(ms: number): number {
    return ms * (this.score + 1);
  }
}
