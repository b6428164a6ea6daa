import { SystemClock, SystemRandom } from '../clock/system.ts';
import type { TimerHandle } from '../clock/types.ts';
import { defaultCodecs } from '../codec/codecs.ts';
import type { Codecs } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';
import { ADMIN_KEY } from '../membership/keys.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import { createLogger } from '../log/pino.ts';
import { ClientCallMeter } from '../metrics/calls.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { formatHostPort, parseHostPort, tryParseHostPort } from '../net/address.ts';
import { isUnspecified, primaryIPv4 } from '../net/interfaces.ts';
import { MemoryRegistry } from '../registry/memory.ts';
import { NODE_PROTOCOL_KEY, RPC_PROTOCOL, type Registry } from '../registry/types.ts';
import type { Service as ServiceRecord } from '../registry/types.ts';
import { resolveRpcConfig } from '../rpc/config.ts';
import { SessionPool } from '../rpc/pool.ts';
import { CallScope } from '../rpc/scope.ts';
import { RpcServer } from '../rpc/server.ts';
import { createRpcStats } from '../rpc/stats.ts';
import type { MessageHandler, SubscriberOptions } from '../pubsub/types.ts';
import { MemoryKv } from '../kv/memory.ts';
import { MeshKv } from '../kv/mesh.ts';
import { EtcdKv } from '../kv/etcd.ts';
import type { KeyValueStore } from '../kv/types.ts';
import type { KvConfig } from '../kv/config.ts';
import type { HandleOptions, ServiceDefinition } from '../rpc/types.ts';
import { DefaultSelector } from '../selector/selector.ts';
import { TcpTransport } from '../transport/tcp.ts';
import { buildMesh } from './build.ts';
import { MeshClient } from './client.ts';
import type { ServiceAdmin, ServiceAdminParts } from './admin.ts';
import { CallStats, debugHandler } from './health.ts';
import { registerServiceMetrics } from './metrics.ts';
import type { MeshNode } from './node.ts';
import { noMeshFound, ownedRegistry, resolveBroker } from './parts.ts';
import { ReportingSelector } from './selector.ts';
import { Subscribers } from './subscriptions.ts';
import { scopedLogger } from './log-scope.ts';
import { createTracing } from './tracing.ts';
import type { Tracing } from './tracing-types.ts';
import type { BrokerParts, Hook, Service, ServiceOptions, ServiceStopOptions } from './types.ts';

/**
 * Builds a Service: the composition root, the one place that constructs
 * implementations (DEVELOPERS.md rule 1). Nothing is shared between two
 * services unless passed in (registry, broker...).
 */
