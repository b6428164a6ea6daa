import type { TimerHandle } from '../clock/types.ts';
import type { BroadcastQueue } from './broadcasts.ts';
import { pushPullScaleMs } from './math.ts';
import type { MemberRecord } from './members.ts';
import type { PacketIO } from './packets.ts';
import type { Prober } from './probe.ts';
import type { ShellContext } from './shell.ts';
import { firedLate } from './late.ts';

/** A burst of new members (see noteJoin): this many at least, or this share of the table, within this window. */
const BURST_MIN_JOINS = 3;
const BURST_SHARE = 0.1;
const BURST_WINDOW_MS = 5000;
/** A burst's push-pull comes between this and twice this after it. */
const BURST_PUSH_PULL_MS = 2000;

/**
 * The node's clock-driven work: the probe, gossip and push-pull loops, and
 * one timer per suspect member. Nothing else in SWIM keeps a timer per
 * member, so an idle node with N members costs one probe timer a second.
 */
export class Timers {
  private readonly sh: ShellContext;
  private readonly prober: Prober;
  private readonly packets: PacketIO;
  private readonly queue: BroadcastQueue;
  private readonly pushPull: () => Promise<boolean>;
  private probeTimer: TimerHandle | undefined;
  private gossipTimer: TimerHandle | undefined;
  private pushPullTimer: TimerHandle | undefined;
  private gossipLoop = false;
  /** When the gossip loop's first tick fell: its ticks are this plus whole intervals. */
  private gossipPhaseMs = 0;
  private readonly suspicions = new Map<string, TimerHandle>();
  /** When the next push-pull is due (clock ms). */
  private pushPullDueMs = Infinity;
  /** The current burst of members new to us: since when, how many, and whether it brought a push-pull forward. */
  private burstStartMs = -Infinity;
  private burstJoins = 0;
  private burstHandled = false;

  constructor(sh: ShellContext, prober: Prober, packets: PacketIO, queue: BroadcastQueue, pushPull: () => Promise<boolean>) {
    this.sh = sh;
    this.prober = prober;
    this.packets = packets;
    this.queue = queue;
    this.pushPull = pushPull;
  }

  /** Starts the loops, each at a random offset so that nodes started together do not probe in lockstep. */
  startLoops(): void {
    const { clock, random, cfg } = this.sh;
    this.probeTimer = clock.setTimeout(this.probeTick, random.int(cfg.probeIntervalMs));
    this.gossipLoop = cfg.gossipIntervalMs > 0;
    if (this.gossipLoop) {
      const stagger = random.int(cfg.gossipIntervalMs);
      this.gossipPhaseMs = clock.now() + stagger;
      this.gossipTimer = clock.setTimeout(this.gossipTick, stagger);
    }
    if (cfg.pushPullIntervalMs > 0) this.schedulePushPull(random.int(cfg.pushPullIntervalMs));
  }

  /** Cancels everything (the node stops). */
  stop(): void {
    const clock = this.sh.clock;
    for (const t of [this.probeTimer, this.gossipTimer, this.pushPullTimer, ...this.suspicions.values()]) clock.clearTimeout(t);
    this.suspicions.clear();
    this.gossipLoop = false;
  }

  /**
   * Arms the gossip loop if something is queued. The loop runs only while
   * there is something to gossip: an idle node would send nothing anyway,
   * and skipping its five empty ticks a second is most of what an idle
   * simulated node costs. It is armed for the next tick of the loop as if it
   * had kept running (on the phase drawn at start), not a whole interval
   * from now: news arriving at a random moment then waits half an interval
   * on average, as with memberlist's free-running ticker, rather than a
   * whole one at every hop.
   */
  armGossip(): void {
    if (this.gossipTimer !== undefined || !this.gossipLoop || this.queue.size === 0 || !this.sh.running) return;
    const interval = this.sh.cfg.gossipIntervalMs;
    const since = (this.sh.clock.now() - this.gossipPhaseMs) % interval;
    this.gossipTimer = this.sh.clock.setTimeout(this.gossipTick, since === 0 ? interval : interval - since);
  }

  /** (Re)arms or cancels the one timer of `m`, following `m.suspicion`. */
  armSuspicion(m: MemberRecord): void {
    const clock = this.sh.clock;
    const old = this.suspicions.get(m.id);
    if (old !== undefined) {
      clock.clearTimeout(old);
      this.suspicions.delete(m.id);
    }
    if (m.suspicion === undefined || !this.sh.running) return;
    const delay = Math.max(0, m.suspicion.deadlineMs - clock.now());
    this.suspicions.set(m.id, clock.setTimeout(() => this.suspicionDue(m), delay));
  }

