/**
 * micromesh: peer-to-peer microservices with Go Micro's interfaces.
 *
 * @example
 * import { createService } from 'micromesh';
 * const svc = createService({ name: 'greeter' })
 *   .handle('Greeter', { Hello: ({ name }: { name: string }) => ({ msg: `Hello ${name}` }) });
 * await svc.run();
 */
export { createService } from './mesh/service.ts';
export { callNodes, type NodeAnswer, type CallNodesOptions } from './mesh/nodes.ts';
export type { Service, ServiceOptions, ServiceStopOptions, Hook, ServiceAddon, ServiceClient, ClientPublishOptions } from './mesh/types.ts';
export type * from './rpc/types.ts';
export type { RpcConfig } from './rpc/config.ts';
export { STREAM_METADATA, streamKind, type StreamKind } from './rpc/endpoint-meta.ts';
export { REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA } from './rpc/endpoint-meta.ts';
export { REQUEST_TYPE_METADATA, RESPONSE_TYPE_METADATA } from './rpc/endpoint-meta.ts';
export { isServiceDefinition } from './rpc/definition.ts';
export { defineService, type HandlerOf, type ImplOf, type MethodSpec } from './rpc/define.ts';
export { createClient, type ClientMethod, type TypedClient, type TypedClientOptions } from './rpc/typed-client.ts';
export { jsonBridge, type JsonBridgeOptions } from './rpc/json-bridge.ts';
/** An endpoint's JSON Schema as `micro get service` printed it (`field type` lines): the CLI and the bot show schemas with it. */
export { schemaLines } from './rpc/schema-fields.ts';
export { endpointSchemas, type EndpointJsonSchemas, type EndpointSchemasOptions } from './rpc/schema-publish.ts';
export * from './errors/index.ts';
export * from './clock/index.ts';
export * from './codec/index.ts';
export { MemoryRegistry, StaticRegistry, type MemoryRegistryOptions, type StaticRegistryOptions } from './registry/index.ts';
export type * from './registry/types.ts';
export { NODE_PROTOCOL_KEY, RPC_PROTOCOL, speaksRpc } from './registry/types.ts';
/** The registry's service record (`Service` at the root is the runnable service). */
export type { Service as ServiceRecord } from './registry/types.ts';
export * from './selector/index.ts';
export * from './pubsub/index.ts';
export * from './transport/index.ts';
export { parseHostPort, tryParseHostPort, formatHostPort, type HostPort } from './net/address.ts';
export { createLogger, silentLogger, RateLimitedLog, type Logger, type LogLevel } from './log/index.ts';
export type { Mesh, MeshOptions } from './mesh/types.ts';
/** `servicesOf(record)`: the services a member's record lists (what the mesh registry indexes). */
export { MeshRegistry, servicesOf } from './registry/mesh.ts';
/** The registry on etcd v3 in go-micro's key layout; loads the etcd3 client on first use. */
/** EtcdRegistry itself: `micromesh/etcd` (loaded only by those who use it). */
export type { EtcdRegistryOptions } from './registry/etcd-config.ts';
/** The SWIM view a running service's `mesh.swim` gives (members, states, events). */
export type { Member, MemberState, SwimEvent, SwimEventType, SwimNode, SwimStats } from './swim/types.ts';
export * from './membership/index.ts';
export { MdnsDiscovery, type MdnsDiscoveryOptions, type MdnsConfig, type DiscoveredPeer, type MdnsEvent } from './mdns/index.ts';
export { Lifecycle, type LifecycleState } from './lifecycle/index.ts';
export { LatencySketch, WindowedLatency, type LatencySummary, type LatencySketchOptions, type WindowedLatencyOptions } from './metrics/index.ts';
export {
  MetricsRegistry, PrometheusExporter, counterFamilies, latencyHistogram, LATENCY_BOUNDS_S,
  type PrometheusExporterOptions, type Collector, type MetricFamily, type ScalarFamily, type HistogramFamily,
  type Sample, type HistogramSample, type Labels,
} from './metrics/index.ts';
export type { DebugStats, DebugEndpointStats } from './mesh/health.ts';
/** Config validation helpers (field, allowed range and value in every error), for toolkit parts and applications. */
export * as config from './config/validate.ts';
export * from './kv/index.ts';
