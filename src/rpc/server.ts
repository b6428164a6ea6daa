import type { Clock } from '../clock/types.ts';
import { CodecBinding } from '../codec/bind.ts';
import type { Codec, Codecs } from '../codec/types.ts';
import { MeshError, toMeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { RateLimitedLog } from '../log/limit.ts';
import type { Endpoint } from '../registry/types.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import { parseHostPort } from '../net/address.ts';
import type { Listener, Transport } from '../transport/types.ts';
import type { RemoteCall } from './calls.ts';
import type { RpcConfig } from './config.ts';
import { ServerContext } from './context.ts';
import { INTERNAL_SERVICE } from './internal.ts';
import type { Dispatcher, SessionPool } from './pool.ts';
import type { HandlerEntry, Route, RouteTarget } from './routes.ts';
import type { CallScope } from './scope.ts';
import type { RpcStats } from './stats.ts';
import { streamResponse, decodeInput, isAsyncIterable } from './server-streams.ts';
import { REQUEST_TYPE_METADATA, RESPONSE_TYPE_METADATA, STREAM_METADATA } from './endpoint-meta.ts';
import { checkTypes } from './endpoint-types.ts';
import { fromDefinition, isServiceDefinition } from './definition.ts';
import { checkPerMethod, perMethod, ServerSchemas } from './schema-server.ts';
import type {
  HandleOptions, Handler, HandlerMiddleware, Server, ServerStartOptions, ServerStopOptions, ServiceDefinition,
} from './types.ts';

export interface RpcServerOptions {
  /** The service name requests must carry. */
  name: string;
  /** Listen address, `host:port`. Default `127.0.0.1:0`. */
  address?: string;
  /** Address announced to peers when it differs from the bound one (e.g. listening on 0.0.0.0); port 0 means the bound port. */
  advertise?: string;
  transport: Transport;
  pool: SessionPool;
  codecs: Codecs;
  clock: Clock;
  logger: Logger;
  stats: RpcStats;
  scope: CallScope;
  config: RpcConfig;
}

/** Go Micro's server: exposes handler objects as `Name.Method` endpoints over the session pool. */
export class RpcServer implements Server, Dispatcher {
  private readonly opts: RpcServerOptions;
  private readonly handlers = new Map<string, HandlerEntry>();
  private readonly internal = new Map<string, HandlerEntry>();
  private readonly middleware: HandlerMiddleware[] = [];
  private listener: Listener | undefined;
  private version = 0;
  private readonly lifecycle = new Lifecycle();
  private draining = false;
  private readonly failures: RateLimitedLog;
  private readonly schemas: ServerSchemas;

  constructor(opts: RpcServerOptions) {
    this.opts = opts;
    this.failures = new RateLimitedLog(opts.logger, opts.clock);
    this.schemas = new ServerSchemas(opts.name, opts.config.schemaInlineBytes, (name, handlers) => this.handleInternal(name, handlers));
  }

  /** The address peers should use: `advertise` (its port 0 replaced by the bound port), else the bound address. */
  get address(): string | undefined {
    const l = this.listener;
    if (l === undefined) return undefined;
    const adv = this.opts.advertise;
    if (adv === undefined) return l.address;
    return adv.endsWith(':0') ? `${adv.slice(0, -2)}:${parseHostPort(l.address).port}` : adv;
  }

  handle(name: string | ServiceDefinition, handlers: object, opts: HandleOptions = {}): void {
    if (typeof name === 'string') return this.register(this.handlers, this.opts.name, name, handlers, opts);
    if (!isServiceDefinition(name)) throw new MeshError('INVALID_ARGUMENT', 'handle() takes a handler name or a service definition');
    const d = fromDefinition(name, handlers, opts);
    this.register(this.handlers, this.opts.name, name.name, d.handlers, d.opts);
  }

  /**
   * Exposes `handlers` as node-level endpoints under the service name
   * `$mesh`, answered by every server whatever its service name and left out
   * of the registry: the plumbing of other concepts (broker delivery, state
   * fetches) rides the same connections as application calls.
   */
  handleInternal(name: string, handlers: object): void {
    this.register(this.internal, INTERNAL_SERVICE, name, handlers);
  }

  private register(table: Map<string, HandlerEntry>, service: string, name: string, handlers: object, opts: HandleOptions = {}): void {
    const meta = opts.metadata;
    if (!/^[A-Za-z_][\w-]*$/.test(name)) throw new MeshError('INVALID_ARGUMENT', `handler name "${name}" must be an identifier (letters, digits, _ or -)`);
    const methods = methodNames(handlers);
    if (methods.length === 0) throw new MeshError('INVALID_ARGUMENT', `handler "${name}" has no methods to expose`);
    checkPerMethod('metadata', meta, methods, name);
    checkPerMethod('schemas', opts.schemas, methods, name);
    checkPerMethod('types', opts.types, methods, name);
    // All or nothing: a bad schema of one method registers none of them.
    const entries: HandlerEntry[] = [];
    for (const method of methods) {
      const fn = (handlers as Record<string, unknown>)[method] as (...args: unknown[]) => unknown;
      const info = { service, endpoint: `${name}.${method}` };
      const types = checkTypes(perMethod(opts.types, method), info.endpoint);
      // Request validation is the innermost layer: middleware sees the request as sent. A typed request was checked by its type.
      const declared = this.schemas.apply(opts.schemas, method, info.endpoint, fn.bind(handlers) as Handler, types === undefined);
      let h = declared.handler;
      for (let i = this.middleware.length - 1; i >= 0; i--) h = this.middleware[i]!(h, info);
      const given = perMethod(meta, method);
      const metadata: Record<string, string> = isAsyncGeneratorFunction(fn) ? { [STREAM_METADATA]: 'true' } : {};
      if (types !== undefined) {
        metadata[REQUEST_TYPE_METADATA] = types.request.typeName;
        metadata[RESPONSE_TYPE_METADATA] = types.response.typeName;
      }
      entries.push({ handler: h, info, metadata: { ...metadata, ...given, ...declared.metadata }, types });
    }
    for (const e of entries) table.set(e.info.endpoint, e);
    this.version++;
  }

  use(middleware: HandlerMiddleware): void {
    this.middleware.push(middleware);
  }

  /** The endpoints this server exposes, for the registry. */
  endpoints(): Endpoint[] {
    return [...this.handlers.values()].map((e) => ({ name: e.info.endpoint, metadata: { ...e.metadata } }));
  }

  start(opts: ServerStartOptions = {}): Promise<void> {
    return this.lifecycle.start(() => this.doStart(opts));
  }

  stop(opts: ServerStopOptions = {}): Promise<void> {
    return this.lifecycle.stop(() => this.doStop(opts));
  }

  private async doStart(opts: ServerStartOptions): Promise<void> {
    const { transport, pool } = this.opts;
    this.draining = false;
    this.listener = await transport.listen(this.opts.address ?? '127.0.0.1:0', (socket) => pool.adopt(socket), opts);
    pool.serve(this);
    this.opts.logger.info('server listening', { service: this.opts.name, address: this.address });
  }

  private async doStop(opts: ServerStopOptions): Promise<void> {
    const { pool, clock } = this.opts;
    this.draining = true;
    await this.listener?.close();
    for (const s of pool.sessionsOpen()) s.goAway('server stopping');
    const limit = clock.now() + (opts.drainTimeoutMs ?? this.opts.config.drainTimeoutMs);
    while (this.inFlight() > 0 && clock.now() < limit && !opts.signal?.aborted) await clock.sleep(5);
    const left = this.inFlight();
    if (left > 0) {
      this.opts.logger.warn('drain timeout: cancelling in-flight calls', { service: this.opts.name, calls: left });
      const err = new MeshError('SERVER_STOPPING', 'server stopped before the call completed', { id: this.opts.name });
      for (const s of pool.sessionsOpen()) for (const call of [...s.remote.values()]) call.reject(err);
    }
    pool.unserve(this);
    this.listener = undefined;
  }

  /** Calls being served now (unary and streams). */
  inFlight(): number {
    let n = 0;
    for (const s of this.opts.pool.sessionsOpen()) n += s.remote.size;
    return n;
  }

  private resolve(route: Route): RouteTarget {
    const cached = route.target;
    if (cached !== undefined && cached.version === this.version) return cached;
    const r: RouteTarget = { version: this.version, entry: undefined, codec: undefined, error: undefined };
    const table = route.service === INTERNAL_SERVICE ? this.internal : this.handlers;
    if (table === this.handlers && route.service !== this.opts.name) {
      r.error = new MeshError('NOT_FOUND', `service "${route.service}" is not served here (this is "${this.opts.name}")`, { id: this.opts.name });
    } else if ((r.entry = table.get(route.endpoint)) === undefined) {
      r.error = new MeshError('NOT_FOUND', `unknown endpoint "${route.endpoint}" on service "${this.opts.name}"`, { id: this.opts.name });
    } else {
      const { codecs } = this.opts;
      const types = r.entry.types;
      const codec = codecs.has(route.contentType) ? codecs.get(route.contentType) : undefined;
      if (codec === undefined || !CodecBinding.supports(codec, types)) {
        const can = codecs.list().filter((t) => CodecBinding.supports(codecs.get(t), types));
        r.error = new MeshError('UNSUPPORTED_CODEC', `${route.endpoint} can't be served in "${route.contentType}"${codec === undefined ? '' : ' (it has no message types)'}; it speaks ${can.join(', ')}`, { id: this.opts.name });
      } else {
        r.codec = new CodecBinding(codec, route.endpoint, types, 'server');
      }
    }
    route.target = r;
    return r;
  }

  /** Left once the read's requests are dispatched (see dispatch). */
  afterDispatch(): void {
    this.opts.scope.leave();
  }

  /** Runs the handler of a call a peer opened (Dispatcher, called by the pool's sessions). */
  dispatch(call: RemoteCall): void {
    const { stats, scope } = this.opts;
    if (this.draining) return call.reject(new MeshError('SERVER_STOPPING', 'server is stopping', { id: this.opts.name }));
    const r = this.resolve(call.route);
    if (r.error !== undefined) return call.reject(r.error);
    const codec = r.codec!.forCall();
    const entry = r.entry!;
    stats.inc('requestsServed');
    // Requests are dispatched as they are parsed, so their arrival is the session's read time.
    const deadline = call.timeoutMs > 0 ? call.session.readAt + call.timeoutMs : undefined;
    let input: unknown;
    if (call.input !== undefined) {
      input = decodeInput(call.input, codec);
    } else {
      try {
        input = codec.decode(call.body);
      } catch (err) {
        stats.inc('decodeErrors');
        return call.reject(toMeshError(err, this.opts.name));
      }
    }
    const ctx = new ServerContext(call, deadline, call.session.cbor);
    let result: unknown;
    // Left by the session once this read's requests are dispatched (afterDispatch).
    scope.enter(ctx);
    try {
      result = entry.handler(input, ctx);
    } catch (err) {
      return this.failed(call, err);
    }
    // A handler that returned synchronously has its answer before any deadline
    // could fire (one thread), so only calls that go on get a wheel entry.
    if (result instanceof Promise) {
      if (deadline !== undefined) call.armDeadline(deadline);
      result.then((value) => this.succeeded(call, codec, entry, value), (err: unknown) => this.failed(call, err));
    } else {
      this.succeeded(call, codec, entry, result, deadline);
    }
  }

  /** `unarmed`: the deadline to arm if the response is a stream (a synchronous handler's call has none yet). */
  private succeeded(call: RemoteCall, codec: Codec, entry: HandlerEntry, value: unknown, unarmed?: number): void {
    if (call.finished) return;
    if (isAsyncIterable(value)) {
      if (!call.streaming) {
        return call.reject(new MeshError('BAD_REQUEST', `${entry.info.endpoint} streams its response: call it with client.stream()`, { id: this.opts.name }));
      }
      if (unarmed !== undefined) call.armDeadline(unarmed);
      void streamResponse(call, codec, value, this.opts.name, (err) => this.failed(call, err));
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = codec.encode(value);
    } catch (err) {
      return this.failed(call, err);
    }
    const limit = call.session.peerMaxFrameBytes;
    if (bytes.length > limit) {
      return call.reject(new MeshError('FRAME_TOO_LARGE', `response of ${bytes.length} bytes exceeds the limit of ${limit} bytes`, { id: this.opts.name }));
    }
    call.respond(bytes);
  }

  private failed(call: RemoteCall, err: unknown): void {
    if (call.finished) return;
    this.opts.stats.inc('handlerErrors');
    const e = toMeshError(err, this.opts.name);
    // Rate-limited per endpoint: a handler failing on every call (or an app behind a sidecar answering 5xx) must not flood the log.
    if (e.code === 'INTERNAL') this.failures.warn(`handler-failed ${call.route.endpoint}`, 'handler failed', { endpoint: call.route.endpoint, error: e.detail });
    call.reject(e);
  }
}

/** Own and inherited methods (class instances and plain objects), minus the constructor. */
function methodNames(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k === 'constructor' || names.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d !== undefined && typeof d.value === 'function') names.add(k);
    }
  }
  return [...names];
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}
