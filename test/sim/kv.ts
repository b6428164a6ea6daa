// The key/value store on the simulator: one real MeshKv (src/kv/mesh.ts)
// per node, with a real RpcServer, SessionPool and RpcClient (src/rpc) over
// the simulator's memory stream transport, in virtual time. The membership
// is static (every other node with its RPC address): the kv scenario
// measures the store, not SWIM. What is modelled here, not run:
// - TCP loss inside a connection: a chunk whose segments lose a packet is
//   held back by a retransmission timeout (200 ms, doubling), and the
//   chunks after it wait behind it (in-order delivery). Handshake loss is
//   gateStreams' (1 s SYN retransmits).
// - Bytes: what the RPC layer writes to its sockets (frames, hellos, pings,
//   retransmitted segments), without TCP/IP headers.
import type { VirtualClock } from '../../src/clock/virtual.ts';
import type { Clock, Random } from '../../src/clock/types.ts';
import { sleepOn } from '../../src/clock/util.ts';
import { defaultCodecs } from '../../src/codec/index.ts';
import { MeshKv } from '../../src/kv/mesh.ts';
import type { KvConfig } from '../../src/kv/config.ts';
import { silentLogger } from '../../src/log/index.ts';
import { RPC_KEY } from '../../src/membership/keys.ts';
import type { Membership, MemberView } from '../../src/membership/types.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { resolveRpcConfig } from '../../src/rpc/config.ts';
import { KV_REPLICATE } from '../../src/rpc/internal.ts';
import { SessionPool } from '../../src/rpc/pool.ts';
import { CallScope } from '../../src/rpc/scope.ts';
import { RpcServer } from '../../src/rpc/server.ts';
import { createRpcStats, type RpcStats } from '../../src/rpc/stats.ts';
import type { CallOptions, Client, ClientStream } from '../../src/rpc/types.ts';
import type { Selector } from '../../src/selector/types.ts';
import { gateStreams } from '../../src/transport/memory-packet.ts';
import type { DialOptions, Listener, ListenOptions, Socket, SocketHandlers, Transport } from '../../src/transport/types.ts';
import { flush } from './cluster.ts';
import type { Sim } from './sim.ts';
import { nodeName } from './sim.ts';

/** The RPC port every simulated node listens on. */
export const KV_RPC_PORT = 7373;
/** Linux's minimum retransmission timeout, ms (a LAN's RTT adds next to nothing). */
export const TCP_RTO_MS = 200;
const SEGMENT_BYTES = 1448;

/** Calls and CBOR payload bytes (request + response bodies) per endpoint; Kv.Replicate split into rumor (f: true) and repair. */
export type CallTally = Map<string, { calls: number; failed: number; payloadBytes: number }>;

/** Bytes written to sockets by one host, retransmissions included. */
interface ByteCounter {
  bytes: number;
}

export interface KvSimNode {
  readonly name: string;
  readonly address: string;
  readonly kv: MeshKv;
  readonly stats: RpcStats;
  readonly wire: ByteCounter;
  stop(): Promise<void>;
}

/** Every other node, always live: the store's view of a membership that never changes. */
class StaticMembership implements Membership {
  readonly localId: string;
  private readonly self: MemberView;
  private readonly others: MemberView[];

  constructor(self: MemberView, others: MemberView[]) {
    this.localId = self.id;
    this.self = self;
    this.others = others;
  }

  local(): MemberView {
    return this.self;
  }

  setLocal(): void {
    throw new Error('the kv scenario\'s membership is static');
  }

  members(): MemberView[] {
    return this.others;
  }

  member(id: string): MemberView | undefined {
    return this.others.find((m) => m.id === id);
  }

  subscribe(): () => void {
    return () => {};
  }

  reportUnreachable(): void {}
}

/** Calls by address only. */
const noSelector: Selector = {
  select: () => Promise.reject(new Error('the kv scenario calls by address')),
  mark() {},
  reset() {},
  close() {},
};

/** Counts calls and payload bytes per endpoint; everything else is the real client's. */
class CountingClient implements Client {
  private readonly inner: Client;
  private readonly tally: CallTally;
  private readonly size: (x: unknown) => number;

