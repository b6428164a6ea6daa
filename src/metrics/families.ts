import type { LatencySketch } from './latency.ts';
import type { HistogramSample, Labels, ScalarFamily } from './types.ts';

/**
 * Bucket bounds of every latency histogram, seconds (Prometheus' base unit):
 * 100 µs (a loopback call) to 10 s (past the default call timeout).
 */
export const LATENCY_BOUNDS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const LATENCY_BOUNDS_MS = LATENCY_BOUNDS_S.map((s) => s * 1000);

/** `packetsSent` → `packets_sent`. */
export function snakeCase(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * One counter family per key of a component's Counters snapshot:
 * `${prefix}_${snake_key}_total`, help from `help[key]` or the key in words.
 */
export function counterFamilies(
  prefix: string, snapshot: Readonly<Record<string, number>>, help: Readonly<Record<string, string>> = {}, labels: Labels = {},
): ScalarFamily[] {
  return Object.entries(snapshot).map(([key, value]) => ({
    name: `${prefix}_${snakeCase(key)}_total`,
    help: help[key] ?? `${prefix.replace(/^micromesh_/, '')}: ${snakeCase(key).replace(/_/g, ' ')}`,
    type: 'counter',
    samples: [{ labels, value }],
  }));
}

/** A latency sketch (ms) as a histogram sample in seconds over LATENCY_BOUNDS_S. */
export function latencyHistogram(sketch: LatencySketch, labels: Labels): HistogramSample {
  return { labels, buckets: sketch.cumulative(LATENCY_BOUNDS_MS), sum: sketch.sum / 1000, count: sketch.count };
}
