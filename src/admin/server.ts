import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../clock/types.ts';
import { MeshError, toMeshError, type WireError } from '../errors/index.ts';
import { Lifecycle } from '../lifecycle/index.ts';
import { RateLimitedLog } from '../log/index.ts';
import { formatHostPort } from '../net/address.ts';
import { resolveAdminConfig, type AdminConfig } from './config.ts';
import type { AdminOptions, AdminSource } from './types.ts';

/**
 * The admin port: four read-only routes (plus the http_sd list) on plain
 * node:http, which is loaded by `start`, not on import. fastify would add
 * start-up cost and routing nobody needs here.
 */

/** The `id` of every error the admin port answers with. */
export const ADMIN_ERROR_ID = 'micromesh.admin';

/** The paths it serves, GET and HEAD only. */
export const ADMIN_ROUTES = Object.freeze({
  metrics: '/metrics',
  live: '/health/live',
  ready: '/health/ready',
  stats: '/debug/stats',
  targets: '/v1/prometheus/targets',
});

type Route = keyof typeof ADMIN_ROUTES;
const ROUTE_BY_PATH = new Map<string, Route>(Object.entries(ADMIN_ROUTES).map(([route, path]) => [path, route as Route]));
const ALLOW = 'GET, HEAD';
const JSON_TYPE = 'application/json; charset=utf-8';

export class AdminServer {
  private readonly config: AdminConfig;
  private readonly source: AdminSource;
  private readonly clock: Clock;
  private readonly log: RateLimitedLog;
  private readonly lifecycle = new Lifecycle();
  private server: Server | undefined;
  /** Aborted by stop: source calls in flight end at once. */
  private run: AbortController | undefined;
  private bound: string | undefined;

  /** Validates the address and limits; throws MeshError `INVALID_CONFIG`. Listens only on `start`. */
  constructor(options: AdminOptions) {
    this.config = resolveAdminConfig(options);
    this.source = options.source;
    this.clock = options.clock;
    this.log = new RateLimitedLog(options.logger.child({ component: 'admin' }), options.clock);
  }

  /** The bound `host:port` while running (the real port when asked for 0). */
  get address(): string | undefined {
    return this.bound;
  }

