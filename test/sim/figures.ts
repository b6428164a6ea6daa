// Percentiles and the aggregation of runs (one run per seed) into the
// figures the simulator prints.

/**
 * The p-th percentile by nearest rank: the smallest sample with at least p %
 * of the samples at or below it. So p99 of fewer than 100 samples is their
 * maximum: with few samples, p99 is never flattered by interpolation.
 * null when there are no samples.
 */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(samples: readonly number[]): number | null {
  return percentile(samples, 50);
}

export function max(samples: readonly number[]): number | null {
  return samples.length === 0 ? null : samples.reduce((a, b) => (b > a ? b : a), -Infinity);
}

/** Rounds to 0.1 ms (times) or keeps null. */
export function ms(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}

/** What one run (one seed) measured. Sample arrays are concatenated across seeds before taking percentiles. */
export interface RunResult {
  seed: number;
  /** Lifeguard on for this run. */
  lifeguard: boolean;
  /** Per failed member: failure → first suspicion (or death) anywhere. */
  firstSuspect: number[];
  /** Per (observer, failed member): failure → that observer marks it dead. */
  detectDead: number[];
  /** Per failed member: failure → the last live observer marks it dead (dead everywhere). */
  deadEverywhere: number[];
  /** Per piece of news: first known anywhere → known by 100 % of live members. */
  disseminate: number[];
  /** Time until one membership (join, partition heal, restart), ms; null when not applicable. */
  convergeMs: number | null;
  /** Observers that never declared a failed member dead within the run's limit. */
  undetected: number;
  /** `dead` events about members that had not failed (any observer). */
  falsePositives: number;
  /** Of those, about members that were never stalled (the stall scenario's healthy members). */
  falsePositivesHealthy: number;
  /** Distinct (member, incarnation) pairs wrongly declared dead. */
  falselyDeclared: number;
  /** Deltas over the measured period, summed over nodes. */
  suspicions: number;
  suspicionsSeen: number;
  refutations: number;
  degradedTimeouts: number;
  bytesSent: number;
  udpBytesSent: number;
  /** Node-seconds the bytes were sent over (nodes × measured seconds). */
  nodeSeconds: number;
  /** Simulated ms of the measured period. */
  measuredMs: number;
  heapBytesPerMember: number | null;
  /** Scenario-specific extras (counts, not samples). */
  extra: Record<string, number | string | boolean | null>;
  /** Scenario-specific samples, pooled across seeds by the scenario's report (kv). */
  samples?: Record<string, number[]>;
  /** sha256 of the observed event log, for determinism checks. */
  digest: string;
  wallMs: number;
  bootstrapWallMs: number;
}

/** Sum of a numeric field over runs. */
export function sum(runs: readonly RunResult[], f: (r: RunResult) => number): number {
  return runs.reduce((a, r) => a + f(r), 0);
}

/** The figures common to every scenario, aggregated over runs (seeds). Keys are the JSON output's. */
export function aggregate(runs: readonly RunResult[]): Record<string, unknown> {
  const all = (f: (r: RunResult) => number[]): number[] => runs.flatMap(f);
  const first = all((r) => r.firstSuspect);
  const dead = all((r) => r.detectDead);
  const everywhere = all((r) => r.deadEverywhere);
  const news = all((r) => r.disseminate);
  const converge = runs.map((r) => r.convergeMs).filter((x): x is number => x !== null);
  const heap = runs.map((r) => r.heapBytesPerMember).filter((x): x is number => x !== null);
  const nodeSeconds = sum(runs, (r) => r.nodeSeconds);
  return {
    detect_first_suspect_median_ms: ms(median(first)),
    detect_first_suspect_p99_ms: ms(percentile(first, 99)),
    detect_first_suspect_max_ms: ms(max(first)),
    detect_dead_median_ms: ms(median(dead)),
    detect_dead_p99_ms: ms(percentile(dead, 99)),
    detect_dead_max_ms: ms(max(dead)),
    dead_everywhere_median_ms: ms(median(everywhere)),
    dead_everywhere_p99_ms: ms(percentile(everywhere, 99)),
    dead_everywhere_max_ms: ms(max(everywhere)),
    disseminate_median_ms: ms(median(news)),
    disseminate_p99_ms: ms(percentile(news, 99)),
    disseminate_max_ms: ms(max(news)),
    disseminate_samples: news.length,
    converge_median_ms: ms(median(converge)),
    converge_max_ms: ms(max(converge)),
    undetected: sum(runs, (r) => r.undetected),
    false_positives: sum(runs, (r) => r.falsePositives),
    false_positives_healthy: sum(runs, (r) => r.falsePositivesHealthy),
    falsely_declared_members: sum(runs, (r) => r.falselyDeclared),
    suspicions: sum(runs, (r) => r.suspicions),
    suspicions_seen: sum(runs, (r) => r.suspicionsSeen),
    refutations: sum(runs, (r) => r.refutations),
    degraded_timeouts: sum(runs, (r) => r.degradedTimeouts),
    bytes_per_node_per_s: nodeSeconds > 0 ? Math.round(sum(runs, (r) => r.bytesSent) / nodeSeconds) : null,
    udp_bytes_per_node_per_s: nodeSeconds > 0 ? Math.round(sum(runs, (r) => r.udpBytesSent) / nodeSeconds) : null,
    measured_ms_per_run: runs.length > 0 ? Math.round(sum(runs, (r) => r.measuredMs) / runs.length) : null,
    heap_bytes_per_member: heap.length > 0 ? Math.round(median(heap)!) : null,
  };
}
