/**
 * Pure: the table of peers heard on the LAN, keyed by node id, with TTL
 * expiry on times the caller passes in (the shell reads its Clock).
 */
import type { KnownAnswer } from './records.ts';
import type { AnnouncedPeer, DiscoveredPeer, PeerAnnouncement } from './types.ts';

export type Observation =
  | { kind: 'new'; peer: DiscoveredPeer }
  | { kind: 'changed'; peer: DiscoveredPeer; previous: DiscoveredPeer }
  | { kind: 'refreshed'; peer: DiscoveredPeer }
  /** The table holds `maxPeers`; the new peer was not added. */
  | { kind: 'full' };

/** Whether two announcements say the same thing (TTL, source and times aside). */
export function sameAnnouncement(a: PeerAnnouncement, b: PeerAnnouncement): boolean {
  if (a.cluster !== b.cluster || a.nodeId !== b.nodeId || a.gossipAddress !== b.gossipAddress
    || a.rpcAddress !== b.rpcAddress || a.protocolVersion !== b.protocolVersion) return false;
  const ka = Object.keys(a.meta);
  return ka.length === Object.keys(b.meta).length && ka.every((k) => Object.hasOwn(b.meta, k) && b.meta[k] === a.meta[k]);
}

export class PeerTable {
  private readonly byId = new Map<string, DiscoveredPeer>();
  private readonly maxPeers: number;

  constructor(maxPeers: number) {
    this.maxPeers = maxPeers;
  }

  get size(): number {
    return this.byId.size;
  }

  get(nodeId: string): DiscoveredPeer | undefined {
    return this.byId.get(nodeId);
  }

  /** Peers in the order they were first heard. Snapshots: the table never mutates a peer it handed out. */
  list(): DiscoveredPeer[] {
    return [...this.byId.values()];
  }

  /** Records a peer heard at `nowMs` (its `ttlS` must be above 0; goodbyes go to `goodbye`). */
  observe(heard: AnnouncedPeer, nowMs: number, via: string | undefined): Observation {
    const old = this.byId.get(heard.nodeId);
    if (old === undefined && this.byId.size >= this.maxPeers) return { kind: 'full' };
    const peer: DiscoveredPeer = {
      ...heard,
      via,
      firstSeenAtMs: old?.firstSeenAtMs ?? nowMs,
      lastSeenAtMs: nowMs,
      expiresAtMs: nowMs + heard.ttlS * 1000,
    };
    this.byId.set(heard.nodeId, peer);
    if (old === undefined) return { kind: 'new', peer };
    if (!sameAnnouncement(old, heard)) return { kind: 'changed', peer, previous: old };
    return { kind: 'refreshed', peer };
  }

  /** Removes the peer a goodbye names; undefined when it was not known. */
  goodbye(heard: AnnouncedPeer): DiscoveredPeer | undefined {
    const old = this.byId.get(heard.nodeId);
    if (old !== undefined) this.byId.delete(heard.nodeId);
    return old;
  }

  /** Removes and returns the peers whose TTL ran out at or before `nowMs`. */
  expire(nowMs: number): DiscoveredPeer[] {
    const out: DiscoveredPeer[] = [];
    for (const [id, p] of this.byId) {
      if (p.expiresAtMs <= nowMs) {
        this.byId.delete(id);
        out.push(p);
      }
    }
    return out;
  }

  /** The earliest expiry, or undefined when the table is empty. */
  nextExpiryMs(): number | undefined {
    let next: number | undefined;
    for (const p of this.byId.values()) if (next === undefined || p.expiresAtMs < next) next = p.expiresAtMs;
    return next;
  }

  /** Our cached PTRs with at least one second left, longest-lived first (those matter most to suppress). */
  knownAnswers(nowMs: number): KnownAnswer[] {
    const out: KnownAnswer[] = [];
    for (const p of this.byId.values()) {
      const ttlS = Math.floor((p.expiresAtMs - nowMs) / 1000);
      if (ttlS >= 1) out.push({ instance: p.instance, ttlS });
    }
    return out.sort((a, b) => b.ttlS - a.ttlS);
  }

  clear(): void {
    this.byId.clear();
  }
}
