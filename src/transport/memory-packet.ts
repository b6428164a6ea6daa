import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { DialOptions, Listener, ListenOptions, PacketBindOptions, PacketNetwork, PacketTransport, PacketWatch, Socket, Transport } from './types.ts';

/** Delivery properties of one direction of a link. */
export interface LinkProfile {
  /** Fixed one-way latency, ms. */
  latencyMs: number;
  /** Extra latency drawn uniformly from [0, jitterMs) per packet, ms. Jitter reorders packets, as real networks do. */
  jitterMs: number;
  /** Probability in [0, 1] that a packet is lost. */
  loss: number;
}

export interface MemoryPacketNetworkOptions {
  /** Drives delivery; a VirtualClock makes runs deterministic. */
  clock: Clock;
  /** Draws latency jitter and loss; a seeded Random makes runs deterministic. */
  random: Random;
  /** Default one-way latency, ms. Default 0 (delivery still waits for a timer, never re-entrant). */
  latencyMs?: number;
  /** Default jitter, ms. Default 0. */
  jitterMs?: number;
  /** Default loss probability. Default 0. */
  loss?: number;
  /** Largest packet accepted by `send`, bytes. Default 1400 (SWIM's UDP budget). */
  maxPacketBytes?: number;
}

/** Counters of the whole network; read them to measure traffic in a simulation. */
export interface MemoryPacketStats {
  sent: number;
  delivered: number;
  bytesSent: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedHostDown: number;
  droppedNoReceiver: number;
  droppedOversized: number;
  /** Watched sends refused: the host is up and reachable, nothing is bound on the port (ICMP port unreachable). */
  refused: number;
}

/** Per-host switches shared by every endpoint on the host (one object, so a send reads fields, not maps). */
interface HostState {
  down: boolean;
  /** Partition group; packets flow only between hosts of the same group. */
  group: number;
}

/**
 * An in-process datagram network for tests and the simulator: per-link
 * latency with jitter, random loss, partitions between groups of hosts, and
 * hosts that are down (everything to or from them is dropped). It is an
 * object, not module state, and it is cheap on purpose: a send costs one copy
 * of the packet and one clock timer, and a simulated run pushes millions of
 * packets through it.
 *
 * Addresses are `host:port`; binding port 0 picks a fresh port. Delivery always
 * goes through a clock timer (even at zero latency), so a receiver is never
 * called from inside a sender's `send`.
 */
export class MemoryPacketNetwork implements PacketNetwork {
  readonly clock: Clock;
  readonly random: Random;
  readonly maxPacketBytes: number;
  private readonly defaults: LinkProfile;
  private readonly endpoints = new Map<string, MemoryPacketEndpoint>();
  private readonly hosts = new Map<string, HostState>();
  private readonly links = new Map<string, LinkProfile>();
  private nextPort = 50_000;
  private readonly counters: MemoryPacketStats = {
    sent: 0, delivered: 0, bytesSent: 0, droppedLoss: 0, droppedPartition: 0, droppedHostDown: 0, droppedNoReceiver: 0, droppedOversized: 0, refused: 0,
  };

  constructor(opts: MemoryPacketNetworkOptions) {
    this.clock = opts.clock;
    this.random = opts.random;
    this.maxPacketBytes = opts.maxPacketBytes ?? 1400;
    this.defaults = { latencyMs: opts.latencyMs ?? 0, jitterMs: opts.jitterMs ?? 0, loss: opts.loss ?? 0 };
  }

  async bind(address: string, opts: PacketBindOptions = {}): Promise<PacketTransport> {
    opts.signal?.throwIfAborted();
    return this.bindSync(address);
  }

  /** Synchronous `bind`, for simulators that build thousands of nodes in a loop. */
  bindSync(address: string): MemoryPacketEndpoint {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw new MeshError('INVALID_ARGUMENT', `invalid address "${address}": expected host:port`);
    const host = address.slice(0, i);
    const bound = address.slice(i + 1) === '0' ? `${host}:${this.nextPort++}` : address;
    if (this.endpoints.has(bound)) throw new MeshError('UNAVAILABLE', `${bound}: address already in use`, { retryable: false });
    const ep = new MemoryPacketEndpoint(this, bound, this.host(host));
    this.endpoints.set(bound, ep);
    return ep;
  }

  /** Sets the default latency, jitter and loss for links without an override. */
  setDefaults(profile: Partial<LinkProfile>): void {
    Object.assign(this.defaults, profile);
  }

  /** Overrides the profile of the link from `fromHost` to `toHost` (one direction). */
  setLink(fromHost: string, toHost: string, profile: Partial<LinkProfile>): void {
    this.links.set(linkKey(fromHost, toHost), { ...this.defaults, ...this.links.get(linkKey(fromHost, toHost)), ...profile });
  }

