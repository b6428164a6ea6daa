import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { MeshError, type Random } from '../index.ts';
import type { Catalog } from './catalog.ts';
import { firstSegment } from './resolve.ts';
import type { HttpServer } from './server.ts';

/**
 * micro api's http/web handlers: a service whose nodes say they serve HTTP
 * (node metadata `http-address`) is reverse-proxied under `/<service>/`,
 * plain requests through @fastify/reply-from (undici) and WebSocket
 * upgrades by piping frames to a socket opened on a node. The prefix is
 * stripped; the app learns it from `X-Forwarded-Prefix`.
 */
export class HttpProxy {
  private readonly http: HttpServer;
  private readonly catalog: Catalog;
  private readonly random: Random;
  /** ws's client class, loaded with the server (not when micromesh/api is imported). */
  private Client: typeof WebSocket | undefined;

  constructor(http: HttpServer, catalog: Catalog, random: Random) {
    this.http = http;
    this.catalog = catalog;
    this.random = random;
    http.plugin(async (app) => {
      const [{ default: replyFrom }, ws] = await Promise.all([import('@fastify/reply-from'), import('ws')]);
      this.Client = ws.WebSocket;
      await app.register(replyFrom, { undici: { headersTimeout: http.deps.config.callTimeoutMs, bodyTimeout: 0 } });
    });
  }

  /** The node to send a request for `url` to, and the path there; undefined when no HTTP service owns the path. */
  private pick(url: string): { address: string; path: string; prefix: string } | undefined {
    const service = firstSegment(url);
    if (service === undefined) return undefined;
    const nodes = this.catalog.httpAddresses(service);
    if (nodes === undefined || nodes.length === 0) return undefined;
    const rest = url.slice(service.length + 1);
    return { address: nodes[this.random.int(nodes.length)]!, path: rest.startsWith('/') ? rest : `/${rest}`, prefix: `/${service}` };
  }

  readonly intercept = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const to = this.pick(req.url);
    if (to === undefined) return false;
    void reply.from(`http://${to.address}${to.path}`, {
      rewriteRequestHeaders: (_req, headers) => ({
        ...headers,
        'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.ip}` : req.ip,
        'x-forwarded-host': req.headers.host ?? '',
        'x-forwarded-proto': req.protocol,
        'x-forwarded-prefix': to.prefix,
        'x-request-id': req.id,
      }),
      onError: (r, { error }) => {
        this.http.sendError(r as FastifyReply, new MeshError('UNAVAILABLE', `upstream ${to.address} failed: ${error.message}`, { id: this.http.deps.errorId }), req);
      },
    });
    return true;
  };

  readonly interceptWs = (socket: WebSocket, req: FastifyRequest): boolean => {
    const to = this.pick(req.url);
    if (to === undefined || this.Client === undefined) return false;
    const offered = req.headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()).filter(Boolean);
    const upstream = new this.Client(`ws://${to.address}${to.path}`, offered, {
      headers: { 'x-forwarded-for': req.ip, 'x-forwarded-prefix': to.prefix, 'x-request-id': req.id },
      maxPayload: this.http.deps.config.wsMaxMessageBytes,
    });
    const forget = this.http.track({ close: () => socket.close(1001, 'server shutting down') });
    pipe(socket, upstream, this.http.deps.config.streamHighWaterBytes);
    pipe(upstream, socket, this.http.deps.config.streamHighWaterBytes);
    // Frames the client sends before the upstream is open wait in the paused socket.
    socket.pause();
    upstream.once('open', () => socket.resume());
    const closeBoth = (code: number, reason: string): void => {
      forget();
      for (const s of [socket, upstream]) if (s.readyState === s.OPEN || s.readyState === s.CONNECTING) s.close(validClose(code), reason);
    };
    socket.once('close', (code, reason) => closeBoth(code, reason.toString()));
    upstream.once('close', (code, reason) => closeBoth(code, reason.toString()));
    upstream.once('error', (err) => closeBoth(1011, `upstream: ${err.message}`.slice(0, 120)));
    socket.once('error', () => closeBoth(1011, 'client error'));
    return true;
  };
}

/** Forwards frames from `a` to `b` as they are, pausing `a` while `b` is over the high-water mark. */
function pipe(a: WebSocket, b: WebSocket, hwm: number): void {
  a.on('message', (data, isBinary) => {
    if (b.readyState !== b.OPEN) return;
    b.send(data as Buffer, { binary: isBinary }, () => {
      if (a.isPaused && b.bufferedAmount < hwm) a.resume();
    });
    if (b.bufferedAmount >= hwm) a.pause();
  });
}

/** Close codes a peer may send on (1005, 1006 and 1015 are reserved for reporting). */
function validClose(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1000;
}
