import { WireState, type IndirectPingMsg } from './wire.ts';
import type { MemberRecord } from './members.ts';
import type { ShellContext } from './shell.ts';
import type { StreamIO, TcpPingResult } from './streams.ts';
import type { TimerHandle } from '../clock/types.ts';
import type { PacketWatch } from '../transport/types.ts';
import type { ProbeOutcome } from './types.ts';
import { firedLate } from './late.ts';

/** One probe of one member, from the direct ping to its verdict. */
interface ProbeRun {
  readonly kind: 'probe';
  readonly target: MemberRecord;
  /** The target's incarnation when the probe began: a verdict about an older life is void. */
  readonly incarnation: number;
  readonly seq: number;
  /** When the direct ping times out, and when the verdict is due. */
  readonly directDueMs: number;
  readonly deadlineMs: number;
  expectedNacks: number;
  nacks: number;
  done: boolean;
  /** Past the direct ping: the indirect round and TCP ping have started. */
  indirect: boolean;
  /** The direct ping's watch for a refusal, closed with the probe. */
  watch: PacketWatch | undefined;
  /** Whether the current timer of this probe, having fired late, already let the inbox be read (see readInboxFirst). */
  deferred: boolean;
  timer: TimerHandle | undefined;
  waiters: ((o: ProbeOutcome) => void)[] | undefined;
}

/** An indirect ping we relay for another member. */
interface Relay {
  readonly kind: 'relay';
  readonly requester: string;
  readonly requesterSeq: number;
  readonly nack: boolean;
  timer: TimerHandle | undefined;
}

const SEQ_MODULUS = 0x1_0000_0000;

/**
 * The failure detector's probe cycle (memberlist's probeNode): direct ping,
 * then after probeTimeoutMs k indirect pings (whose relays nack if the target
 * stays silent) and a TCP ping in parallel, then a verdict at the end of the
 * health-scaled probe interval. A direct ping refused at once (ICMP) starts
 * the indirect round early (watchRefusals). A TCP ping refused by the
 * target's own port ends the probe at once with "dead" when refusedAsDead is on.
 */
export class Prober {
  private readonly sh: ShellContext;
  private readonly streams: StreamIO;
  private readonly pending = new Map<number, ProbeRun | Relay>();
  private readonly active = new Map<string, ProbeRun>();
  private seq: number;
  /** The last coordinated probe round this node ran (see MemberTable.scheduledProbeTarget). */
  private lastRound = -1;

  constructor(shell: ShellContext, streams: StreamIO) {
    this.sh = shell;
    this.streams = streams;
    this.seq = shell.random.int(SEQ_MODULUS);
  }

  /** Probes the next member of the round-robin (or of the coordinated schedule), if any is live. */
  probeNext(): void {
    const sh = this.sh;
    let m;
    if (sh.cfg.coordinatedProbes) {
      // Rounds are wall-clock slots, shared by every node. A tick that lands
      // in a round already run (timer jitter, a clock stepped back) takes the next.
      const round = Math.max(Math.floor(sh.clock.wallTime() / sh.cfg.probeIntervalMs), this.lastRound + 1);
      this.lastRound = round;
      m = sh.state.table.scheduledProbeTarget(round);
    } else {
      m = sh.state.table.nextProbeTarget();
    }
    if (m !== undefined) this.probe(m);
  }

  /** Probes `m` (joining a probe already in flight for it); `waiter` gets the outcome. */
  probe(m: MemberRecord, waiter?: (o: ProbeOutcome) => void): void {
    const sh = this.sh;
    const existing = this.active.get(m.id);
    if (existing !== undefined && existing.target === m) {
      if (waiter) (existing.waiters ??= []).push(waiter);
      return;
    }
    sh.counters.inc('probes');
    const seq = this.nextSeq();
    const now = sh.clock.now();
    const run: ProbeRun = {
      kind: 'probe', target: m, incarnation: m.incarnation, seq,
      directDueMs: now + sh.cfg.probeTimeoutMs,
      deadlineMs: now + sh.state.awareness.scaleMs(sh.cfg.probeIntervalMs),
      expectedNacks: 0, nacks: 0, done: false, indirect: false, watch: undefined, deferred: false, timer: undefined, waiters: waiter ? [waiter] : undefined,
    };
    this.pending.set(seq, run);
    this.active.set(m.id, run);
    const self = sh.state.self;
    const ping = sh.wire.ping(seq, m.id, self.id);
    run.timer = sh.clock.setTimeout(() => this.directTimedOut(run), sh.cfg.probeTimeoutMs);
    // Buddy system (Lifeguard): tell a suspect it is suspected, first thing in
    // the packet, so it refutes at once (and its refutation rides on the ack).
    const msgs = m.state === WireState.Suspect && sh.cfg.lifeguard ? [sh.wire.suspect(m.id, m.incarnation, self.id), ping] : [ping];
    run.watch = sh.sendProbe(m.address, msgs, () => this.directRefused(run));
  }

