/**
 * The Service: Go Micro's micro.Service, the one object an application
 * builds. It composes a client, a server, a registry, a broker and a
 * selector, registers itself on start and deregisters before draining on stop.
 */
import type { Clock, Random } from '../clock/types.ts';
import type { Codecs } from '../codec/types.ts';
import type { Logger } from '../log/types.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { TracerProvider } from '@opentelemetry/api';
import type { Broker, MessageHandler, SubscriberOptions } from '../pubsub/types.ts';
import type { Registry } from '../registry/types.ts';
import type { EtcdRegistryOptions } from '../registry/etcd-config.ts';
import type { NatsBrokerOptions } from '../pubsub/nats.ts';
import type { RpcConfig } from '../rpc/config.ts';
import type {
  Client, ClientMiddleware, HandleOptions, HandlerMiddleware, Metadata, Server, ServiceDefinition,
} from '../rpc/types.ts';
import type { Selector } from '../selector/types.ts';
import type { MdnsConfig } from '../mdns/config.ts';
import type { SwimConfig, SwimProfile } from '../swim/config.ts';
import type { SwimNode } from '../swim/types.ts';
import type { Discovery } from '../mdns/types.ts';
import type { Membership } from '../membership/types.ts';
import type { MeshError } from '../errors/errors.ts';
import type { PacketNetwork, Transport } from '../transport/types.ts';
import type { TlsOptions } from '../transport/tls.ts';
import type { KeyValueStore } from '../kv/types.ts';
import type { KvConfig } from '../kv/config.ts';
import type { EtcdKvOptions } from '../kv/etcd.ts';

/** A service's view of its mesh node. */
export interface Mesh {
  /** The SWIM node (members, events, stats). */
  readonly swim: SwimNode;
  /** mDNS discovery, when on. */
  readonly discovery: Discovery | undefined;
  /** The membership once started. */
  readonly members: Membership | undefined;
  /** Why mDNS could not start, when it could not (the node then relies on seeds). */
  readonly mdnsError: MeshError | undefined;
  /** Other members known alive; 0 means no mesh was found (yet). */
  peerCount(): number;
  /** Joins seeds and discovered peers that are not live members now (it also runs periodically). */
  rejoin(): Promise<void>;
}

/** How a service joins the mesh (SWIM membership, mDNS discovery, the mesh registry). */
export interface MeshOptions {
  /** Meshes with different cluster names never merge. Default `micromesh`. */
  cluster?: string;
  /**
   * Where SWIM binds UDP and TCP, `host:port`. Default: the RPC bind host
   * with a free port.
   */
  gossipAddress?: string;
  /** Gossip addresses (`host:port`) of nodes to join, besides those mDNS finds. */
  join?: string[];
  /** mDNS discovery: `true` (default), `false` (seeds only), or settings. */
  mdns?: boolean | Partial<MdnsConfig>;
  /** AES-256-GCM gossip keys, 32 bytes each; the first encrypts, all decrypt. Default none (plaintext). */
  keys?: Uint8Array[];
  /** SWIM profile. Default `lan`. */
  profile?: SwimProfile;
  /** Overrides of the profile's SWIM settings. */
  swim?: Partial<SwimConfig>;
  /** Re-join seeds and discovered peers this often, ms; heals partitions SWIM forgot. Default 30000; 0 disables. */
  rejoinIntervalMs?: number;
  /** Test seam: the datagram network (default UDP). */
  packets?: PacketNetwork;
  /** Test seam: SWIM's stream transport (default: the service's transport). */
  streams?: Transport;
}

export type Hook = () => void | Promise<void>;

/**
 * A part that runs with a service: started once the service is (joined,
 * listening, registered), stopped first when it stops. How the toolkit's
 * parts plug into `createService` without the mesh importing them, e.g.
 * `addons: [consulAgent({ httpAddress: '127.0.0.1:8500' })]` from
 * `micromesh/agent`.
 */
