/**
 * Endpoint metadata keys the server itself writes into the registry, spelled
 * once: toolkit parts (the API gateway's WebSocket bridge) read them to know
 * how to open an endpoint.
 */

/**
 * How an endpoint streams. The server writes `true` (Go Micro's spelling)
 * for async-generator handlers, which stream their response; a handler whose
 * input is an AsyncIterable declares `client` or `bidi` through
 * `handle(name, handlers, {metadata})`. Absent means unary.
 */
export const STREAM_METADATA = 'stream';

export type StreamKind = 'server' | 'client' | 'bidi';

/** The stream kind an endpoint's metadata declares, or undefined for unary. */
export function streamKind(metadata: Readonly<Record<string, string>> | undefined): StreamKind | undefined {
  const v = metadata?.[STREAM_METADATA];
  if (v === 'server' || v === 'true') return 'server';
  if (v === 'client' || v === 'bidi') return v;
  return undefined;
}

/**
 * The JSON Schema of what an endpoint takes, compact JSON text (Go Micro's
 * registry Endpoint carried Request and Response values). Written by the
 * server for endpoints declared with `handle(name, handlers, {schemas})`
 * whose schemas fit `rpc.schemaInlineBytes` together.
 */
export const REQUEST_SCHEMA_METADATA = 'request-schema';
/** The JSON Schema of what an endpoint returns, compact JSON text. */
export const RESPONSE_SCHEMA_METADATA = 'response-schema';
/**
 * Written instead of the two above when they would not fit inline: a digest
 * (16 hex digits) naming the schemas, fetched from a node of the service
 * through `$mesh` `Endpoint.Schemas` (`endpointSchemas()` does it).
 */
export const SCHEMA_REF_METADATA = 'schema-ref';

/**
 * The fully qualified message type names of an endpoint declared with
 * `types` (`greeter.v1.HelloRequest`): it speaks `application/protobuf`,
 * and its JSON form is the proto3 JSON mapping of these types.
 */
export const REQUEST_TYPE_METADATA = 'request-type';
export const RESPONSE_TYPE_METADATA = 'response-type';
