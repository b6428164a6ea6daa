import {
  Lifecycle, MeshError, SystemClock, SystemRandom, tryParseHostPort, type Clock, type Logger, type Random, type Service, type ServiceAddon,
} from '../index.ts';
import { HttpServer, resolveHttpConfig } from '../http/index.ts';
import { Blocking } from './blocking.ts';
import { CatalogIndex, catalogOf, dnsLabel, type AgentMember } from './catalog.ts';
import { isLoopback, resolveAgentConfig, type AgentConfig, type AgentConfigInput } from './config.ts';
import { dnsAnswer } from './dns.ts';
import { DnsServer } from './dns-server.ts';
import { registerAgentRoutes } from './http-agent.ts';
import { registerCatalogRoutes } from './http-catalog.ts';
import { registerKvRoutes } from './http-kv.ts';
import type { AgentApi } from './http-context.ts';
import { LocalServices } from './local.ts';
import { HttpCounts, agentFamilies } from './metrics.ts';
import type { AgentStats, CatalogSnapshot } from './types.ts';

export interface AgentOptions extends AgentConfigInput {
  /** The mesh member the agent answers for; it must be started before the agent. */
  service: Service;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** Test seam: the critical-check reaper's period, ms (Consul: 30 s). */
  reapIntervalMs?: number;
}

export interface Agent {
  /** The HTTP API's address once started (undefined when off). */
  readonly httpAddress: string | undefined;
  /** The DNS server's address once started (undefined when off). */
  readonly dnsAddress: string | undefined;
  readonly config: Readonly<AgentConfig>;
  /** The catalog it answers from now. */
  snapshot(): CatalogSnapshot;
  stats(): AgentStats;
  /** Follows the mesh, then listens. Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Stops listening (blocked queries answer at once) and withdraws the services registered here. Idempotent. */
  stop(): Promise<void>;
}

const VERSION = '1.17.0';

/**
 * Consul without Consul: a mesh member answering Consul's HTTP API and DNS
 * from its own view of the mesh (registry and SWIM membership), and taking
 * registrations of outside services that then live in its member record.
 */
