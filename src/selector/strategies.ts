import { MeshError } from '../errors/index.ts';
import type { Node } from '../registry/types.ts';
import type { NodeStats, Strategy, StrategyContext, StrategyName } from './types.ts';

/**
 * The built-in strategies. Each is a plain `Strategy` function; the ones that
 * keep state (a cursor) or take a parameter are built by a factory, so every
 * holder owns its own state (the selector keeps one round robin per service).
 * Strategies get only eligible nodes (never empty) and must not keep them.
 */

/** Uniform over the eligible nodes; Go Micro's default. */
export const random: Strategy = (nodes, ctx) => (nodes.length === 1 ? nodes[0]! : nodes[ctx.random.int(nodes.length)]!);

/**
 * Rotates through the nodes, starting at a random offset (as Go Micro does,
 * so processes started together do not all hit the same first node). The
 * cursor lives in the returned function, so successive calls rotate across
 * `select`s when the holder keeps it, not only across one call's retries.
 */
export function roundRobin(): Strategy {
  let cursor = -1;
  return (nodes, ctx) => {
    if (cursor < 0) cursor = ctx.random.int(nodes.length);
    const i = cursor % nodes.length;
    cursor = i + 1;
    return nodes[i]!;
  };
}

/**
 * The least-latency score of a node: lower is better.
 *
 *   score = (inflight + 1) · max(ewmaLatencyMs, floorMs)
 *
 * It estimates how long a new call would wait: one service time for each
 * call already queued on the node plus its own (Little's law, with the EWMA
 * as the service time). The +1 lets idle nodes compare on latency alone. The
 * floor keeps an unmeasured node (EWMA 0) from scoring 0 and winning every
 * draw; it still looks fast, so new nodes get traffic and are measured at
 * once, and below the floor the in-flight count decides.
 */
export function leastLatencyScore(stats: NodeStats, floorMs: number): number {
  return (stats.inflight + 1) * Math.max(stats.ewmaLatencyMs, floorMs);
}

export interface LeastLatencyOptions {
  /** Latencies below this count as this, ms. Default 1. */
  latencyFloorMs?: number;
}

/**
 * Power of two choices: draw two distinct nodes at random and take the one
 * with the lower {@link leastLatencyScore} (the first drawn on a tie).
 * Always taking the global best would send every client's burst to the same
 * node on stale figures; two random choices already get most of the gain
 * (Mitzenmacher) at O(1) cost per pick.
 */
export function leastLatency(opts: LeastLatencyOptions = {}): Strategy {
  const floor = opts.latencyFloorMs ?? 1;
  return (nodes: readonly Node[], ctx: StrategyContext) => {
    const n = nodes.length;
    if (n === 1) return nodes[0]!;
    const i = ctx.random.int(n);
    let j = ctx.random.int(n - 1);
    if (j >= i) j++;
    const a = nodes[i]!;
    const b = nodes[j]!;
    return leastLatencyScore(ctx.stats(b), floor) < leastLatencyScore(ctx.stats(a), floor) ? b : a;
  };
}

/** A fresh instance of a built-in strategy. */
export function strategyByName(name: StrategyName, opts: LeastLatencyOptions = {}): Strategy {
  switch (name) {
    case 'random':
      return random;
    case 'roundRobin':
      return roundRobin();
    case 'leastLatency':
      return leastLatency(opts);
    default:
      throw new MeshError('INVALID_ARGUMENT', `unknown selector strategy ${JSON.stringify(name)}; expected random, roundRobin or leastLatency`, { id: 'micromesh.selector' });
  }
}
