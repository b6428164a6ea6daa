// A virtual-time cluster of SWIM nodes over the in-memory packet and stream
// networks, with the failure modes the tests (and the simulator) need: a
// process crash (ports refuse), a host crash (nothing answers), a stall (the
// process stops running but the kernel still queues packets and accepts
// connections, as under SIGSTOP), partitions and loss.
import type { Clock, TimerHandle } from '../../../src/clock/types.ts';
import { SeededRandom, VirtualClock } from '../../../src/clock/index.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { MemoryPacketNetwork, gateStreams } from '../../../src/transport/memory-packet.ts';
import type { PacketBindOptions, PacketNetwork, PacketTransport, Transport } from '../../../src/transport/types.ts';
import { createSwimNode } from '../../../src/swim/node.ts';
import type { SwimConfig, SwimProfile } from '../../../src/swim/config.ts';
import type { MemberState, SwimEvent, SwimNode, SwimNodeOptions } from '../../../src/swim/types.ts';

interface StallTimer {
  fn: () => void;
  cancelled: boolean;
  handle: TimerHandle | undefined;
}

/** A per-host view of the shared clock whose callbacks are held back while the host is stalled. */
export class StallableClock implements Clock {
  stalled = false;
  private deferred: StallTimer[] = [];
  private readonly base: VirtualClock;

  constructor(base: VirtualClock) {
    this.base = base;
  }

  now(): number {
    return this.base.now();
  }

  wallTime(): number {
    return this.base.wallTime();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: StallTimer = { fn, cancelled: false, handle: undefined };
    t.handle = this.base.setTimeout(() => {
      if (t.cancelled) return;
      if (this.stalled) this.deferred.push(t);
      else t.fn();
    }, ms);
    return t as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const t = handle as unknown as StallTimer | undefined;
    if (t === undefined) return;
    t.cancelled = true;
    this.base.clearTimeout(t.handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs what was held back, in order. */
  resume(): void {
    this.stalled = false;
    const due = this.deferred;
    this.deferred = [];
    for (const t of due) if (!t.cancelled) t.fn();
  }
}

/** A host's packet network: while stalled, received packets wait in a bounded buffer (the socket's receive buffer). */
class StallablePackets implements PacketNetwork {
  stalled = false;
  private buffered: [PacketTransport, string, Uint8Array][] = [];
  private readonly handlers = new Map<PacketTransport, (from: string, p: Uint8Array) => void>();
  private readonly inner: PacketNetwork;

  constructor(inner: PacketNetwork) {
    this.inner = inner;
  }

  async bind(address: string, opts?: PacketBindOptions): Promise<PacketTransport> {
    const ep = await this.inner.bind(address, opts);
    const onPacket = (handler: (from: string, p: Uint8Array) => void): void => {
      this.handlers.set(ep, handler);
      ep.onPacket((from, p) => {
        if (!this.stalled) handler(from, p);
        else if (this.buffered.length < 2000) this.buffered.push([ep, from, p]);
      });
    };
    return { address: ep.address, maxPacketBytes: ep.maxPacketBytes, send: (to, p) => ep.send(to, p), onPacket, close: () => ep.close() };
  }

  resume(): void {
    this.stalled = false;
    const due = this.buffered;
    this.buffered = [];
    for (const [ep, from, p] of due) this.handlers.get(ep)?.(from, p);
  }
}

/** A host's stream transport: while stalled, accepted connections wait (the kernel's backlog). */
function stallableStreams(inner: Transport, isStalled: () => boolean, held: (() => void)[]): Transport {
  return {
    name: inner.name,
    listen: (address, onSocket, opts) => inner.listen(address, (s) => {
      if (isStalled()) held.push(() => onSocket(s));
      else onSocket(s);
    }, opts),
    dial: (address, opts) => inner.dial(address, opts),
  };
}

export class SimHost {
  readonly name: string;
  readonly node: SwimNode;
  readonly clock: StallableClock;
  readonly events: SwimEvent[] = [];
  private readonly packets: StallablePackets;
  private readonly heldSockets: (() => void)[];

  constructor(name: string, node: SwimNode, clock: StallableClock, packets: StallablePackets, heldSockets: (() => void)[]) {
    this.name = name;
    this.node = node;
    this.clock = clock;
    this.packets = packets;
    this.heldSockets = heldSockets;
    node.on('*', (e) => this.events.push(e));
  }

  stall(): void {
    this.clock.stalled = true;
    this.packets.stalled = true;
  }

  resume(): void {
    this.clock.resume();
    this.packets.resume();
    const held = this.heldSockets.splice(0);
    for (const accept of held) accept();
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
  latencyMs?: number;
  jitterMs?: number;
  loss?: number;
}

export class VirtualCluster {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly packets: MemoryPacketNetwork;
  readonly streams: MemoryNetwork;
  readonly hosts = new Map<string, SimHost>();
  private readonly opts: ClusterOptions;

  constructor(opts: ClusterOptions = {}) {
    this.opts = opts;
    this.random = new SeededRandom(opts.seed ?? 1);
    this.packets = new MemoryPacketNetwork({
      clock: this.clock, random: this.random.fork(), latencyMs: opts.latencyMs ?? 1, jitterMs: opts.jitterMs ?? 1, loss: opts.loss ?? 0,
    });
    this.streams = new MemoryNetwork({ clock: this.clock, latencyMs: opts.latencyMs ?? 1 });
  }

  /** Starts a node named `name` on host `name`, port 7946. */
  async add(name: string, extra: Partial<SwimNodeOptions> = {}): Promise<SimHost> {
    const clock = new StallableClock(this.clock);
    const packets = new StallablePackets(this.packets);
    const held: (() => void)[] = [];
    const streams = stallableStreams(gateStreams(this.streams.transport(), this.packets, name), () => clock.stalled, held);
    const node = createSwimNode({
      name, bindAddress: `${name}:7946`, profile: this.opts.profile ?? 'lan', config: this.opts.config,
      packets, streams, clock, random: this.random.fork(), ...extra,
    });
    const host = new SimHost(name, node, clock, packets, held);
    this.hosts.set(name, host);
    await node.start();
    return host;
  }

  /** Starts `n` nodes n0..n(n−1), each joining through n0, and runs until everyone sees everyone. */
  async startJoined(n: number, extra: Partial<SwimNodeOptions> = {}): Promise<SimHost[]> {
    const hosts: SimHost[] = [];
    for (let i = 0; i < n; i++) hosts.push(await this.add(`n${i}`, extra));
    await this.joining(Promise.all(hosts.slice(1).map((h) => h.node.join(['n0:7946']))));
    await this.runUntil(() => hosts.every((h) => h.node.liveCount() === n), 30_000);
    return hosts;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /** Awaits `p` while driving virtual time (stream exchanges need both). */
  async joining<T>(p: Promise<T>, limitMs = 60_000): Promise<T> {
    let settled = false;
    const out = p.finally(() => {
      settled = true;
    });
    out.catch(() => {}); // observed by the caller once time has been driven
    await this.runUntil(() => settled, limitMs);
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
    await this.host(name).node.stop();
  }

  /** A host crash: nothing reaches it or leaves it, and dials to it time out. */
  async crashHost(name: string): Promise<void> {
    this.packets.setHostDown(name, true);
    const h = this.host(name);
    h.stall(); // it does nothing more, and its listener keeps "accepting" into the void
  }

  async stopAll(): Promise<void> {
    for (const h of this.hosts.values()) {
      h.resume();
      await h.node.stop();
    }
  }
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
