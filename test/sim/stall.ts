// The stall model: a host whose process stops running for a while (SIGSTOP,
// a long GC pause, CPU starvation) while its kernel carries on. During a
// stall nothing of the node runs: its timers are held, and what arrives (UDP
// packets, stream bytes, new connections) waits in the kernel's buffers. On
// resume, the held timers fire first and the buffered I/O is read after them,
// in arrival order, which is the order of libuv's loop (timers phase, then the
// poll phase). That order is what makes stalls dangerous: a probe timer fires
// before the ack sitting in the socket is read.
//
// The other model, `lag`, is a process that keeps running but works through
// a backlog: its timers fire on time, its input is handled lagMs late, in
// order (the slow members of the Lifeguard paper). Its probes time out
// because their acks are read too late, and it hears refutations late.
import type { Clock, TimerHandle } from '../../src/clock/types.ts';
import type { VirtualClock } from '../../src/clock/virtual.ts';
import { sleepOn } from '../../src/clock/util.ts';
import type { SharedCpu } from './cpu.ts';
import type { DialOptions, Listener, ListenOptions, PacketBindOptions, PacketNetwork, PacketTransport, Socket, Transport } from '../../src/transport/types.ts';

/** Packets a stalled host's socket buffers before dropping (about 3 MB of 1400-byte packets: a large receive buffer). */
export const STALL_PACKET_BUFFER = 2000;

/** A host's run/stall switch and its buffered input. */
export class StallGate {
  stalled = false;
  /** Times this host stalled, and total ms stalled (for reports). */
  stalls = 0;
  stalledMs = 0;
  /** Packets dropped because the buffer was full. */
  droppedPackets = 0;
  private since = 0;
  private held: (() => void)[] = [];
  private heldPackets = 0;
  private readonly timers: (() => void)[] = [];
  private readonly clock: VirtualClock;
  /** Lag model: input is handled this late (0 = on time), never before the input received earlier. */
  private lagMs = 0;
  private lagSince = 0;
  private backlogUntil = 0;

  constructor(clock: VirtualClock) {
    this.clock = clock;
  }

  stall(): void {
    if (this.stalled) return;
    this.stalled = true;
    this.stalls++;
    this.since = this.clock.now();
  }

  /** Runs what was held back: timers first, then input in arrival order. */
  resume(): void {
    if (!this.stalled) return;
    this.stalled = false;
    this.stalledMs += this.clock.now() - this.since;
    const timers = this.timers.splice(0);
    for (const fn of timers) fn();
    const input = this.held;
    this.held = [];
    this.heldPackets = 0;
    for (const fn of input) fn();
  }

  /** Starts handling input `ms` late (lag model); `unlag` ends it, the backlog still drains in order. */
  lag(ms: number): void {
    if (this.lagMs > 0) return;
    this.lagMs = ms;
    this.stalls++;
    this.lagSince = this.clock.now();
  }

  unlag(): void {
    if (this.lagMs === 0) return;
    this.lagMs = 0;
    this.stalledMs += this.clock.now() - this.lagSince;
  }

  /** Runs fn now, or behind the backlog when lagging or still draining it. */
  private late(fn: () => void): boolean {
    const now = this.clock.now();
    const at = Math.max(now + this.lagMs, this.backlogUntil);
    if (at <= now) return false;
    this.backlogUntil = at;
    this.clock.setTimeout(fn, at - now);
    return true;
  }

  /** Defers a due timer while stalled. */
  timer(fn: () => void): void {
    if (this.stalled) this.timers.push(fn);
    else fn();
  }

  /** Runs input now, or holds it until resume. */
  input(fn: () => void): void {
    if (this.stalled) this.held.push(fn);
    else if (!this.late(fn)) fn();
  }

  /** Holds a packet, unless the buffer is full (then it is lost, as the kernel would drop it). */
  packet(fn: () => void): void {
    if (!this.stalled) {
      if (!this.late(fn)) fn();
      return;
    }
    if (this.heldPackets >= STALL_PACKET_BUFFER) {
      this.droppedPackets++;
      return;
    }
    this.heldPackets++;
    this.held.push(fn);
  }

