import { MeshError, NODE_PROTOCOL_KEY, type Clock, type Logger, type Registry, type ServiceRecord } from '../index.ts';
import { HTTP_ADDRESS_METADATA } from '../http/index.ts';
import { AgentChecks, type CheckState } from './checks.ts';
import { worstOf } from './catalog.ts';
import { AGENT_METADATA, META_PREFIX, SERVICE_MAINTENANCE_PREFIX, TAGS_METADATA } from './names.ts';
import type { ServiceDefinition } from './registration.ts';
import type { CatalogCheck, CheckStatus } from './types.ts';

const ID = 'micromesh.agent';

export interface LocalServicesOptions {
  /** This agent's node id: every service registered here is on its node. */
  agentId: string;
  /** The agent's host: where a service registered without an Address is reached. */
  agentHost: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  /** Services registered here at most; one more is a 429 naming the limit. */
  maxServices: number;
  /** Check output kept, bytes. */
  checkOutputBytes: number;
  /** Something an answer depends on changed (a registration, a check's status or output). */
  onChange: () => void;
  /** Test seam: how often critical checks are reaped (Consul: 30 s). */
  reapIntervalMs?: number;
}

interface Entry {
  def: ServiceDefinition;
  /** The maintenance reason while the service is in maintenance. */
  maintenance: string | undefined;
  /** What the registry holds for it now. */
  published: ServiceRecord | undefined;
}

/**
 * The services registered through this agent (Consul's local services):
 * each is published as a registry node of its own in this member's record,
 * so every node's catalog (and `micromesh services`) lists it, its checks
 * travel with it (status, not output), and it vanishes everywhere when this
 * member dies, as a Consul agent's services do. A service with an Address
 * and Port is also an HTTP node (`http-address`) while not critical, so the
 * API gateway proxies `/<name>/` to it.
 */
export class LocalServices {
  private readonly o: LocalServicesOptions;
  private readonly entries = new Map<string, Entry>();
  readonly checks: AgentChecks;
  /** Registry writes run one at a time, in order, so a record never goes back to an older state. */
  private queue: Promise<void> = Promise.resolve();

  constructor(o: LocalServicesOptions) {
    this.o = o;
    this.checks = new AgentChecks({
      clock: o.clock, logger: o.logger, outputLimitBytes: o.checkOutputBytes, reapIntervalMs: o.reapIntervalMs,
      onChange: (c) => this.onCheck(c),
      onDeregister: (serviceId, checkId) => {
        o.logger.info('deregistering a service critical for too long', { serviceId, checkId });
        void this.deregister(serviceId);
      },
    });
  }

  list(): ServiceDefinition[] {
    return [...this.entries.values()].map((e) => e.def);
  }

  get(serviceId: string): ServiceDefinition | undefined {
    return this.entries.get(serviceId)?.def;
  }

  /** Registers or replaces a service (by ID). Checks of a replaced service restart from their initial status, as Consul's do. */
  async register(def: ServiceDefinition): Promise<void> {
    const old = this.entries.get(def.id);
    if (old === undefined && this.entries.size >= this.o.maxServices) {
      throw new MeshError('TOO_MANY_REQUESTS', `this agent holds ${this.entries.size} services, the limit (maxServices ${this.o.maxServices})`, { id: ID });
    }
    if (def.tags.some((t) => t.includes(','))) throw new MeshError('BAD_REQUEST', 'Tags may not contain "," (tags travel comma-separated in the mesh record)', { id: ID });
    const taken = this.checkOwner(def);
    if (taken !== undefined) throw new MeshError('BAD_REQUEST', `CheckID "${taken}" belongs to another service on this agent`, { id: ID });
    this.checks.removeService(def.id);
    this.entries.set(def.id, { def, maintenance: old?.maintenance, published: old?.published });
    this.checks.add(def.checks);
    await this.publish(def.id);
  }

  /** Removes a service and its checks; false when unknown (Consul answers 200 anyway). */
  async deregister(serviceId: string): Promise<boolean> {
    if (!this.entries.has(serviceId)) return false;
    this.checks.removeService(serviceId);
    await this.publish(serviceId, true);
    return true;
  }

  /** Puts a service in maintenance (a critical `_service_maintenance:<id>` check) or takes it out; false when unknown. */
  async maintenance(serviceId: string, enable: boolean, reason: string): Promise<boolean> {
    const e = this.entries.get(serviceId);
    if (e === undefined) return false;
    e.maintenance = enable ? reason || 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.' : undefined;
    await this.publish(serviceId);
    return true;
  }

  /** A TTL check's new state; false when no check has that id. */
  async updateCheck(checkId: string, status: CheckStatus, output: string): Promise<boolean> {
    const c = this.checks.get(checkId);
    if (c === undefined) return false;
    this.checks.update(checkId, status, output);
    await this.queue;
    return true;
  }