  constructor(inner: Client, tally: CallTally, size: (x: unknown) => number) {
    this.inner = inner;
    this.tally = tally;
    this.size = size;
  }

  async call<Res = unknown>(service: string, endpoint: string, request: unknown, opts?: CallOptions): Promise<Res> {
    const name = endpoint === KV_REPLICATE.endpoint ? `${endpoint}.${(request as { f?: boolean }).f === true ? 'rumor' : 'repair'}` : endpoint;
    let t = this.tally.get(name);
    if (t === undefined) this.tally.set(name, t = { calls: 0, failed: 0, payloadBytes: 0 });
    t.calls++;
    t.payloadBytes += this.size(request);
    try {
      const res = await this.inner.call<Res>(service, endpoint, request, opts);
      t.payloadBytes += this.size(res);
      return res;
    } catch (err) {
      t.failed++;
      throw err;
    }
  }

  stream<Req = unknown, Res = unknown>(service: string, endpoint: string, request?: Req, opts?: CallOptions): Promise<ClientStream<Req, Res>> {
    return this.inner.stream<Req, Res>(service, endpoint, request, opts);
  }
}

/** A socket that counts what it writes and delays chunks that lose a segment by TCP's retransmission timeout, in order. */
class LossySocket implements Socket {
  private readonly inner: Socket;
  private readonly net: { clock: VirtualClock; random: Random; loss: number };
  private readonly wire: ByteCounter;
  /** Virtual time the last held-back chunk is released; later chunks never overtake it. */
  private releaseAt = 0;

  constructor(inner: Socket, net: { clock: VirtualClock; random: Random; loss: number }, wire: ByteCounter) {
    this.inner = inner;
    this.net = net;
    this.wire = wire;
  }

