import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import {
  MeshError, formatHostPort, tryParseHostPort, type Clock, type Logger, type Metadata, type Registry, type ServiceRecord, type TimerHandle,
} from '../index.ts';
import { decodeBody, type HttpServer } from '../http/index.ts';
import { parseDurationMs } from './duration.ts';
import { SIDECAR_SERVICE } from './names.ts';
import { sseSink, wantsEvents, wsSink, type EventSink } from './stream.ts';

/**
 * micro sidecar's `/registry`, for apps that manage records themselves:
 * - `GET /registry` lists every service; `GET /registry?service=NAME` or
 *   `GET /registry/NAME` its versions (404 NOT_FOUND when none);
 * - the same with `Accept: text/event-stream`, or a WebSocket upgrade,
 *   streams registry events `{type, service}`;
 * - `POST` a Go Micro record `{name, version, metadata, endpoints, nodes}`
 *   registers it, `?ttl=10s` making it expire unless posted again;
 * - `DELETE` with the same body deregisters it.
 * Records live in the sidecar's own registry entry: they leave the mesh
 * with the sidecar.
 */

const ID = 'micromesh.sidecar';
const MAX_TTL_MS = 86_400_000;

export function registerRegistryRoutes(http: HttpServer, registry: Registry, posted: PostedRecords): void {
  const lookup = async (reply: FastifyReply, name: string | undefined): Promise<FastifyReply> => {
    const found = name === undefined ? await registry.listServices() : await registry.getService(name);
    if (name !== undefined && found.length === 0) throw new MeshError('NOT_FOUND', `service "${name}" not found`, { id: ID });
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(found));
  };
  const watch = async (open: () => EventSink, service: string | undefined): Promise<void> => {
    // Watching before the stream opens: a client that saw the stream start misses no change.
    const w = registry.watch({ service });
    const sink = open();
    void sink.closed.then(() => w.stop());
    try {
      for await (const ev of w) if (!(await sink.send({ type: ev.type, service: ev.service }))) break;
    } catch (err) {
      if (err instanceof MeshError) sink.fail(err);
    } finally {
      w.stop();
      sink.end();
    }
  };
  const serve = (name: (req: FastifyRequest) => string | undefined) => ({
    handler: (req: FastifyRequest, reply: FastifyReply) => (wantsEvents(req) ? watch(() => sseSink(http, reply), name(req)) : lookup(reply, name(req))),
    wsHandler: (socket: WebSocket, req: FastifyRequest) => void watch(() => wsSink(http, socket), name(req)),
  });
  const post = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const ttl = queryParam(req, 'ttl');
    const ttlMs = ttl === undefined ? undefined : parseDurationMs(ttl);
    if (ttl !== undefined && ttlMs === undefined) throw new MeshError('BAD_REQUEST', `ttl must be a duration like 10s or 500ms, got "${ttl}"`, { id: ID });
    if (ttlMs !== undefined && !(ttlMs >= 1 && ttlMs <= MAX_TTL_MS)) throw new MeshError('BAD_REQUEST', `ttl must be in [1ms, 24h], got "${ttl}"`, { id: ID });
    const record = toRecord(decodeBody(req.body as Buffer | undefined, req.headers['content-type']));
    await posted.register(record, ttlMs);
    return reply.header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ name: record.name, version: record.version, nodes: record.nodes.map((n) => n.id), ttlMs: ttlMs ?? null }));
  };
  const remove = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const record = toRecord(decodeBody(req.body as Buffer | undefined, req.headers['content-type']));
    await posted.deregister(record);
    return reply.header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ name: record.name, version: record.version, nodes: record.nodes.map((n) => n.id) }));
  };
  http.installWs((app) => {
    app.route({ method: 'GET', url: '/registry', ...serve((req) => queryParam(req, 'service')) });
    app.route({ method: 'GET', url: '/registry/:service', ...serve((req) => (req.params as { service: string }).service) });
    app.post('/registry', post);
    app.delete('/registry', remove);
  });
}

/**
 * Records posted through `/registry`, with their expiry: the mesh registry
 * has no TTLs (SWIM decides who is alive), so a record posted with one is
 * withdrawn here, on the Clock, unless posted again first.
 */
export class PostedRecords {
  private readonly registry: Registry;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** `name version nodeId` → the one-node record and its expiry. */
  private readonly entries = new Map<string, { record: ServiceRecord; expiry: TimerHandle | undefined }>();