export function createAgent(o: AgentOptions): Agent {
  const { service, logger: givenLogger, clock: givenClock, random: givenRandom, reapIntervalMs, ...input } = o;
  const cfg = resolveAgentConfig(input);
  const logger = (givenLogger ?? service.logger).child({ component: 'agent' });
  const clock = givenClock ?? new SystemClock();
  const random = givenRandom ?? new SystemRandom();
  for (const [field, address] of [['httpAddress', cfg.httpAddress], ['dnsAddress', cfg.dnsAddress]] as const) {
    if (address === '' || isLoopback(address)) continue;
    if (!cfg.allowPublicBind) {
      throw new MeshError('INVALID_CONFIG', `agent.${field} ${address} is not loopback: the Consul API has no authentication for reads; set allowPublicBind (--allow-public) to bind it anyway`);
    }
  }
  const index = new CatalogIndex();
  let current: CatalogSnapshot | undefined;
  const snapshot = (): CatalogSnapshot => current ?? index.stamp({ datacenter: datacenter(), nodes: [], instances: [] });
  const datacenter = (): string => cfg.datacenter ?? service.mesh?.swim.config.clusterName ?? 'dc1';
  const blocking = new Blocking({ clock, random, current: snapshot });
  const local = new LocalServices({
    agentId: service.id, agentHost: hostOf(service.address), registry: service.registry, clock, logger,
    maxServices: cfg.maxServices, checkOutputBytes: cfg.checkOutputBytes, reapIntervalMs, onChange: () => void refresh(),
  });
  const members = (): AgentMember[] => service.mesh?.swim.members().map((m) => ({ id: m.id, address: m.address, state: m.state })) ?? [];

  // One rebuild at a time; changes during one are picked up by the next, so a burst costs two.
  let dirty = false;
  let building: Promise<void> | undefined;
  const rebuild = async (): Promise<void> => {
    const services = await service.registry.listServices();
    current = index.stamp(catalogOf({ datacenter: datacenter(), members: members(), services, localChecks: { agent: service.id, checks: local.localChecks() } }));
    blocking.changed(current);
  };
  const refresh = (): Promise<void> => {
    dirty = true;
    building ??= (async () => {
      try {
        while (dirty) {
          dirty = false;
          await rebuild().catch((err: unknown) => logger.warn('rebuilding the catalog failed', { error: String(err) }));
        }
      } finally {
        building = undefined;
      }
    })();
    return building;
  };

  const http = cfg.httpAddress === '' ? undefined : new HttpServer({
    config: resolveHttpConfig({ address: cfg.httpAddress, bodyLimitBytes: cfg.bodyLimitBytes, cors: false, rpcPath: '' }, {}, 'agent'),
    logger, clock, random, errorId: 'micromesh.agent',
  });
  const dns = cfg.dnsAddress === '' ? undefined : new DnsServer({
    address: cfg.dnsAddress, logger, clock,
    answer: (q, udp) => dnsAnswer(q, snapshot(), { domain: cfg.domain, ttlSeconds: cfg.dnsTtlSeconds }, random, udp),
  });
  const stops: (() => void)[] = [];
  const life = new Lifecycle();
  const httpCounts = new HttpCounts();
  const stats = (): AgentStats => {
    const s = snapshot();
    return {
      ...(dns?.stats() ?? { udpQueries: 0, tcpQueries: 0, malformed: 0, tcpRefused: 0 }),
      index: s.index, nodes: s.nodes.length, instances: s.instances.length, localServices: local.list().length, blockedQueries: blocking.blocked,
    };
  };

  return {
    get httpAddress() {
      return http?.address;
    },
    get dnsAddress() {
      return dns?.address;
    },
    config: cfg,
    snapshot,
    stats,
    start: (opts = {}) => life.start(async () => {
      if (service.address === undefined) throw new MeshError('INVALID_CONFIG', 'the agent\'s service must be started before the agent');
      const watcher = service.registry.watch();
      stops.push(() => watcher.stop());
      void (async () => {
        for await (const _ of watcher) void refresh();
      })().catch((err: unknown) => logger.warn('registry watch ended', { error: String(err) }));
      const swim = service.mesh?.swim;
      if (swim !== undefined) stops.push(swim.on('*', () => void refresh()));
      stops.push(service.metrics.add(() => agentFamilies(stats(), httpCounts)));
      await refresh();
      const nodeName = cfg.nodeName ?? dnsLabel(service.id);
      if (http !== undefined) {
        const api: AgentApi = {
          http, blocking, current: snapshot, refresh, local, token: cfg.token, clock, random,
          self: {
            id: service.id, nodeName, address: hostOf(swim?.address ?? service.address), gossip: swim?.address ?? service.address,
            datacenter: datacenter(), version: VERSION,
          },
          members: () => members().map((m) => ({ id: m.id, name: dnsLabel(m.id), host: hostOf(m.address), port: tryParseHostPort(m.address)?.port ?? 0, state: m.state })),
        };
        http.install((app) => {
          app.addHook('onResponse', (_req, reply, done) => {
            httpCounts.count(reply.statusCode);
            done();
          });
          registerCatalogRoutes(app, api);
          registerAgentRoutes(app, api, { maxChecksPerService: cfg.maxChecksPerService, maxMetaEntries: 64, maxTags: 64, maxNameLength: 256 });
          registerKvRoutes(app, api, service.kv, cfg.kvValueMaxBytes);
        });
        await http.listen(opts.signal);
      }
      await dns?.start(opts.signal);
      for (const a of [http?.address, dns?.address]) if (a !== undefined && !isLoopback(a)) logger.warn('the Consul agent listens beyond loopback', { address: a });
      logger.info('agent listening', { http: http?.address, dns: dns?.address, datacenter: datacenter(), node: nodeName });
    }),
    stop: () => life.stop(async () => {
      for (const s of stops.splice(0)) s();
      blocking.releaseAll();
      await http?.close();
      await dns?.stop();
      await local.clear();
    }),
  };
}

/** createService's addon form: `createService({ ..., addons: [consulAgent({ httpAddress })] })`. */
export function consulAgent(o: Omit<AgentOptions, 'service'> = {}): ServiceAddon & { readonly agent: Agent | undefined } {
  let agent: Agent | undefined;
  return {
    name: 'consul-agent',
    get agent() {
      return agent;
    },
    start: async (service, opts) => {
      agent ??= createAgent({ ...o, service });
      await agent.start(opts);
    },
    stop: async () => {
      await agent?.stop();
    },
  };
}

function hostOf(address: string | undefined): string {
  return tryParseHostPort(address ?? '')?.host ?? '127.0.0.1';
}
