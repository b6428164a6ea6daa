import type { Counters } from '../metrics/counters.ts';
import { Awareness } from './awareness.ts';
import type { SwimConfig } from './config.ts';
import { suspicionConfirmationsWanted, suspicionTimeoutMs } from './math.ts';
import { MemberRecord, MemberTable, detach } from './members.ts';
import type { SwimCounter } from './stats.ts';
import { Suspicion } from './suspicion.ts';
import { WireState, type MemberEntry, type SwimWire } from './wire.ts';
import type { Random } from '../clock/types.ts';

/** What the state machine asks of its shell. Calls are synchronous; none may call back into the state machine. */
export interface MembershipEffects {
  /**
   * Queue `bytes` for gossip as the news about member `id` (replacing older
   * news about it). `urgent` news (failures, suspicions, refutations) is worth
   * an eager gossip round. `notify` runs when the broadcast leaves the queue.
   */
  broadcast(id: string, bytes: Uint8Array, urgent: boolean, notify?: () => void): void;
  /** A membership event about `m`, to be queued and delivered after the current change. */
  event(type: 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave', m: MemberRecord): void;
  /** `m.suspicion` was created, moved or cleared: (re)arm or cancel its one timer. */
  suspicionChanged(m: MemberRecord): void;
  /** Another process claims our id from `otherAddress`. */
  conflict(otherAddress: string, otherIncarnation: number): void;
  /**
   * A refutation (ours, or another member's we just accepted) is queued: it
   * should go out now, whatever the eager-gossip rate limit, because
   * suspicion timers run while it waits. Refutations are rare: each needs an
   * accusation first.
   */
  refuted(): void;
}

/** The fields of an alive message (a received one, or a push-pull row). */
type AliveFacts = Pick<MemberEntry, 'id' | 'incarnation' | 'address' | 'meta' | 'metaVersion'>;
/** The fields of a suspect or dead message. */
interface Accusation {
  readonly id: string;
  readonly incarnation: number;
  readonly from: string;
}

/**
 * SWIM's membership rules, pure: no I/O, no timers, no clock (times are
 * passed in). The protocol shell feeds it messages and probe outcomes; it
 * updates the table and reports effects. memberlist's aliveNode / suspectNode
 * / deadNode / refute are onAlive / onSuspect / onDead / refute here.
 *
 * Incarnation rules: an alive about another member is accepted only with a
 * strictly higher incarnation; suspect and dead with an equal or higher one.
 * Only a member raises its own incarnation: to refute (above the accusation)
 * or to publish metadata.
 */
export class Membership {
  readonly table: MemberTable;
  readonly awareness: Awareness;
  private readonly cfg: SwimConfig;
  private readonly wire: SwimWire;
  private readonly fx: MembershipEffects;
  private readonly counters: Counters<SwimCounter>;
  private leaving = false;
  /** Set once another process has taken our id: we then stop refuting. */
  private lostIdTo: string | undefined;

  constructor(cfg: SwimConfig, self: MemberRecord, random: Random, wire: SwimWire, fx: MembershipEffects, counters: Counters<SwimCounter>) {
    this.cfg = cfg;
    this.table = new MemberTable(self, random);
    this.awareness = new Awareness(cfg.lifeguard ? cfg.awarenessMaxMultiplier : 1);
    this.wire = wire;
    this.fx = fx;
    this.counters = counters;
  }

  get self(): MemberRecord {
    return this.table.self;
  }

  get isLeaving(): boolean {
    return this.leaving;
  }

  /** The address of the process that took our id, if one did. */
  get conflictingAddress(): string | undefined {
    return this.lostIdTo;
  }

  onAlive(a: AliveFacts, nowMs: number): void {
    if (a.meta.length > this.cfg.metaMaxBytes) {
      this.counters.inc('droppedMetaTooLarge');
      return;
    }
    if (a.id === this.self.id) {
      this.aliveAboutSelf(a);
      return;
    }
    let m = this.table.get(a.id);
    if (m === undefined) {
      m = new MemberRecord(a.id, a.address, a.incarnation, copy(a.meta), a.metaVersion, nowMs);
      this.table.add(m);
      this.fx.broadcast(a.id, this.encodeAlive(m), false);
      this.fx.event('join', m);
      return;
    }
    if (a.incarnation <= m.incarnation) return;
    const was = m.state;
    const changed = a.address !== m.address || a.metaVersion !== m.metaVersion || !sameBytes(a.meta, m.meta);
    m.incarnation = a.incarnation;
    // Only a new address is stored, detached (see detach): reassigning an
    // equal one would pin the packet it came in.
    if (a.address !== m.address) m.address = detach(a.address);
    if (changed) {
      m.meta = copy(a.meta);
      m.metaVersion = a.metaVersion;
    }
    if (m.suspicion !== undefined) this.clearSuspicion(m);
    if (was !== WireState.Alive) this.table.setState(m, WireState.Alive, nowMs);
    // A refutation cancels suspicions elsewhere: spread it eagerly.
    this.fx.broadcast(a.id, this.encodeAlive(m), was !== WireState.Alive);
    if (was === WireState.Suspect || was === WireState.Dead) this.fx.refuted();
    if (was === WireState.Left) this.fx.event('join', m);
    else if (was !== WireState.Alive) this.fx.event('alive', m);
    else if (changed) this.fx.event('update', m);
  }