  /** Whether input would wait now (stalled, lagging, or a backlog still draining). */
  holding(): boolean {
    return this.stalled || this.lagMs > 0 || this.backlogUntil > this.clock.now();
  }

  /** Resolves at once when running, else on resume (after the held timers). */
  whenRunning(): Promise<void> {
    if (!this.stalled) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }
}

interface StallTimer {
  fn: () => void;
  cancelled: boolean;
  handle: TimerHandle | undefined;
}

/** A host's view of the shared clock: its callbacks are held while the host is stalled. */
export class StallableClock implements Clock {
  private readonly base: VirtualClock;
  private readonly gate: StallGate;

  constructor(base: VirtualClock, gate: StallGate) {
    this.base = base;
    this.gate = gate;
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
      if (!t.cancelled) this.gate.timer(() => {
        if (!t.cancelled) t.fn();
      });
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
    return sleepOn(this, ms, signal, true);
  }

}

/** A host's packet network: while stalled, received packets wait in a bounded buffer (the socket's receive buffer). */
export class StallablePackets implements PacketNetwork {
  private readonly inner: PacketNetwork;
  private readonly gate: StallGate;
  private readonly cpu: SharedCpu | undefined;

  /** With `cpu`, each packet also waits for a core of the shared machine (see cpu.ts). */
  constructor(inner: PacketNetwork, gate: StallGate, cpu?: SharedCpu) {
    this.inner = inner;
    this.gate = gate;
    this.cpu = cpu;
  }

  async bind(address: string, opts?: PacketBindOptions): Promise<PacketTransport> {
    const ep = await this.inner.bind(address, opts);
    const cpu = this.cpu;
    const gate: Pick<StallGate, 'packet'> = cpu === undefined ? this.gate : { packet: (fn) => cpu.run(() => this.gate.packet(fn)) };
    return {
      address: ep.address,
      maxPacketBytes: ep.maxPacketBytes,
      send: (to, p) => ep.send(to, p),
      // A refusal is input too: it waits while the host is stalled.
      sendWatched: ep.sendWatched === undefined ? undefined : (to, p, refused) => ep.sendWatched!(to, p, () => gate.packet(refused)),
      onPacket: (handler) => ep.onPacket((from, p) => gate.packet(() => handler(from, p))),
      close: () => ep.close(),
    };
  }
}

/** A socket whose events wait while its host is stalled (the bytes sit in the kernel). */
function stallableSocket(s: Socket, gate: StallGate): Socket {
  return {
    get localAddress() { return s.localAddress; },
    get remoteAddress() { return s.remoteAddress; },
    get closed() { return s.closed; },
    attach: (h) => s.attach({
      data: (chunk) => {
        // The chunk is only valid during the call: copy it when holding it.
        if (!gate.holding()) h.data(chunk);
        else {
          const copy = chunk.slice();
          gate.input(() => h.data(copy));
        }
      },
      drain: h.drain === undefined ? undefined : () => gate.input(() => h.drain!()),
      close: (err) => gate.input(() => h.close(err)),
    }),
    write: (chunk) => s.write(chunk),
    end: () => s.end(),
    destroy: (err) => s.destroy(err),
  };
}

/**
 * A host's stream transport: while stalled, connections are accepted by the
 * kernel (the backlog) but handed to the process only on resume, and a dial
 * in flight completes only once the process runs again.
 */
export function stallableStreams(inner: Transport, gate: StallGate): Transport {
  return {
    name: inner.name,
    listen: (address: string, onSocket: (s: Socket) => void, opts?: ListenOptions): Promise<Listener> =>
      inner.listen(address, (s) => gate.input(() => onSocket(stallableSocket(s, gate))), opts),
    dial: async (address: string, opts?: DialOptions): Promise<Socket> => {
      let s: Socket;
      try {
        s = await inner.dial(address, opts);
      } catch (err) {
        await gate.whenRunning();
        throw err;
      }
      await gate.whenRunning();
      return stallableSocket(s, gate);
    },
  };
}