export function createService(options: ServiceOptions): Service {
  if (typeof options.name !== 'string' || !/^[\w.-]{1,128}$/.test(options.name)) {
    throw new MeshError('INVALID_CONFIG', `service.name must be 1 to 128 letters, digits, '.', '_' or '-', got ${JSON.stringify(options.name)}`);
  }
  const clock = options.clock ?? new SystemClock();
  const random = options.random ?? new SystemRandom();
  const logger = (options.logger ?? createLogger({ level: 'warn' })).child({ service: options.name });
  const config = resolveRpcConfig(options.rpc);
  if (options.tls !== undefined && options.transport !== undefined) {
    throw new MeshError('INVALID_CONFIG', 'tls configures the default TCP transport; with a transport of your own, give it the TLS settings (TcpTransportOptions.tls)');
  }
  // SWIM's streams stay plain TCP under tls: gossip has its own keys, and the CLI reads members without certificates.
  const plain = options.transport ?? new TcpTransport({ clock, dialTimeoutMs: config.dialTimeoutMs });
  const transport = options.tls === undefined ? plain : new TcpTransport({ clock, dialTimeoutMs: config.dialTimeoutMs, tls: options.tls });
  const id = `${options.name}-${Buffer.from(random.bytes(6)).toString('hex')}`;
  // On the mesh unless told otherwise, or given a registry of its own.
  const meshOptions = options.mesh === false || (options.mesh === undefined && options.registry !== undefined)
    ? undefined
    : (typeof options.mesh === 'object' ? options.mesh : {});
  const address = options.address ?? (meshOptions ? '0.0.0.0:0' : '127.0.0.1:0');
  // A wildcard bind is no address for others: advertise the host's first private IPv4 (etcd records too, not only the mesh's).
  const advertise = options.advertise ?? (isUnspecified(parseHostPort(address).host) ? formatHostPort(primaryIPv4(), 0) : undefined);
  const mesh = meshOptions ? buildMesh(meshOptions, { nodeId: id, rpcBind: address, clock, random, logger, streams: plain }) : undefined;
  const owned = ownedRegistry(options.registry, clock, random, logger);
  const registry = owned ?? (options.registry as Registry | undefined) ?? mesh?.registry ?? new MemoryRegistry({ clock });
  // A mesh broker is built at start, from the RPC parts below and the membership of that start.
  const brokerParts = (): BrokerParts => ({
    membership: mesh?.node.members, client, server, clock, random, logger, dataDir: options.dataDir, host: parseHostPort(address).host,
  });
  const broker = resolveBroker(options, meshOptions !== undefined, brokerParts, clock, random, logger);
  const baseSelector = options.selector ?? new DefaultSelector({ registry, clock, random, logger: logger.child({ component: 'selector' }) });
  const selector = mesh ? new ReportingSelector(baseSelector, () => mesh.node.members, mesh.node.swim) : baseSelector;
  const codecs = options.codecs ?? defaultCodecs();
  const stats = createRpcStats();
  const scope = new CallScope();
  const tracing = options.tracing === false ? undefined : createTracing({
    service: options.name, scope, random, ...(typeof options.tracing === 'object' ? options.tracing : {}),
  });
  // Lines written while a call or delivery is served carry its trace and request ids.
  const scoped = scopedLogger(logger, scope, tracing && (() => tracing.currentIds()));
  // A connection gone silent while calls wait steers new calls away from that address at once.
  const pool = new SessionPool({ transport, clock, logger, config, stats, onSilence: (address, on) => selector.suspect?.(address, on) });
  const server = new RpcServer({
    name: options.name, address, advertise, transport, pool, codecs, clock, logger: scoped, stats, scope, config,
  });
  // First, so it is outermost and wraps every endpoint (Debug is registered next, by ServiceImpl).
  const calls = new CallStats(clock, options.name);
  server.use(calls.middleware);
  if (tracing) server.use(tracing.handlerMiddleware);
  for (const mw of options.handlerMiddleware ?? []) server.use(mw);
  // Fed by the RPC client itself: a call's outcome and the time the caller waited, retries included.
  const clientCalls = options.metrics === false ? undefined : new ClientCallMeter();
  const middleware = [
    ...(tracing ? [tracing.clientMiddleware] : []),
    ...(mesh ? [noMeshFound(mesh.node, meshOptions!)] : []), ...(options.clientMiddleware ?? []),
  ];
  const client = new MeshClient({ pool, selector, codecs, clock, scope, config, stats, middleware, meter: clientCalls }, broker, tracing);
  const kv = resolveKv(options, mesh === undefined ? undefined : () => mesh.node.members, { id, client, server, clock, random, logger, cluster: meshOptions?.cluster });
  const metrics = new MetricsRegistry();
  if (options.metrics !== false) {
    registerServiceMetrics(metrics, {
      name: options.name, version: options.version ?? 'latest', rpc: stats, calls, client: clientCalls, selector: baseSelector, mesh: mesh?.node, broker,
      invalidTraceContext: tracing && (() => tracing.stats().invalidTraceContext),
      serverInFlight: () => server.inFlight(), connections: () => pool.sessionsOpen().length,
      openBytesWritten: () => pool.sessionsOpen().reduce((n, s) => n + s.writer.bytesWritten, 0),
    });
  }
  return new ServiceImpl(options, {
    id, clock, random, logger: scoped, tracing, registry, broker, selector, pool, server, client, codecs, stats, calls, metrics, mesh: mesh?.node, owned, kv,
  });
}

/** The key/value store: the one given, the mesh's (every node holds all of it), or one in memory off the mesh. */
function resolveKv(o: ServiceOptions, membership: (() => MeshNode['members']) | undefined,
  p: { id: string; client: MeshClient; server: RpcServer; clock: Parts['clock']; random: Parts['random']; logger: Parts['logger']; cluster: string | undefined }): KeyValueStore {
  const given = o.kv;
  if (given !== undefined && typeof (given as Partial<KeyValueStore>).get === 'function') return given as KeyValueStore;
  // On etcd (asked for, or the registry's cluster): the linearizable store, with cas.
  const etcd = given !== undefined && 'etcd' in given ? given.etcd
    : given === undefined && typeof o.registry === 'object' && o.registry !== null && 'etcd' in o.registry ? { hosts: o.registry.etcd.hosts } : undefined;
  if (etcd !== undefined) return new EtcdKv({ ...etcd, clock: p.clock });
  const cfg = (given ?? {}) as Partial<KvConfig>;
  if (membership === undefined) return new MemoryKv({ clock: p.clock, valueMaxBytes: cfg.valueMaxBytes, totalMaxBytes: cfg.totalMaxBytes, keyMaxBytes: cfg.keyMaxBytes });
  return new MeshKv({
    ...cfg, node: p.id, cluster: p.cluster, membership, client: p.client, server: p.server, clock: p.clock, random: p.random,
    logger: p.logger.child({ component: 'kv' }), dataDir: o.dataDir,
  });
}

