/**
 * The Registry: who offers which service where. Go Micro's data model, so
 * the same records fit the memory, static, mesh (SWIM) and, later, etcd
 * registries.
 *
 * A Service record is keyed by (name, version). Registering merges the given
 * nodes into that record; deregistering removes them, and a version with no
 * nodes left disappears.
 */

export type Metadata = Record<string, string>;

/** One callable endpoint, e.g. `Greeter.Hello`. */
export interface Endpoint {
  name: string;
  metadata: Metadata;
}

/**
 * The node metadata key naming what its address speaks (Go Micro's
 * `protocol`: `mucp`, `grpc`), and micromesh RPC's value. Nodes that speak
 * something else (an HTTP service registered through the Consul agent) are
 * listed like any other but never chosen for an RPC call.
 */
export const NODE_PROTOCOL_KEY = 'protocol';
export const RPC_PROTOCOL = 'micromesh-rpc/1';

/** Whether a node's address speaks micromesh RPC (no `protocol` at all counts: registries of older nodes and hand-made records). */
export function speaksRpc(node: Node): boolean {
  const p = node.metadata?.[NODE_PROTOCOL_KEY];
  return p === undefined || p.startsWith('micromesh-rpc/');
}

/** One running instance of a service. */
export interface Node {
  /** Unique per process instance (survives nothing: a restart gets a new id). */
  id: string;
  /** Where its RPC server listens, `host:port`. */
  address: string;
  metadata: Metadata;
}

export interface Service {
  name: string;
  version: string;
  metadata: Metadata;
  endpoints: Endpoint[];
  nodes: Node[];
}

/**
 * A change seen by a watcher. `service` is the whole (name, version) record
 * after the change; for `remove`, the last record before it vanished (with
 * the nodes it last had).
 */
export interface RegistryEvent {
  type: 'add' | 'update' | 'remove';
  service: Service;
}

export interface RegisterOptions {
  signal?: AbortSignal;
  /**
   * Registries that expire records (etcd, static) drop the nodes after this
   * long unless re-registered. The mesh registry ignores it: SWIM decides.
   */
  ttlMs?: number;
}

export interface QueryOptions {
  signal?: AbortSignal;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Only events for this service name. */
  service?: string;
}

/**
 * A stream of registry events. Iterate it with `for await`; `stop()` (or the
 * watch signal) ends the iteration. Events are delivered in order; a slow
 * consumer buffers (bounded by the number of changes it has not read).
 */
export interface Watcher extends AsyncIterable<RegistryEvent> {
  stop(): void;
}

export interface Registry {
  /** Implementation name: `memory`, `static`, `mesh`, ... */
  readonly name: string;
  register(service: Service, opts?: RegisterOptions): Promise<void>;
  deregister(service: Service, opts?: RegisterOptions): Promise<void>;
  /** Every version of `name` with its nodes; an empty array when unknown. */
  getService(name: string, opts?: QueryOptions): Promise<Service[]>;
  /** Every known service version. */
  listServices(opts?: QueryOptions): Promise<Service[]>;
  watch(opts?: WatchOptions): Watcher;
}
