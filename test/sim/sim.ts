// One simulated run: a cluster built from the options and one seed, the
// observer listening to it, the loop that drives virtual time, and the
// bookkeeping of the measured period. Scenarios (scenarios/*.ts) script it.
import { SeededRandom } from '../../src/clock/index.ts';
import { suspicionTimeoutMs } from '../../src/swim/math.ts';
import type { SwimEventType } from '../../src/swim/types.ts';
import { bootstrapConverged } from './bootstrap.ts';
import { VirtualCluster, flush, type SimHost } from './cluster.ts';
import type { RunResult } from './figures.ts';
import { Observer } from './observe.ts';
import type { SimOptions } from './options.ts';

/** Counters summed over the measured period. */
interface Tally {
  bytesSent: number;
  streamBytesSent: number;
  suspicionsStarted: number;
  suspicionsSeen: number;
  refutations: number;
  degradedTimeouts: number;
}

const ZERO: Tally = { bytesSent: 0, streamBytesSent: 0, suspicionsStarted: 0, suspicionsSeen: 0, refutations: 0, degradedTimeouts: 0 };

/**
 * Node names: 16 characters, the length of SWIM's default random names, so
 * per-member heap and bytes on the wire are those of a real cluster (an
 * address is `name:7946`, as long as a dotted IPv4 address with its port).
 */
export function nodeName(i: number): string {
  return `node-${String(i).padStart(11, '0')}`;
}

export class Sim {
  readonly o: SimOptions;
  readonly seed: number;
  readonly lifeguard: boolean;
  readonly cluster: VirtualCluster;
  readonly observer = new Observer();
  /** Draws of the scenario itself (victims, stall times), independent of the nodes' draws. */
  readonly random: SeededRandom;
  /** The current process of each host, by index (a restart replaces it). */
  readonly hosts: SimHost[] = [];
  readonly extra: Record<string, number | string | boolean | null> = {};
  heapBytesPerMember: number | null = null;
  convergeMs: number | null = null;
  bootstrapWallMs = 0;
  /** Extra samples a scenario computes itself (the restart scenario polls its news). */
  readonly disseminate: number[] = [];
  /** Scenario-specific samples (RunResult.samples). */
  readonly samples: Record<string, number[]> = {};
  private readonly everyHost: SimHost[] = [];
  private watch: readonly SwimEventType[] = ['dead'];
  private baseline = new Map<SimHost, Tally>();
  private measureFromMs = 0;
  private measured: { tally: Tally; ms: number } | undefined;
  private readonly started = performance.now();
  /** Heap before the bootstrap (each node knowing only itself). */
  private heapBefore: number | undefined;

  constructor(o: SimOptions, seed: number, lifeguard: boolean) {
    this.o = o;
    this.seed = seed;
    this.lifeguard = lifeguard;
    this.cluster = new VirtualCluster({
      seed, profile: o.profile, config: { lifeguard, stallAwareTimers: o.stallAware, watchRefusals: o.watchRefusals, coordinatedProbes: o.coordinatedProbes }, latencyMs: o.latencyMs, jitterMs: o.jitterMs, loss: o.loss, record: [], cpu: o.cpu,
    });
    this.random = this.cluster.random.fork();
  }

  get now(): number {
    return this.cluster.clock.now();
  }

  /** Starts `o.nodes` nodes (each knowing only itself); the observer listens for `watch` on each. */
  async build(watch: readonly SwimEventType[]): Promise<void> {
    this.watch = watch;
    for (let i = 0; i < this.o.nodes; i++) await this.start(i);
  }

  /** Starts (or restarts) the process of host `i`. */
  async start(i: number): Promise<SimHost> {
    const h = await this.cluster.add(nodeName(i));
    this.observer.attach(h, this.watch);
    this.hosts[i] = h;
    this.everyHost.push(h);
    return h;
  }

  /**
   * Brings the cluster to a converged state: the snapshot bootstrap (see
   * bootstrap.ts), or with `--bootstrap join` real joins (`real`, from the
   * join scenario) until one membership and empty gossip queues. Measures
   * heap per member across it.
   */
  async converge(real: { coldStart(sim: Sim): Promise<{ convergedMs: number | null }>; drain(sim: Sim): Promise<boolean> }): Promise<void> {
    const t = performance.now();
    const before = heapUsed();
    this.heapBefore = before;
    if (this.o.bootstrap === 'snapshot') bootstrapConverged(this.hosts, this.now);
    else if ((await real.coldStart(this)).convergedMs === null || !(await real.drain(this))) {
      throw new Error('--bootstrap join: the cold start did not converge and drain');
    }
    this.heapBytesPerMember = perMember(before, heapUsed(), this.o.nodes);
    this.bootstrapWallMs = performance.now() - t;
  }

  /**
   * Heap per member now, against the same baseline as the bootstrap's
   * figure: shows what a long run adds (it also counts the simulator's own
   * growth, e.g. its timer heap, so it is an upper bound).
   */
  heapNowPerMember(): number | null {
    return this.heapBefore === undefined ? null : perMember(this.heapBefore, heapUsed(), this.o.nodes);
  }

  /** Hosts whose process runs (stalled or not). */
  live(): SimHost[] {
    return this.hosts.filter((h) => !h.down);
  }