  /**
   * The direct ping was refused (ICMP port unreachable): nothing listens on
   * the target's port now, so no ack will come and waiting out the probe
   * timeout only delays the verdict. Start the indirect round and the TCP
   * ping at once. The verdict itself is unchanged: the relays and the TCP
   * ping decide, so a refusal alone never suspects or kills anyone.
   */
  private directRefused(run: ProbeRun): void {
    const sh = this.sh;
    if (run.done || run.indirect || !sh.running) return;
    sh.counters.inc('probesRefused');
    sh.clock.clearTimeout(run.timer);
    this.startIndirect(run);
  }

  onAck(seq: number): void {
    const p = this.pending.get(seq);
    if (p === undefined) {
      this.sh.counters.inc('unexpectedAcks');
      return;
    }
    if (p.kind === 'relay') {
      this.pending.delete(seq);
      this.sh.clock.clearTimeout(p.timer);
      this.sh.sendPacket(p.requester, [this.sh.wire.ack(p.requesterSeq)]);
      return;
    }
    this.finish(p, 'alive');
  }

  onNack(seq: number): void {
    const p = this.pending.get(seq);
    if (p === undefined || p.kind !== 'probe') {
      this.sh.counters.inc('unexpectedAcks');
      return;
    }
    this.sh.counters.inc('nacksReceived');
    p.nacks++;
  }

  /** Another member asks us to ping `msg.target` on its behalf. */
  relay(from: string, msg: IndirectPingMsg): void {
    const sh = this.sh;
    sh.counters.inc('relayedPings');
    const seq = this.nextSeq();
    const r: Relay = { kind: 'relay', requester: from, requesterSeq: msg.seq, nack: msg.nack, timer: undefined };
    this.pending.set(seq, r);
    sh.sendPacket(msg.targetAddress, [sh.wire.ping(seq, msg.target, sh.state.self.id)]);
    r.timer = sh.clock.setTimeout(() => {
      if (this.pending.get(seq) !== r) return;
      this.pending.delete(seq);
      if (r.nack && sh.running) sh.sendPacket(r.requester, [sh.wire.nack(r.requesterSeq)]);
      sh.afterChange();
    }, sh.cfg.probeTimeoutMs);
  }

  /**
   * A connection to `m` was refused elsewhere (say by its RPC port): confirm
   * on its own SWIM port. Refused again is proof; anything else gets a
   * normal probe.
   */
  confirmRefused(m: MemberRecord): void {
    const sh = this.sh;
    const incarnation = m.incarnation;
    sh.counters.inc('tcpProbes');
    this.streams.tcpPing(m.address, this.nextSeq(), m.id, sh.cfg.probeIntervalMs).then((r) => {
      if (!sh.running) return;
      if (r === 'refused') this.refused(m, incarnation);
      else if (r === 'ok') sh.counters.inc('tcpProbesSucceeded');
      else if (m.isLive) this.probe(m);
      sh.afterChange();
    }, (err: unknown) => this.failed(err));
  }

  /** Cancels every timer (the node stops); waiters get `unknown`. */
  stop(): void {
    for (const p of this.pending.values()) this.sh.clock.clearTimeout(p.timer);
    for (const run of this.active.values()) {
      run.done = true;
      run.watch?.close();
      for (const w of run.waiters ?? []) w('unknown');
    }
    this.pending.clear();
    this.active.clear();
  }

  private directTimedOut(run: ProbeRun): void {
    const sh = this.sh;
    if (run.done || !sh.running) return;
    if (this.woke(run, run.directDueMs) || this.readInboxFirst(run, run.directDueMs, () => this.directTimedOut(run))) return;
    this.startIndirect(run);
  }