  /** Every check here, maintenance included, with its output: the catalog overlays these on the records. */
  localChecks(): Map<string, CatalogCheck> {
    const out = new Map<string, CatalogCheck>();
    for (const c of this.checks.list()) out.set(c.id, toCatalogCheck(c));
    for (const e of this.entries.values()) {
      const m = maintenanceCheck(e);
      if (m !== undefined) out.set(m.id, m);
    }
    return out;
  }

  /** The checks of one service as CatalogChecks (maintenance first). */
  checksOf(serviceId: string): CatalogCheck[] {
    const e = this.entries.get(serviceId);
    if (e === undefined) return [];
    const m = maintenanceCheck(e);
    const own = this.checks.list().filter((c) => c.serviceId === serviceId).map(toCatalogCheck);
    return m === undefined ? own : [m, ...own];
  }

  /** Withdraws every service (the agent stops). */
  async clear(): Promise<void> {
    this.checks.stop();
    await Promise.all([...this.entries.keys()].map((id) => this.publish(id, true)));
  }

  private checkOwner(def: ServiceDefinition): string | undefined {
    for (const c of def.checks) {
      const owner = this.checks.get(c.id)?.serviceId;
      if (owner !== undefined && owner !== def.id) return c.id;
    }
    return undefined;
  }

  private onCheck(c: CheckState): void {
    this.o.onChange();
    const e = this.entries.get(c.serviceId);
    // The record carries statuses only: republish when the aggregate or a check's status moved.
    if (e?.published !== undefined && e.published.nodes[0]!.metadata[AGENT_METADATA.checks] !== checksJson(this.checksOf(c.serviceId))) void this.publish(c.serviceId);
  }

  /** Writes the service's current record (or withdraws it), after the writes before it. */
  private publish(serviceId: string, remove = false): Promise<void> {
    const run = async (): Promise<void> => {
      const e = this.entries.get(serviceId);
      if (e === undefined) return;
      const next = remove ? undefined : this.recordOf(e);
      if (e.published !== undefined && (next === undefined || recordKey(e.published) !== recordKey(next))) await this.o.registry.deregister(e.published);
      if (remove) this.entries.delete(serviceId);
      else e.published = next;
      if (next !== undefined) await this.o.registry.register(next);
      this.o.onChange();
    };
    this.queue = this.queue.then(run).catch((err: unknown) => this.o.logger.warn('publishing an agent service failed', { serviceId, error: String(err) }));
    return this.queue;
  }

  private recordOf(e: Entry): ServiceRecord {
    const d = e.def;
    const checks = this.checksOf(d.id);
    const status = worstOf(checks);
    const host = d.address || this.o.agentHost;
    const address = host.includes(':') ? `[${host}]:${d.port}` : `${host}:${d.port}`;
    const metadata: Record<string, string> = {
      [NODE_PROTOCOL_KEY]: 'http',
      [AGENT_METADATA.agent]: this.o.agentId,
      [AGENT_METADATA.serviceId]: d.id,
      [AGENT_METADATA.address]: d.address,
      [AGENT_METADATA.checks]: checksJson(checks),
    };
    if (d.tags.length > 0) metadata[TAGS_METADATA] = d.tags.join(',');
    for (const [k, v] of Object.entries(d.meta)) metadata[`${META_PREFIX}${k}`] = v;
    // Reached over HTTP through the gateway only while it may take traffic.
    if (status !== 'critical' && d.port > 0) metadata[HTTP_ADDRESS_METADATA] = address;
    return {
      name: d.name, version: d.meta.version ?? '', metadata: {}, endpoints: [],
      nodes: [{ id: `${this.o.agentId}/${d.id}`, address, metadata }],
    };
  }
}

function recordKey(r: ServiceRecord): string {
  return `${r.name}\u0000${r.version}\u0000${r.nodes[0]!.id}`;
}

function checksJson(checks: readonly CatalogCheck[]): string {
  return JSON.stringify(checks.map((c) => [c.id, c.name, c.status, c.type, c.notes]));
}

function toCatalogCheck(c: CheckState): CatalogCheck {
  return { id: c.id, name: c.name, status: c.status, notes: c.notes, output: c.output, type: c.kind };
}

function maintenanceCheck(e: Entry): CatalogCheck | undefined {
  if (e.maintenance === undefined) return undefined;
  return {
    id: `${SERVICE_MAINTENANCE_PREFIX}${e.def.id}`, name: 'Service Maintenance Mode', status: 'critical',
    notes: e.maintenance, output: '', type: 'maintenance',
  };
}
