/**
 * The I/O shell of mDNS discovery: sockets, timers and events around the
 * pure records (records.ts, txt.ts) and peer table (peers.ts).
 *
 * On start it announces (unless browse-only) and browses `startupRepeats`
 * times, then browses every `browseIntervalMs` ± jitter for as long as it
 * runs: the periodic browse is what lets the halves of a healed partition
 * find each other after SWIM has forgotten the dead. It answers queries for
 * our instance after a random delay (one pending answer per socket), and on
 * stop says goodbye (TTL 0) so peers drop us at once.
 */
import { networkInterfaces } from 'node:os';
import { SystemClock, SystemRandom, type Clock, type Random, type TimerHandle } from '../clock/index.ts';
import { MeshError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../log/index.ts';
import { Counters } from '../metrics/counters.ts';
import { resolveAnnouncement, resolveCluster, resolveMdnsConfig, type MdnsConfig } from './config.ts';
import { PeerTable } from './peers.ts';
import { announcementRecords, browseQuery, classifyQuery, decodeResponse } from './records.ts';
import {
  closeSocket, defaultSocketFactory, inSubnet, openSocket, planSockets, sendQuery, sendResponse, unavailable,
  type MdnsSocket, type MdnsSocketFactory, type NetworkInterfacesFn, type SocketPlan,
} from './sockets.ts';
import { MDNS_COUNTERS, type MdnsCounter, type Tally } from './stats.ts';
import type {
  DiscoveredPeer, Discovery, LocalAnnouncement, MdnsCallOptions, MdnsEvent, MdnsEventType, MdnsListener, PeerAnnouncement,
} from './types.ts';

export interface MdnsDiscoveryOptions {
  /** Our cluster: only its peers are reported. */
  cluster: string;
  /** What we announce; omit to browse only (a CLI looking for the mesh leaves no trace). */
  announce?: LocalAnnouncement;
  config?: Partial<MdnsConfig>;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Test seam: creates the multicast-dns instances (default: real sockets). */
  createSocket?: MdnsSocketFactory;
  /** Test seam: the host's interfaces (default `os.networkInterfaces`). */
  networkInterfaces?: NetworkInterfacesFn;
}

interface Endpoint {
  readonly socket: MdnsSocket;
  readonly plan: SocketPlan;
  /** A scheduled answer to a query; further queries meanwhile share it. */
  answerTimer: TimerHandle | undefined;
}

type Phase = 'new' | 'running' | 'stopped';

export class MdnsDiscovery implements Discovery {
  readonly config: MdnsConfig;
  readonly cluster: string;
  private announcement: PeerAnnouncement | undefined;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly factory: MdnsSocketFactory;
  private readonly nics: NetworkInterfacesFn;
  private readonly table: PeerTable;
  private readonly counters = new Counters<MdnsCounter>(MDNS_COUNTERS);
  private readonly listeners = new Map<MdnsEventType | '*', Set<(e: MdnsEvent) => void>>();
  private phase: Phase = 'new';
  private endpoints: Endpoint[] = [];
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private browseTimer: TimerHandle | undefined;
  private startupTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;

  constructor(opts: MdnsDiscoveryOptions) {
    this.config = resolveMdnsConfig(opts.config);
    this.cluster = resolveCluster(opts.cluster);
    this.announcement = opts.announce === undefined ? undefined : resolveAnnouncement(this.cluster, opts.announce, this.config.serviceType);
    this.clock = opts.clock ?? new SystemClock();
    this.random = opts.random ?? new SystemRandom();
    this.log = (opts.logger ?? silentLogger).child({ component: 'mdns' });
    this.factory = opts.createSocket ?? defaultSocketFactory;
    this.nics = opts.networkInterfaces ?? networkInterfaces;
    this.table = new PeerTable(this.config.maxPeers);
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Local interface addresses in use (`undefined` stands for "all"). Empty until started. */
  get interfaces(): (string | undefined)[] {
    return this.endpoints.map((e) => e.plan.interfaceAddress);
  }

  start(opts: MdnsCallOptions = {}): Promise<void> {
    if (this.phase === 'stopped') return Promise.reject(new MeshError('NOT_RUNNING', 'a stopped mDNS discovery cannot be restarted; create a new one'));
    if (!this.config.enabled) return Promise.resolve();
    this.startPromise ??= this.doStart(opts.signal).catch((err: unknown) => {
      this.startPromise = undefined;
      throw err;
    });
    return this.startPromise;
  }

  stop(opts: MdnsCallOptions = {}): Promise<void> {
    this.stopPromise ??= this.doStop(opts.signal);
    return this.stopPromise;
  }

  async browse(opts: MdnsCallOptions = {}): Promise<void> {
    if (!this.config.enabled) return;
    this.requireRunning();
    checkAborted(opts.signal, 'browse');
    await Promise.all(this.endpoints.map((ep) => this.query(ep)));
  }

  async update(announcement: LocalAnnouncement, opts: MdnsCallOptions = {}): Promise<void> {
    if (this.phase === 'stopped') throw new MeshError('NOT_RUNNING', 'the mDNS discovery is stopped');
    checkAborted(opts.signal, 'update');
    this.announcement = resolveAnnouncement(this.cluster, announcement, this.config.serviceType);
    if (this.phase === 'running') await Promise.all(this.endpoints.map((ep) => this.announce(ep, this.config.announceTtlS)));
  }

  peers(): DiscoveredPeer[] {
    return this.table.list();
  }

  on<T extends MdnsEventType | '*'>(type: T, listener: MdnsListener<T>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    const fn = listener as (e: MdnsEvent) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  stats(): Readonly<Record<MdnsCounter, number>> {
    return this.counters.snapshot();
  }

  // ---- lifecycle

  private async doStart(signal: AbortSignal | undefined): Promise<void> {
    checkAborted(signal, 'start');
    const plans = planSockets(this.config, this.nics());
    const opened: Endpoint[] = [];
    try {
      for (const plan of plans) opened.push({ socket: await openSocket(this.factory, plan, this.config, signal), plan, answerTimer: undefined });
      if (this.isStopped()) throw new MeshError('NOT_RUNNING', 'the mDNS discovery was stopped while starting');
      for (const ep of opened) this.attach(ep);
      this.endpoints = opened;
      // The first sends prove multicast can leave: no route shows up here, not at bind.
      for (const ep of opened) {
        const err = (await this.query(ep)) ?? (this.announcement !== undefined ? await this.announce(ep, this.config.announceTtlS) : undefined);
        if (err !== undefined) throw unavailable(err, `send on ${ep.plan.interfaceAddress ?? 'all interfaces'} port ${this.config.port}`);
      }
      checkAborted(signal, 'start');
      if (this.isStopped()) throw new MeshError('NOT_RUNNING', 'the mDNS discovery was stopped while starting');
    } catch (err) {
      this.endpoints = [];
      // Stopped mid-start after announcing: take the announcement back.
      if (this.isStopped() && this.announcement !== undefined) await Promise.all(opened.map((ep) => this.announce(ep, 0)));
      await Promise.all(opened.map((ep) => closeSocket(ep.socket)));
      throw err;
    }
    this.phase = 'running';
    this.log.info('mdns started', {
      serviceType: this.config.serviceType, port: this.config.port, interfaces: plans.map((p) => p.interfaceAddress ?? 'all'),
      announcing: this.announcement?.nodeId ?? null,
    });
    this.scheduleStartup(this.config.startupRepeats - 1);
    this.scheduleBrowse();
  }

  private async doStop(signal: AbortSignal | undefined): Promise<void> {
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    for (const t of [this.browseTimer, this.startupTimer, this.expiryTimer]) this.clock.clearTimeout(t);
    await this.startPromise?.catch(() => {});
    const eps = this.endpoints;
    this.endpoints = [];
    for (const ep of eps) this.clock.clearTimeout(ep.answerTimer);
    if (wasRunning && this.announcement !== undefined && !signal?.aborted) {
      await Promise.all(eps.map((ep) => this.announce(ep, 0)));
    }
    await Promise.all(eps.map((ep) => closeSocket(ep.socket)));
    this.table.clear();
    if (wasRunning) this.log.info('mdns stopped');
  }

  /** A method, not an inline test, because `stop()` may change the phase across an await. */
  private isStopped(): boolean {
    return this.phase === 'stopped';
  }

  private requireRunning(): void {
    if (this.phase !== 'running') throw new MeshError('NOT_RUNNING', this.phase === 'new' ? 'start the mDNS discovery first' : 'the mDNS discovery is stopped');
  }

  // ---- timers

  private scheduleStartup(left: number): void {
    if (left <= 0) return;
    this.startupTimer = this.clock.setTimeout(() => {
      if (this.phase !== 'running') return;
      for (const ep of this.endpoints) {
        void this.query(ep);
        if (this.announcement !== undefined) void this.announce(ep, this.config.announceTtlS);
      }
      this.scheduleStartup(left - 1);
    }, this.config.startupIntervalMs);
  }

  private scheduleBrowse(): void {
    const { browseIntervalMs: mean, browseJitter: j } = this.config;
    const delay = Math.round(mean * (1 - j + 2 * j * this.random.next()));
    this.browseTimer = this.clock.setTimeout(() => {
      if (this.phase !== 'running') return;
      for (const ep of this.endpoints) void this.query(ep);
      this.scheduleBrowse();
    }, delay);
  }

  private scheduleExpiry(): void {
    this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.table.nextExpiryMs();
    if (next === undefined || this.phase === 'stopped') return;
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      for (const peer of this.table.expire(this.clock.now())) {
        this.counters.inc('peersExpired');
        this.log.debug('mdns peer expired', { nodeId: peer.nodeId });
        this.emit({ type: 'expired', peer, reason: 'ttl' });
      }
      this.scheduleExpiry();
    }, next - this.clock.now());
  }

  // ---- sending

  private async query(ep: Endpoint): Promise<Error | undefined> {
    const q = browseQuery(this.config.serviceType, this.table.knownAnswers(this.clock.now()));
    this.counters.inc('queriesSent');
    return this.sent(await sendQuery(ep.socket, q.questions, q.answers));
  }

  private async announce(ep: Endpoint, ttlS: number): Promise<Error | undefined> {
    const a = this.announcement;
    if (a === undefined) return undefined;
    const records = announcementRecords(a, { serviceType: this.config.serviceType, ttlS, interfaceAddress: ep.plan.interfaceAddress });
    this.counters.inc(ttlS === 0 ? 'goodbyesSent' : 'responsesSent');
    return this.sent(await sendResponse(ep.socket, records));
  }

  private sent(err: Error | undefined): Error | undefined {
    if (err !== undefined) {
      this.counters.inc('sendErrors');
      this.log.debug('mdns send failed', { error: err.message });
    }
    return err;
  }

  // ---- receiving

  private attach(ep: Endpoint): void {
    const s = ep.socket;
    s.on('query', (packet: unknown, rinfo: { address: string }) => this.onQuery(ep, packet, rinfo.address));
    s.on('response', (packet: unknown, rinfo: { address: string }) => this.onResponse(ep, packet, rinfo.address));
    s.on('warning', (err: NodeJS.ErrnoException) => {
      if (err.syscall === undefined) {
        // multicast-dns could not decode the bytes at all.
        this.counters.inc('packetsReceived');
        this.counters.inc('malformedPackets');
      } else {
        this.counters.inc('socketErrors');
        this.log.warn('mdns socket warning', { interface: ep.plan.interfaceAddress ?? 'all', error: err.message });
      }
    });
    s.on('error', (err: Error) => {
      this.counters.inc('socketErrors');
      this.log.warn('mdns socket error', { interface: ep.plan.interfaceAddress ?? 'all', error: err.message });
    });
  }

  /** Counts the packet; false (counted) when it came from outside the socket's interface subnet. */
  private admit(ep: Endpoint, source: string): boolean {
    this.counters.inc('packetsReceived');
    if (ep.plan.subnet === undefined || inSubnet(source, ep.plan.subnet)) return true;
    this.counters.inc('otherSubnet');
    return false;
  }

  private onQuery(ep: Endpoint, packet: unknown, source: string): void {
    if (this.endpoints.length === 0 || !this.admit(ep, source)) return;
    this.counters.inc('queriesReceived');
    const tally: Tally = {};
    const decision = classifyQuery(packet, { serviceType: this.config.serviceType, nodeId: this.announcement?.nodeId, ttlS: this.config.announceTtlS }, tally);
    this.add(tally);
    if (decision === 'suppress') this.counters.inc('answersSuppressed');
    if (decision !== 'answer') return;
    this.counters.inc('queriesAnswered');
    if (ep.answerTimer !== undefined) return;
    ep.answerTimer = this.clock.setTimeout(() => {
      ep.answerTimer = undefined;
      if (this.endpoints.includes(ep)) void this.announce(ep, this.config.announceTtlS);
    }, this.random.int(this.config.responseJitterMs + 1));
  }

  private onResponse(ep: Endpoint, packet: unknown, source: string): void {
    if (this.endpoints.length === 0 || !this.admit(ep, source)) return;
    this.counters.inc('responsesReceived');
    const tally: Tally = {};
    const { peers, goodbyes } = decodeResponse(packet, {
      serviceType: this.config.serviceType, cluster: this.cluster, selfId: this.announcement?.nodeId, source,
    }, tally);
    this.add(tally);
    if (peers.length === 0 && goodbyes.length === 0) return;
    const now = this.clock.now();
    for (const g of goodbyes) {
      this.counters.inc('goodbyesReceived');
      const gone = this.table.goodbye(g);
      if (gone === undefined) continue;
      this.counters.inc('peersExpired');
      this.log.debug('mdns peer said goodbye', { nodeId: gone.nodeId });
      this.emit({ type: 'expired', peer: gone, reason: 'goodbye' });
    }
    for (const p of peers) {
      const seen = this.table.observe(p, now, ep.plan.interfaceAddress);
      if (seen.kind === 'full') {
        this.counters.inc('tableFull');
      } else if (seen.kind === 'new') {
        this.counters.inc('peersDiscovered');
        this.log.debug('mdns peer discovered', { nodeId: p.nodeId, gossip: p.gossipAddress, rpc: p.rpcAddress });
        this.emit({ type: 'peer', peer: seen.peer, previous: undefined });
      } else if (seen.kind === 'changed') {
        this.counters.inc('peersChanged');
        this.emit({ type: 'peer', peer: seen.peer, previous: seen.previous });
      }
    }
    this.scheduleExpiry();
  }

  private add(tally: Tally): void {
    for (const [k, n] of Object.entries(tally) as [MdnsCounter, number][]) this.counters.inc(k, n);
  }

  private emit(event: MdnsEvent): void {
    for (const set of [this.listeners.get(event.type), this.listeners.get('*')]) {
      if (set === undefined) continue;
      for (const fn of set) {
        try {
          fn(event);
        } catch (err) {
          this.counters.inc('listenerErrors');
          this.log.warn('mdns listener threw', { event: event.type, error: err instanceof Error ? err.message : String(err) });
        }
      }
    }
  }
}

/** An aborted signal fails the call with CANCELLED, as every async API does. */
function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new MeshError('CANCELLED', `mdns ${what}: aborted`, { cause: signal.reason });
}
