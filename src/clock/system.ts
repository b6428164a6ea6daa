// The only module allowed to touch the process clock, timers and
// Math.random/crypto directly (DEVELOPERS.md rule 2).
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock, Random, TimerHandle, TimerOptions } from './types.ts';
import { sleepOn, shuffleWith } from './util.ts';

/** Real time: `performance.now()` for durations, Node timers for waiting. */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  wallTime(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number, opts?: TimerOptions): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    if (opts?.unref !== false) t.unref();
    return t as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal, false);
  }
}

/** `Math.random` for draws, the OS CSPRNG for bytes. */
export class SystemRandom implements Random {
  next(): number {
    return Math.random();
  }

  int(maxExclusive: number): number {
    return Math.floor(Math.random() * maxExclusive);
  }

  shuffle<T>(items: T[]): T[] {
    return shuffleWith(this, items);
  }

  bytes(n: number): Uint8Array {
    return randomFillSync(new Uint8Array(n));
  }
}