  onSuspect(s: Accusation, nowMs: number): void {
    const m = this.table.get(s.id);
    if (m === undefined || s.incarnation < m.incarnation) return;
    if (m.suspicion !== undefined && s.incarnation === m.incarnation) {
      // Already suspect: a new independent accuser shortens the timer, and we
      // re-gossip it so other nodes' timers shrink too.
      if (m.suspicion.confirm(s.from, nowMs)) {
        this.counters.inc('suspicionConfirmations');
        this.fx.suspicionChanged(m);
        this.fx.broadcast(s.id, this.wire.suspect(s.id, s.incarnation, s.from), false);
      }
      return;
    }
    // A suspicion of a newer life than the one we suspect (ours): the member
    // refuted ours and we missed the refutation. Ours is void; this one gets a
    // timer of its own. (memberlist counts it as a confirmation of ours and
    // may convict the old life: the simulator saw a member that had refuted
    // declared dead that way, while stalling again.)
    if (m.suspicion !== undefined) this.clearSuspicion(m);
    else if (m.state !== WireState.Alive) return;
    if (m === this.self) {
      if (!this.leaving) this.refute(s.incarnation);
      return;
    }
    this.fx.broadcast(s.id, this.wire.suspect(s.id, s.incarnation, s.from), true);
    m.incarnation = s.incarnation;
    this.table.setState(m, WireState.Suspect, nowMs);
    this.counters.inc('suspicionsSeen');
    const n = this.table.size;
    const k = this.cfg.lifeguard ? suspicionConfirmationsWanted(this.cfg.suspicionMult, n) : 0;
    const min = suspicionTimeoutMs(this.cfg.suspicionMult, n, this.cfg.probeIntervalMs);
    const max = this.cfg.lifeguard ? this.cfg.suspicionMaxTimeoutMult * min : min;
    m.suspicion = new Suspicion(s.from, k, min, max, nowMs);
    this.fx.suspicionChanged(m);
    this.fx.event('suspect', m);
  }

  onDead(d: Accusation, nowMs: number): void {
    const m = this.table.get(d.id);
    if (m === undefined || d.incarnation < m.incarnation) return;
    if (m.suspicion !== undefined) this.clearSuspicion(m);
    if (m.state === WireState.Dead || m.state === WireState.Left) return;
    if (m === this.self) {
      // Our own leave is announced by leave(); anything else about us is wrong.
      if (!this.leaving) this.refute(d.incarnation);
      return;
    }
    this.fx.broadcast(d.id, this.wire.dead(d.id, d.incarnation, d.from), true);
    m.incarnation = d.incarnation;
    const left = d.from === d.id;
    this.table.setState(m, left ? WireState.Left : WireState.Dead, nowMs);
    this.fx.event(left ? 'leave' : 'dead', m);
  }

  /**
   * Our probe of `m`, begun at `incarnation`, failed: suspect it (or confirm
   * an existing suspicion). Void if `m` has since refuted.
   */
  suspectAfterFailedProbe(m: MemberRecord, incarnation: number, nowMs: number): void {
    if (m.state === WireState.Alive && incarnation >= m.incarnation) this.counters.inc('suspicionsStarted');
    this.onSuspect({ id: m.id, incarnation, from: this.self.id }, nowMs);
  }

  /** Declares `m` dead on our own authority (suspicion expired, or its port refused us). */
  declareDead(m: MemberRecord, incarnation: number, nowMs: number): void {
    this.onDead({ id: m.id, incarnation, from: this.self.id }, nowMs);
  }

