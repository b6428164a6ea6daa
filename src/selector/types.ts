import type { Random } from '../clock/types.ts';
import type { Node, Service } from '../registry/types.ts';

/**
 * The Selector picks the node each call goes to (Go Micro's selector, with
 * Mark and Reset implemented for real).
 *
 * Contract with the client: every node returned by a `Next` is reported back
 * exactly once through `mark`, with the outcome. The selector counts the node
 * as in flight from `next()` until `mark`, which feeds the latency-aware
 * strategy and the ejection table.
 */

/** Narrows the candidate services (e.g. by version) before a strategy picks a node. */
export type Filter = (services: Service[]) => Service[];

/** Per-node figures the selector keeps. */
export interface NodeStats {
  /** Calls sent to the node and not yet marked. */
  inflight: number;
  /** Exponentially weighted moving average of call latency, ms (0 until measured). */
  ewmaLatencyMs: number;
  /** Consecutive failures counted toward ejection. */
  failures: number;
  /** Clock time until which the node is ejected (0 when it is not). */
  ejectedUntil: number;
}

export interface StrategyContext {
  random: Random;
  stats(node: Node): NodeStats;
}

/**
 * Picks one node from `nodes` (never empty). Called once per `next()`, with
 * the nodes that are currently eligible; a strategy may keep state in its
 * closure (round robin's cursor).
 */
export type Strategy = (nodes: readonly Node[], ctx: StrategyContext) => Node;

/** Built-in strategies by name. */
export type StrategyName = 'random' | 'roundRobin' | 'leastLatency';

export interface SelectOptions {
  /** Default `random`, as in Go Micro. */
  strategy?: StrategyName | Strategy;
  /** Applied in order to the service's versions before picking. */
  filters?: Filter[];
  signal?: AbortSignal;
}

/**
 * Returns the next node to try. Throws MeshError `SERVICE_NOT_FOUND` if the
 * service has no versions, `NONE_AVAILABLE` if filters leave no node.
 * Ejected nodes are skipped unless every node is ejected (then they are
 * tried anyway, so a burst of errors cannot take a whole service offline).
 */
export type Next = () => Node;

export interface CallOutcome {
  /**
   * The error the call ended with, if any. Only node-level errors (connection,
   * timeout, unavailable) count toward ejection; a cancellation (`CANCELLED`)
   * says nothing about the node; any other error means the node answered.
   */
  error?: unknown;
  /** How long the call took, ms. Feeds the latency EWMA. */
  latencyMs?: number;
}

/** DefaultSelector's counts, read by metrics. */
export interface SelectorFigures {
  /** Ejections since creation (a node ejected again counts again). */
  ejections: number;
  /** Nodes ejected now, every service. */
  ejectedNow: number;
  /** Nodes the membership suspects now (avoided while others are healthy). */
  suspectedNow: number;
  /** Nodes returned by `Next`, by strategy (`random`, `roundRobin`, `leastLatency`, `custom`). */
  picks: Record<string, number>;
  /** Of those, picks made while every candidate was ejected. */
  ejectedPicks: number;
  /** Services the selector tracks. */
  services: number;
}

export interface Selector {
  /**
   * Prepares node selection for one call. Returns the `Next` directly when
   * the selector can answer from its cache (the hot path: no promise, no
   * microtask); returns a Promise when it must consult the registry. Errors
   * always come back as a rejected Promise. `await` handles both.
   */
  select(service: string, opts?: SelectOptions): Next | Promise<Next>;
  /** Reports the outcome of a call to `node`. Success resets its failures; node-level errors may eject it. */
  mark(service: string, node: Node, outcome?: CallOutcome): void;
  /** Forgets stats and ejections for `service`, or for everything when omitted. */
  reset(service?: string): void;
  /** Releases watches and caches; a later `select` rejects with NOT_RUNNING. Idempotent. */
  close(): void;
  /** Optional: node `key` (its id or its address) is suspected, or no longer is; new calls avoid suspects while others are healthy. */
  suspect?(key: string, suspected: boolean): void;
}
