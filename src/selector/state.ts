import type { Node, Watcher } from '../registry/types.ts';
import type { CacheEntry } from './cache.ts';
import type { NodeStats, Strategy, StrategyContext } from './types.ts';

/** What DefaultSelector keeps per node of a service: the figures `mark` updates. */
export class NodeState implements NodeStats {
  inflight = 0;
  ewmaLatencyMs = 0;
  failures = 0;
  ejectedUntil = 0;
  /** Consecutive ejections without a success in between: the backoff exponent. */
  ejections = 0;
  measured = false;
}

/** What DefaultSelector keeps per service: its cached lookup, its watch, its nodes' figures. */
export interface ServiceState {
  name: string;
  entry: CacheEntry | undefined;
  /** The last lookup that was current, kept once it is not: served while the registry fails (staleCacheMs). */
  stale: CacheEntry | undefined;
  /** Clock time `stale` stopped being current. */
  staleSince: number;
  /** While `stale` is being served (undefined otherwise): the registry is not asked again before this clock time. */
  retryAt: number | undefined;
  /** Bumped by every watch event (and the watch ending): a lookup started under an older gen is not cached. */
  gen: number;
  loading: Promise<CacheEntry> | undefined;
  loadingGen: number;
  watcher: Watcher | undefined;
  stats: Map<string, NodeState>;
  /** Node ids of the last lookup, kept across invalidations: an id missing from it is a node that (re)appeared. */
  knownIds: ReadonlySet<string> | undefined;
  /** Latest ejection end among this service's nodes: past it, nothing is ejected and eligibility needs no work. */
  ejectedUntilMax: number;
  /** Bumped on each ejection, un-ejection and reset, invalidating `eligibleMemo`. */
  ejectGen: number;
  eligibleMemo: { from: readonly Node[]; gen: number; validUntil: number; nodes: readonly Node[] } | undefined;
  roundRobin: Strategy | undefined;
  ctx: StrategyContext;
}
