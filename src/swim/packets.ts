import type { PacketTransport, PacketWatch } from '../transport/types.ts';
import type { BroadcastQueue } from './broadcasts.ts';
import { retransmitLimit } from './math.ts';
import type { MemberRecord } from './members.ts';
import type { Prober } from './probe.ts';
import type { ShellContext } from './shell.ts';
import { DROP_COUNTER } from './streams.ts';
import { MessageType, type SwimMessage } from './wire.ts';

/**
 * The UDP side of a node, synchronous end to end: a received packet is
 * opened, decoded, applied and answered before `receive` returns, and every
 * packet sent is topped up with queued broadcasts (piggybacking).
 */
export class PacketIO {
  endpoint: PacketTransport | undefined;
  /** The smaller of our config's limit and the transport's. */
  maxPacketBytes: number;
  private readonly sh: ShellContext;
  private readonly queue: BroadcastQueue;
  private readonly prober: () => Prober;
  private readonly parts: Uint8Array[] = [];
  private gossipNowMs = 0;
  /** When we last answered a stale accusation from each sender. */
  private readonly answered = new Map<string, number>();
  /** The sender of the packet being handled, when it made a stale accusation we answer (see staleAccusation). */
  private staleFrom: string | undefined;

  constructor(shell: ShellContext, queue: BroadcastQueue, prober: () => Prober) {
    this.sh = shell;
    this.queue = queue;
    this.prober = prober;
    this.maxPacketBytes = shell.cfg.maxPacketBytes;
  }

  attach(ep: PacketTransport): void {
    this.endpoint = ep;
    this.maxPacketBytes = Math.min(this.sh.cfg.maxPacketBytes, ep.maxPacketBytes);
    ep.onPacket(this.receive);
  }

  /**
   * Sends `msgs` in one packet, topped up with broadcasts unless `piggyback`
   * is false; nothing when both are empty. With `refused`, on a transport
   * that can tell, the packet goes out watched for a refusal (see
   * PacketTransport.sendWatched) and the watch is returned.
   */
  send(to: string, msgs: readonly Uint8Array[], piggyback = true, refused?: () => void): PacketWatch | undefined {
    const sh = this.sh;
    const ep = this.endpoint;
    if (ep === undefined || !sh.running) return undefined;
    let watch: PacketWatch | undefined;
    const parts = this.parts;
    let bytes = 0;
    for (const m of msgs) {
      parts.push(m);
      bytes += m.length;
    }
    const room = this.maxPacketBytes - sh.envelope.overhead - bytes;
    if (piggyback && room > 0 && this.queue.size > 0) {
      bytes += this.queue.take(room, retransmitLimit(sh.cfg.retransmitMult, sh.state.table.size), parts);
    }
    if (bytes > 0) {
      const packet = sh.envelope.seal(parts, bytes);
      sh.counters.inc('packetsSent');
      sh.counters.inc('bytesSent', packet.length);
      if (refused !== undefined && ep.sendWatched !== undefined) watch = ep.sendWatched(to, packet, refused);
      else ep.send(to, packet);
    }
    parts.length = 0;
    return watch;
  }

  /**
   * One gossip round: a packet of broadcasts to each of `fanout` random
   * peers (default gossipNodes). Returns whether anything went out.
   */
  gossipRound(fanout = this.sh.cfg.gossipNodes): boolean {
    if (this.queue.size === 0) return false;
    this.gossipNowMs = this.sh.clock.now();
    const targets = this.sh.state.table.randomMembers(fanout, this.gossipTarget);
    let sent = false;
    for (const t of targets) {
      if (this.queue.size === 0) break;
      this.send(t.address, []);
      sent = true;
    }
    if (sent) this.sh.counters.inc('gossipRounds');
    return sent;
  }

  /** Live members, and recently dead ones so that a wrongly declared node hears the news and refutes. */
  private readonly gossipTarget = (m: MemberRecord): boolean =>
    m.isLive || this.gossipNowMs - m.stateChangeMs < this.sh.cfg.gossipToTheDeadMs;

