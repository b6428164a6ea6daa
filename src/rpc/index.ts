export type * from './types.ts';
export { RpcClient, type RpcClientOptions } from './client.ts';
export { defaultBackoff } from './unary.ts';
export { RpcServer, type RpcServerOptions } from './server.ts';
export { INTERNAL_SERVICE, MEMBERSHIP_RECORD, BROKER_DELIVER, ENDPOINT_SCHEMAS, type InternalEndpoint } from './internal.ts';
export { SessionPool, type SessionPoolOptions } from './pool.ts';
export { CallScope } from './scope.ts';
export { resolveRpcConfig, RPC_DEFAULTS, type RpcConfig } from './config.ts';
export { createRpcStats, RPC_COUNTERS, type RpcStats, type RpcCounter } from './stats.ts';
export {
  STREAM_METADATA, streamKind, type StreamKind, REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA,
} from './endpoint-meta.ts';
export { endpointSchemas, type EndpointJsonSchemas, type EndpointSchemasOptions } from './schema-publish.ts';