  private suspicionDue(m: MemberRecord): void {
    const sh = this.sh;
    this.suspicions.delete(m.id);
    if (!sh.running) return;
    const s = m.suspicion;
    const now = sh.clock.now();
    if (s !== undefined && sh.cfg.stallAwareTimers && !s.graced && now - s.deadlineMs > sh.cfg.probeIntervalMs) {
      // We were not running when it fell due: the refutation may be
      // sitting unread in our socket. Read the inbox before convicting.
      s.graced = true;
      s.deadlineMs = now + sh.cfg.probeTimeoutMs;
      sh.counters.inc('lateSuspicionTimers');
    } else if (s !== undefined && sh.cfg.stallAwareTimers && !s.inboxRead && firedLate(now, s.deadlineMs)) {
      // A shorter pause: the refutation may have arrived during it. Read it first.
      s.inboxRead = true;
      sh.counters.inc('lateTimersDeferred');
      this.suspicions.set(m.id, sh.clock.setTimeout(() => this.suspicionDue(m), 0));
      return;
    }
    const verdict = sh.state.suspicionExpired(m, now);
    if (verdict === 'verify' && s !== undefined) {
      sh.counters.inc('suspicionChecks');
      this.prober.probe(m, (outcome) => {
        if (!sh.running || m.suspicion !== s) return;
        if (outcome === 'alive') {
          // It answered: its refutation rides back on the ack (buddy system).
          // Give it a probe interval to land (the member answers a stale
          // accusation once per interval), then check again.
          s.answered(sh.clock.now(), sh.cfg.probeIntervalMs);
          this.armSuspicion(m);
        } else {
          sh.state.convict(m, sh.clock.now());
        }
      });
    } else if (verdict === 'wait' && m.suspicion !== undefined) {
      this.armSuspicion(m);
    }
    sh.afterChange();
  }

  private readonly probeTick = (): void => {
    const sh = this.sh;
    if (!sh.running) return;
    sh.state.reap(sh.clock.now());
    this.prober.probeNext();
    sh.afterChange();
    this.probeTimer = sh.clock.setTimeout(this.probeTick, sh.state.awareness.scaleMs(sh.cfg.probeIntervalMs));
  };

  private readonly gossipTick = (): void => {
    this.gossipTimer = undefined;
    if (!this.sh.running) return;
    this.packets.gossipRound();
    this.sh.afterChange();
    this.armGossip();
  };

  /**
   * A member new to us. Gossip spreads a burst of them (a healed partition,
   * a mass restart) with a tail: a few nodes miss a few of them until their
   * next push-pull, up to pushPullIntervalMs later (the simulator's healed
   * partitions at N = 100 waited 30 s in 3 runs of 5). So when at least
   * max(3, 10 % of the table) arrive within BURST_WINDOW_MS, the next
   * push-pull comes 2-4 s later instead (once per burst); the usual cadence
   * follows it.
   */
  noteJoin(): void {
    const { clock, random, cfg, state } = this.sh;
    if (cfg.pushPullIntervalMs === 0 || !this.sh.running) return;
    const now = clock.now();
    if (now - this.burstStartMs > BURST_WINDOW_MS) {
      this.burstStartMs = now;
      this.burstJoins = 0;
      this.burstHandled = false;
    }
    this.burstJoins++;
    if (this.burstHandled || this.burstJoins < Math.max(BURST_MIN_JOINS, Math.ceil(BURST_SHARE * state.table.size))) return;
    this.burstHandled = true;
    const delay = BURST_PUSH_PULL_MS + random.int(BURST_PUSH_PULL_MS);
    if (this.pushPullDueMs <= now + delay) return;
    this.sh.counters.inc('burstPushPulls');
    clock.clearTimeout(this.pushPullTimer);
    this.schedulePushPull(delay);
  }

  private schedulePushPull(delayMs: number): void {
    this.pushPullDueMs = this.sh.clock.now() + delayMs;
    this.pushPullTimer = this.sh.clock.setTimeout(this.pushPullTick, delayMs);
  }

  private readonly pushPullTick = (): void => {
    const sh = this.sh;
    if (!sh.running) return;
    void this.pushPull();
    this.schedulePushPull(pushPullScaleMs(sh.cfg.pushPullIntervalMs, sh.state.table.size));
  };
}
