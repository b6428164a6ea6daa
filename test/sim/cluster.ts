// A virtual-time cluster of real SWIM nodes (src/swim) over the in-memory
// packet and stream networks, with the failure modes the unit tests and the
// simulator need: a process crash (ports refuse), a host crash (nothing
// answers), a stall (see stall.ts), partitions and loss. One VirtualClock
// drives everything; every node draws from its own fork of one seeded Random,
// so a run is a pure function of its seed.
import { SeededRandom, VirtualClock } from '../../src/clock/index.ts';
import { MemoryNetwork } from '../../src/transport/memory.ts';
import { MemoryPacketNetwork, gateStreams } from '../../src/transport/memory-packet.ts';
import { createSwimNode } from '../../src/swim/node.ts';
import type { SwimConfig, SwimProfile } from '../../src/swim/config.ts';
import type { MemberState, SwimEvent, SwimEventType, SwimNode, SwimNodeOptions } from '../../src/swim/types.ts';
import { StallGate, StallableClock, StallablePackets, stallableStreams } from './stall.ts';
import { SharedCpu, type CpuModel } from './cpu.ts';

/** The SWIM port every simulated node binds on its own host. */
export const SWIM_PORT = 7946;

export class SimHost {
  readonly name: string;
  readonly node: SwimNode;
  readonly clock: StallableClock;
  readonly gate: StallGate;
  /** The events recorded (see ClusterOptions.record). */
  readonly events: SwimEvent[] = [];
  /** Set once the process crashed or stopped (a restart makes a new SimHost). */
  down = false;

  constructor(name: string, node: SwimNode, clock: StallableClock, gate: StallGate, record: readonly SwimEventType[] | '*') {
    this.name = name;
    this.node = node;
    this.clock = clock;
    this.gate = gate;
    if (record === '*') node.on('*', (e) => this.events.push(e));
    else for (const type of record) node.on(type, (e) => this.events.push(e));
  }

  get address(): string {
    return `${this.name}:${SWIM_PORT}`;
  }

  get stalled(): boolean {
    return this.gate.stalled;
  }

  stall(): void {
    this.gate.stall();
  }

  resume(): void {
    this.gate.resume();
  }

  /** Slow, not stopped: its input is handled `ms` late until `unlag`. */
  lag(ms: number): void {
    this.gate.lag(ms);
  }

  unlag(): void {
    this.gate.unlag();
  }

  /** What this host believes about `id` (undefined when unknown or reaped). */
  stateOf(id: string): MemberState | undefined {
    return this.node.member(id)?.state;
  }
}

export interface ClusterOptions {
  seed?: number;
  profile?: SwimProfile;
  config?: Partial<SwimConfig>;
  /** One-way latency of every link, ms (packets and stream chunks). Default 1. */
  latencyMs?: number;
  /** Extra per-packet latency drawn from [0, jitterMs), ms. Default 1. */
  jitterMs?: number;
  /** Packet loss probability on every link (TCP handshakes pay it too, see gateStreams). Default 0. */
  loss?: number;
  /**
   * Event types each host keeps in `events`. Default every type ('*').
   * Events nobody listens to are never built, so a large simulation records
   * none ([]) and observes through its own listeners.
   */
  record?: readonly SwimEventType[] | '*';
  /** The cores every node shares and what a packet costs (see cpu.ts). Default: CPU to spare. */
  cpu?: CpuModel;
}

export class VirtualCluster {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly packets: MemoryPacketNetwork;
  readonly streams: MemoryNetwork;
  readonly hosts = new Map<string, SimHost>();
  private readonly opts: ClusterOptions;
  private readonly cpu: SharedCpu | undefined;

  constructor(opts: ClusterOptions = {}) {
    this.opts = opts;
    this.random = new SeededRandom(opts.seed ?? 1);
    this.packets = new MemoryPacketNetwork({
      clock: this.clock, random: this.random.fork(), latencyMs: opts.latencyMs ?? 1, jitterMs: opts.jitterMs ?? 1, loss: opts.loss ?? 0,
    });
    this.streams = new MemoryNetwork({ clock: this.clock, latencyMs: opts.latencyMs ?? 1 });
    this.cpu = opts.cpu === undefined ? undefined : new SharedCpu(this.clock, opts.cpu);
  }

  /**
   * Starts a node named `name` on host `name`, port 7946. A name whose
   * previous process stopped may be started again: that is a restart (the
   * new process gets a new incarnation from the wall clock).
   */
  async add(name: string, extra: Partial<SwimNodeOptions> = {}): Promise<SimHost> {
    const gate = new StallGate(this.clock);
    const clock = new StallableClock(this.clock, gate);
    const packets = new StallablePackets(this.packets, gate, this.cpu);
    const streams = stallableStreams(gateStreams(this.streams.transport(name), this.packets, name), gate);
    const node = createSwimNode({
      name, bindAddress: `${name}:${SWIM_PORT}`, profile: this.opts.profile ?? 'lan', config: this.opts.config,
      packets, streams, clock, random: this.random.fork(), ...extra,
    });
    const host = new SimHost(name, node, clock, gate, this.opts.record ?? '*');
    this.hosts.set(name, host);
    await node.start();
    return host;
  }

  /** Starts `n` nodes n0..n(n−1), each joining through n0, and runs until everyone sees everyone. */
  async startJoined(n: number, extra: Partial<SwimNodeOptions> = {}): Promise<SimHost[]> {
    const hosts: SimHost[] = [];
    for (let i = 0; i < n; i++) hosts.push(await this.add(`n${i}`, extra));
    await this.joining(Promise.all(hosts.slice(1).map((h) => h.node.join([`n0:${SWIM_PORT}`]))));
    await this.runUntil(() => hosts.every((h) => h.node.liveCount() === n), 30_000);
    return hosts;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /** Awaits `p` while driving virtual time (stream exchanges need both). */
  async joining<T>(p: Promise<T>, limitMs = 60_000, stepMs = 5): Promise<T> {
    let settled = false;
    const out = p.finally(() => {
      settled = true;
    });
    out.catch(() => {}); // observed by the caller once time has been driven
    await this.runUntil(() => settled, limitMs, stepMs);
    return out;
  }

  /** Advances virtual time by `ms`, in steps, letting promise continuations run between steps. */
  async run(ms: number, stepMs = 5): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await flush();
    }
  }

  /** Runs until `cond()` holds or `limitMs` of virtual time passed; returns whether it held. */
  async runUntil(cond: () => boolean, limitMs: number, stepMs = 5): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    while (!cond()) {
      if (this.clock.now() >= end) return false;
      this.clock.advance(stepMs);
      await flush();
    }
    return true;
  }

  /** A process crash: the node vanishes, its host stays up and refuses connections to its port. */
  async crashProcess(name: string): Promise<void> {
    const h = this.host(name);
    h.down = true;
    await h.node.stop();
  }

  /** A host crash: nothing reaches it or leaves it, and dials to it time out. */
  async crashHost(name: string): Promise<void> {
    this.packets.setHostDown(name, true);
    const h = this.host(name);
    h.down = true;
    h.stall(); // it does nothing more, and its listener keeps "accepting" into the void
  }

  async stopAll(): Promise<void> {
    for (const h of this.hosts.values()) {
      h.resume();
      await h.node.stop();
    }
  }
}

/** Lets every pending promise continuation run (one macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