type Parts = Pick<Service, 'registry' | 'broker' | 'selector'> & {
  id: string;
  mesh: MeshNode | undefined;
  clock: SystemClock | NonNullable<ServiceOptions['clock']>;
  random: NonNullable<ServiceOptions['random']>;
  logger: NonNullable<ServiceOptions['logger']>;
  pool: SessionPool;
  server: RpcServer;
  client: MeshClient;
  codecs: Codecs;
  stats: ReturnType<typeof createRpcStats>;
  calls: CallStats;
  metrics: MetricsRegistry;
  tracing: Tracing | undefined;
  /** A registry built from the options (etcd), closed on stop. */
  owned: { close(): void | Promise<void> } | undefined;
  kv: KeyValueStore;
};

class ServiceImpl implements Service {
  readonly name: string;
  readonly version: string;
  readonly id: string;
  readonly client: MeshClient;
  readonly server: RpcServer;
  readonly registry: Service['registry'];
  readonly broker: Service['broker'];
  readonly selector: Service['selector'];
  readonly mesh: MeshNode | undefined;
  readonly kv: KeyValueStore;
  readonly metrics: MetricsRegistry;
  readonly logger: Service['logger'];
  private readonly opts: ServiceOptions;
  private readonly p: Parts;
  private startedAt = 0;
  private readonly lifecycle = new Lifecycle();
  private readonly subscribers = new Subscribers();
  private refresh: TimerHandle | undefined;
  /** Built at the first start (its modules load only for services that ask for an admin port). */
  private admin: ServiceAdmin | undefined;
  private readonly adminParts: ServiceAdminParts | undefined;
  /** Whether the record should be in the registry while running (deregister() withdraws it). */
  private listed = true;

  constructor(opts: ServiceOptions, parts: Parts) {
    this.opts = opts;
    this.p = parts;
    this.name = opts.name;
    this.version = opts.version ?? 'latest';
    this.id = parts.id;
    this.mesh = parts.mesh;
    this.kv = parts.kv;
    this.client = parts.client;
    this.server = parts.server;
    this.registry = parts.registry;
    this.broker = parts.broker;
    this.selector = parts.selector;
    this.metrics = parts.metrics;
    this.logger = parts.logger;
    const debug = debugHandler(parts.clock, () => this.startedAt, () => this.stats(), parts.calls);
    this.server.handle('Debug', debug);
    if (opts.admin !== undefined) {
      // A bad address fails here, not at start; the limits are checked when the port is built.
      const a = opts.admin.address;
      if (typeof a !== 'string' || tryParseHostPort(a.startsWith(':') ? `0.0.0.0${a}` : a) === undefined) {
        throw new MeshError('INVALID_CONFIG', `admin.address must be host:port or :port, got ${JSON.stringify(opts.admin.address)}`);
      }
      this.adminParts = {
        address: opts.admin.address, clock: parts.clock, logger: parts.logger, metrics: parts.metrics, mesh: parts.mesh, registry: parts.registry,
        stats: debug.Stats, readiness: () => this.readiness(),
        self: () => ({ id: this.id, state: 'alive', services: [{ name: this.name, version: this.version }] }),
      };
    }
  }

  /** The admin port's address while running (advertised form), when `admin` was asked for. */
  get adminAddress(): string | undefined {
    return this.admin?.advertised;
  }

  /**
   * Ready for traffic: started (joined the mesh and registered) and listed.
   * Not while starting, draining (stop begins by deregistering), stopped,
   * or withdrawn with `deregister`.
   */
  readiness(): { ready: boolean; reason?: string } {
    switch (this.lifecycle.state) {
      case 'starting': return { ready: false, reason: 'starting' };
      case 'stopping': return { ready: false, reason: 'draining' };
      case 'stopped': return { ready: false, reason: 'stopped' };
      default: return this.listed ? { ready: true } : { ready: false, reason: 'deregistered' };
    }
  }

  get address(): string | undefined {
    return this.server.address;
  }

  handle(name: string | ServiceDefinition, handlers: object, opts?: HandleOptions): this {
    this.server.handle(name as string, handlers, opts);
    return this;
  }

  async register(opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.listed = true;
    if (this.lifecycle.state === 'running') await this.publishRecord(opts.signal);
  }

