export { Counters } from './counters.ts';
export {
  LatencySketch, WindowedLatency, type LatencySummary, type LatencySketchOptions, type WindowedLatencyOptions,
} from './latency.ts';
export type { Collector, HistogramFamily, HistogramSample, Labels, MetricFamily, Sample, ScalarFamily } from './types.ts';
export { MetricsRegistry } from './registry.ts';
export { PrometheusExporter, type PrometheusExporterOptions } from './prometheus.ts';
export { counterFamilies, latencyHistogram, snakeCase, LATENCY_BOUNDS_S } from './families.ts';
export { CallSlot, CallSlots, ClientCallMeter, callFamilies, MAX_CALL_SERIES } from './calls.ts';
