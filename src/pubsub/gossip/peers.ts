import type { Multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import type { Clock, TimerHandle } from '../../clock/types.ts';
import type { Logger } from '../../log/types.ts';
import { LIBP2P_KEY } from '../../membership/keys.ts';
import type { MemberView, Membership, MembershipEvent } from '../../membership/types.ts';
import type { GossipNode } from './node.ts';

/** The `libp2p` record (LIBP2P_KEY): `{ i: peer id, a: [multiaddr, ...], t: [gossip topic, ...] }`. */

/** Gossip topics a record may list (more are left out of the record, not of gossipsub). */
export const MAX_RECORD_TOPICS = 64;

export interface WireLibp2p {
  i: string;
  a: string[];
  /** The gossip topics (`mm/<token>`, `mm/*`) this node subscribes to, so a publisher can wait for exactly those subscribers. Absent from older records. */
  t?: string[];
}

/** Reads a member's `libp2p` record; undefined when absent or malformed. */
export function decodeLibp2p(v: unknown): WireLibp2p | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const r = v as Partial<WireLibp2p>;
  if (typeof r.i !== 'string' || r.i.length === 0 || r.i.length > 256) return undefined;
  if (!Array.isArray(r.a) || r.a.length === 0 || r.a.length > 16 || !r.a.every((a) => typeof a === 'string' && a.length < 1024)) return undefined;
  if (r.t !== undefined && (!Array.isArray(r.t) || r.t.length > MAX_RECORD_TOPICS || !r.t.every((t) => typeof t === 'string' && t.length <= 256))) return undefined;
  return r.t === undefined ? { i: r.i, a: r.a } : { i: r.i, a: r.a, t: r.t };
}

export interface GossipPeersOptions {
  membership: Membership;
  node: GossipNode;
  clock: Clock;
  logger: Logger;
  redialIntervalMs: number;
  dialTimeoutMs: number;
  parseAddr: (s: string) => Multiaddr;
  parsePeer: (s: string) => PeerId;
  /** A record could not be used, or a dial failed (counted by the broker). */
  onProblem: (kind: 'badRecords' | 'dialFailures') => void;
}

interface Known {
  rec: WireLibp2p;
  peer: PeerId;
  dialing: boolean;
}

/**
 * Keeps libp2p connected to exactly the membership: every live member with
 * a `libp2p` record is dialed (no libp2p discovery module), redialed every
 * `redialIntervalMs` while unconnected, and hung up on when the membership
 * drops it. Both sides dial; libp2p copes with the rare double connection.
 */
export class GossipPeers {
  private readonly o: GossipPeersOptions;
  private readonly known = new Map<string, Known>();
  /** Gossip topic → peer ids whose record lists it (the known records' `t`). */
  private readonly byTopic = new Map<string, Set<string>>();
  private unsubscribe: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(o: GossipPeersOptions) {
    this.o = o;
  }

  start(): void {
    this.unsubscribe = this.o.membership.subscribe((ev) => this.onMembership(ev));
    for (const m of this.o.membership.members()) this.upsert(m);
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.o.clock.clearTimeout(this.timer);
    this.known.clear();
    this.byTopic.clear();
  }

  /** Peer ids whose membership record lists `gossipTopic`: subscribers as far as SWIM knows, perhaps before gossipsub does. */
  recordSubscribers(gossipTopic: string): ReadonlySet<string> {
    return this.byTopic.get(gossipTopic) ?? NONE;
  }

  /** Whether the membership record of `peerId` lists any gossip topic (a scan of the topics: called only for peers being waited for). */
  listsTopics(peerId: string): boolean {
    for (const peers of this.byTopic.values()) if (peers.has(peerId)) return true;
    return false;
  }

  /** Members currently connected over libp2p. */
  connected(): number {
    let n = 0;
    for (const k of this.known.values()) if (this.o.node.getConnections(k.peer).length > 0) n++;
    return n;
  }

  private tick(): void {
    if (this.stopped) return;
    for (const k of this.known.values()) this.ensure(k);
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.o.redialIntervalMs);
  }

  private onMembership(ev: MembershipEvent): void {
    if (ev.type !== 'leave') return this.upsert(ev.member);
    this.forget(ev.member.id);
  }

  /** Stops dialing a member and hangs up (it left, or withdrew its record when its broker stopped). */
  private forget(memberId: string): void {
    const k = this.known.get(memberId);
    this.known.delete(memberId);
    if (k === undefined) return;
    this.index(k.rec, false);
    this.o.node.hangUp(k.peer).catch((err: unknown) => this.o.logger.debug('hang up failed', { member: memberId, error: String(err) }));
  }

  private upsert(m: MemberView): void {
    const raw = m.data[LIBP2P_KEY];
    if (raw === undefined) return this.forget(m.id);
    const rec = decodeLibp2p(raw);
    let peer: PeerId | undefined;
    try {
      if (rec !== undefined) peer = this.o.parsePeer(rec.i);
    } catch {
      peer = undefined;
    }
    if (rec === undefined || peer === undefined) {
      this.o.onProblem('badRecords');
      this.o.logger.warn('ignoring a malformed libp2p record', { member: m.id });
      return;
    }
    if (peer.equals(this.o.node.peerId)) return;
    const old = this.known.get(m.id);
    if (old !== undefined) this.index(old.rec, false);
    const k: Known = { rec, peer, dialing: old?.dialing ?? false };
    this.known.set(m.id, k);
    this.index(rec, true);
    this.ensure(k);
  }

  /** Adds a record's topics to byTopic, or takes them out. */
  private index(rec: WireLibp2p, add: boolean): void {
    for (const t of rec.t ?? []) {
      let peers = this.byTopic.get(t);
      if (add) {
        if (peers === undefined) this.byTopic.set(t, (peers = new Set()));
        peers.add(rec.i);
      } else if (peers?.delete(rec.i) && peers.size === 0) {
        this.byTopic.delete(t);
      }
    }
  }

  private ensure(k: Known): void {
    if (k.dialing || this.stopped || this.o.node.getConnections(k.peer).length > 0) return;
    k.dialing = true;
    void this.dial(k).finally(() => {
      k.dialing = false;
    });
  }

  private async dial(k: Known): Promise<void> {
    for (const a of k.rec.a) {
      const ac = new AbortController();
      const t = this.o.clock.setTimeout(() => ac.abort(), this.o.dialTimeoutMs);
      try {
        let addr = this.o.parseAddr(a);
        if (addr.getComponents().every((c) => c.name !== 'p2p')) addr = addr.encapsulate(`/p2p/${k.rec.i}`);
        await this.o.node.dial(addr, { signal: ac.signal });
        return;
      } catch (err) {
        if (this.stopped) return;
        this.o.onProblem('dialFailures');
        this.o.logger.debug('libp2p dial failed', { peer: k.rec.i, address: a, error: String(err) });
      } finally {
        this.o.clock.clearTimeout(t);
      }
    }
  }
}

const NONE: ReadonlySet<string> = new Set();
