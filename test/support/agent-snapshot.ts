// Hand-made agent catalogs for DNS and HTTP tests: nodes and instances with only what a test cares about.
import type { CatalogInstance, CatalogNode, CatalogSnapshot } from '../../src/agent/types.ts';

type NodeIn = Omit<CatalogNode, 'status' | 'createIndex' | 'modifyIndex'> & Partial<CatalogNode>;
type InstanceIn = Omit<CatalogInstance, 'checks' | 'createIndex' | 'modifyIndex'> & Partial<CatalogInstance>;

export function snapshotOf(o: { datacenter: string; index: number; nodes: NodeIn[]; instances: InstanceIn[] }): CatalogSnapshot {
  return {
    datacenter: o.datacenter, index: o.index, scopes: new Map(),
    nodes: o.nodes.map((n) => ({ status: 'passing', createIndex: 1, modifyIndex: 1, ...n })),
    instances: o.instances.map((i) => ({ checks: [], createIndex: 1, modifyIndex: 1, ...i })),
  };
}
