/**
 * Time and chance, injected (DEVELOPERS.md rule 2).
 *
 * Everything under src/ that waits, timestamps or draws a random number does it
 * through these two interfaces. Production code gets {@link SystemClock} and
 * {@link SystemRandom}; tests and the simulator get a `VirtualClock` and a
 * seeded `Random`, which makes a run of 1,000 SWIM nodes deterministic.
 */

/** An opaque handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface TimerOptions {
  /**
   * When true (the default) a pending timer does not keep the process alive,
   * so a forgotten protocol timer never blocks exit. Sockets keep it alive.
   */
  unref?: boolean;
}

export interface Clock {
  /** Monotonic milliseconds (fractional allowed). Use for durations and deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the epoch. Use only for display and logs. */
  wallTime(): number;
  /** Runs `fn` once after `ms` milliseconds (clamped to ≥ 0). */
  setTimeout(fn: () => void, ms: number, opts?: TimerOptions): TimerHandle;
  /** Cancels a pending timer; a no-op for `undefined` or an already-fired timer. */
  clearTimeout(handle: TimerHandle | undefined): void;
  /**
   * Resolves after `ms`; rejects with the signal's reason if it aborts first.
   * The timer and the abort listener are always removed.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** `n` random bytes (nonces, ids). The system implementation uses the OS CSPRNG. */
  bytes(n: number): Uint8Array;
}