  /** Whether each live host sees exactly the live hosts, all alive. O(N²): check every few hundred ms. */
  oneMembership(): boolean {
    const live = this.live();
    const n = live.length;
    for (const h of live) {
      const s = h.node.stats();
      if (s.alive !== n || s.suspect !== 0) return false;
    }
    for (const h of live) for (const x of live) if (h.stateOf(x.name) !== 'alive') return false;
    return true;
  }

  /** How often to check an O(N²) condition: every step for small clusters, every 250 ms for large ones. */
  get coarseCheckMs(): number {
    return this.o.nodes <= 200 ? this.o.stepMs : 250;
  }

  /** The longest a suspicion can last at this size (Lifeguard's maximum), ms. */
  maxSuspicionMs(): number {
    const cfg = this.hosts[0]!.node.config;
    const min = suspicionTimeoutMs(cfg.suspicionMult, this.o.nodes, cfg.probeIntervalMs);
    return this.lifeguard ? min * cfg.suspicionMaxTimeoutMult : min;
  }

  async run(ms: number): Promise<void> {
    await this.cluster.run(ms, this.o.stepMs);
  }

  /** Runs until `cond()` (checked every `checkEveryMs`) or `limitMs`; returns whether it held. */
  async runUntil(cond: () => boolean, limitMs: number, checkEveryMs = this.o.stepMs): Promise<boolean> {
    const clock = this.cluster.clock;
    const end = clock.now() + limitMs;
    let nextCheck = clock.now();
    for (;;) {
      if (clock.now() >= nextCheck) {
        if (cond()) return true;
        nextCheck = clock.now() + checkEveryMs;
      }
      if (clock.now() >= end) return false;
      clock.advance(this.o.stepMs);
      await flush();
    }
  }

  /** Awaits `p` while driving virtual time. */
  async drive<T>(p: Promise<T>, limitMs = 120_000): Promise<T> {
    return this.cluster.joining(p, limitMs, this.o.stepMs);
  }

  /** Starts the measured period: counters from now on. */
  beginMeasure(): void {
    this.measureFromMs = this.now;
    this.baseline = new Map(this.everyHost.map((h) => [h, tally(h)]));
  }

  /** Ends it. */
  endMeasure(): void {
    const total = { ...ZERO };
    for (const h of this.everyHost) {
      const now = tally(h);
      const base = this.baseline.get(h) ?? ZERO;
      for (const k of Object.keys(total) as (keyof Tally)[]) total[k] += now[k] - base[k];
    }
    this.measured = { tally: total, ms: this.now - this.measureFromMs };
  }

  /** Everything this run measured. */
  result(): RunResult {
    if (this.measured === undefined) this.endMeasure();
    const m = this.measured!;
    const f = this.observer.figures();
    if (f.deathNews.length > 0) this.extra.death_news_samples = f.deathNews.length;
    return {
      seed: this.seed,
      lifeguard: this.lifeguard,
      firstSuspect: f.firstSuspect,
      detectDead: f.detectDead,
      deadEverywhere: f.deadEverywhere,
      // Failure scenarios: the death reaching everyone; others: their news.
      disseminate: [...f.deathNews, ...f.disseminate, ...this.disseminate],
      convergeMs: this.convergeMs,
      undetected: f.undetected,
      falsePositives: this.observer.falsePositives,
      falsePositivesHealthy: this.observer.falsePositivesHealthy,
      falselyDeclared: this.observer.falselyDeclared.size,
      suspicions: m.tally.suspicionsStarted,
      suspicionsSeen: m.tally.suspicionsSeen,
      refutations: m.tally.refutations,
      degradedTimeouts: m.tally.degradedTimeouts,
      bytesSent: m.tally.bytesSent + m.tally.streamBytesSent,
      udpBytesSent: m.tally.bytesSent,
      nodeSeconds: (this.o.nodes * m.ms) / 1000,
      measuredMs: m.ms,
      heapBytesPerMember: this.heapBytesPerMember,
      extra: this.extra,
      samples: this.samples,
      digest: this.observer.digest(),
      wallMs: performance.now() - this.started,
      bootstrapWallMs: this.bootstrapWallMs,
    };
  }

  async stop(): Promise<void> {
    for (const h of this.everyHost) h.resume();
    await Promise.all(this.everyHost.map((h) => h.node.stop()));
  }
}

function tally(h: SimHost): Tally {
  const s = h.node.stats();
  return {
    bytesSent: s.bytesSent, streamBytesSent: s.streamBytesSent, suspicionsStarted: s.suspicionsStarted,
    suspicionsSeen: s.suspicionsSeen, refutations: s.refutations, degradedTimeouts: s.degradedTimeouts,
  };
}

/** How heap is measured; see docs/SWIM.md ("Heap per member"). */
export function heapMethod(): string {
  return typeof (globalThis as { gc?: unknown }).gc === 'function'
    ? 'heapUsed delta across the bootstrap, GC forced (--expose-gc)'
    : 'heapUsed delta across the bootstrap, GC not forced (run with --expose-gc for a reliable figure)';
}

/** Live heap bytes, after a full GC when the process was started with --expose-gc. */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** Heap per remote member: the growth divided by the N × (N − 1) records every node gained. */
function perMember(before: number, after: number, n: number): number | null {
  return n < 2 ? null : Math.max(0, after - before) / (n * (n - 1));
}
