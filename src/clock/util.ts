import type { Clock, Random } from './types.ts';

/** Shared `sleep` on top of any Clock; `keepAlive` makes the timer ref'd. */
export function sleepOn(clock: Clock, ms: number, signal: AbortSignal | undefined, keepAlive: boolean): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms, { unref: !keepAlive });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Fisher–Yates driven by `random`. */
export function shuffleWith<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
