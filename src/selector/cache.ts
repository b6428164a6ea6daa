/** The selector's cached registry lookups: flattened and frozen once, so `select` does no work per call. */
import { speaksRpc, type Node, type Service } from '../registry/types.ts';
import type { Filter } from './types.ts';

/** One registry lookup, prepared for the hot path. */
export interface CacheEntry {
  services: readonly Service[];
  /** Every node of every version that speaks RPC, flattened once (first occurrence of an id wins). */
  nodes: readonly Node[];
  ids: ReadonlySet<string>;
  /** Clock time after which the entry is not reused (Infinity while a watch guards it). */
  expiresAt: number;
  /** The last filters array seen with this entry and its result: callers reusing one array skip the filtering. */
  memoFilters?: readonly Filter[];
  memoNodes?: readonly Node[];
}

/** The nodes an RPC call may go to: other protocols (an HTTP service the Consul agent registered) are skipped. */
export function flatten(services: readonly Service[]): Node[] {
  const seen = new Set<string>();
  const out: Node[] = [];
  for (const s of services) {
    for (const n of s.nodes) {
      if (seen.has(n.id) || !speaksRpc(n)) continue;
      seen.add(n.id);
      out.push(n);
    }
  }
  return out;
}

/** Freezes the lookup (the nodes are handed to callers and must not change under the cache) and flattens it. */
export function buildEntry(services: Service[], expiresAt: number): CacheEntry {
  for (const s of services) {
    for (const n of s.nodes) {
      Object.freeze(n.metadata);
      Object.freeze(n);
    }
    Object.freeze(s.nodes);
    Object.freeze(s);
  }
  const nodes = flatten(services);
  return { services, nodes, ids: new Set(nodes.map((n) => n.id)), expiresAt };
}
