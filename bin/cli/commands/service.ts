import type { Command } from 'commander';
import { MeshError } from '../../../src/errors/index.ts';
import {
  REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA,
} from '../../../src/rpc/endpoint-meta.ts';
import { endpointSchemas, type EndpointJsonSchemas } from '../../../src/rpc/schema-publish.ts';
import type { Client } from '../../../src/rpc/types.ts';
import type { Service as ServiceRecord } from '../../../src/registry/types.ts';
import type { Cli } from '../context.ts';
import { print } from '../print.ts';
import { schemaLines } from '../../../src/rpc/schema-fields.ts';

const SCHEMA_KEYS = new Set([REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA]);
/** Timeout of each node's answer when a schema is fetched by ref, ms. */
const FETCH_TIMEOUT_MS = 2000;

/** An endpoint's schemas, or why they could not be fetched. */
type Schemas = EndpointJsonSchemas & { error?: string };

/**
 * `micromesh service NAME`: one service's versions, endpoints (with their
 * request and response fields) and nodes (Go Micro's `micro get service`).
 */
export function register(program: Command, cli: Cli): void {
  program.command('service').description('show one service: versions, endpoints with their request and response fields, nodes').argument('<name>')
    .action((name: string) => cli.withMesh(async ({ view, service }) => {
      const versions = await view.registry.getService(name);
      if (versions.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh (ask "micromesh services")`);
      const schemas = await Promise.all(versions.map((v) => schemasOf(service.client, v)));
      const json = versions.map((v, i) => ({ ...v, endpoints: v.endpoints.map((e, k) => ({ ...e, schemas: schemas[i]![k]! })) }));
      print(cli.flags().json, json, () => json.flatMap((s) => [
        [`${s.name} ${s.version}`, ''],
        ...s.endpoints.flatMap((e) => [['  endpoint', `${e.name}${metadataText(e.metadata)}`], ...fields(e.schemas)]),
        ...s.nodes.map((n) => ['  node', `${n.id} ${n.address}`]),
      ]));
    }));
}

/** Every endpoint's schemas, fetched by ref from the service's nodes when they are not inline. */
function schemasOf(client: Client, v: ServiceRecord): Promise<Schemas[]> {
  return Promise.all(v.endpoints.map((e) => endpointSchemas(client, v, e.name, { timeoutMs: FETCH_TIMEOUT_MS })
    .catch((err: unknown): Schemas => ({ error: err instanceof MeshError ? `${err.code}: ${err.detail}` : String(err) }))));
}

/** The metadata shown after the endpoint's name: everything but the schemas, printed below it. */
function metadataText(metadata: Record<string, string>): string {
  const shown = Object.entries(metadata).filter(([k]) => !SCHEMA_KEYS.has(k));
  return shown.length > 0 ? ` ${JSON.stringify(Object.fromEntries(shown))}` : '';
}

function fields(s: Schemas): string[][] {
  if (s.error !== undefined) return [[`    schemas unavailable (${s.error})`]];
  return [
    ...(s.request ? schemaLines('request', s.request, '    ') : []),
    ...(s.response ? schemaLines('response', s.response, '    ') : []),
  ].map((line) => [line]);
}