  constructor(registry: Registry, clock: Clock, logger: Logger) {
    this.registry = registry;
    this.clock = clock;
    this.logger = logger;
  }

  async register(record: ServiceRecord, ttlMs: number | undefined): Promise<void> {
    // Registries that do expire records (memory, etcd) get the TTL too.
    await this.registry.register(record, { ttlMs });
    for (const one of perNode(record)) {
      const key = keyOf(one);
      this.clock.clearTimeout(this.entries.get(key)?.expiry);
      const expiry = ttlMs === undefined ? undefined : this.clock.setTimeout(() => void this.expire(key), ttlMs);
      this.entries.set(key, { record: one, expiry });
    }
  }

  async deregister(record: ServiceRecord): Promise<void> {
    for (const one of perNode(record)) {
      const key = keyOf(one);
      this.clock.clearTimeout(this.entries.get(key)?.expiry);
      this.entries.delete(key);
    }
    await this.registry.deregister(record);
  }

  /** Withdraws every posted record (the sidecar stops). */
  async clear(): Promise<void> {
    const all = [...this.entries.keys()];
    await Promise.all(all.map((key) => this.expire(key, false)));
  }

  private async expire(key: string, log = true): Promise<void> {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.clock.clearTimeout(e.expiry);
    this.entries.delete(key);
    if (log) this.logger.info('posted record expired', { service: e.record.name, node: e.record.nodes[0]!.id });
    await this.registry.deregister(e.record).catch((err: unknown) => this.logger.warn('withdrawing a posted record failed', { service: e.record.name, error: String(err) }));
  }
}

function perNode(record: ServiceRecord): ServiceRecord[] {
  return record.nodes.map((n) => ({ ...record, nodes: [n] }));
}

function keyOf(one: ServiceRecord): string {
  return `${one.name}\u0000${one.version}\u0000${one.nodes[0]!.id}`;
}

/** A query parameter's first value. */
export function queryParam(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/** A posted Go Micro record, checked and trimmed to what the registry keeps; BAD_REQUEST naming the first problem. */
export function toRecord(v: unknown): ServiceRecord {
  const bad = (detail: string): MeshError => new MeshError('BAD_REQUEST', `registry record: ${detail}`, { id: ID });
  if (!isObject(v)) throw bad('expected {"name", "version", "metadata", "endpoints", "nodes": [{"id", "address", "metadata"}]}');
  const name = v.name;
  if (typeof name !== 'string' || !/^[\w.-]{1,128}$/.test(name)) throw bad(`name must be 1 to 128 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  if (name === SIDECAR_SERVICE) throw bad(`"${SIDECAR_SERVICE}" is reserved for the sidecars' own records`);
  if (v.version !== undefined && typeof v.version !== 'string') throw bad('version must be a string');
  if (v.endpoints !== undefined && v.endpoints !== null && !Array.isArray(v.endpoints)) throw bad('endpoints must be an array');
  if (!Array.isArray(v.nodes) || v.nodes.length === 0) throw bad('nodes must be a non-empty array of {"id", "address", "metadata"}');
  const endpoints = ((v.endpoints ?? []) as unknown[]).map((e, i) => {
    if (!isObject(e) || typeof e.name !== 'string' || e.name === '') throw bad(`endpoints[${i}] needs a name`);
    return { name: e.name, metadata: strings(e.metadata, `endpoints[${i}].metadata`, bad) };
  });
  const nodes = (v.nodes as unknown[]).map((n, i) => {
    if (!isObject(n) || typeof n.id !== 'string' || n.id === '') throw bad(`nodes[${i}] needs an id`);
    // Go Micro's early records carried the port apart from the address.
    const given = typeof n.address === 'string' ? n.address : '';
    const address = typeof n.port === 'number' && tryParseHostPort(given) === undefined ? formatHostPort(given, n.port) : given;
    const hp = tryParseHostPort(address);
    if (hp === undefined || hp.port === 0) throw bad(`nodes[${i}].address must be host:port, got ${JSON.stringify(n.address)}`);
    return { id: n.id, address, metadata: strings(n.metadata, `nodes[${i}].metadata`, bad) };
  });
  return { name, version: (v.version as string | undefined) ?? 'latest', metadata: strings(v.metadata, 'metadata', bad), endpoints, nodes };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function strings(v: unknown, where: string, bad: (d: string) => MeshError): Metadata {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw bad(`${where} must be an object of strings`);
  const out: Metadata = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw bad(`${where}.${k} must be a string`);
    out[k] = x;
  }
  return out;
}