export interface ServiceAddon {
  readonly name: string;
  start(service: Service, opts: { signal?: AbortSignal }): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export type BrokerKind = 'direct' | 'gossip' | 'memory';

/** What a broker factory gets: the running membership (on the mesh) and the service's RPC parts. */
export interface BrokerParts {
  membership: Membership | undefined;
  client: Client;
  server: Server;
  clock: Clock;
  random: Random;
  logger: Logger;
  dataDir: string | undefined;
  /** The host the service's RPC server binds (a broker listening itself should use the same interface). */
  host: string;
}

export type BrokerFactory = (parts: BrokerParts) => Broker;

export interface ServiceOptions {
  /** Service name callers use, e.g. `greeter`. Required. */
  name: string;
  /** Default `latest`. */
  version?: string;
  /** Service-level metadata, published in the registry. */
  metadata?: Metadata;
  /** Metadata of this node (instance), published in the registry. */
  nodeMetadata?: Metadata;
  /**
   * RPC listen address, `host:port`. Default `0.0.0.0:0` on the mesh (the
   * advertised address is then the host's first private IPv4), `127.0.0.1:0`
   * without it.
   */
  address?: string;
  /** Address announced in the registry when it differs from the bound one; port 0 means the bound port. */
  advertise?: string;
  /**
   * Join the mesh and use its registry. Default on, unless a `registry` is
   * given; `false` turns it off (the registry then defaults to an
   * in-process MemoryRegistry).
   */
  mesh?: boolean | MeshOptions;
  /**
   * Default: the mesh registry, or a MemoryRegistry when the mesh is off.
   * `{ etcd: {...} }` builds an EtcdRegistry (closed when the service
   * stops); giving a registry turns the mesh off unless `mesh` says otherwise.
   */
  registry?: Registry | { etcd: EtcdRegistryOptions };
  /**
   * The broker: an instance, a name, or a factory called at each start with
   * the parts a mesh broker needs. `direct` (default on the mesh) sends each
   * message straight to the subscribing nodes over the RPC connections;
   * `gossip` broadcasts over libp2p gossipsub (loaded only then); `memory`
   * (default off the mesh) stays in the process; `{ nats: {...} }` uses
   * NATS servers (NatsBroker, loaded at start), on or off the mesh.
   */
  broker?: Broker | BrokerKind | BrokerFactory | { nats: NatsBrokerOptions };
  /** Where a node keeps state across restarts (the key/value store, the gossip broker's libp2p key). Default none. */
  dataDir?: string;
  /**
   * The key/value store (`service.kv`): a store of your own, `{ etcd }` (a
   * linearizable one, with check-and-set), or settings of the mesh's
   * (KvConfig: limits, copies per write, anti-entropy period...). Default:
   * the mesh's, where every node holds all of it; on an etcd registry, etcd;
   * otherwise in memory.
   */
  kv?: KeyValueStore | Partial<KvConfig> | { etcd: EtcdKvOptions };
  /** Default: DefaultSelector over the registry. */
  selector?: Selector;
  /** Default: TCP. */
  transport?: Transport;
  /**
   * Mutual TLS for RPC (PEM texts or Buffers): every RPC connection made or
   * accepted is TLS 1.3, and each side's certificate must be signed by `ca`
   * (host names are not checked: identity is "holds a certificate from this
   * CA"). A peer without one can neither call nor be called (`TLS_REJECTED`).
   * SWIM gossip is not covered (it has `mesh.keys`). `micromesh certs` makes
   * the files. Default off.
   */
  tls?: TlsOptions;
  /** Default: CBOR (default content type) and JSON. */
  codecs?: Codecs;
  clock?: Clock;
  random?: Random;
  /** Default: pino at level `warn` on stderr. */
  logger?: Logger;
  /** RPC limits and timings (see RpcConfig). */
  rpc?: Partial<RpcConfig>;
  clientMiddleware?: ClientMiddleware[];
  handlerMiddleware?: HandlerMiddleware[];
  /**
   * Re-register every this many ms, for registries that expire records
   * (static with TTL, etcd). 0 (default) registers once.
   */
  registerIntervalMs?: number;
  /** TTL passed to the registry on each registration, ms. Default 0 (none). */
  registerTtlMs?: number;
  /**
   * The node's admin HTTP port: `/metrics`, `/health/live`, `/health/ready`,
   * `/debug/stats`, `/v1/prometheus/targets`. Default off. On the mesh its
   * address goes into the member record, so any node can list every node's.
   */
  admin?: { address: string };
  /**
   * Metrics per layer for Prometheus (RPC calls by endpoint and code with
   * latency histograms, selector, SWIM, mDNS, broker, process). Default on;
   * `false` keeps only the plain counters of `stats()`.
   */
  metrics?: boolean;
  /**
   * OpenTelemetry tracing. Default on: W3C `traceparent`/`tracestate`
   * travel with calls, streams and messages (also through subscribers), and
   * when an OpenTelemetry SDK is registered (globally, or `tracerProvider`
   * here) each call, handled call, publish and delivery makes a span. With
   * no SDK nothing is recorded and the cost is a property read per call.
   * `false` installs none of it: no spans, and trace context is then only
   * metadata like any other (still inherited by calls made in a handler).
   * `sampleRatio` (0 to 1, default 1) samples new traces here, before the
   * SDK: spans follow a sampled parent, never an unsampled one, and a
   * trace without a parent is started at that ratio. An SDK sampler that
   * says no still costs a span's ids on every call; a ratio of 0 here costs
   * nothing, and incoming sampled traces are still continued.
   * `parentBased` (default true): a span whose parent is unsampled (a
   * caller's `traceparent` with flags 00) is not asked of the SDK at all,
   * as the SDK's default ParentBased sampler decides; set false for an SDK
   * sampler that overrides its callers' decisions.
   */
  tracing?: boolean | { tracerProvider?: TracerProvider; sampleRatio?: number; parentBased?: boolean };
  /** Parts that run with the service (the Consul agent...): started after it, stopped before it, in reverse order. */
  addons?: ServiceAddon[];
  beforeStart?: Hook[];
  afterStart?: Hook[];
  beforeStop?: Hook[];
  afterStop?: Hook[];
}

export interface ClientPublishOptions {
  /** Message metadata (headers); merged over the metadata of an enclosing handler's caller. */
  metadata?: Metadata;
  /** Codec of the message. Default: the client's default (CBOR). */
  contentType?: string;
  signal?: AbortSignal;
}

/** A service's client: RPC calls and streams, and publishing through the service's broker (Go Micro's client.Publish). */
export interface ServiceClient extends Client {
  /** Publishes through the broker, encoded with the client's codec. */
  publish(topic: string, message: unknown, opts?: ClientPublishOptions): Promise<void>;
}

export interface ServiceStopOptions {
  signal?: AbortSignal;
  /** Longest wait for in-flight calls. Default: rpc.drainTimeoutMs. */
  drainTimeoutMs?: number;
}

export interface Service {
  readonly name: string;
  readonly version: string;
  /** This instance's node id, unique per process start. */
  readonly id: string;
  /** The RPC address once started. */
  readonly address: string | undefined;
  readonly client: ServiceClient;
  readonly server: Server;
  readonly registry: Registry;
  readonly broker: Broker;
  readonly selector: Selector;
  /** The admin port's address (advertised form) while running, when `admin` was asked for. */
  readonly adminAddress: string | undefined;
  /**
   * Ready for traffic (what `/health/ready` answers): started, so joined
   * and registered, and listed. Not while starting, draining, stopped, or
   * withdrawn with `deregister`; `reason` says which.
   */
  readiness(): { ready: boolean; reason?: string };
  /** This service's metrics (one registry per service); `PrometheusExporter` renders them. */
  readonly metrics: MetricsRegistry;
  /**
   * The service's logger: lines written while a call or delivery is served
   * carry its `traceId`, `spanId` and `requestId` (metadata `x-request-id`).
   */
  readonly logger: Logger;
  /** Exposes each method of `handlers` as endpoint `name.method`, with optional registry metadata per method. Chainable. */
  handle(name: string, handlers: object, opts?: HandleOptions): this;
  /** Serves `impl` as the endpoints `definition` describes (generated from `.proto`, or `defineService`). Chainable. */
  handle<Impl extends object>(definition: ServiceDefinition<Impl>, impl: Impl, opts?: HandleOptions): this;
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, opts?: SubscriberOptions): this;
  /**
   * Lists this node in the registry again after `deregister` (Go Micro's
   * server.Register). A running service is listed from start.
   */
  register(opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Withdraws this node from the registry while it keeps running and
   * answering (health checks use it); periodic re-registration stays off
   * until `register`. Go Micro's server.Deregister.
   */
  deregister(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Starts broker and server, then registers. Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Deregisters, drains in-flight calls (bounded), then stops everything. Idempotent. */
  stop(opts?: ServiceStopOptions): Promise<void>;
  /** start(), then wait for SIGINT/SIGTERM or `signal`, then stop(). */
  run(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Counters of the RPC layer. */
  stats(): Record<string, number>;
  /** The mesh node, when the service runs on the mesh. */
  readonly mesh: Mesh | undefined;
  /** The key/value store: small shared values and configuration (docs/kv.md). */
  readonly kv: KeyValueStore;
}
