import { SystemClock, SystemRandom } from '../clock/index.ts';
import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import { silentLogger } from '../log/silent.ts';
import type { Logger } from '../log/types.ts';
import { Counters } from '../metrics/counters.ts';
import { tryParseHostPort } from '../net/address.ts';
import type { PacketNetwork, PacketTransport, PacketWatch, Transport } from '../transport/types.ts';
import { BroadcastQueue } from './broadcasts.ts';
import { resolveSwimConfig, type SwimConfig } from './config.ts';
import { EventQueue } from './events.ts';
import { RateLimitedLog } from '../log/limit.ts';
import { MemberRecord } from './members.ts';
import { Prober } from './probe.ts';
import { Envelope, Keyring } from './security.ts';
import type { ShellContext } from './shell.ts';
import { Membership, type MembershipEffects } from './state.ts';
import { SWIM_COUNTERS, type SwimCounter } from './stats.ts';
import { PacketIO } from './packets.ts';
import { StreamIO } from './streams.ts';
import { Timers } from './timers.ts';
import type { Member, ProbeOutcome, SwimEventType, SwimListener, SwimNode, SwimNodeOptions, SwimStats } from './types.ts';
import { SwimWire, WireState } from './wire.ts';

/** Creates a SWIM node (not started). Throws MeshError `INVALID_CONFIG`, `SWIM_META_TOO_LARGE` or `SWIM_INVALID_KEY` on bad options. */
export function createSwimNode(opts: SwimNodeOptions): SwimNode {
  return new SwimNodeImpl(opts);
}

type Phase = 'new' | 'running' | 'stopped';

/**
 * The protocol shell: owns the timers (on the injected Clock), the sockets
 * (injected packet network and stream transport) and the randomness, and
 * feeds the pure Membership state machine. Everything on the packet path is
 * synchronous, so a simulator can drive thousands of nodes from one
 * VirtualClock loop; only stream exchanges (push-pull, TCP ping) are async.
 */
class SwimNodeImpl implements SwimNode, ShellContext {
  readonly id: string;
  readonly config: SwimConfig;
  readonly cfg: SwimConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly limited: RateLimitedLog;
  readonly wire = new SwimWire();
  readonly envelope: Envelope;
  readonly keyring: Keyring | undefined;
  readonly counters = new Counters<SwimCounter>(SWIM_COUNTERS);
  readonly state: Membership;
  readonly streams: Transport;
  private readonly network: PacketNetwork;
  private readonly packets: PacketIO;
  private readonly io: StreamIO;
  private readonly prober: Prober;
  private readonly events: EventQueue;
  private readonly queue: BroadcastQueue;
  private readonly fx: MembershipEffects;
  private readonly controller = new AbortController();
  private readonly opts: SwimNodeOptions;
  private phase: Phase = 'new';
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private leavePromise: Promise<void> | undefined;
  private readonly timers: Timers;
  private urgent = false;
  private refutation = false;
  private lastEagerMs = -Infinity;

  constructor(opts: SwimNodeOptions) {
    this.opts = opts;
    this.cfg = this.config = resolveSwimConfig(opts.profile ?? 'lan', opts.config);
    this.clock = opts.clock ?? new SystemClock();
    this.random = opts.random ?? new SystemRandom();
    this.id = opts.name ?? Buffer.from(this.random.bytes(8)).toString('hex');
    if (this.id.length === 0 || this.id.length > 128) throw new MeshError('INVALID_ARGUMENT', `swim node name must be 1 to 128 characters, got ${this.id.length}`);
    this.log = (opts.logger ?? silentLogger).child({ component: 'swim', node: this.id });
    this.limited = new RateLimitedLog(this.log, this.clock);
    this.keyring = opts.keys !== undefined && opts.keys.length > 0 ? new Keyring(opts.keys) : undefined;
    this.envelope = new Envelope(this.cfg.clusterName, this.keyring);
    this.network = opts.packets;
    this.streams = opts.streams;
    this.queue = new BroadcastQueue(this.cfg.broadcastQueueMax);
    this.events = new EventQueue((err, ev) => {
      this.counters.inc('listenerErrors');
      this.log.warn('a SWIM event listener threw', { event: ev.type, err: String(err) });
    });
    const meta = opts.metadata ?? new Uint8Array(0);
    this.checkMeta(meta);
    const incarnation = opts.incarnation ?? Math.floor(this.clock.wallTime());
    const self = new MemberRecord(this.id, opts.advertiseAddress ?? opts.bindAddress, incarnation, new Uint8Array(meta), 0, this.clock.now());
    this.fx = this.effects();
    this.state = new Membership(this.cfg, self, this.random, this.wire, this.fx, this.counters);
    this.io = new StreamIO(this);
    this.prober = new Prober(this, this.io);
    this.packets = new PacketIO(this, this.queue, () => this.prober);
    this.timers = new Timers(this, this.prober, this.packets, this.queue, () => this.pushPullOnce());
  }

