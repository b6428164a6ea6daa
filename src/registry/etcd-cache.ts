import type { RegistryEvent, Service, WatchOptions, Watcher } from './types.ts';
import { copyService, sameService } from './util.ts';
import { AsyncQueue } from './watcher.ts';

/** One etcd key: a decoded go-micro record (normally one node). */
interface KeyEntry {
  key: string;
  record: Service;
  modRevision: number;
}

/** One (name, version): its keys in first-seen order and the merged record, rebuilt on change. */
interface Group {
  name: string;
  version: string;
  keys: Map<string, KeyEntry>;
  merged: Service;
}

interface WatchEntry {
  service: string | undefined;
  queue: AsyncQueue<RegistryEvent>;
}

/**
 * The EtcdRegistry's local index of everything under its prefix, fed by a
 * listing and then by the prefix watch, so lookups cost no round trip.
 *
 * go-micro keeps one key per node, each with a copy of the service's
 * metadata and endpoints; a (name, version) record merges its keys' nodes
 * and takes metadata and endpoints from the most recently written key (so
 * re-registering with new metadata replaces them, as in the other
 * registries). Events carry the whole record after the change; `remove`
 * the record as it was before its last node went.
 */
export class EtcdCache {
  private readonly byKey = new Map<string, Group>();
  private readonly groups = new Map<string, Map<string, Group>>();
  private readonly watchers = new Set<WatchEntry>();
  /** Highest etcd revision this cache reflects. */
  revision = 0;

  put(key: string, record: Service, modRevision: number): void {
    const old = this.byKey.get(key);
    if (old !== undefined && (old.name !== record.name || old.version !== record.version)) this.delete(key);
    let versions = this.groups.get(record.name);
    let g = versions?.get(record.version);
    const before = g?.merged;
    if (g === undefined) {
      g = { name: record.name, version: record.version, keys: new Map(), merged: record };
      if (versions === undefined) this.groups.set(record.name, (versions = new Map()));
      versions.set(record.version, g);
    }
    g.keys.set(key, { key, record, modRevision });
    this.byKey.set(key, g);
    g.merged = merge(g);
    if (before === undefined) this.emit('add', g.merged);
    else if (!sameService(before, g.merged)) this.emit('update', g.merged);
  }

  delete(key: string): void {
    const g = this.byKey.get(key);
    if (g === undefined) return;
    this.byKey.delete(key);
    g.keys.delete(key);
    const before = g.merged;
    if (g.keys.size > 0) {
      g.merged = merge(g);
      if (!sameService(before, g.merged)) this.emit('update', g.merged);
      return;
    }
    const versions = this.groups.get(g.name)!;
    versions.delete(g.version);
    if (versions.size === 0) this.groups.delete(g.name);
    this.emit('remove', before);
  }

  /**
   * Makes the cache equal to a fresh listing (after a reconnect), emitting
   * the differences: keys gone are deleted, new or rewritten keys are put.
   */
  replace(entries: { key: string; record: Service; modRevision: number }[], revision: number): void {
    const fresh = new Set(entries.map((e) => e.key));
    for (const key of [...this.byKey.keys()]) if (!fresh.has(key)) this.delete(key);
    for (const e of entries) {
      const cur = this.byKey.get(e.key)?.keys.get(e.key);
      if (cur === undefined || cur.modRevision !== e.modRevision) this.put(e.key, e.record, e.modRevision);
    }
    this.revision = revision;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(name: string): Service[] {
    const versions = this.groups.get(name);
    if (versions === undefined) return [];
    const out: Service[] = [];
    for (const g of versions.values()) out.push(copyService(g.merged));
    return out;
  }

  list(): Service[] {
    const out: Service[] = [];
    for (const versions of this.groups.values()) for (const g of versions.values()) out.push(copyService(g.merged));
    return out;
  }

  watch(opts: WatchOptions): Watcher {
    const watchers = this.watchers;
    // The entry exists before its queue: an already-aborted signal closes the queue inside its constructor.
    const entry = { service: opts.service } as WatchEntry;
    entry.queue = new AsyncQueue<RegistryEvent>({ signal: opts.signal, onClose: () => watchers.delete(entry) });
    if (!entry.queue.closed) watchers.add(entry);
    return entry.queue;
  }

  closeWatchers(): void {
    for (const w of [...this.watchers]) w.queue.close();
  }

  private emit(type: RegistryEvent['type'], service: Service): void {
    for (const w of this.watchers) {
      if (w.service !== undefined && w.service !== service.name) continue;
      w.queue.push({ type, service: copyService(service) });
    }
  }
}

function merge(g: Group): Service {
  let latest: KeyEntry | undefined;
  const nodes = new Map<string, Service['nodes'][number]>();
  for (const e of g.keys.values()) {
    if (latest === undefined || e.modRevision >= latest.modRevision) latest = e;
    for (const n of e.record.nodes) nodes.set(n.id, n);
  }
  const r = latest!.record;
  return copyService({ name: g.name, version: g.version, metadata: r.metadata, endpoints: r.endpoints, nodes: [...nodes.values()] });
}