  /** Indirect pings through k live peers and a TCP ping in parallel; the verdict at the deadline. */
  private startIndirect(run: ProbeRun): void {
    const sh = this.sh;
    run.indirect = true;
    const target = run.target;
    const peers = sh.state.table.randomMembers(sh.cfg.indirectChecks, (m) => m !== target && m.state === WireState.Alive);
    const wantNack = sh.cfg.lifeguard;
    for (const p of peers) {
      sh.sendPacket(p.address, [sh.wire.indirectPing(run.seq, target.id, target.address, wantNack)]);
      sh.counters.inc('indirectProbesSent');
      if (wantNack) run.expectedNacks++;
    }
    const remaining = Math.max(0, run.deadlineMs - sh.clock.now());
    if (sh.cfg.tcpFallbackProbe) {
      sh.counters.inc('tcpProbes');
      this.streams.tcpPing(target.address, run.seq, target.id, remaining).then((r) => this.tcpResult(run, r), (err: unknown) => this.failed(err));
    }
    run.deferred = false; // the verdict's timer gets its own deferral
    run.timer = sh.clock.setTimeout(() => this.deadlinePassed(run), remaining);
    sh.afterChange();
  }

  private tcpResult(run: ProbeRun, r: TcpPingResult): void {
    const sh = this.sh;
    if (run.done || !sh.running) return;
    if (r === 'ok') {
      // UDP failed where TCP works: a network problem, not a failure (memberlist logs the same).
      sh.counters.inc('tcpProbesSucceeded');
      sh.counters.inc('udpOnlyFailures');
      sh.limited.warn('udp-only', 'UDP probe failed but TCP succeeded; UDP may be blocked', { member: run.target.id });
      this.finish(run, 'alive');
    } else if (r === 'refused' && sh.cfg.refusedAsDead) {
      this.finish(run, 'dead');
    }
    sh.afterChange();
  }

  private deadlinePassed(run: ProbeRun): void {
    if (run.done || !this.sh.running) return;
    if (this.woke(run, run.deadlineMs) || this.readInboxFirst(run, run.deadlineMs, () => this.deadlinePassed(run))) return;
    this.finish(run, 'suspect');
    this.sh.afterChange();
  }

  /**
   * A probe timer that fires more than a probe interval late means this
   * process was not running (stopped, starved, paused by GC): the silence
   * is ours, not the target's, and the answer may be waiting unread in our
   * socket. Drop the probe without a verdict and count it against our own
   * health, in the spirit of Lifeguard.
   */
  private woke(run: ProbeRun, dueMs: number): boolean {
    const sh = this.sh;
    if (sh.clock.now() - dueMs <= sh.cfg.probeIntervalMs) return false;
    run.done = true;
    run.watch?.close();
    this.pending.delete(run.seq);
    if (this.active.get(run.target.id) === run) this.active.delete(run.target.id);
    sh.counters.inc('lateProbes');
    sh.state.awareness.applyDelta(1);
    for (const w of run.waiters ?? []) w('unknown');
    return true;
  }

  /**
   * A timer of `run` that fires late, by less than woke() drops, means we
   * were paused briefly: the ack (direct or relayed) may be in our socket.
   * Run `again` after the input is read (once per timer). Returns whether it
   * deferred.
   */
  private readInboxFirst(run: ProbeRun, dueMs: number, again: () => void): boolean {
    const sh = this.sh;
    if (!sh.cfg.stallAwareTimers || run.deferred || !firedLate(sh.clock.now(), dueMs)) return false;
    run.deferred = true;
    sh.counters.inc('lateTimersDeferred');
    run.timer = sh.clock.setTimeout(again, 0);
    return true;
  }

  private finish(run: ProbeRun, outcome: 'alive' | 'suspect' | 'dead'): void {
    const sh = this.sh;
    run.done = true;
    sh.clock.clearTimeout(run.timer);
    run.watch?.close();
    this.pending.delete(run.seq);
    if (this.active.get(run.target.id) === run) this.active.delete(run.target.id);
    const now = sh.clock.now();
    if (outcome === 'alive') {
      sh.counters.inc('probesSucceeded');
      sh.state.awareness.applyDelta(-1);
    } else if (outcome === 'suspect') {
      sh.counters.inc('probesFailed');
      // Missing nacks mean our own network or process is the slow part.
      sh.state.awareness.applyDelta(run.expectedNacks > 0 ? run.expectedNacks - run.nacks : 1);
      sh.state.suspectAfterFailedProbe(run.target, run.incarnation, now);
    } else {
      this.refused(run.target, run.incarnation);
    }
    for (const w of run.waiters ?? []) w(outcome);
  }

  private refused(m: MemberRecord, incarnation: number): void {
    if (!m.isLive || m.incarnation !== incarnation) return;
    this.sh.counters.inc('refusedDeaths');
    this.sh.state.declareDead(m, incarnation, this.sh.clock.now());
  }

  private failed(err: unknown): void {
    this.sh.counters.inc('internalErrors');
    this.sh.log.error('error in a TCP probe', { err: String(err) });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % SEQ_MODULUS;
    return this.seq;
  }
}
