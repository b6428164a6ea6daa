import type { FastifyReply } from 'fastify';
import {
  MeshError, REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA, STREAM_METADATA, callNodes, endpointSchemas, streamKind,
  type Client, type Endpoint, type ServiceRecord,
} from '../index.ts';
import { errorBody, type HttpServer } from '../http/index.ts';
import type { MeshModel } from './model.ts';
import type { MeshSource } from './source.ts';

/**
 * The dashboard's read-only JSON API (docs/web.md): services, one service
 * with its nodes and endpoints, the mesh snapshot, topics, and per-node
 * health and stats gathered by calling `Debug.Health` / `Debug.Stats` on
 * every node. The pages and the browser terminal are built on it.
 */

export interface ReadApiOptions {
  http: HttpServer;
  source: MeshSource;
  model: MeshModel;
  client: Client;
  /** Topics and their subscribers, from the members' records. */
  topics: () => unknown;
  /** Per-node calls (health, stats) give up after this long, ms. */
  nodeTimeoutMs: number;
  /** What `/api/info` says: this node, and whether the write endpoints are off. */
  info: () => unknown;
}

/** A service's name, as the registry allows it in a path segment. */
const NAME = /^[\w.$:-]{1,256}$/;

export function registerReadApi(o: ReadApiOptions): void {
  /** A JSON answer; `text` when it is already encoded. */
  const json = (reply: FastifyReply, body: unknown, text = JSON.stringify(body)): FastifyReply =>
    reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(text);
  const serviceName = (raw: unknown): string => {
    if (typeof raw !== 'string' || !NAME.test(raw)) throw new MeshError('BAD_REQUEST', `service must be a service name, got ${JSON.stringify(raw ?? '')}`, { id: o.http.deps.errorId });
    return raw;
  };

  /** Every node's answer, errors as wire bodies. */
  const perNode = async (names: string[], endpoint: string): Promise<unknown[]> =>
    (await callNodes(o.client, o.source.registry, names, endpoint, { timeoutMs: o.nodeTimeoutMs }))
      .map(({ error, ...a }) => (error === undefined ? a : { ...a, error: errorBody(error) }));

  o.http.install((app) => {
    // Every open dashboard asks for the list on each registry change: built once per change, not per browser.
    let listed: { version: number; body: string } | undefined;
    app.get('/api/services', async (_req, reply) => {
      const version = o.model.registryVersion;
      if (listed?.version !== version) listed = { version, body: JSON.stringify({ services: summarize(await o.source.registry.listServices()) }) };
      return json(reply, undefined, listed.body);
    });
    app.get('/api/services/:name', async (req, reply) => {
      const name = serviceName((req.params as { name?: string }).name);
      const versions = await o.source.registry.getService(name);
      if (versions.length === 0) throw new MeshError('NOT_FOUND', `no service named ${name}`, { id: o.http.deps.errorId });
      return json(reply, { name, versions: await Promise.all(versions.map((v) => describeVersion(o.client, v))) });
    });
    // Schemas too large for the registry, fetched from a node of the service (schema-ref).
    app.get('/api/schema', async (req, reply) => {
      const q = req.query as { service?: string; endpoint?: string; version?: string };
      const name = serviceName(q.service);
      const versions = await o.source.registry.getService(name);
      const record = versions.find((v) => (q.version === undefined || v.version === q.version) && v.endpoints.some((e) => e.name === q.endpoint));
      if (record === undefined) throw new MeshError('NOT_FOUND', `service ${name} has no endpoint ${JSON.stringify(q.endpoint ?? '')}`, { id: o.http.deps.errorId });
      return json(reply, await endpointSchemas(o.client, record, q.endpoint!, { timeoutMs: o.nodeTimeoutMs }));
    });
    app.get('/api/info', (_req, reply) => json(reply, o.info()));
    app.get('/api/mesh', (_req, reply) => json(reply, o.model.snapshot()));
    app.get('/api/topics', (_req, reply) => json(reply, { topics: o.topics() }));
    app.get('/api/health', async (req, reply) => {
      const name = serviceName((req.query as { service?: string }).service);
      return json(reply, { service: name, nodes: await perNode([name], 'Debug.Health') });
    });
    app.get('/api/stats', async (req, reply) => {
      const only = (req.query as { service?: string }).service;
      const names = only !== undefined ? [serviceName(only)] : [...new Set((await o.source.registry.listServices()).map((s) => s.name))];
      return json(reply, { at: o.http.deps.clock.wallTime(), nodes: await perNode(names, 'Debug.Stats') });
    });
  });
}

/** One row per service name: its versions, distinct nodes and endpoints. */
function summarize(all: ServiceRecord[]): { name: string; versions: string[]; nodes: number; endpoints: number }[] {
  const byName = new Map<string, { versions: Set<string>; nodes: Set<string>; endpoints: Set<string> }>();
  for (const s of all) {
    let e = byName.get(s.name);
    if (e === undefined) byName.set(s.name, (e = { versions: new Set(), nodes: new Set(), endpoints: new Set() }));
    e.versions.add(s.version);
    for (const n of s.nodes) e.nodes.add(n.id);
    for (const ep of s.endpoints) e.endpoints.add(ep.name);
  }
  return [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, e]) => ({ name, versions: [...e.versions].sort(), nodes: e.nodes.size, endpoints: e.endpoints.size }));
}

/** Endpoint metadata the page shows in its own way (stream kind, schemas), left out of the plain list. */
const SHOWN_APART = new Set([STREAM_METADATA, REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA, SCHEMA_REF_METADATA]);

async function describeVersion(client: Client, s: ServiceRecord): Promise<unknown> {
  // The service's own endpoints first, Debug.* last (the health and stats pages show those).
  const order = (e: Endpoint): string => `${e.name.startsWith('Debug.') ? 1 : 0}${e.name}`;
  const endpoints = [...s.endpoints].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  return {
    version: s.version,
    metadata: s.metadata,
    nodes: s.nodes.map((n) => ({ id: n.id, address: n.address, metadata: n.metadata })),
    endpoints: await Promise.all(endpoints.map(async (e) => {
      const metadata = Object.fromEntries(Object.entries(e.metadata).filter(([k]) => !SHOWN_APART.has(k)));
      const base = { name: e.name, stream: streamKind(e.metadata) ?? 'unary', metadata };
      const ref = e.metadata[SCHEMA_REF_METADATA];
      // Inline schemas are parsed here (no call); large ones the page fetches when it shows them.
      return ref !== undefined ? { ...base, schemaRef: ref } : { ...base, ...(await endpointSchemas(client, s, e.name)) };
    })),
  };
}
