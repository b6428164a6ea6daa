export { Counters } from './counters.ts';
export {
  LatencySketch, WindowedLatency, type LatencySummary, type LatencySketchOptions, type WindowedLatencyOptions,
} from './latency.ts';