  /**
   * The shell's timer for `m` fired. Returns:
   * - `wait`: the deadline has not passed (it moved), or `m` is no longer suspect;
   * - `verify`: the deadline passed without the k confirmations Lifeguard
   *   wants. A lone accuser is the case that goes wrong: the member may
   *   have refuted in a packet we lost, and once the refutation's
   *   retransmissions are spent nobody repeats it. The shell probes `m` once
   *   more (its buddy ping makes a live member answer with its current
   *   incarnation), then calls `convict` if that probe fails;
   * - `dead`: it was declared dead.
   */
  suspicionExpired(m: MemberRecord, nowMs: number): 'wait' | 'verify' | 'dead' {
    const s = m.suspicion;
    if (s === undefined || m.state !== WireState.Suspect || nowMs < s.deadlineMs) return 'wait';
    if (s.confirmations < s.k && !s.verified) {
      s.verified = true;
      s.checks++;
      return 'verify';
    }
    this.convict(m, nowMs);
    return 'dead';
  }

  /** Declares a suspect dead on its expired suspicion. */
  convict(m: MemberRecord, nowMs: number): void {
    const s = m.suspicion;
    if (s === undefined || m.state !== WireState.Suspect) return;
    this.counters.inc('deathsDeclared');
    if (s.confirmations < s.k) this.counters.inc('degradedTimeouts');
    this.declareDead(m, m.incarnation, nowMs);
  }

  /**
   * Merges a peer's full state (push-pull), as memberlist does: alive goes
   * through the alive rules; left becomes a leave; dead is only trusted as far
   * as a suspicion (we let our own timer decide); suspect stays suspect.
   * Whatever is news to us is re-gossiped, a joiner's copy of the seed's view
   * included: that redundancy is what makes concurrent joins converge fast.
   */
  mergeRemote(entries: readonly MemberEntry[], nowMs: number): void {
    for (const e of entries) {
      switch (e.state) {
        case WireState.Alive:
          this.onAlive(e, nowMs);
          break;
        case WireState.Left:
          this.onDead({ id: e.id, incarnation: e.incarnation, from: e.id }, nowMs);
          break;
        default:
          this.onSuspect({ id: e.id, incarnation: e.incarnation, from: this.self.id }, nowMs);
      }
    }
  }

  /** Publishes new metadata: a higher incarnation and metaVersion, gossiped like any change. */
  setMeta(meta: Uint8Array, nowMs: number): void {
    const self = this.self;
    self.meta = copy(meta);
    self.metaVersion++;
    self.incarnation++;
    self.stateChangeMs = nowMs;
    this.fx.broadcast(self.id, this.encodeAlive(self), true);
    this.fx.event('update', self);
  }

  /** Announces our graceful leave (a dead message from ourselves); `notify` runs once it has been gossiped. */
  leave(nowMs: number, notify?: () => void): void {
    if (this.leaving) return;
    this.leaving = true;
    const self = this.self;
    this.table.setState(self, WireState.Left, nowMs);
    this.fx.broadcast(self.id, this.wire.dead(self.id, self.incarnation, self.id), true, notify);
    this.fx.event('leave', self);
  }

  /** Forgets dead and left members past `deadReapMs`. */
  reap(nowMs: number): MemberRecord[] {
    return this.table.reap(nowMs, this.cfg.deadReapMs);
  }

  /** Our own alive message (for joins and buddy answers). */
  encodeAlive(m: MemberRecord): Uint8Array {
    return this.wire.alive(m.id, m.incarnation, m.address, m.meta, m.metaVersion);
  }

  private aliveAboutSelf(a: AliveFacts): void {
    const self = this.self;
    if (this.leaving || a.incarnation < self.incarnation) return;
    if (a.address !== self.address) {
      // Another process claims our id with an incarnation at least ours. We
      // never fight it (two refuting processes would flap forever): report.
      if (this.lostIdTo === undefined) {
        this.lostIdTo = a.address;
        this.counters.inc('nameConflicts');
        this.fx.conflict(a.address, a.incarnation);
      }
      return;
    }
    if (a.incarnation === self.incarnation && a.metaVersion === self.metaVersion && sameBytes(a.meta, self.meta)) return;
    // Someone holds an outdated view of us at our incarnation or above.
    this.refute(a.incarnation);
  }

  private refute(accused: number): void {
    if (this.lostIdTo !== undefined) return;
    const self = this.self;
    self.incarnation = Math.max(self.incarnation, accused) + 1;
    this.awareness.applyDelta(1);
    this.counters.inc('refutations');
    this.fx.broadcast(self.id, this.encodeAlive(self), true);
    this.fx.refuted();
  }

  private clearSuspicion(m: MemberRecord): void {
    m.suspicion = undefined;
    this.fx.suspicionChanged(m);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NO_META = new Uint8Array(0);

/** A private copy, so stored metadata never pins a whole received packet (an empty view would too). */
function copy(bytes: Uint8Array): Uint8Array {
  return bytes.length === 0 ? NO_META : new Uint8Array(bytes);
}