  private readonly receive = (from: string, packet: Uint8Array): void => {
    const sh = this.sh;
    if (!sh.running) return;
    const c = sh.counters;
    c.inc('packetsReceived');
    c.inc('bytesReceived', packet.length);
    const body = sh.envelope.open(packet);
    if (typeof body === 'string') {
      c.inc(DROP_COUNTER[body]);
      sh.limited.warn(`packet-${body}`, `dropped a packet: ${body}`, { from });
      return;
    }
    const msgs: SwimMessage[] = [];
    const bad = sh.wire.decodeSequence(body, msgs);
    if (bad.malformed > 0) {
      c.inc('droppedMalformed', bad.malformed);
      sh.limited.warn('packet-malformed', 'dropped malformed messages', { from });
    }
    if (bad.unknown > 0) c.inc('unknownMessages', bad.unknown);
    const now = sh.clock.now();
    try {
      for (const m of msgs) this.dispatch(from, m, now);
      // An answer to a stale accusation that no ack of this packet carried goes alone.
      if (this.staleFrom !== undefined) this.send(from, [sh.state.encodeAlive(sh.state.self)], false);
    } catch (err) {
      // Never let a bug turn bad input into a crashed node (the socket's event would throw).
      c.inc('internalErrors');
      sh.log.error('error while handling a packet', { from, err: String(err) });
    } finally {
      this.staleFrom = undefined;
    }
    sh.afterChange();
  };

  /**
   * An accusation about us older than our incarnation means the sender
   * missed our refutation, and gossip will not repeat it once its
   * retransmissions are spent: answer the sender directly with our current
   * alive. At most once per sender per probe interval. When the accusation
   * came with a ping (the buddy system: the accuser's last check before
   * convicting us), the alive rides in the ack's packet, ahead of the ack:
   * sent apart, it could be lost while the ack arrives, and the accuser
   * would hear us answer yet convict us.
   */
  private staleAccusation(from: string, incarnation: number, now: number): void {
    const sh = this.sh;
    const self = sh.state.self;
    if (incarnation >= self.incarnation || sh.state.isLeaving || sh.state.conflictingAddress !== undefined) return;
    const last = this.answered.get(from);
    if (last !== undefined && now - last < sh.cfg.probeIntervalMs) return;
    if (this.answered.size >= 1024) this.answered.clear();
    this.answered.set(from, now);
    sh.counters.inc('staleAccusationsAnswered');
    this.staleFrom = from;
  }

  // Messages are applied in packet order: a buddy-system suspicion comes
  // before the ping, so our refutation is queued in time to ride on the ack.
  private dispatch(from: string, m: SwimMessage, now: number): void {
    const sh = this.sh;
    switch (m.type) {
      case MessageType.Ping:
        if (m.target !== sh.state.self.id) {
          sh.counters.inc('misaddressedPings');
        } else if (this.staleFrom === from) {
          this.staleFrom = undefined;
          this.send(from, [sh.state.encodeAlive(sh.state.self), sh.wire.ack(m.seq)]);
        } else {
          this.send(from, [sh.wire.ack(m.seq)]);
        }
        return;
      case MessageType.IndirectPing:
        this.prober().relay(from, m);
        return;
      case MessageType.Ack:
        this.prober().onAck(m.seq);
        return;
      case MessageType.Nack:
        this.prober().onNack(m.seq);
        return;
      case MessageType.Alive:
        sh.state.onAlive(m, now);
        return;
      case MessageType.Suspect:
        if (m.id === sh.state.self.id) this.staleAccusation(from, m.incarnation, now);
        sh.state.onSuspect(m, now);
        return;
      case MessageType.Dead:
        if (m.id === sh.state.self.id) this.staleAccusation(from, m.incarnation, now);
        sh.state.onDead(m, now);
        return;
      default:
        // Push-pull is for streams only.
        sh.counters.inc('droppedMalformed');
    }
  }
}
