import { AdminServer } from '../admin/server.ts';
import { httpSdGroups } from '../admin/targets.ts';
import type { AdminMember, AdminSource, HttpSdGroup } from '../admin/types.ts';
import type { Clock } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import { RateLimitedLog } from '../log/limit.ts';
import { ADMIN_KEY } from '../membership/keys.ts';
import { PrometheusExporter } from '../metrics/prometheus.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import { formatHostPort, parseHostPort } from '../net/address.ts';
import { isUnspecified, primaryIPv4 } from '../net/interfaces.ts';
import { servicesOf } from '../registry/mesh.ts';
import type { Registry } from '../registry/types.ts';
import type { MeshNode } from './node.ts';

/** What a service's admin port reads from it. */
export interface ServiceAdminParts {
  address: string;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  stats: () => unknown;
  readiness: () => { ready: boolean; reason?: string };
  mesh: MeshNode | undefined;
  /** Off the mesh, where the other nodes' admin addresses are (their registry metadata). */
  registry: Registry;
  /** This node as a target. */
  self: () => Omit<AdminMember, 'admin'>;
}

/**
 * A service's admin port: the AdminServer, fed by the service's metrics,
 * Debug.Stats and lifecycle, and by the mesh's records for the http_sd list.
 * Started first and stopped last by the service, so readiness is readable
 * through start and drain.
 */
export class ServiceAdmin {
  readonly server: AdminServer;
  private readonly p: ServiceAdminParts;
  private readonly exporter: PrometheusExporter;

  constructor(p: ServiceAdminParts) {
    this.p = p;
    const log = new RateLimitedLog(p.logger.child({ component: 'metrics' }), p.clock);
    this.exporter = new PrometheusExporter(p.metrics, { onError: (err) => log.warn('collector', 'a metrics collector failed', { error: String(err) }) });
    const source: AdminSource = {
      metrics: () => this.exporter.render(),
      readiness: p.readiness,
      stats: () => Promise.resolve(p.stats()),
      targets: (signal) => (p.mesh?.members === undefined ? this.registryTargets(signal) : this.targets()),
    };
    this.server = new AdminServer({ address: p.address, source, clock: p.clock, logger: p.logger });
  }

  /** The address others should scrape: a wildcard bind advertises the host's first private IPv4. */
  get advertised(): string | undefined {
    const bound = this.server.address;
    if (bound === undefined) return undefined;
    const hp = parseHostPort(bound);
    return isUnspecified(hp.host) ? formatHostPort(primaryIPv4(), hp.port) : bound;
  }

  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.server.start(opts);
  }

  /** Puts the admin address into this node's member record (once the mesh runs). */
  publish(): void {
    const address = this.advertised;
    if (address !== undefined) this.p.mesh?.members?.setLocal(ADMIN_KEY, address);
  }

  stop(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.server.stop(opts);
  }

  /**
   * Off the mesh (etcd): every registered node whose metadata carries an
   * admin address (the registry keeps only live ones), its services merged
   * by node id.
   */
  private async registryTargets(signal: AbortSignal | undefined): Promise<HttpSdGroup[]> {
    const self = this.p.self();
    const byId = new Map<string, AdminMember>([[self.id, { ...self, admin: this.advertised ?? '' }]]);
    const names = new Set((await this.p.registry.listServices({ signal })).map((s) => s.name));
    for (const name of names) {
      for (const s of await this.p.registry.getService(name, { signal })) {
        for (const n of s.nodes) {
          const admin = n.metadata?.[ADMIN_KEY];
          if (typeof admin !== 'string') continue;
          const m = byId.get(n.id) ?? { id: n.id, state: 'alive', admin, services: [] };
          if (!m.services.some((x) => x.name === s.name && x.version === s.version)) m.services.push({ name: s.name, version: s.version });
          byId.set(n.id, m);
        }
      }
    }
    return httpSdGroups([...byId.values()]);
  }

  /** Every live member's admin port, from the member records and SWIM's states. */
  private targets(): HttpSdGroup[] {
    const self: AdminMember = { ...this.p.self(), admin: this.advertised ?? '' };
    const membership = this.p.mesh!.members!;
    const states = new Map(this.p.mesh!.swim.members().map((m) => [m.id, m.state]));
    const members: AdminMember[] = [self];
    for (const m of membership.members()) {
      const admin = m.data[ADMIN_KEY];
      if (typeof admin !== 'string') continue;
      members.push({
        id: m.id, state: states.get(m.id) ?? 'alive', admin,
        services: servicesOf(m).map((s) => ({ name: s.name, version: s.version })),
      });
    }
    return httpSdGroups(members);
  }
}
