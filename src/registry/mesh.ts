import type { Clock } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import { SERVICES_KEY } from '../membership/keys.ts';
import type { MemberView, Membership, MembershipEvent } from '../membership/types.ts';
import { MemoryRegistry } from './memory.ts';
import type { Endpoint, Metadata, QueryOptions, RegisterOptions, Registry, Service, WatchOptions, Watcher } from './types.ts';
import { checkSignal, validateService } from './util.ts';

/**
 * One (service, version, node) as it travels in a membership record. Short
 * keys: records ride in SWIM metadata when they fit in a few hundred bytes.
 */
interface WireEntry {
  /** service name */ n: string;
  /** version */ v: string;
  /** service metadata, omitted when empty */ m?: Metadata;
  /** endpoints: a name, or [name, metadata] */ e?: (string | [string, Metadata])[];
  /** node id */ i: string;
  /** node address */ a: string;
  /** node metadata, omitted when empty */ nm?: Metadata;
}

export interface MeshRegistryOptions {
  /** The membership to publish into and read from; may also be attached later with `attach`. */
  membership?: Membership;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The Registry on the mesh: every node lists its services in its membership
 * record, and every node's registry is the union of the live members'
 * records (its own included). Lookups answer from that local index with no
 * network round trip. When the membership drops a member (SWIM declared it
 * dead, or it left) its services vanish at once: no TTL, so no stale nodes
 * after a crash. Watch events come from the index (a MemoryRegistry), so
 * they follow Go Micro's add/update/remove semantics exactly.
 */
export class MeshRegistry implements Registry {
  readonly name = 'mesh';
  private membership: Membership | undefined;
  private readonly logger: Logger | undefined;
  private readonly index: MemoryRegistry;
  /** What each member contributes to the index; our own entries are under LOCAL until and after attach. */
  private readonly contributions = new Map<string, Map<string, Service>>();
  private unsubscribe: () => void = () => {};

  constructor(o: MeshRegistryOptions = {}) {
    this.logger = o.logger;
    this.index = new MemoryRegistry({ clock: o.clock });
    if (o.membership !== undefined) this.attach(o.membership);
  }

  /**
   * Starts publishing into `membership` and following it. Registrations
   * made before are published then. Replaces a previous membership.
   */
  attach(membership: Membership): void {
    this.unsubscribe();
    for (const id of [...this.contributions.keys()]) if (id !== LOCAL) this.apply(id, new Map());
    this.membership = membership;
    this.unsubscribe = membership.subscribe((ev) => this.onMembership(ev));
    for (const m of membership.members()) this.apply(m.id, decodeEntries(m, this.logger));
    this.publish(new Map(this.contributions.get(LOCAL)));
  }

  async register(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    const mine = new Map(this.contributions.get(LOCAL));
    for (const node of service.nodes) mine.set(keyOf(service.name, service.version, node.id), { ...service, nodes: [node] });
    this.publish(mine);
  }

  async deregister(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    const mine = new Map(this.contributions.get(LOCAL));
    for (const node of service.nodes) mine.delete(keyOf(service.name, service.version, node.id));
    this.publish(mine);
  }

  getService(name: string, opts?: QueryOptions): Promise<Service[]> {
    return this.index.getService(name, opts);
  }

  listServices(opts?: QueryOptions): Promise<Service[]> {
    return this.index.listServices(opts);
  }

  watch(opts?: WatchOptions): Watcher {
    return this.index.watch(opts);
  }

  /** Stops following the membership; other members' services leave the index. Idempotent. */
  close(): void {
    this.unsubscribe();
    this.unsubscribe = () => {};
    for (const id of [...this.contributions.keys()]) if (id !== LOCAL) this.apply(id, new Map());
    this.membership = undefined;
  }

  private publish(mine: Map<string, Service>): void {
    if (this.membership !== undefined) {
      const entries = [...mine.values()].map(encodeEntry);
      this.membership.setLocal(SERVICES_KEY, entries.length > 0 ? entries : undefined);
    }
    this.apply(LOCAL, mine);
  }

  private onMembership(ev: MembershipEvent): void {
    if (ev.member.id === this.membership?.localId) return;
    if (ev.type === 'leave') this.apply(ev.member.id, new Map());
    else this.apply(ev.member.id, decodeEntries(ev.member, this.logger));
  }

  /** Replaces a member's contribution in the index: deregister what went, register what is new or changed. */
  private apply(memberId: string, next: Map<string, Service>): void {
    const prev = this.contributions.get(memberId) ?? new Map<string, Service>();
    for (const [key, s] of prev) if (!next.has(key)) void this.index.deregister(s);
    for (const [key, s] of next) {
      const old = prev.get(key);
      if (old === undefined || JSON.stringify(old) !== JSON.stringify(s)) void this.index.register(s);
    }
    if (next.size === 0) this.contributions.delete(memberId);
    else this.contributions.set(memberId, next);
  }
}

/** Our own contribution's key in `contributions` (no member id can be empty). */
const LOCAL = '';

function keyOf(name: string, version: string, nodeId: string): string {
  return `${name}\u0000${version}\u0000${nodeId}`;
}

function encodeEntry(s: Service): WireEntry {
  const node = s.nodes[0]!;
  const e: WireEntry = { n: s.name, v: s.version, i: node.id, a: node.address };
  if (Object.keys(s.metadata).length > 0) e.m = s.metadata;
  if (s.endpoints.length > 0) e.e = s.endpoints.map((x) => (Object.keys(x.metadata).length > 0 ? [x.name, x.metadata] : x.name));
  if (Object.keys(node.metadata).length > 0) e.nm = node.metadata;
  return e;
}

/** The services a member's record lists (one node each); malformed entries are skipped. */
export function servicesOf(m: MemberView, logger?: Logger): Service[] {
  return [...decodeEntries(m, logger).values()];
}

/** A member's entries; malformed ones are skipped (and logged), never trusted. */
function decodeEntries(m: MemberView, logger?: Logger): Map<string, Service> {
  const out = new Map<string, Service>();
  const raw = m.data[SERVICES_KEY];
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) {
    logger?.warn('ignoring a malformed services record', { member: m.id });
    return out;
  }
  for (const e of raw as Partial<WireEntry>[]) {
    const s = decodeEntry(e);
    if (s === undefined) {
      logger?.warn('ignoring a malformed service entry', { member: m.id });
      continue;
    }
    out.set(keyOf(s.name, s.version, s.nodes[0]!.id), s);
  }
  return out;
}

function decodeEntry(e: Partial<WireEntry> | null): Service | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.n !== 'string' || typeof e.v !== 'string' || typeof e.i !== 'string' || typeof e.a !== 'string') return undefined;
  const endpoints: Endpoint[] = [];
  // A peer's record is untrusted: a non-array endpoint list is skipped, not iterated.
  for (const x of Array.isArray(e.e) ? e.e : []) {
    if (typeof x === 'string') endpoints.push({ name: x, metadata: {} });
    else if (Array.isArray(x) && typeof x[0] === 'string') endpoints.push({ name: x[0], metadata: strings(x[1]) });
  }
  return {
    name: e.n, version: e.v, metadata: strings(e.m), endpoints,
    nodes: [{ id: e.i, address: e.a, metadata: strings(e.nm) }],
  };
}

function strings(v: unknown): Metadata {
  const out: Metadata = {};
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === 'string') out[k] = x;
  return out;
}
