/**
 * Endpoint schemas in the registry: the JSON Schema of each side rides in
 * the endpoint's metadata when small (`request-schema`, `response-schema`),
 * else a `schema-ref` digest does and the schemas are fetched from a node of
 * the service through `$mesh` `Endpoint.Schemas`, as large member records
 * are (docs/PROTOCOL.md "Endpoint schemas").
 */
import { createHash } from 'node:crypto';
import { MeshError, toMeshError } from '../errors/index.ts';
import type { Service as ServiceRecord } from '../registry/types.ts';
import { REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA } from './endpoint-meta.ts';
import { ENDPOINT_SCHEMAS, INTERNAL_SERVICE } from './internal.ts';
import { isStandardSchema } from './schema.ts';
import type { Client, EndpointSchemas, JsonSchema, Schema } from './types.ts';

/** Both sides as compact JSON text: what travels inline or in an `Endpoint.Schemas` answer. */
export interface SchemaTexts {
  request?: string;
  response?: string;
}

/** The JSON Schemas of an endpoint, parsed. */
export interface EndpointJsonSchemas {
  request?: JsonSchema;
  response?: JsonSchema;
}

const TARGET = { target: 'draft-2020-12' };

/**
 * A side's JSON Schema as compact text: a plain JSON Schema as given; a
 * Standard Schema's from its Standard JSON Schema interface (the request's
 * input type, what callers send; the response's output type, what the
 * handler returns), or nothing when the vendor has none or can't express it
 * (transforms): validation happens all the same.
 */
export function jsonSchemaText(schema: Schema | undefined, side: 'request' | 'response'): string | undefined {
  if (schema === undefined) return undefined;
  if (!isStandardSchema(schema)) return JSON.stringify(schema);
  const conv = schema['~standard'].jsonSchema;
  if (conv === undefined) return undefined;
  try {
    return JSON.stringify(side === 'request' ? conv.input(TARGET) : conv.output(TARGET));
  } catch {
    return undefined;
  }
}

/** What `handle` publishes for one endpoint: its metadata keys, and the texts to serve when they go by ref. */
export interface PublishedSchemas {
  metadata: Record<string, string>;
  /** Set when the schemas go by `schema-ref`: the digest and what `Endpoint.Schemas` answers for it. */
  ref?: { digest: string; texts: SchemaTexts };
}

/** Inline when both texts fit `inlineBytes` together (UTF-8), else a ref: the first 16 hex digits of their SHA-256. */
export function publishSchemas(schemas: EndpointSchemas, inlineBytes: number): PublishedSchemas {
  const texts: SchemaTexts = {};
  const req = jsonSchemaText(schemas.request, 'request');
  const res = jsonSchemaText(schemas.response, 'response');
  if (req !== undefined) texts.request = req;
  if (res !== undefined) texts.response = res;
  if (req === undefined && res === undefined) return { metadata: {} };
  const size = Buffer.byteLength(req ?? '') + Buffer.byteLength(res ?? '');
  if (size <= inlineBytes) {
    const metadata: Record<string, string> = {};
    if (req !== undefined) metadata[REQUEST_SCHEMA_METADATA] = req;
    if (res !== undefined) metadata[RESPONSE_SCHEMA_METADATA] = res;
    return { metadata };
  }
  const digest = createHash('sha256').update(`${req ?? ''}\n${res ?? ''}`).digest('hex').slice(0, 16);
  return { metadata: { [SCHEMA_REF_METADATA]: digest }, ref: { digest, texts } };
}

/** The `Endpoint.Schemas` handler over a server's refs: request `{ref}`, response `{request?, response?}` (JSON texts). */
export function schemaFetchHandler(refs: ReadonlyMap<string, SchemaTexts>, id: string): object {
  return {
    [ENDPOINT_SCHEMAS.method]: (req: unknown): SchemaTexts => {
      const ref = (req as { ref?: unknown } | null)?.ref;
      const texts = typeof ref === 'string' ? refs.get(ref) : undefined;
      if (texts === undefined) throw new MeshError('NOT_FOUND', `no endpoint schemas with ref ${JSON.stringify(ref)} here`, { id });
      return texts;
    },
  };
}

export interface EndpointSchemasOptions {
  signal?: AbortSignal;
  /** Timeout of each node's answer, ms. Default: the client's. */
  timeoutMs?: number;
}

/**
 * The JSON Schemas an endpoint of `service` published: from its metadata
 * when inline, else fetched from the service's nodes in turn until one
 * answers. `{}` when it published none. NOT_FOUND when `service` has no
 * such endpoint; the last node's error when none answered.
 */
export async function endpointSchemas(client: Client, service: ServiceRecord, endpoint: string,
  opts: EndpointSchemasOptions = {}): Promise<EndpointJsonSchemas> {
  const e = service.endpoints.find((x) => x.name === endpoint);
  if (e === undefined) throw new MeshError('NOT_FOUND', `service "${service.name}" ${service.version} has no endpoint "${endpoint}"`);
  const ref = e.metadata[SCHEMA_REF_METADATA];
  if (ref === undefined) return parsed({ request: e.metadata[REQUEST_SCHEMA_METADATA], response: e.metadata[RESPONSE_SCHEMA_METADATA] });
  let last: MeshError = new MeshError('UNAVAILABLE', `no node of "${service.name}" to fetch the schemas of ${endpoint} from`);
  for (const node of service.nodes) {
    opts.signal?.throwIfAborted();
    try {
      const texts = await client.call<SchemaTexts>(INTERNAL_SERVICE, ENDPOINT_SCHEMAS.endpoint, { ref }, {
        address: node.address, retries: 0, signal: opts.signal, timeoutMs: opts.timeoutMs,
      });
      return parsed(texts ?? {});
    } catch (err) {
      last = toMeshError(err, 'micromesh.client');
    }
  }
  throw last;
}

/** Parses both texts; a side that is not a JSON object (a malformed peer) is left out. */
function parsed(texts: { request?: unknown; response?: unknown }): EndpointJsonSchemas {
  const out: EndpointJsonSchemas = {};
  for (const side of ['request', 'response'] as const) {
    const t = texts[side];
    if (typeof t !== 'string') continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[side] = v as JsonSchema;
    } catch {
      // Malformed: left out.
    }
  }
  return out;
}
