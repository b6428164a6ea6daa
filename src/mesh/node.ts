import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import type { Logger } from '../log/types.ts';
import { SwimMembership } from '../membership/swim.ts';
import { RPC_KEY } from '../membership/keys.ts';
import type { Membership } from '../membership/types.ts';
import type { DiscoveredPeer, Discovery } from '../mdns/types.ts';
import type { MeshRegistry } from '../registry/mesh.ts';
import type { Client, Server } from '../rpc/types.ts';
import type { SwimEvent, SwimNode } from '../swim/types.ts';
import { serveKeyring } from './keyring.ts';
import { fetchRecordsOver, serveRecord } from './records.ts';
import type { Mesh } from './types.ts';

/** Version of micromesh's wire protocols (SWIM, RPC), announced over mDNS. */
export const PROTOCOL_VERSION = 1;

export interface MeshNodeParts {
  swim: SwimNode;
  /** Undefined when mDNS is off. */
  discovery: Discovery | undefined;
  registry: MeshRegistry;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Gossip addresses of seed nodes (`--join`). */
  seeds: readonly string[];
  /** Re-bootstrap period, ms (0 disables). */
  rejoinIntervalMs: number;
}

/**
 * One process's place in the mesh: its SWIM node, mDNS discovery, the
 * membership built on them and the registry published into it. Discovery and
 * seeds only find candidates; SWIM decides who is alive. Joins are repeated
 * periodically (and for every newly discovered peer), because SWIM forgets
 * dead members after a while: two halves of a healed partition would
 * otherwise never find each other again (memberlist#222, serf#605).
 */
export class MeshNode implements Mesh {
  readonly swim: SwimNode;
  readonly discovery: Discovery | undefined;
  readonly registry: MeshRegistry;
  private readonly p: MeshNodeParts;
  private readonly lifecycle = new Lifecycle();
  private membership: SwimMembership | undefined;
  private rejoinTimer: TimerHandle | undefined;
  /** Why mDNS could not start, when it could not (the node then relies on seeds). */
  mdnsError: MeshError | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(parts: MeshNodeParts) {
    this.p = parts;
    this.swim = parts.swim;
    this.discovery = parts.discovery;
    this.registry = parts.registry;
  }

  /** The live membership once started. */
  get members(): Membership | undefined {
    return this.membership;
  }

  /**
   * Joins the mesh. `rpc` is the node's RPC side, started already: its
   * address goes into the node's record, its client and server carry record
   * fetches. Resolves once SWIM runs and the first joins were tried (it does
   * not wait for peers: a node alone is a valid mesh of one).
   */
  start(rpc: { client: Client; server: Server; address: string }, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.start(async () => {
      const { swim, discovery, logger } = this.p;
      await swim.start(opts);
      const membership = new SwimMembership({ swim, fetchRecord: fetchRecordsOver(rpc.client), rpcAddress: rpc.address, logger });
      serveRecord(rpc.server, membership);
      serveKeyring(rpc.server, () => swim.keyring);
      this.membership = membership;
      membership.setLocal(RPC_KEY, rpc.address);
      this.registry.attach(membership);
      this.unsubscribe.push(swim.on('conflict', (ev: SwimEvent) => {
        if (ev.type === 'conflict') {
          logger.error('another process claims this node name from another address; stop and rename one of them', {
            node: swim.id, other: ev.otherAddress,
          });
        }
      }));
      if (discovery !== undefined) {
        this.unsubscribe.push(discovery.on('peer', (ev) => this.joinDiscovered(ev.peer)));
        await discovery.update({ nodeId: swim.id, gossipAddress: swim.address, rpcAddress: rpc.address, protocolVersion: PROTOCOL_VERSION });
        try {
          await discovery.start(opts);
        } catch (err) {
          // A node without multicast (loopback, some containers) still works with seeds.
          if (!(err instanceof MeshError && err.code === 'MDNS_UNAVAILABLE')) throw err;
          this.mdnsError = err;
          logger.warn('mDNS unavailable, continuing with seeds only', { error: err.detail });
        }
      }
      await this.rejoin();
      this.scheduleRejoin();
    });
  }

  /** Leaves gracefully (peers drop our services at once), then stops. Idempotent. */
  stop(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.stop(async () => {
      this.p.clock.clearTimeout(this.rejoinTimer);
      for (const u of this.unsubscribe.splice(0)) u();
      await this.p.discovery?.stop(opts).catch((err: unknown) => this.p.logger.warn('mDNS stop failed', { error: String(err) }));
      await this.p.swim.leave(opts).catch((err: unknown) => this.p.logger.warn('graceful leave failed', { error: String(err) }));
      this.registry.close();
      this.membership?.close();
    });
  }

  /** How many other members this node knows alive (0: no mesh found yet). */
  peerCount(): number {
    return Math.max(0, this.p.swim.liveCount() - 1);
  }

  /** Joins every seed and discovered peer that is not a live member. Never throws. */
  async rejoin(): Promise<void> {
    const live = new Set(this.p.swim.members().filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.address));
    const targets = new Set<string>();
    for (const s of this.p.seeds) if (!live.has(s)) targets.add(s);
    for (const peer of this.p.discovery?.peers() ?? []) if (!live.has(peer.gossipAddress)) targets.add(peer.gossipAddress);
    targets.delete(this.p.swim.address);
    if (targets.size === 0) return;
    try {
      await this.p.swim.join([...targets]);
    } catch (err) {
      if (!(err instanceof MeshError && err.code === 'SWIM_JOIN_FAILED')) throw err;
      this.p.logger.debug('no seed answered', { seeds: [...targets] });
    }
  }

  private joinDiscovered(peer: DiscoveredPeer): void {
    if (!this.lifecycle.active || peer.nodeId === this.p.swim.id) return;
    const known = this.p.swim.member(peer.nodeId);
    if (known !== undefined && (known.state === 'alive' || known.state === 'suspect')) return;
    this.p.swim.join([peer.gossipAddress]).catch((err: unknown) =>
      this.p.logger.debug('joining a discovered peer failed', { peer: peer.nodeId, error: String(err) }));
  }

  private scheduleRejoin(): void {
    const every = this.p.rejoinIntervalMs;
    if (every <= 0) return;
    // Jittered so nodes started together do not re-join in lockstep.
    const delay = every * (0.75 + 0.5 * this.p.random.next());
    this.rejoinTimer = this.p.clock.setTimeout(() => {
      this.rejoin().catch((err: unknown) => this.p.logger.warn('re-join failed', { error: String(err) }))
        .finally(() => { if (this.lifecycle.active) this.scheduleRejoin(); });
    }, delay);
  }
}