  /** Removes every per-link override. */
  clearLinks(): void {
    this.links.clear();
  }

  /**
   * Splits hosts into groups that cannot reach each other. Hosts not listed
   * form one more group together. Replaces any earlier partition.
   */
  partition(groups: readonly (readonly string[])[]): void {
    for (const h of this.hosts.values()) h.group = 0;
    groups.forEach((hosts, i) => {
      for (const name of hosts) this.host(name).group = i + 1;
    });
  }

  /** Removes every partition. */
  heal(): void {
    for (const h of this.hosts.values()) h.group = 0;
  }

  /** A down host sends and receives nothing (a crashed or unplugged machine). */
  setHostDown(host: string, down: boolean): void {
    this.host(host).down = down;
  }

  /** Whether a packet or stream from `fromHost` could reach `toHost` now (ignoring loss). */
  canReach(fromHost: string, toHost: string): boolean {
    const a = this.hosts.get(fromHost);
    const b = this.hosts.get(toHost);
    if (a?.down === true || b?.down === true) return false;
    return (a?.group ?? 0) === (b?.group ?? 0);
  }

  /**
   * Extra time a TCP handshake from `fromHost` to `toHost` takes because of
   * the link's loss: each lost SYN or SYN-ACK costs a retransmission timeout
   * (1 s, doubling). 0 on a lossless link; Infinity after 6 losses.
   */
  handshakeDelayMs(fromHost: string, toHost: string): number {
    const there = this.links.size === 0 ? this.defaults : (this.links.get(linkKey(fromHost, toHost)) ?? this.defaults);
    const back = this.links.size === 0 ? this.defaults : (this.links.get(linkKey(toHost, fromHost)) ?? this.defaults);
    if (there.loss <= 0 && back.loss <= 0) return 0;
    let delay = 0;
    let rto = SYN_RTO_MS;
    for (let tries = 0; tries < 6; tries++) {
      if (this.random.next() >= there.loss && this.random.next() >= back.loss) return delay;
      delay += rto;
      rto *= 2;
    }
    return Infinity;
  }

  stats(): MemoryPacketStats {
    return { ...this.counters };
  }

  /**
   * Called by endpoints; the hot path of a simulation. With `refused`, a
   * packet to an up, reachable host where nothing is bound (or that is
   * unbound by arrival) is answered by an ICMP port unreachable: `refused`
   * is called after the way there and back, unless the answer is lost.
   */
  transmit(from: MemoryPacketEndpoint, to: string, packet: Uint8Array, refused?: () => void): void {
    const c = this.counters;
    if (packet.length > this.maxPacketBytes) {
      c.droppedOversized++;
      return;
    }
    c.sent++;
    c.bytesSent += packet.length;
    const dst = this.endpoints.get(to);
    if (dst === undefined) {
      c.droppedNoReceiver++;
      if (refused !== undefined) this.refuse(from, to.slice(0, to.lastIndexOf(':')), refused, false);
      return;
    }
    const src = from.hostState;
    if (src.down || dst.hostState.down) {
      c.droppedHostDown++;
      return;
    }
    if (src.group !== dst.hostState.group) {
      c.droppedPartition++;
      return;
    }
    const link = this.links.size === 0 ? this.defaults : (this.links.get(linkKey(from.host, dst.host)) ?? this.defaults);
    if (link.loss > 0 && this.random.next() < link.loss) {
      c.droppedLoss++;
      return;
    }
    const delay = link.jitterMs > 0 ? link.latencyMs + this.random.next() * link.jitterMs : link.latencyMs;
    const copy = Buffer.from(packet); // a real copy (Buffer#slice is a view), from the pool when small
    const source = from.address;
    this.clock.setTimeout(() => this.deliver(dst, source, copy, refused === undefined ? undefined : () => this.refuse(from, dst.host, refused, true)), delay);
  }

  /** The ICMP answer to a packet `from` sent to a port of `toHost` where nothing listens. */
  private refuse(from: MemoryPacketEndpoint, toHost: string, refused: () => void, arrived: boolean): void {
    if (!this.hosts.has(toHost) || !this.canReach(from.host, toHost)) return;
    const there = this.links.size === 0 ? this.defaults : (this.links.get(linkKey(from.host, toHost)) ?? this.defaults);
    const back = this.links.size === 0 ? this.defaults : (this.links.get(linkKey(toHost, from.host)) ?? this.defaults);
    if (back.loss > 0 && this.random.next() < back.loss) return;
    this.counters.refused++;
    // The way there, unless the packet already made it, and back.
    const way = (l: LinkProfile): number => (l.jitterMs > 0 ? l.latencyMs + this.random.next() * l.jitterMs : l.latencyMs);
    this.clock.setTimeout(refused, (arrived ? 0 : way(there)) + way(back));
  }

