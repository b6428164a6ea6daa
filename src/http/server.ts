import type { Server as NodeServer, createServer as CreateServer } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MeshError, RateLimitedLog, formatHostPort, tryParseHostPort, type Clock, type Logger, type Random } from '../index.ts';
import type { HttpConfig } from './config.ts';
import { errorBody, fromHttpError, httpStatus } from './errors.ts';
import { chooseProtocol } from './body.ts';
import { headerRules, type HeaderRules } from './metadata.ts';

/**
 * The HTTP server both commands share: fastify with its official CORS and
 * WebSocket plugins, our limits, error bodies, request ids and a graceful
 * drain. Routes are added by the parts (rpc, events, registry, broker...)
 * between `createHttpServer` and `listen`.
 */

export interface HttpServerDeps {
  config: HttpConfig;
  logger: Logger;
  clock: Clock;
  random: Random;
  /** `id` of the errors the layer raises itself. */
  errorId: string;
}

/** A long-lived response (SSE, WebSocket) that stop() ends at once instead of waiting for it. */
export type OpenStream = { close(): void };

export class HttpServer {
  private app: FastifyInstance | undefined;
  readonly deps: HttpServerDeps;
  readonly log: RateLimitedLog;
  /** Which headers become call metadata (from the config, built once). */
  readonly headerRules: HeaderRules;
  private readonly streams = new Set<OpenStream>();
  private readonly wsRoutes: ((app: FastifyInstance) => void)[] = [];
  private readonly routes: ((app: FastifyInstance) => void)[] = [];
  private readonly plugins: ((app: FastifyInstance) => Promise<void>)[] = [];
  private draining = false;
  private listening: string | undefined;
  /** Request ids are this random prefix and a counter: unique without a CSPRNG draw per request (5% of the gateway's CPU). */
  private readonly idPrefix: string;
  private idCount = 0;
  /** Requests admitted and not yet answered; the drain waits for 0. */
  private inflight = 0;
  private idle: (() => void) | undefined;

  constructor(deps: HttpServerDeps) {
    this.deps = deps;
    this.idPrefix = Buffer.from(deps.random.bytes(8)).toString('hex');
    this.headerRules = headerRules(deps.config);
    this.log = new RateLimitedLog(deps.logger, deps.clock);
  }

