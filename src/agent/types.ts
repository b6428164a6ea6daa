/**
 * The agent (issue 21): a mesh member that answers Consul's HTTP API and DNS
 * from its own view of the mesh. Both read one catalog snapshot, built from
 * the registry and the membership: nodes are mesh members, the datacenter
 * is the cluster name.
 */

/** A check's state, as Consul names it. */
export type CheckStatus = 'passing' | 'warning' | 'critical';

/** Consul's CreateIndex/ModifyIndex of one entry. */
export interface EntryIndex {
  createIndex: number;
  modifyIndex: number;
}

/** One mesh member, as Consul's catalog shows a node. */
export interface CatalogNode extends EntryIndex {
  /** Consul's `Node`: the member's name (DNS-safe). */
  name: string;
  /** Consul's `ID`. */
  id: string;
  address: string;
  meta: Readonly<Record<string, string>>;
  /** SWIM's verdict as the node's serfHealth check: alive passing, suspect warning. */
  status: CheckStatus;
}

/** One health check of an instance (its node's serfHealth included). */
export interface CatalogCheck {
  id: string;
  name: string;
  status: CheckStatus;
  notes: string;
  output: string;
  /** Consul's Type: `http`, `tcp`, `ttl`, `maintenance`, or empty for serfHealth. */
  type: string;
}

/** One instance of a service on a node. */
export interface CatalogInstance extends EntryIndex {
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
  /** Its node's serfHealth first, then its own checks. */
  checks: readonly CatalogCheck[];
  /** The aggregate of its checks (worst wins). */
  status: CheckStatus;
}

/** What the HTTP API and DNS answer from: one consistent look at the mesh. */
export interface CatalogSnapshot {
  datacenter: string;
  /** Consul's index (X-Consul-Index): ≥ 1, changes whenever the snapshot does. */
  index: number;
  nodes: readonly CatalogNode[];
  instances: readonly CatalogInstance[];
  /**
   * The index at which each part last changed: `services` (names and
   * tags), `nodes`, `service:<name>`, `node:<name>`. A blocking query
   * waits on its part only, so unrelated changes do not wake it.
   */
  scopes: ReadonlyMap<string, number>;
}

/** What the agent counts (Agent.stats(), and its metrics). */
export interface AgentStats {
  /** DNS queries answered over UDP and TCP, malformed packets dropped, TCP connections refused. */
  udpQueries: number;
  tcpQueries: number;
  malformed: number;
  tcpRefused: number;
  /** The catalog's index, nodes and instances now. */
  index: number;
  nodes: number;
  instances: number;
  localServices: number;
  blockedQueries: number;
}