  async deregister(opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.listed = false;
    if (this.lifecycle.state === 'running') await this.registry.deregister(this.record(), { signal: opts.signal });
  }

  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, opts?: SubscriberOptions): this {
    this.subscribers.add(topic, handler as MessageHandler, opts);
    return this;
  }

  stats(): Record<string, number> {
    return { ...this.p.stats.snapshot() };
  }

  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.start(() => this.doStart(opts));
  }

  stop(opts: ServiceStopOptions = {}): Promise<void> {
    // A service used only as a client was never started but still holds connections.
    if (this.lifecycle.state === 'stopped') return this.p.pool.close().then(() => this.p.owned?.close());
    return this.lifecycle.stop(() => this.doStop(opts));
  }

  async run(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.start(opts);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (opts.signal?.aborted) done();
      else opts.signal?.addEventListener('abort', done, { once: true });
    });
    await this.stop();
  }

  private record(): ServiceRecord {
    return {
      name: this.name,
      version: this.version,
      metadata: { ...this.opts.metadata },
      endpoints: this.server.endpoints(),
      nodes: [{ id: this.id, address: this.server.address!, metadata: { [NODE_PROTOCOL_KEY]: RPC_PROTOCOL, ...this.adminMeta(), ...this.opts.nodeMetadata } }],
    };
  }

  /** The admin address in the node's registry metadata too, for registries without member records (etcd). */
  private adminMeta(): Record<string, string> {
    const a = this.admin?.advertised;
    return a === undefined ? {} : { [ADMIN_KEY]: a };
  }

  private async doStart(opts: { signal?: AbortSignal }): Promise<void> {
    // First, so probes see "starting" rather than a refused connection; a failed start closes it again.
    if (this.adminParts !== undefined) this.admin ??= new (await import('./admin.ts')).ServiceAdmin(this.adminParts);
    await this.admin?.start(opts);
    try {
      await this.startParts(opts);
    } catch (err) {
      await this.admin?.stop();
      throw err;
    }
  }

  private async startParts(opts: { signal?: AbortSignal }): Promise<void> {
    await runHooks(this.opts.beforeStart);
    this.p.pool.open();
    // Server, then mesh (which needs the server's address), then the broker
    // (a mesh broker needs the membership), then subscriptions and registration.
    await this.server.start(opts);
    this.startedAt = this.p.clock.now();
    await this.mesh?.start({ client: this.client, server: this.server, address: this.server.address! }, opts);
    this.admin?.publish();
    await this.broker.start(opts);
    if (this.kv instanceof MeshKv) await this.kv.start();
    await this.subscribers.start(this.broker, this.p.codecs, this.p.logger, opts.signal, this.p.tracing);
    if (this.listed) await this.publishRecord(opts.signal);
    this.scheduleRefresh();
    await runHooks(this.opts.afterStart);
    for (const addon of this.opts.addons ?? []) await addon.start(this, opts);
    this.p.logger.info('service started', { id: this.id, address: this.address });
  }

  private async doStop(opts: ServiceStopOptions): Promise<void> {
    for (const addon of [...(this.opts.addons ?? [])].reverse()) {
      await addon.stop().catch((err: unknown) => this.p.logger.warn('stopping an addon failed', { addon: addon.name, error: String(err) }));
    }
    await runHooks(this.opts.beforeStop);
    this.p.clock.clearTimeout(this.refresh);
    this.refresh = undefined;
    // Deregister first so callers stop choosing us, then drain what is in flight.
    await this.registry.deregister(this.record(), { signal: opts.signal }).catch((err: unknown) =>
      this.p.logger.warn('deregister failed', { error: String(err) }));
    await this.subscribers.stop();
    await this.server.stop(opts);
    await this.broker.stop();
    if (this.kv instanceof MeshKv) await this.kv.stop();
    // An etcd store built from the options is the service's to close; one passed in is the caller's.
    if (this.kv instanceof EtcdKv && this.kv !== this.opts.kv) await this.kv.close();
    // Leave the mesh gracefully: peers drop this node at once instead of suspecting it.
    await this.mesh?.stop();
    await this.p.pool.close();
    // Its client would keep the process alive; it reconnects if the service starts again.
    await this.p.owned?.close();
    // The selector stays usable: a restarted service calls out again (its watches are in-process).
    await runHooks(this.opts.afterStop);
    await this.admin?.stop();
  }

  private publishRecord(signal?: AbortSignal): Promise<void> {
    const ttlMs = this.opts.registerTtlMs ?? 0;
    return this.registry.register(this.record(), { signal, ttlMs: ttlMs > 0 ? ttlMs : undefined });
  }

  /** TTL registries forget us unless we re-register. */
  private scheduleRefresh(): void {
    const every = this.opts.registerIntervalMs ?? 0;
    if (every <= 0) return;
    this.refresh = this.p.clock.setTimeout(() => {
      if (this.listed) this.publishRecord().catch((err: unknown) => this.p.logger.warn('re-register failed', { error: String(err) }));
      this.scheduleRefresh();
    }, every);
  }
}

async function runHooks(hooks: Hook[] | undefined): Promise<void> {
  for (const h of hooks ?? []) await h();
}
