import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import { MemoryRegistry } from './memory.ts';
import type { Node, QueryOptions, RegisterOptions, Registry, RegistryEvent, Service, WatchOptions, Watcher } from './types.ts';
import { checkSignal, copyService, validateService } from './util.ts';
import { AsyncQueue } from './watcher.ts';
import { formatHostPort, tryParseHostPort } from '../net/address.ts';

export interface StaticRegistryOptions {
  /**
   * Service name → `host:port` addresses (e.g. from a `--peer` flag). The key
   * `'*'` means "any service name without its own entry resolves to these
   * addresses", for `--address`-style single peers. Every address is
   * validated; a bad one throws `INVALID_CONFIG` naming the entry.
   */
  services: Record<string, string[]>;
  /** Drives `ttlMs` expiry of dynamic registrations. Default SystemClock. */
  clock?: Clock;
}

/** The version configured nodes are listed under: the empty string, "unknown". */
export const STATIC_VERSION = '';

/** Any service name without its own entry resolves to the `'*'` entry's addresses. */
export const ANY_SERVICE = '*';

/** The id a configured node gets: derived from its address, so every process names it the same. */
export function staticNodeId(host: string, port: number): string {
  return `static:${host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase()}:${port}`;
}

function configError(detail: string): MeshError {
  return new MeshError('INVALID_CONFIG', detail, { id: 'micromesh.registry' });
}

function parseEntries(services: Record<string, string[]>): Map<string, Node[]> {
  if (services === null || typeof services !== 'object') throw configError('static.services must be an object of service name → host:port list');
  const out = new Map<string, Node[]>();
  for (const [name, addresses] of Object.entries(services)) {
    const where = `static.services[${JSON.stringify(name)}]`;
    if (name.length === 0) throw configError('static.services has an empty service name');
    if (!Array.isArray(addresses) || addresses.length === 0) throw configError(`${where} must be a non-empty list of host:port addresses`);
    const nodes = new Map<string, Node>();
    addresses.forEach((raw, i) => {
      const hp = typeof raw === 'string' ? tryParseHostPort(raw.trim()) : undefined;
      if (hp === undefined || hp.port === 0) {
        throw configError(`${where}[${i}] must be host:port with a port in [1, 65535], got ${JSON.stringify(raw)}`);
      }
      const id = staticNodeId(hp.host, hp.port);
      const address = formatHostPort(hp.host, hp.port);
      nodes.set(id, { id, address, metadata: {} });
    });
    out.set(name, [...nodes.values()]);
  }
  return out;
}

/**
 * Nodes known by address before any discovery runs, so processes can find
 * each other before the mesh exists (Go Micro's static selector, as a
 * registry). Configured nodes are listed under version `''` with ids
 * `static:<host>:<port>`; they never change and cannot be deregistered.
 * `register`/`deregister` work too, through an inner MemoryRegistry whose
 * records are merged with the configured ones (a dynamic record under version
 * `''` shares the configured record; a dynamic node with a configured id
 * replaces it). `listServices` shows configured names, not `'*'`, which has
 * no name to list.
 */
export class StaticRegistry implements Registry {
  readonly name: string = 'static';
  private readonly configured: Map<string, Node[]>;
  private readonly dynamic: MemoryRegistry;

  constructor(opts: StaticRegistryOptions) {
    this.configured = parseEntries(opts?.services);
    this.dynamic = new MemoryRegistry({ clock: opts.clock });
  }

  async register(service: Service, opts: RegisterOptions = {}): Promise<void> {
    await this.dynamic.register(service, opts);
  }

  async deregister(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    if (service.version === STATIC_VERSION) {
      const fixed = this.staticNodes(service.name);
      for (const n of service.nodes ?? []) {
        if (fixed?.some((f) => f.id === n.id)) {
          throw new MeshError('INVALID_ARGUMENT', `node ${n.id} of ${service.name} is configured statically and cannot be deregistered`, { id: 'micromesh.registry' });
        }
      }
    }
    await this.dynamic.deregister(service, opts);
  }

  async getService(name: string, opts: QueryOptions = {}): Promise<Service[]> {
    return this.merge(name, await this.dynamic.getService(name, opts));
  }

  async listServices(opts: QueryOptions = {}): Promise<Service[]> {
    const dyn = await this.dynamic.listServices(opts);
    const byName = new Map<string, Service[]>();
    for (const name of this.configured.keys()) if (name !== ANY_SERVICE) byName.set(name, []);
    for (const s of dyn) {
      let list = byName.get(s.name);
      if (list === undefined) byName.set(s.name, (list = []));
      list.push(s);
    }
    const out: Service[] = [];
    for (const [name, list] of byName) out.push(...this.merge(name, list));
    return out;
  }

  /** Configured nodes never change, so events come from dynamic registrations, shown merged with the configured record. */
  watch(opts: WatchOptions = {}): Watcher {
    const inner = this.dynamic.watch({ service: opts.service });
    const outer = new AsyncQueue<RegistryEvent>({ signal: opts.signal, onClose: () => inner.stop() });
    void (async () => {
      try {
        for await (const e of inner) outer.push(this.mergeEvent(e));
        outer.close();
      } catch (err) {
        outer.close(err);
      }
    })();
    return outer;
  }

  private staticNodes(name: string): Node[] | undefined {
    return this.configured.get(name) ?? this.configured.get(ANY_SERVICE);
  }

  private staticRecord(name: string): Service | undefined {
    const nodes = this.staticNodes(name);
    if (nodes === undefined) return undefined;
    return copyService({ name, version: STATIC_VERSION, metadata: {}, endpoints: [], nodes });
  }

  /** Adds the configured record to `dynamic` (records of one name), merging with a dynamic `''` version. */
  private merge(name: string, dynamic: Service[]): Service[] {
    const fixed = this.staticRecord(name);
    if (fixed === undefined) return dynamic;
    const i = dynamic.findIndex((s) => s.version === STATIC_VERSION);
    if (i < 0) return [fixed, ...dynamic];
    dynamic[i] = this.combine(fixed, dynamic[i]!);
    return dynamic;
  }

  private combine(fixed: Service, dyn: Service): Service {
    const nodes = new Map<string, Node>();
    for (const n of fixed.nodes) nodes.set(n.id, n);
    for (const n of dyn.nodes) nodes.set(n.id, n);
    return { ...dyn, nodes: [...nodes.values()] };
  }

  private mergeEvent(e: RegistryEvent): RegistryEvent {
    if (e.service.version !== STATIC_VERSION) return e;
    const fixed = this.staticRecord(e.service.name);
    if (fixed === undefined) return e;
    // The configured record always exists, so from a watcher's view the dynamic record only updates it.
    if (e.type === 'remove') return { type: 'update', service: fixed };
    return { type: 'update', service: this.combine(fixed, e.service) };
  }
}