  get localAddress(): string {
    return this.inner.localAddress;
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  attach(h: SocketHandlers): void {
    this.inner.attach(h);
  }

  write(chunk: Uint8Array): boolean {
    const { clock } = this.net;
    this.wire.bytes += chunk.length;
    const delay = this.retransmitDelay(chunk.length);
    const at = Math.max(this.releaseAt, clock.now() + delay);
    if (at <= clock.now()) return this.inner.write(chunk);
    this.releaseAt = at;
    const copy = Buffer.from(chunk);
    // Timers due at the same time fire in creation order: the stream stays ordered.
    clock.setTimeout(() => this.inner.write(copy), at - clock.now());
    return true;
  }

  end(): void {
    const { clock } = this.net;
    if (this.releaseAt <= clock.now()) this.inner.end();
    else clock.setTimeout(() => this.inner.end(), this.releaseAt - clock.now());
  }

  destroy(err?: Error): void {
    this.inner.destroy(err);
  }

  /** 0, or the retransmission timeouts a lost segment of this chunk waits (each retransmission lost again doubles it). */
  private retransmitDelay(bytes: number): number {
    const { loss, random } = this.net;
    if (loss <= 0) return 0;
    const segments = Math.max(1, Math.ceil(bytes / SEGMENT_BYTES));
    if (random.next() >= 1 - (1 - loss) ** segments) return 0;
    let rto = TCP_RTO_MS;
    let delay = rto;
    this.wire.bytes += Math.min(bytes, SEGMENT_BYTES);
    while (random.next() < loss && rto < 60_000) {
      rto *= 2;
      delay += rto;
      this.wire.bytes += Math.min(bytes, SEGMENT_BYTES);
    }
    return delay;
  }
}

/** `inner` with every socket (dialed or accepted) a LossySocket counting into `wire`. */
function lossyTransport(inner: Transport, net: { clock: VirtualClock; random: Random; loss: number }, wire: ByteCounter): Transport {
  return {
    name: inner.name,
    listen: (address: string, onSocket: (s: Socket) => void, opts?: ListenOptions): Promise<Listener> =>
      inner.listen(address, (s) => onSocket(new LossySocket(s, net, wire)), opts),
    dial: async (address: string, opts?: DialOptions): Promise<Socket> => new LossySocket(await inner.dial(address, opts), net, wire),
  };
}

/** Shortest timer the RPC stack gets, ms. */
const MIN_TIMER_MS = 0.001;

/**
 * The virtual clock, with timers of (0, 1 µs) lengthened to 1 µs. The RPC
 * silence watch re-arms for `silenceProbeMs − quiet`, which on fractional
 * virtual times can be a rounding residue (2e-13 ms) too small to move the
 * clock: the timer would fire at the same instant forever. A real clock
 * always moves on, so this changes no behaviour.
 */
function nudgingClock(clock: VirtualClock): Clock {
  return {
    now: () => clock.now(),
    wallTime: () => clock.wallTime(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms > 0 && ms < MIN_TIMER_MS ? MIN_TIMER_MS : ms),
    clearTimeout: (h) => clock.clearTimeout(h),
    sleep(ms, signal) {
      return sleepOn(this, ms, signal, true);
    },
  };
}

/** `o.nodes` started nodes, each with its own RPC stack and MeshKv, calls tallied into `tally`. */
export async function startKvNodes(sim: Sim, kv: Partial<KvConfig>, tally: CallTally): Promise<KvSimNode[]> {
  const { streams, packets } = sim.cluster;
  const clock = nudgingClock(sim.cluster.clock);
  const net = { clock: sim.cluster.clock, random: sim.cluster.random.fork(), loss: sim.o.loss };
  const config = resolveRpcConfig();
  const codecs = defaultCodecs();
  const cbor = codecs.get(codecs.defaultContentType);
  const size = (x: unknown): number => (x === undefined ? 0 : cbor.encode(x).length);
  const names = Array.from({ length: sim.o.nodes }, (_, i) => nodeName(i));
  const views: MemberView[] = names.map((id) => ({ id, version: 1, data: { [RPC_KEY]: `${id}:${KV_RPC_PORT}` } }));
  const nodes: KvSimNode[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const wire: ByteCounter = { bytes: 0 };
    const transport = lossyTransport(gateStreams(streams.transport(name), packets, name), net, wire);
    const stats = createRpcStats();
    const scope = new CallScope();
    const pool = new SessionPool({ transport, clock, logger: silentLogger, config, stats });
    const server = new RpcServer({ name: 'kv-sim', address: `${name}:${KV_RPC_PORT}`, transport, pool, codecs, clock, logger: silentLogger, stats, scope, config });
    const client = new CountingClient(new RpcClient({ pool, selector: noSelector, codecs, clock, scope, config, stats }), tally, size);
    const membership = new StaticMembership(views[i]!, views.filter((_, j) => j !== i));
    const store = new MeshKv({
      ...kv, node: name, membership: () => membership, client, server, clock, random: sim.cluster.random.fork(), logger: silentLogger,
    });
    await server.start();
    await store.start();
    nodes.push({
      name, address: `${name}:${KV_RPC_PORT}`, kv: store, stats, wire,
      async stop() {
        await store.stop();
        await pool.close();
      },
    });
  }
  return nodes;
}

/**
 * Drives virtual time timer by timer, letting promise continuations run
 * after each due time, until `until()` or `limitMs`; returns whether it held.
 * Unlike the fixed --step of the SWIM scenarios, an RPC round trip then takes
 * its simulated latency, not a step.
 */
export async function runEvents(clock: VirtualClock, until: () => boolean, limitMs: number): Promise<boolean> {
  const end = clock.now() + limitMs;
  for (;;) {
    // First what is pending now (a write queued for the end of this tick arms its delivery timer).
    await flush();
    if (until()) return true;
    const next = clock.nextDue();
    if (next === undefined || next > end) {
      clock.runUntilTime(end);
      await flush();
      return until();
    }
    clock.runUntilTime(next);
  }
}

/** Wire bytes written by all nodes so far. */
export function wireBytes(nodes: readonly KvSimNode[]): number {
  return nodes.reduce((n, x) => n + x.wire.bytes, 0);
}

/** Copy of a tally, to diff a window against. */
export function snapshotTally(t: CallTally): CallTally {
  return new Map([...t].map(([k, v]) => [k, { ...v }]));
}
