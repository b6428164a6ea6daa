/**
 * The agent (issue 21): a mesh member that answers Consul's HTTP API and DNS
 * from its own view of the mesh. Both read one catalog snapshot, built from
 * the registry and the membership: nodes are mesh members, the datacenter
 * is the cluster name.
 */

/** A check's state, as Consul names it. */
export type CheckStatus = 'passing' | 'warning' | 'critical';

/** One mesh member, as Consul's catalog shows a node. */
export interface CatalogNode {
  /** Consul's `Node`: the member's name (DNS-safe). */
  name: string;
  /** Consul's `ID`. */
  id: string;
  address: string;
  meta: Readonly<Record<string, string>>;
}

/** One instance of a service on a node. */
export interface CatalogInstance {
  /** The node (CatalogNode.name) it runs on. */
  node: string;
  /** Consul's `ServiceID`, unique per node. */
  id: string;
  service: string;
  /** Empty: the node's address. */
  address: string;
  port: number;
  tags: readonly string[];
  meta: Readonly<Record<string, string>>;
  /** The aggregate of its checks and its node's (worst wins). */
  status: CheckStatus;
}

/** What the HTTP API and DNS answer from: one consistent look at the mesh. */
export interface CatalogSnapshot {
  datacenter: string;
  /** Consul's index (X-Consul-Index): ≥ 1, changes whenever the snapshot does. */
  index: number;
  nodes: readonly CatalogNode[];
  instances: readonly CatalogInstance[];
}
