export type {
  Filter, NodeStats, StrategyContext, Strategy, StrategyName, SelectOptions, Next, CallOutcome, Selector, SelectorFigures,
} from './types.ts';
export { DefaultSelector, type DefaultSelectorOptions } from './selector.ts';
export {
  type SelectorConfig, parseSelectorConfig, NODE_ERROR_CODES, isNodeError, isCancellation, ejectionBackoffMs,
} from './config.ts';
export {
  random, roundRobin, leastLatency, leastLatencyScore, strategyByName, type LeastLatencyOptions,
} from './strategies.ts';
export { byVersion, byMetadata, byEndpoint, byNode, filterName } from './filters.ts';