  /**
   * Builds the fastify app. fastify and its plugins are imported here, when
   * a server starts, not when micromesh/api is imported (and not by other
   * CLI commands, whose bundle would otherwise load them).
   */
  private async build(): Promise<FastifyInstance> {
    const c = this.deps.config;
    const [{ createServer }, { default: Fastify }, { default: cors }, { default: websocket }] = await Promise.all([
      import('node:http'), import('fastify'), import('@fastify/cors'), import('@fastify/websocket'),
    ]);
    const serverFactory = (handler: Parameters<typeof CreateServer>[1]): NodeServer => createServer({
      maxHeaderSize: c.maxHeaderBytes,
      headersTimeout: c.headersTimeoutMs,
      requestTimeout: c.requestTimeoutMs,
      keepAliveTimeout: c.idleTimeoutMs,
      // Node checks the head and request timeouts on this period (default 30 s, which lets a slow client hold on far longer).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, c.headersTimeoutMs / 2)),
    }, handler);
    const app = Fastify({
      serverFactory,
      bodyLimit: c.bodyLimitBytes,
      keepAliveTimeout: c.idleTimeoutMs,
      requestTimeout: c.requestTimeoutMs,
      return503OnClosing: false,
      forceCloseConnections: 'idle',
      requestIdHeader: false,
      genReqId: (req) => requestId(req.headers['x-request-id'], this.idPrefix, ++this.idCount),
      routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
      clientErrorHandler: (err, socket) => this.clientError(err, socket as Socket),
    });
    app.removeAllContentTypeParsers();
    // Every body arrives as bytes (bounded by bodyLimit); each part decodes what it accepts.
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onRequest', (req, reply, done) => this.admit(req, reply, done));
    app.setErrorHandler((err, req, reply) => this.sendError(reply, fromHttpError(err, c), req));
    app.setNotFoundHandler((req, reply) => this.sendError(reply, new MeshError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`, { id: this.deps.errorId }), req));
    if (c.cors !== false) {
      const any = c.cors.origins.includes('*');
      void app.register(cors, {
        origin: any ? (c.cors.credentials ? true : '*') : c.cors.origins,
        methods: c.cors.methods,
        ...(c.cors.allowedHeaders !== undefined ? { allowedHeaders: c.cors.allowedHeaders } : {}), // absent: reflect the preflight's
        exposedHeaders: c.cors.exposedHeaders,
        credentials: c.cors.credentials,
        maxAge: c.cors.maxAgeS,
        strictPreflight: false,
      });
    }
    for (const plugin of this.plugins) await plugin(app);
    // WebSocket lives in its own scope with the routes that take upgrades: its request hooks then
    // cost nothing on the other routes (POST calls, the hot path).
    void app.register(async (scope) => {
      await scope.register(websocket, {
        options: { maxPayload: c.wsMaxMessageBytes, handleProtocols: (offered) => chooseProtocol(offered) },
        preClose: (done) => {
          for (const client of scope.websocketServer?.clients ?? []) client.close(1001, 'server shutting down');
          done();
        },
      });
      for (const routes of this.wsRoutes) routes(scope);
    });
    // Routes go in as plugins after CORS and WebSocket, so those plugins' route hooks see them.
    for (const routes of this.routes) void app.register(async (scoped) => routes(scoped));
    return app;
  }

  /** Adds a root-level plugin (e.g. @fastify/reply-from), loaded when the server starts. Before listen(). */
  plugin(register: (app: FastifyInstance) => Promise<void>): void {
    this.plugins.push(register);
  }

  /** Adds routes. Before listen(). */
  install(routes: (app: FastifyInstance) => void): void {
    this.routes.push(routes);
  }

  /** Adds routes that may take WebSocket upgrades (`wsHandler`), in the WebSocket plugin's scope. Before listen(). */
  installWs(routes: (app: FastifyInstance) => void): void {
    this.wsRoutes.push(routes);
  }

  /** Methods the catch-all routes take: OPTIONS belongs to the CORS plugin when it is on. */
  get methods(): ('GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS')[] {
    const m: ('GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS')[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
    return this.deps.config.cors === false ? [...m, 'OPTIONS'] : m;
  }

  /** The address it listens on once started, `host:port`. */
  get address(): string | undefined {
    return this.listening;
  }

  async listen(signal?: AbortSignal): Promise<string> {
    if (this.listening !== undefined) return this.listening;
    const hp = tryParseHostPort(this.deps.config.address.startsWith(':') ? `0.0.0.0${this.deps.config.address}` : this.deps.config.address);
    if (hp === undefined) throw new MeshError('INVALID_CONFIG', `http.address must be host:port or :port, got "${this.deps.config.address}"`);
    signal?.throwIfAborted();
    const app = (this.app ??= await this.build());
    await app.listen({ host: hp.host, port: hp.port, signal });
    const a = app.server.address();
    this.listening = typeof a === 'object' && a !== null ? formatHostPort(a.address, a.port) : this.deps.config.address;
    return this.listening;
  }

  /** Registers a stream stop() must end; returns the function that forgets it. */
  track(s: OpenStream): () => void {
    this.streams.add(s);
    return () => this.streams.delete(s);
  }

  /**
   * Graceful drain: new requests get 503 with `Connection: close`, open
   * streams end, in-flight requests get `drainTimeoutMs` to finish, then
   * every connection is closed. Idempotent. A fastify app can't listen
   * again once closed, so the next `listen` builds a new one from the same
   * routes and plugins: the server restarts.
   */
  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      await this.drain();
    } finally {
      this.app = undefined;
      this.listening = undefined;
      this.draining = false;
    }
  }

  private async drain(): Promise<void> {
    for (const s of [...this.streams]) s.close();
    const app = this.app;
    if (app === undefined) return;
    if (this.listening === undefined) return void (await app.close());
    // Keep listening while requests are in flight (new ones get 503), then close.
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = this.deps.clock.setTimeout(resolve, this.deps.config.drainTimeoutMs);
    });
    if (this.inflight > 0) await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), late]);
    const closing = app.close();
    if (this.inflight > 0) await Promise.race([closing, late]);
    this.deps.clock.clearTimeout(timer);
    app.server.closeAllConnections();
    await closing;
  }

  /** Sends an error as `{id, code, detail, status}` with the status derived from its code. */
  sendError(reply: FastifyReply, err: MeshError, req?: FastifyRequest): FastifyReply {
    const status = httpStatus(err);
    if (status >= 500) this.log.warn(`http-${status}`, 'request failed', { status, code: err.code, detail: err.detail, url: req?.url });
    return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(errorBody(err)));
  }

  private admit(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
    reply.header('x-request-id', req.id);
    if (this.draining) {
      reply.header('connection', 'close');
      this.sendError(reply, new MeshError('SERVER_STOPPING', 'the gateway is shutting down; retry elsewhere', { id: this.deps.errorId }), req);
      return;
    }
    if (req.url.length > this.deps.config.maxUrlBytes) {
      this.sendError(reply, new MeshError('PAYLOAD_TOO_LARGE', `URL of ${req.url.length} bytes exceeds the limit of ${this.deps.config.maxUrlBytes} bytes (maxUrlBytes)`, { id: this.deps.errorId, status: 414 }), req);
      return;
    }
    // In flight until its response is done or its connection gone (hijacked streams included).
    this.inflight++;
    reply.raw.once('close', () => {
      if (--this.inflight === 0) this.idle?.();
    });
    done();
  }

  /** Errors before a request exists (oversized head, slow head, garbage): answered in our error shape, then the socket closes. */
  private clientError(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const c = this.deps.config;
    const e = err.code === 'HPE_HEADER_OVERFLOW'
      ? new MeshError('PAYLOAD_TOO_LARGE', `request head exceeds the limit of ${c.maxHeaderBytes} bytes (maxHeaderBytes)`, { id: this.deps.errorId, status: 431 })
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new MeshError('TIMEOUT', `request not received within ${c.requestTimeoutMs} ms (requestTimeoutMs / headersTimeoutMs)`, { id: this.deps.errorId, status: 408 })
        : new MeshError('BAD_REQUEST', `malformed HTTP request (${err.code ?? 'parse error'})`, { id: this.deps.errorId });
    this.log.warn('client-error', 'client error', { code: err.code, detail: e.detail });
    const body = JSON.stringify({ ...errorBody(e), status: e.status });
    const status = e.status;
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  }
}

function statusText(status: number): string {
  return ({ 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as Record<number, string>)[status] ?? 'Error';
}

/** The client's X-Request-Id when it is a sane token, else a fresh one. */
function requestId(given: string | string[] | undefined, prefix: string, n: number): string {
  if (typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given)) return given;
  return `${prefix}${n.toString(16).padStart(8, '0')}`;
}
