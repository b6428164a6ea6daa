import type { Clock, TimerHandle } from '../clock/types.ts';
import { SystemClock } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import type {
  Endpoint, Metadata, Node, QueryOptions, RegisterOptions, Registry, RegistryEvent, Service, WatchOptions, Watcher,
} from './types.ts';
import { checkSignal, copyService, sameService, validateService } from './util.ts';
import { AsyncQueue } from './watcher.ts';

export interface MemoryRegistryOptions {
  /** Drives `ttlMs` expiry. Default SystemClock. */
  clock?: Clock;
}

/** One (name, version) record. Nodes sit in a Map so merging is by id and keeps first-registration order. */
interface RecordEntry {
  name: string;
  version: string;
  metadata: Metadata;
  endpoints: Endpoint[];
  nodes: Map<string, Node>;
  /** Expiry timers of nodes registered with `ttlMs`. */
  expiry: Map<string, TimerHandle>;
}

interface WatchEntry {
  service: string | undefined;
  queue: AsyncQueue<RegistryEvent>;
}

/**
 * An in-process registry with Go Micro's semantics, for tests, single-process
 * apps and as the dynamic half of the static registry.
 *
 * - `register` merges nodes into the (name, version) record (same id replaces)
 *   and replaces the record's metadata and endpoints with the given ones.
 *   Registering nodes into a new record emits `add`; a change to an existing
 *   record emits `update`; re-registering an identical record (a TTL refresh)
 *   emits nothing. Registering no nodes into an unknown record is a no-op: a
 *   version exists only while it has nodes.
 * - `deregister` removes the given node ids; when none are left the version
 *   disappears (`remove`, carrying the record as it was just before).
 * - `ttlMs`: each node registered with it expires that long after its latest
 *   registration (timers on the injected clock); registering it again without
 *   `ttlMs` makes it permanent.
 * - Every result and event is a deep copy; the registry keeps none of the
 *   caller's objects either.
 */
export class MemoryRegistry implements Registry {
  readonly name: string = 'memory';
  private readonly clock: Clock;
  private readonly records = new Map<string, Map<string, RecordEntry>>();
  private readonly watchers = new Set<WatchEntry>();

  constructor(opts: MemoryRegistryOptions = {}) {
    this.clock = opts.clock ?? new SystemClock();
  }

  async register(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    const ttlMs = opts.ttlMs;
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
      throw new MeshError('INVALID_ARGUMENT', `ttlMs must be a positive number of milliseconds, got ${ttlMs}`, { id: 'micromesh.registry' });
    }
    const incoming = copyService(service);
    let versions = this.records.get(incoming.name);
    let rec = versions?.get(incoming.version);
    let before: Service | undefined;
    if (rec === undefined) {
      if (incoming.nodes.length === 0) return;
      rec = {
        name: incoming.name, version: incoming.version, metadata: {}, endpoints: [], nodes: new Map(), expiry: new Map(),
      };
      if (versions === undefined) this.records.set(incoming.name, (versions = new Map()));
      versions.set(incoming.version, rec);
    } else {
      before = this.snapshot(rec);
    }
    rec.metadata = incoming.metadata;
    rec.endpoints = incoming.endpoints;
    for (const node of incoming.nodes) {
      rec.nodes.set(node.id, node);
      this.clock.clearTimeout(rec.expiry.get(node.id));
      rec.expiry.delete(node.id);
      if (ttlMs !== undefined) {
        const r = rec;
        r.expiry.set(node.id, this.clock.setTimeout(() => this.expire(r, node.id), ttlMs));
      }
    }
    const after = this.snapshot(rec);
    if (before === undefined) this.emit('add', after);
    else if (!sameService(before, after)) this.emit('update', after);
  }

  async deregister(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    const rec = this.records.get(service.name)?.get(service.version);
    if (rec === undefined) return;
    const ids: string[] = [];
    for (const n of service.nodes ?? []) if (rec.nodes.has(n.id)) ids.push(n.id);
    this.removeNodes(rec, ids);
  }

  async getService(name: string, opts: QueryOptions = {}): Promise<Service[]> {
    checkSignal(opts.signal);
    const versions = this.records.get(name);
    if (versions === undefined) return [];
    const out: Service[] = [];
    for (const rec of versions.values()) out.push(this.snapshot(rec));
    return out;
  }

  async listServices(opts: QueryOptions = {}): Promise<Service[]> {
    checkSignal(opts.signal);
    const out: Service[] = [];
    for (const versions of this.records.values()) for (const rec of versions.values()) out.push(this.snapshot(rec));
    return out;
  }

  watch(opts: WatchOptions = {}): Watcher {
    const watchers = this.watchers;
    // The entry exists before its queue: an already-aborted signal closes the queue inside its constructor.
    const entry = { service: opts.service } as WatchEntry;
    entry.queue = new AsyncQueue<RegistryEvent>({ signal: opts.signal, onClose: () => watchers.delete(entry) });
    if (!entry.queue.closed) watchers.add(entry);
    return entry.queue;
  }

  private expire(rec: RecordEntry, nodeId: string): void {
    rec.expiry.delete(nodeId);
    // The record may have been replaced since (deregistered, then registered again).
    if (this.records.get(rec.name)?.get(rec.version) !== rec) return;
    this.removeNodes(rec, [nodeId]);
  }

  private removeNodes(rec: RecordEntry, ids: string[]): void {
    if (ids.length === 0) return;
    const before = this.snapshot(rec);
    for (const id of ids) {
      rec.nodes.delete(id);
      this.clock.clearTimeout(rec.expiry.get(id));
      rec.expiry.delete(id);
    }
    if (rec.nodes.size > 0) {
      this.emit('update', this.snapshot(rec));
      return;
    }
    const versions = this.records.get(rec.name)!;
    versions.delete(rec.version);
    if (versions.size === 0) this.records.delete(rec.name);
    this.emit('remove', before);
  }

  private snapshot(rec: RecordEntry): Service {
    return copyService({
      name: rec.name, version: rec.version, metadata: rec.metadata, endpoints: rec.endpoints, nodes: [...rec.nodes.values()],
    });
  }

  /** Pushes synchronously, so every watcher sees changes in the order they happened. */
  private emit(type: RegistryEvent['type'], service: Service): void {
    for (const w of this.watchers) {
      if (w.service !== undefined && w.service !== service.name) continue;
      w.queue.push({ type, service: copyService(service) });
    }
  }
}
