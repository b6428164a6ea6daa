/**
 * Metrics as plain data. Components keep cheap counters and sketches on their
 * hot paths; a collector turns them into families when something reads them
 * (a Prometheus scrape), so recording never pays for exposition.
 */

/** Label name → value. Label sets are bounded by design: service, endpoint, code, state, reason; never a node id or a topic. */
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Cumulative counts, one per bound of the family (values ≤ bound), without +Inf (that is `count`). */
  buckets: readonly number[];
  sum: number;
  count: number;
}

interface FamilyBase {
  /** `micromesh_<layer>_<what>_<unit>`, counters ending in `_total` (Prometheus naming). */
  name: string;
  help: string;
}

export interface ScalarFamily extends FamilyBase {
  type: 'counter' | 'gauge';
  samples: Sample[];
}

export interface HistogramFamily extends FamilyBase {
  type: 'histogram';
  /** Upper bounds of the buckets, ascending, in the family's unit. */
  bounds: readonly number[];
  samples: HistogramSample[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

/** Produces the current families of one component; called per read, so it should only copy. */
export type Collector = () => MetricFamily[];
