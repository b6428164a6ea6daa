import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { MeshError, byVersion, streamKind, type Filter } from '../index.ts';
import { decodeBody, formatOf, mergeRequest, parseJson } from './body.ts';
import type { CallTarget, Invoker } from './calls.ts';
import type { Catalog, RouteMatch } from './catalog.ts';
import { errorBody } from './errors.ts';
import { resolvePath } from './resolve.ts';
import { CoercionCache, coerce } from './coerce.ts';
import { bridgeWebSocket } from './ws.ts';

/**
 * The rpc handler (micro api's default): routes services declare first, then
 * an interceptor (the gateway's HTTP proxy), then Go Micro's path rules; and
 * micro's `/rpc` endpoint. Unary over plain HTTP, server streams over SSE
 * (`Accept: text/event-stream`), every kind over WebSocket.
 */

export interface RpcRoutesOptions {
  invoker: Invoker;
  catalog: Catalog;
  exposes: (service: string, endpoint: string) => boolean;
  /** Serves a request another way before path resolution (the HTTP proxy); true when it did. */
  intercept?: (req: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>;
  /** The same for WebSocket upgrades. */
  interceptWs?: (socket: WebSocket, req: FastifyRequest) => boolean;
}

export function registerRpcRoutes(o: RpcRoutesOptions): void {
  const http = o.invoker.http;
  const c = http.deps.config;
  const versions = new Map<string, Filter[]>();
  const versionFilters = (v: string | undefined): Filter[] | undefined => {
    if (v === undefined) return undefined;
    let f = versions.get(v);
    if (f === undefined) versions.set(v, (f = [byVersion(v)]));
    return f;
  };
  const notFound = (req: FastifyRequest): MeshError => new MeshError('NOT_FOUND', `no route for ${req.method} ${pathOf(req.url)}`, { id: http.deps.errorId });

  // Path resolution is pure: remembered per path (bounded), so a hot path costs one Map lookup.
  const resolved = new Map<string, CallTarget | null>();
  const byPath = (path: string): CallTarget | undefined => {
    let t = resolved.get(path);
    if (t === undefined) {
      const r = resolvePath(path, c.namespace);
      t = r === undefined || !o.exposes(r.service, r.endpoint) ? null : { service: r.service, endpoint: r.endpoint, filters: versionFilters(r.version) };
      if (resolved.size >= 4096) resolved.clear();
      resolved.set(path, t);
    }
    return t ?? undefined;
  };
  /** The target of a request and its path parameters, or undefined (404). */
  const resolve = (declared: RouteMatch | undefined, path: string): { target: CallTarget; params: Record<string, string> | undefined } | undefined => {
    if (declared !== undefined) return { target: declared, params: declared.params };
    const target = byPath(path);
    return target === undefined ? undefined : { target, params: undefined };
  };

  const coercions = new CoercionCache();
  /** Query and path values typed by the endpoint's request schema. */
  const typed = <T extends Record<string, unknown> | undefined>(t: CallTarget, values: T): T =>
    coerce(values, coercions.of(o.catalog.endpointMetadata(t.service, t.endpoint)));

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const path = pathOf(req.url);
    const declared = o.catalog.match(req.method, path);
    if (declared === undefined && o.intercept !== undefined && (await o.intercept(req, reply))) return reply;
    const found = resolve(declared, path);
    if (found === undefined) throw notFound(req);
    const request = mergeRequest(decodeBody(req.body as Buffer | undefined, req.headers['content-type']),
      typed(found.target, req.query as Record<string, unknown>), typed(found.target, found.params));
    if (req.headers.accept?.includes('text/event-stream')) return o.invoker.sse(req, reply, found.target, request);
    return o.invoker.unary(req, reply, found.target, request);
  };

  http.install((app) => {
    if (c.rpcPath !== '') {
      app.post(c.rpcPath, (req, reply) => {
        const { target, request } = rpcBody(req, http.deps.errorId);
        if (!o.exposes(target.service, target.endpoint)) throw new MeshError('NOT_FOUND', `${target.service} ${target.endpoint} is not exposed`, { id: http.deps.errorId });
        return o.invoker.unary(req, reply, target, request);
      });
    }
    app.route({ method: http.methods.filter((m) => m !== 'GET'), url: '/*', handler });
  });
  // GET also answers WebSocket upgrades (the plugin allows a wsHandler on GET routes only).
  http.installWs((app) => app.route({ method: 'GET', url: '/*', exposeHeadRoute: false, handler, wsHandler: (socket, req) => {
    if (o.interceptWs?.(socket, req)) return;
    const path = pathOf(req.url);
    const found = resolve(o.catalog.match('GET', path), path);
    if (found === undefined) {
      socket.send(JSON.stringify({ error: errorBody(notFound(req)) }));
      socket.close(1008, 'NOT_FOUND');
      return;
    }
    const kind = streamKind(o.catalog.endpointMetadata(found.target.service, found.target.endpoint));
    bridgeWebSocket(o.invoker, socket, req, found.target, kind, typed(found.target, { ...(req.query as Record<string, unknown>), ...found.params }));
  } }));
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * micro's `/rpc` body: `{service, endpoint | method, request, address?}`,
 * as JSON, CBOR or a form (`request` then a JSON string, as it may be in
 * JSON too).
 */
export function rpcBody(req: FastifyRequest, errorId: string): { target: CallTarget; request: unknown } {
  const type = req.headers['content-type'];
  const raw = req.body as Buffer | undefined;
  let body: Record<string, unknown>;
  if (type?.startsWith('application/x-www-form-urlencoded')) {
    body = Object.fromEntries(new URLSearchParams(raw?.toString('utf8') ?? ''));
  } else {
    const decoded = decodeBody(raw, type);
    if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
      throw new MeshError('BAD_REQUEST', '/rpc takes an object {service, endpoint, request, address?}', { id: errorId });
    }
    body = decoded as Record<string, unknown>;
  }
  const service = body.service;
  const endpoint = body.endpoint ?? body.method;
  if (typeof service !== 'string' || service === '') throw new MeshError('BAD_REQUEST', '/rpc: "service" is required', { id: errorId });
  if (typeof endpoint !== 'string' || !/^[\w-]+\.[\w-]+$/.test(endpoint)) throw new MeshError('BAD_REQUEST', '/rpc: "endpoint" (or "method") is required, as Handler.Method', { id: errorId });
  if (body.address !== undefined && typeof body.address !== 'string') throw new MeshError('BAD_REQUEST', '/rpc: "address" must be host:port', { id: errorId });
  let request: unknown = body.request ?? {};
  if (typeof request === 'string' && formatOf(type) !== 'cbor') request = request.trim() === '' ? {} : parseJson(request);
  return { target: { service, endpoint, address: body.address as string | undefined }, request };
}