  get address(): string {
    return this.state.self.address;
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  get lifetime(): AbortSignal {
    return this.controller.signal;
  }

  // ---- lifecycle

  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.phase === 'stopped') return Promise.reject(new MeshError('NOT_RUNNING', 'a stopped SWIM node cannot be restarted; create a new one'));
    this.startPromise ??= this.doStart(opts.signal).catch((err: unknown) => {
      this.startPromise = undefined;
      throw err;
    });
    return this.startPromise;
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  async leave(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.phase !== 'running') return this.stop();
    this.leavePromise ??= this.doLeave(opts.timeoutMs ?? this.cfg.leaveTimeoutMs, opts.signal);
    return this.leavePromise;
  }

  async join(seeds: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (this.phase !== 'running') throw new MeshError('NOT_RUNNING', 'start the SWIM node before joining');
    opts.signal?.throwIfAborted();
    const own = new Set([this.address, this.packets.endpoint?.address]);
    const targets = [...new Set(seeds)].filter((s) => !own.has(s));
    for (const s of targets) {
      if (typeof s !== 'string' || tryParseHostPort(s) === undefined) {
        throw new MeshError('INVALID_ARGUMENT', `invalid seed address "${String(s)}": expected host:port`);
      }
    }
    if (targets.length === 0) return 0;
    const results = await Promise.allSettled(targets.map((a) => this.io.pushPull(a, true, opts.signal)));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    this.counters.inc('pushPulls', ok);
    this.counters.inc('pushPullFailures', results.length - ok);
    if (ok === 0) {
      opts.signal?.throwIfAborted();
      const why = results.map((r, i) => `${targets[i]}: ${r.status === 'rejected' ? describe(r.reason) : 'ok'}`).join('; ');
      throw new MeshError('SWIM_JOIN_FAILED', `no seed answered (${why})`, { status: 503, retryable: true });
    }
    return ok;
  }

  // ---- views

  members(): Member[] {
    const self = this.state.self;
    return [...this.state.table.values()].map((m) => m.snapshot(m === self));
  }

  member(id: string): Member | undefined {
    return this.state.table.get(id)?.snapshot(id === this.id);
  }

  liveCount(): number {
    let n = 0;
    for (const m of this.state.table.values()) if (m.isLive) n++;
    return n;
  }

  healthScore(): number {
    return this.state.awareness.healthScore;
  }

  stats(): SwimStats {
    const [alive, suspect, dead, left] = this.state.table.countByState();
    const counters = { ...this.counters.snapshot(), broadcastsDropped: this.queue.dropped };
    return { ...counters, healthScore: this.healthScore(), alive, suspect, dead, left, queuedBroadcasts: this.queue.size };
  }

  on(type: SwimEventType | '*', listener: SwimListener): () => void {
    return this.events.on(type, listener);
  }

  // ---- actions

  setMetadata(metadata: Uint8Array): void {
    if (this.phase === 'stopped') throw new MeshError('NOT_RUNNING', 'the SWIM node is stopped');
    this.checkMeta(metadata);
    this.state.setMeta(metadata, this.clock.now());
    this.afterChange();
  }

  probeNow(target: string, opts: { signal?: AbortSignal } = {}): Promise<ProbeOutcome> {
    const m = this.resolve(target);
    if (!this.running || m === undefined) return Promise.resolve('unknown');
    if (!m.isLive) return Promise.resolve('dead');
    return new Promise((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => reject(new MeshError('CANCELLED', `probe of ${m.id} aborted`, { cause: signal?.reason }));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.prober.probe(m, (outcome) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
      this.afterChange();
    });
  }

  reportUnreachable(target: string, info: { refused?: boolean } = {}): boolean {
    const m = this.resolve(target);
    if (!this.running || m === undefined) return false;
    if (m.isLive) {
      if (info.refused === true && this.cfg.refusedAsDead) this.prober.confirmRefused(m);
      else this.prober.probe(m);
      this.afterChange();
    }
    return true;
  }

  probeOnce(): void {
    if (!this.running) return;
    this.prober.probeNext();
    this.afterChange();
  }

  gossipOnce(): void {
    if (!this.running) return;
    this.packets.gossipRound();
    this.afterChange();
  }

  async pushPullOnce(opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (!this.running) return false;
    const [peer] = this.state.table.randomMembers(1, (m) => m.state === WireState.Alive);
    if (peer === undefined) return false;
    try {
      await this.io.pushPull(peer.address, false, opts.signal);
      this.counters.inc('pushPulls');
      return true;
    } catch (err) {
      this.counters.inc('pushPullFailures');
      this.limited.debug('push-pull', 'push-pull failed', { peer: peer.id, err: describe(err) });
      return false;
    }
  }

  // ---- ShellContext

  sendPacket(to: string, msgs: readonly Uint8Array[], piggyback = true): void {
    this.packets.send(to, msgs, piggyback);
  }

  sendProbe(to: string, msgs: readonly Uint8Array[], refused: () => void): PacketWatch | undefined {
    return this.packets.send(to, msgs, true, this.cfg.watchRefusals ? refused : undefined);
  }

  afterChange(): void {
    if (this.urgent) {
      this.urgent = false;
      const now = this.clock.now();
      // Refutations skip the rate limit (see MembershipEffects.refuted).
      const refutation = this.refutation;
      this.refutation = false;
      if (this.cfg.gossipEagerly && this.cfg.gossipIntervalMs > 0 && this.running && (refutation || now - this.lastEagerMs >= this.cfg.gossipIntervalMs)) {
        this.lastEagerMs = now;
        // Twice the usual fanout: a one-shot push to f peers leaves about
        // e^-f of the cluster out (5 % for 3), who would then wait a whole
        // gossip interval. The retransmit limit still caps the total sent.
        if (this.packets.gossipRound(2 * this.cfg.gossipNodes)) this.counters.inc('eagerGossipRounds');
      }
    }
    this.events.flush();
  }

  // ---- internals

  private async doStart(signal: AbortSignal | undefined): Promise<void> {
    const ep = await this.bind(signal);
    if (this.phase === 'stopped') {
      await ep.close();
      await this.io.close();
      throw new MeshError('NOT_RUNNING', 'the SWIM node was stopped while starting');
    }
    this.packets.attach(ep);
    const self = this.state.self;
    self.address = advertised(this.opts.advertiseAddress, ep.address);
    this.phase = 'running';
    this.fx.event('join', self);
    // Our own alive goes out like any news (as memberlist's setAlive does):
    // after a join it spreads from us as well as from the seed.
    this.fx.broadcast(self.id, this.state.encodeAlive(self), false);
    if (this.opts.startLoops !== false) this.timers.startLoops();
    this.afterChange();
  }

  /** Binds UDP, then TCP on the same port; with port 0, retries if TCP finds that port taken. */
  private async bind(signal: AbortSignal | undefined): Promise<PacketTransport> {
    const anyPort = this.opts.bindAddress.endsWith(':0');
    for (let attempt = 1; ; attempt++) {
      const ep = await this.network.bind(this.opts.bindAddress, { signal });
      try {
        await this.io.listen(ep.address, signal);
        return ep;
      } catch (err) {
        await ep.close();
        if (!anyPort || attempt >= 5) throw err;
      }
    }
  }

  private async doStop(): Promise<void> {
    this.phase = 'stopped';
    this.controller.abort(new MeshError('NOT_RUNNING', 'the SWIM node stopped'));
    this.timers.stop();
    this.prober.stop();
    this.queue.clear();
    this.events.clear();
    await this.packets.endpoint?.close();
    await this.io.close();
  }

  private async doLeave(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const othersLive = this.liveCount() > 1;
    const gossiped = new AbortController();
    this.state.leave(this.clock.now(), () => gossiped.abort());
    this.afterChange();
    if (othersLive && !gossiped.signal.aborted) {
      const wait = signal ? AbortSignal.any([signal, gossiped.signal]) : gossiped.signal;
      await this.clock.sleep(timeoutMs, wait).catch(() => {});
    }
    await this.stop();
  }

  private effects(): MembershipEffects {
    return {
      broadcast: (id, bytes, urgent, notify) => {
        this.queue.enqueue(id, bytes, notify);
        if (urgent) this.urgent = true;
        this.timers.armGossip();
      },
      event: (type, m) => {
        if (type === 'join' && m !== this.state.self) this.timers.noteJoin();
        if (this.events.wants(type)) this.events.push({ type, member: m.snapshot(m === this.state.self), atMs: this.clock.now() });
      },
      suspicionChanged: (m) => this.timers.armSuspicion(m),
      refuted: () => {
        this.refutation = true;
      },
      conflict: (otherAddress, otherIncarnation) => {
        this.log.error('another node claims our name from another address; stop this node and rename it', { otherAddress, otherIncarnation });
        if (this.events.wants('conflict')) {
          this.events.push({ type: 'conflict', member: this.state.self.snapshot(true), otherAddress, otherIncarnation, atMs: this.clock.now() });
        }
      },
    };
  }

  private resolve(target: string): MemberRecord | undefined {
    const m = this.state.table.get(target) ?? this.state.table.byAddress(target);
    return m === this.state.self ? undefined : m;
  }

  private checkMeta(meta: Uint8Array): void {
    if (!(meta instanceof Uint8Array)) throw new MeshError('INVALID_ARGUMENT', 'swim metadata must be a Uint8Array');
    if (meta.length > this.cfg.metaMaxBytes) {
      throw new MeshError('SWIM_META_TOO_LARGE', `metadata is ${meta.length} bytes; swim.metaMaxBytes allows ${this.cfg.metaMaxBytes}`,
        { status: 413, retryable: false });
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof MeshError) return `${err.code} ${err.detail}`;
  return err instanceof Error ? err.message : String(err);
}

/** The address to announce: `advertise` with port 0 meaning the bound port, else the bound address. */
function advertised(advertise: string | undefined, bound: string): string {
  if (advertise === undefined) return bound;
  if (!advertise.endsWith(':0')) return advertise;
  return `${advertise.slice(0, -2)}:${bound.slice(bound.lastIndexOf(':') + 1)}`;
}