  /** Forgets a closed endpoint. */
  release(ep: MemoryPacketEndpoint): void {
    if (this.endpoints.get(ep.address) === ep) this.endpoints.delete(ep.address);
  }

  private deliver(dst: MemoryPacketEndpoint, from: string, packet: Uint8Array, refused?: () => void): void {
    // Conditions may have changed while the packet was in flight.
    if (dst.hostState.down) {
      this.counters.droppedHostDown++;
      return;
    }
    const handler = dst.handler;
    if (handler === undefined || dst.closed) {
      this.counters.droppedNoReceiver++;
      if (dst.closed) refused?.(); // unbound while in flight; a bound socket nobody reads refuses nothing
      return;
    }
    this.counters.delivered++;
    dst.received++;
    dst.bytesReceived += packet.length;
    handler(from, packet);
  }

  private host(name: string): HostState {
    let h = this.hosts.get(name);
    if (h === undefined) {
      h = { down: false, group: 0 };
      this.hosts.set(name, h);
    }
    return h;
  }
}

/** One bound address on a {@link MemoryPacketNetwork}. */
export class MemoryPacketEndpoint implements PacketTransport {
  readonly address: string;
  readonly host: string;
  readonly hostState: HostState;
  readonly maxPacketBytes: number;
  handler: ((from: string, packet: Uint8Array) => void) | undefined;
  closed = false;
  /** Packets and bytes this endpoint sent and received (oversized and closed-socket sends excluded). */
  sent = 0;
  bytesSent = 0;
  received = 0;
  bytesReceived = 0;
  private readonly net: MemoryPacketNetwork;

  constructor(net: MemoryPacketNetwork, address: string, hostState: HostState) {
    this.net = net;
    this.address = address;
    this.host = address.slice(0, address.lastIndexOf(':'));
    this.hostState = hostState;
    this.maxPacketBytes = net.maxPacketBytes;
  }

  send(to: string, packet: Uint8Array): void {
    if (this.closed) return;
    if (packet.length <= this.maxPacketBytes) {
      this.sent++;
      this.bytesSent += packet.length;
    }
    this.net.transmit(this, to, packet);
  }

  onPacket(handler: (from: string, packet: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** `send`, and `refused` once if the destination port turns out unbound (see MemoryPacketNetwork.transmit). */
  sendWatched(to: string, packet: Uint8Array, refused: () => void): PacketWatch {
    if (this.closed) return { close: () => {} };
    if (packet.length <= this.maxPacketBytes) {
      this.sent++;
      this.bytesSent += packet.length;
    }
    let open = true;
    this.net.transmit(this, to, packet, () => {
      if (open && !this.closed) {
        open = false;
        refused();
      }
    });
    return { close: () => { open = false; } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.net.release(this);
  }
}

function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** Linux's initial SYN retransmission timeout; it doubles on each retry. */
const SYN_RTO_MS = 1000;

/**
 * Wraps an in-memory stream transport so that dials behave like TCP over the
 * packet network's links:
 * - a dial to a partitioned or down host waits for its timeout on the
 *   network's clock and fails with `TIMEOUT`, as a real dial to a crashed or
 *   cut-off host does;
 * - the handshake suffers the link's loss: each lost SYN or SYN-ACK costs a
 *   retransmission timeout (1 s, then 2 s, 4 s...), so under loss a dial may
 *   be late or time out (without this, TCP fallback probes would mask all
 *   packet loss). Once connected, streams are lossless.
 * Use one per simulated host.
 */
export function gateStreams(inner: Transport, net: MemoryPacketNetwork, fromHost: string): Transport {
  return {
    name: inner.name,
    listen(address: string, onSocket: (socket: Socket) => void, opts?: ListenOptions): Promise<Listener> {
      return inner.listen(address, onSocket, opts);
    },
    async dial(address: string, opts: DialOptions = {}): Promise<Socket> {
      const toHost = address.slice(0, address.lastIndexOf(':'));
      const ms = opts.timeoutMs ?? 5000;
      const wait = async (delay: number): Promise<void> => {
        try {
          await net.clock.sleep(delay, opts.signal);
        } catch (reason) {
          throw new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: reason });
        }
      };
      if (!net.canReach(fromHost, toHost)) {
        await wait(ms);
        throw new MeshError('TIMEOUT', `dial ${address}: no answer within ${ms} ms`);
      }
      const delay = net.handshakeDelayMs(fromHost, toHost);
      if (delay >= ms) {
        await wait(ms);
        throw new MeshError('TIMEOUT', `dial ${address}: no answer within ${ms} ms`);
      }
      if (delay > 0) await wait(delay);
      return inner.dial(address, opts);
    },
  };
}
