import type { Clock } from '../clock/types.ts';

/**
 * Go Micro's built-in `Debug` handler: `Debug.Health` answers `{status: 'ok'}`
 * while the service runs (what `micromesh health` and load balancers call),
 * `Debug.Stats` reports uptime, memory and RPC counters.
 */
export function debugHandler(clock: Clock, started: () => number, stats: () => Record<string, number>) {
  return {
    Health: () => ({ status: 'ok' }),
    Stats: () => {
      const m = process.memoryUsage();
      return {
        uptimeMs: Math.round(clock.now() - started()),
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        rpc: stats(),
      };
    },
  };
}