  /** Listens. Idempotent; throws MeshError `UNAVAILABLE` when the address cannot be bound. */
  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.start(() => this.open(opts.signal));
  }

  /**
   * Stops listening; source calls in flight are aborted (their requests get
   * 503), other requests get `drainTimeoutMs` to finish. Idempotent; an
   * aborted `signal` closes every connection at once.
   */
  stop(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.stop(() => this.close(opts.signal));
  }

  private async open(signal: AbortSignal | undefined): Promise<void> {
    const c = this.config;
    const { createServer } = await import('node:http');
    signal?.throwIfAborted();
    const run = new AbortController();
    const server = createServer({
      maxHeaderSize: c.maxHeaderBytes,
      headersTimeout: c.headersTimeoutMs,
      requestTimeout: c.requestTimeoutMs,
      keepAliveTimeout: c.idleTimeoutMs,
      // Node checks the two timeouts on this period (default 30 s, which lets a slow client hold on far longer).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, c.headersTimeoutMs / 2)),
    }, (req, res) => void this.serve(req, res, run.signal));
    server.maxConnections = c.maxConnections;
    server.on('clientError', (err: Error & { code?: string }, socket: Socket) => this.clientError(err, socket));
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        server.close();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      server.once('error', (err: NodeJS.ErrnoException) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new MeshError('UNAVAILABLE', `admin port cannot listen on ${c.address}: ${err.code ?? err.message}`, { id: ADMIN_ERROR_ID, cause: err, retryable: false }));
      });
      server.listen({ host: c.listen.host, port: c.listen.port }, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    const a = server.address();
    this.bound = typeof a === 'object' && a !== null ? formatHostPort(a.address, a.port) : c.address;
    this.server = server;
    this.run = run;
  }

  private async close(signal: AbortSignal | undefined): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.bound = undefined;
    this.run?.abort(new MeshError('SERVER_STOPPING', 'the admin port is stopping', { id: ADMIN_ERROR_ID }));
    this.run = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, signal?.aborted === true ? 0 : this.config.drainTimeoutMs);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([closed, late]);
    this.clock.clearTimeout(timer);
    server.closeAllConnections();
    await closed;
  }

  /** One request: never throws (every failure becomes a JSON error answer). */
  private async serve(req: IncomingMessage, res: ServerResponse, stopping: AbortSignal): Promise<void> {
    try {
      const route = this.admit(req, res);
      if (route === undefined) return;
      if (!(await this.readBody(req))) {
        this.sendError(res, req, new MeshError('PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${this.config.maxBodyBytes} bytes (maxBodyBytes)`, { id: ADMIN_ERROR_ID }));
        return;
      }
      if (stopping.aborted) res.setHeader('connection', 'close');
      await this.answer(route, res, stopping);
    } catch (err) {
      this.sourceFailed(req, res, err);
    }
  }

  /** The route, or undefined once an error has been answered (414, 400, 404, 405, 413). */
  private admit(req: IncomingMessage, res: ServerResponse): Route | undefined {
    const c = this.config;
    const url = req.url ?? '';
    const reject = (code: string, detail: string, status?: number): undefined => {
      this.sendError(res, req, new MeshError(code, detail, { id: ADMIN_ERROR_ID, status }));
      return undefined;
    };
    if (Buffer.byteLength(url) > c.maxUrlBytes) {
      return reject('PAYLOAD_TOO_LARGE', `URL of ${Buffer.byteLength(url)} bytes exceeds the limit of ${c.maxUrlBytes} bytes (maxUrlBytes)`, 414);
    }
    const path = pathOf(url);
    if (path === undefined) return reject('BAD_REQUEST', 'malformed request target: expected a path such as /metrics');
    const route = ROUTE_BY_PATH.get(path);
    if (route === undefined) return reject('NOT_FOUND', `no route for ${path}; the admin port serves ${Object.values(ADMIN_ROUTES).join(', ')}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', ALLOW);
      return reject('METHOD_NOT_ALLOWED', `${req.method ?? '?'} ${path}: the admin port takes ${ALLOW} only`);
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (!(length <= c.maxBodyBytes)) {
      return reject('PAYLOAD_TOO_LARGE', `request body of ${req.headers['content-length']} bytes exceeds the limit of ${c.maxBodyBytes} bytes (maxBodyBytes)`);
    }
    return route;
  }

  /** Reads and drops a body (chunked ones have no length up front); false as soon as it passes the limit. */
  private readBody(req: IncomingMessage): Promise<boolean> {
    if (!unread(req)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let bytes = 0;
      const done = (ok: boolean): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onEnd);
        if (!ok) req.pause();
        resolve(ok);
      };
      const onData = (chunk: Buffer): void => {
        bytes += chunk.length;
        if (bytes > this.config.maxBodyBytes) done(false);
      };
      const onEnd = (): void => done(true);
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onEnd);
    });
  }

  private async answer(route: Route, res: ServerResponse, stopping: AbortSignal): Promise<void> {
    switch (route) {
      case 'live':
        return this.send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
      case 'ready': {
        const r = stopping.aborted ? { ready: false, reason: 'the admin port is stopping' } : this.source.readiness();
        if (r.ready) return this.send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
        return this.send(res, 503, JSON_TYPE, JSON.stringify({ status: 'unavailable', reason: r.reason ?? 'not ready' }));
      }
      case 'targets': {
        const groups = await this.fromSource('targets', res, stopping, async (signal) => this.source.targets(signal));
        return this.send(res, 200, JSON_TYPE, JSON.stringify(groups));
      }
      case 'metrics': {
        const m = await this.fromSource('metrics', res, stopping, (signal) => this.source.metrics(signal));
        return this.send(res, 200, m.contentType, m.body);
      }
      case 'stats': {
        const s = await this.fromSource('stats', res, stopping, (signal) => this.source.stats(signal));
        let body: string;
        try {
          body = JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
        } catch (err) {
          throw new MeshError('ENCODE_FAILED', `stats are not JSON: ${err instanceof Error ? err.message : String(err)}`, { id: ADMIN_ERROR_ID, cause: err });
        }
        return this.send(res, 200, JSON_TYPE, body);
      }
    }
  }

  /** Calls the source with a signal that aborts on the source timeout, on stop, or when the client goes away. */
  private async fromSource<T>(what: string, res: ServerResponse, stopping: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    const timer = this.clock.setTimeout(() => ac.abort(new MeshError('TIMEOUT', `${what} not ready within ${this.config.sourceTimeoutMs} ms (sourceTimeoutMs)`, { id: ADMIN_ERROR_ID, status: 504 })), this.config.sourceTimeoutMs);
    const onStop = (): void => ac.abort(stopping.reason);
    const onGone = (): void => ac.abort(new MeshError('CANCELLED', 'client went away', { id: ADMIN_ERROR_ID }));
    stopping.addEventListener('abort', onStop, { once: true });
    res.once('close', onGone);
    try {
      if (stopping.aborted) throw stopping.reason;
      const aborted = new Promise<never>((_resolve, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }));
      return await Promise.race([call(ac.signal), aborted]);
    } finally {
      this.clock.clearTimeout(timer);
      stopping.removeEventListener('abort', onStop);
      res.off('close', onGone);
    }
  }

  /**
   * A route failed: the source threw, timed out, or the port is stopping.
   * The answer is 5xx (the caller did nothing wrong): a MeshError keeps its
   * code (and its status when it is 5xx), anything else is `INTERNAL`.
   */
  private sourceFailed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = toMeshError(err, ADMIN_ERROR_ID);
    if (res.destroyed) return; // the client is gone: nobody to answer
    const status = e.status >= 500 && e.status <= 599 ? e.status : 500;
    if (e.code !== 'SERVER_STOPPING') {
      this.log.warn(`source-${e.code}`, 'admin request failed', { url: req.url, code: e.code, detail: e.detail, status });
    }
    this.sendError(res, req, new MeshError(e.code, e.detail, { id: e.id, status }));
  }

  private sendError(res: ServerResponse, req: IncomingMessage, e: MeshError): void {
    // A body left unread would otherwise be drained by Node to reuse the connection.
    if (unread(req)) res.setHeader('connection', 'close');
    const body: WireError = { id: e.id, code: e.code, detail: e.detail, status: e.status };
    this.send(res, e.status, JSON_TYPE, JSON.stringify(body));
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string): void {
    if (res.headersSent || res.destroyed) return;
    res.statusCode = status;
    res.setHeader('content-type', contentType);
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('cache-control', 'no-store');
    res.end(body); // Node sends no body for HEAD
  }

  /** Errors before a request exists (garbage, an oversized or slow head): answered in the error shape, then the socket closes. */
  private clientError(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const c = this.config;
    const e = err.code === 'HPE_HEADER_OVERFLOW'
      ? new MeshError('PAYLOAD_TOO_LARGE', `request head exceeds the limit of ${c.maxHeaderBytes} bytes (maxHeaderBytes)`, { id: ADMIN_ERROR_ID, status: 431 })
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new MeshError('TIMEOUT', `request not received within ${c.requestTimeoutMs} ms (requestTimeoutMs, headersTimeoutMs)`, { id: ADMIN_ERROR_ID, status: 408 })
        : new MeshError('BAD_REQUEST', `malformed HTTP request (${err.code ?? 'parse error'})`, { id: ADMIN_ERROR_ID });
    this.log.debug(`client-${e.status}`, 'bad admin request', { code: err.code, detail: e.detail });
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify(e.toWire());
    socket.end(`HTTP/1.1 ${e.status} ${REASONS[e.status] ?? 'Error'}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
}

/** Whether the request has a body not read yet. */
function unread(req: IncomingMessage): boolean {
  const declared = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
  return declared && !req.complete;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The path of a request target in origin form (`/p?q`) or absolute form (`http://h/p`); undefined otherwise. */
function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) {
    const q = target.search(/[?#]/);
    return q < 0 ? target : target.slice(0, q);
  }
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}
