import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import { RateLimitedLog } from '../log/limit.ts';
import type { Logger } from '../log/types.ts';
import { RPC_KEY } from '../membership/keys.ts';
import type { Membership, MemberView } from '../membership/types.ts';
import { INTERNAL_SERVICE, KV_DIGEST, KV_FETCH, KV_REPLICATE } from '../rpc/internal.ts';
import type { Client, Server } from '../rpc/types.ts';
import { fanoutFor, resolveKvConfig, type KvConfig } from './config.ts';
import { toBytes } from './core.ts';
import { MemoryKv, checkSignal } from './memory.ts';
import { KvSnapshots } from './persist.ts';
import { serveKv } from './serve.ts';
import { versionOf, type KvVersion } from './store.ts';
import { bucketHashes, differing, reconcile, stampsIn, type KeyStamp } from './sync.ts';
import {
  fromWireStamp, fromWireVersion, toWireStamp, toWireVersion,
  type DigestAnswer, type DigestRequest, type FetchAnswer, type FetchRequest, type ReplicateRequest,
} from './wire.ts';
import type { KvDeleteOptions, KvEntry, KvWriteOptions } from './types.ts';

const ID = 'micromesh.kv';
/** A writer with at most this many peers sends to all of them; beyond, to `fanout` and the rumor does the rest. */
const DIRECT_PEERS = 32;

export interface MeshKvOptions extends Partial<KvConfig> {
  /** This node's id (HLC tie-break). */
  node: string;
  /** The cluster name, for messages. */
  cluster?: string;
  /** The running membership (peers and their RPC addresses); undefined until the mesh started. */
  membership: () => Membership | undefined;
  client: Client;
  server: Server;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Where the store is kept across restarts; none: memory only. */
  dataDir?: string;
}

export type KvCounter = 'writes' | 'copiesSent' | 'copiesFailed' | 'forwarded' | 'received' | 'applied' | 'rejected' | 'malformed' | 'syncs' | 'syncFailures' | 'fetched' | 'pushed' | 'reaped';

/**
 * The key/value store on the mesh: every node holds all of it. A write is
 * stamped (HLC), applied here, and sent to `fanout` random peers; it
 * resolves once `writeCopies` nodes (or every live one, when fewer) hold it.
 * A node that learns a version first forwards it to `fanout` random peers
 * (rumor spreading: every node gets it in O(log N) hops, and the few a
 * rumor misses are repaired by anti-entropy). Every `antiEntropyIntervalMs`
 * each node compares bucket hashes with a random peer and exchanges what
 * differs; a member that joins is synced at once. Reads are local.
 */
export class MeshKv extends MemoryKv {
  override readonly name = 'mesh';
  override readonly scope: string;
  private readonly o: MeshKvOptions;
  private readonly cfg: KvConfig;
  private readonly log: RateLimitedLog;
  private readonly counts: Record<KvCounter, number> = {
    writes: 0, copiesSent: 0, copiesFailed: 0, forwarded: 0, received: 0, applied: 0, rejected: 0, malformed: 0, syncs: 0, syncFailures: 0, fetched: 0, pushed: 0, reaped: 0,
  };
  private readonly snapshots: KvSnapshots | undefined;
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private startedWallMs = 0;

  constructor(o: MeshKvOptions) {
    const cfg = resolveKvConfig(pick(o));
    super({ clock: o.clock, valueMaxBytes: cfg.valueMaxBytes, totalMaxBytes: cfg.totalMaxBytes, keyMaxBytes: cfg.keyMaxBytes }, o.node);
    this.o = o;
    this.cfg = cfg;
    this.scope = `the mesh "${o.cluster ?? 'micromesh'}"`;
    this.log = new RateLimitedLog(o.logger, o.clock);
    this.snapshots = o.dataDir === undefined ? undefined : new KvSnapshots({ dir: o.dataDir, core: this.core, clock: o.clock, delayMs: cfg.saveDelayMs, log: this.log });
    o.server.handleInternal(KV_REPLICATE.handler, { [KV_REPLICATE.method]: (req: ReplicateRequest) => this.onReplicate(req) });
    o.server.handleInternal(KV_DIGEST.handler, { [KV_DIGEST.method]: (req: DigestRequest) => this.onDigest(req) });
    o.server.handleInternal(KV_FETCH.handler, { [KV_FETCH.method]: (req: FetchRequest) => this.onFetch(req) });
    serveKv(o.server, this);
  }

  stats(): Readonly<Record<KvCounter, number>> & { keys: number; bytes: number; index: number } {
    return { ...this.counts, keys: this.core.state.size, bytes: this.core.state.totalBytes, index: this.core.state.lastIndex };
  }

  /** Loads the snapshot (with a data dir), follows the membership, starts anti-entropy. Idempotent. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.snapshots?.load();
    this.running = true;
    this.startedWallMs = this.o.clock.wallTime();
    const m = this.o.membership();
    this.unsubscribe = m?.subscribe((ev) => {
      // A new member gets everything at once rather than at its first round.
      if (ev.type === 'join') void this.syncWith(ev.member);
    });
    this.schedule();
  }

  /** Stops anti-entropy, ends watches and waits, writes the snapshot. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.unsubscribe?.();
    this.core.close();
    await this.snapshots?.flush();
  }

  override async put(key: string, value: Uint8Array | string, opts: KvWriteOptions = {}): Promise<KvEntry> {
    checkSignal(opts.signal);
    this.checkRunning();
    if (opts.cas !== undefined) throw noCas();
    const { version } = this.core.write(key, toBytes(value), opts.flags ?? 0);
    this.counts.writes++;
    this.snapshots?.changed();
    await this.spread([version], opts.signal);
    return this.core.state.get(key) ?? { key, value: version.value!, flags: version.flags, createIndex: 0, modifyIndex: 0 };
  }

  override async delete(key: string, opts: KvDeleteOptions = {}): Promise<number> {
    checkSignal(opts.signal);
    this.checkRunning();
    if (opts.cas !== undefined) throw noCas();
    const keys = this.keysToDelete(key, opts.recurse === true);
    const versions = keys.map((k) => this.core.write(k, null, 0).version);
    this.counts.writes += versions.length;
    this.snapshots?.changed();
    if (versions.length > 0) await this.spread(versions, opts.signal);
    return keys.length;
  }

  /**
   * Sends new versions to `fanout` random peers (who forward them on), and
   * resolves once `writeCopies` nodes, this one included, hold them; peers
   * beyond the fanout are asked in turn when some fail.
   */
  private async spread(versions: KvVersion[], signal?: AbortSignal): Promise<void> {
    const peers = this.o.random.shuffle(this.peers());
    const need = Math.min(this.cfg.writeCopies, peers.length + 1) - 1;
    const deadline = this.o.clock.now() + this.cfg.writeTimeoutMs;
    const batches = this.batches(versions);
    const send = async (peer: Peer): Promise<boolean> => {
      try {
        for (const e of batches) {
          const timeoutMs = Math.max(1, deadline - this.o.clock.now());
          await this.o.client.call(INTERNAL_SERVICE, KV_REPLICATE.endpoint, { e, f: true } satisfies ReplicateRequest, { address: peer.address, timeoutMs, retries: 0, signal });
        }
        this.counts.copiesSent++;
        return true;
      } catch (err) {
        this.counts.copiesFailed++;
        this.log.warn('kv-copy', 'a peer did not take a key/value copy', { peer: peer.id, error: String(err) });
        return false;
      }
    };
    const fanout = fanoutFor(this.cfg.fanout, peers.length + 1);
    // Up to DIRECT_PEERS peers get every copy straight from the writer: a rumor misses about e^-fanout of the
    // nodes (at 15 nodes, 7 % of writes waited for anti-entropy), and a few dozen calls per write cost little.
    const first = peers.length <= DIRECT_PEERS ? peers : peers.slice(0, Math.max(fanout, need));
    // Resolve once enough hold it; the other copies finish in the background (a slow or cut peer must not hold the write up).
    let held = 0;
    let onAbort = (): void => {};
    await new Promise<void>((resolve) => {
      onAbort = resolve;
      let settled = 0;
      if (need === 0 || first.length === 0) resolve();
      for (const peer of first) {
        void send(peer).then((ok) => {
          settled++;
          if (ok) held++;
          if (held >= need || settled === first.length) resolve();
        });
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    signal?.removeEventListener('abort', onAbort);
    for (const peer of peers.slice(first.length)) {
      if (held >= need || this.o.clock.now() >= deadline) break;
      if (await send(peer)) held++;
    }
    checkSignal(signal);
    if (held < need) {
      throw new MeshError('UNAVAILABLE', `the write reached ${held + 1} of the ${need + 1} nodes it needs (kv.writeCopies ${this.cfg.writeCopies}, ${peers.length + 1} live) within ${this.cfg.writeTimeoutMs} ms; it is kept here and spreads when peers answer`, { id: ID });
    }
  }

  /** Versions grouped into messages of at most batchMaxBytes of values. */
  private batches(versions: readonly KvVersion[]): ReturnType<typeof toWireVersion>[][] {
    const out: ReturnType<typeof toWireVersion>[][] = [[]];
    let bytes = 0;
    for (const v of versions) {
      const size = v.key.length + (v.value?.length ?? 0);
      if (bytes > 0 && bytes + size > this.cfg.batchMaxBytes) {
        out.push([]);
        bytes = 0;
      }
      out.at(-1)!.push(toWireVersion(v));
      bytes += size;
    }
    return out;
  }

  private onReplicate(req: ReplicateRequest): { n: number } {
    if (!this.running) throw new MeshError('NOT_RUNNING', 'the key/value store is not running here', { id: ID });
    const fresh = this.mergeAll(Array.isArray(req?.e) ? req.e : []);
    if (req?.f === true && fresh.length > 0) this.forward(fresh);
    return { n: fresh.length };
  }

  /** Merges untrusted wire versions; returns those that were new here. */
  private mergeAll(wire: readonly unknown[]): KvVersion[] {
    const fresh: KvVersion[] = [];
    for (const w of wire) {
      const v = fromWireVersion(w);
      this.counts.received++;
      if (v === undefined) {
        this.counts.malformed++;
        this.log.warn('kv-malformed', 'dropping a malformed key/value version from a peer');
        continue;
      }
      if (this.isResurrection(v)) {
        this.counts.rejected++;
        continue;
      }
      try {
        const before = this.core.state.record(v.key)?.hlc;
        this.core.merge(v);
        // New here (a delete of a key never seen included): held now, and not before.
        if (this.core.state.record(v.key)?.hlc !== before) {
          fresh.push(v);
          this.counts.applied++;
        }
      } catch (err) {
        // Over this node's limits: refused here (counted, logged); peers with room keep it.
        this.counts.rejected++;
        this.log.warn('kv-rejected', 'refusing a key/value version over this node\'s limits', { key: v.key.slice(0, 128), error: (err as MeshError).detail ?? String(err) });
      }
    }
    if (fresh.length > 0) this.snapshots?.changed();
    return fresh;
  }

  /**
   * A version of a key we do not hold, older than the tombstone lifetime,
   * on a node up longer than that: most likely a deleted key whose tombstone
   * was reaped here, coming back from a node that was away. Refused.
   */
  private isResurrection(v: KvVersion): boolean {
    const now = this.o.clock.wallTime();
    if (now - this.startedWallMs < this.cfg.tombstoneTtlMs) return false;
    return this.core.state.record(v.key) === undefined && now - v.hlc.wallMs > this.cfg.tombstoneTtlMs;
  }

  /** Rumor step: what was new here goes to `fanout` random peers, once. */
  private forward(versions: KvVersion[]): void {
    // Never back to the writer (it holds them): every copy goes to a node that may lack them.
    const origins = new Set(versions.map((v) => v.hlc.node));
    const all = this.peers();
    const peers = this.o.random.shuffle(all.filter((p) => !origins.has(p.id))).slice(0, fanoutFor(this.cfg.fanout, all.length + 1));
    for (const peer of peers) {
      for (const e of this.batches(versions)) {
        this.counts.forwarded++;
        this.o.client.call(INTERNAL_SERVICE, KV_REPLICATE.endpoint, { e, f: true } satisfies ReplicateRequest, { address: peer.address, timeoutMs: this.cfg.writeTimeoutMs, retries: 0 })
          .catch((err: unknown) => this.log.warn('kv-forward', 'forwarding a key/value version failed (anti-entropy repairs it)', { peer: peer.id, error: String(err) }));
      }
    }
  }

  private onDigest(req: DigestRequest): DigestAnswer {
    const theirs = Array.isArray(req?.b) ? req.b.map((x) => (typeof x === 'number' ? x >>> 0 : 0)) : [];
    const diff = differing(bucketHashes(this.core.state.all()), theirs);
    return { k: stampsIn(this.core.state.all(), diff).map(toWireStamp), d: [...diff] };
  }

  private onFetch(req: FetchRequest): FetchAnswer {
    const keys = Array.isArray(req?.k) ? req.k.filter((k): k is string => typeof k === 'string') : [];
    const out: KvVersion[] = [];
    let bytes = 0;
    let more = false;
    for (const key of keys) {
      const r = this.core.state.record(key);
      if (r === undefined) continue;
      const size = key.length + (r.value?.length ?? 0);
      if (out.length > 0 && bytes + size > this.cfg.batchMaxBytes) {
        more = true;
        break;
      }
      out.push(versionOf(r));
      bytes += size;
    }
    return { e: out.map(toWireVersion), more };
  }

  /** One anti-entropy exchange with `member`: both sides end with the newer version of every key they differ on. */
  private async syncWith(member: MemberView): Promise<void> {
    const address = member.data[RPC_KEY];
    if (!this.running || typeof address !== 'string') return;
    this.counts.syncs++;
    try {
      const call = <T>(endpoint: string, body: unknown): Promise<T> =>
        this.o.client.call<T>(INTERNAL_SERVICE, endpoint, body, { address, timeoutMs: this.cfg.writeTimeoutMs, retries: 0 });
      const mine = bucketHashes(this.core.state.all());
      const answer = await call<DigestAnswer>(KV_DIGEST.endpoint, { b: mine } satisfies DigestRequest);
      const stamps = (Array.isArray(answer?.k) ? answer.k : []).map(fromWireStamp).filter((s): s is KeyStamp => s !== undefined);
      const buckets = new Set((Array.isArray(answer?.d) ? answer.d : []).filter((b): b is number => Number.isInteger(b)));
      const own = stampsIn(this.core.state.all(), buckets).map((s) => this.core.state.record(s.key)!);
      const plan = reconcile((k) => this.core.state.record(k), own, stamps);
      let keys = plan.fetch;
      while (keys.length > 0 && this.running) {
        const got = await call<FetchAnswer>(KV_FETCH.endpoint, { k: keys } satisfies FetchRequest);
        const versions = Array.isArray(got?.e) ? got.e : [];
        this.counts.fetched += this.mergeAll(versions).length;
        if (got?.more !== true || versions.length === 0) break;
        keys = keys.slice(versions.length);
      }
      for (const e of this.batches(plan.push.map(versionOf))) {
        if (e.length === 0) continue;
        await call(KV_REPLICATE.endpoint, { e, f: false } satisfies ReplicateRequest);
        this.counts.pushed += e.length;
      }
    } catch (err) {
      this.counts.syncFailures++;
      this.log.warn('kv-sync', 'key/value anti-entropy with a peer failed', { peer: member.id, error: String(err) });
    }
  }

  private schedule(): void {
    if (!this.running) return;
    const every = this.cfg.antiEntropyIntervalMs;
    // ±25 % jitter: nodes started together do not sync in lockstep.
    this.timer = this.o.clock.setTimeout(() => {
      const peers = this.o.membership()?.members() ?? [];
      const peer = peers.length === 0 ? undefined : peers[this.o.random.int(peers.length)];
      const reaped = this.core.reap(this.cfg.tombstoneTtlMs);
      this.counts.reaped += reaped;
      if (reaped > 0) this.snapshots?.changed();
      void (peer === undefined ? Promise.resolve() : this.syncWith(peer)).finally(() => this.schedule());
    }, every * (0.75 + this.o.random.next() * 0.5));
  }

  private peers(): Peer[] {
    const out: Peer[] = [];
    for (const m of this.o.membership()?.members() ?? []) {
      const address = m.data[RPC_KEY];
      if (typeof address === 'string') out.push({ id: m.id, address });
    }
    return out;
  }

  private checkRunning(): void {
    if (!this.running) throw new MeshError('NOT_RUNNING', 'the key/value store runs with its service: start the service first', { id: ID });
  }
}

interface Peer {
  id: string;
  address: string;
}

function pick(o: MeshKvOptions): Partial<KvConfig> {
  const { node: _n, cluster: _cl, membership: _m, client: _c, server: _s, clock: _k, random: _r, logger: _l, dataDir: _d, ...cfg } = o;
  return cfg;
}

/** Check-and-set on an eventually consistent store would let two writers both win: refused, with where to get it. */
export function noCas(): MeshError {
  return new MeshError('NOT_IMPLEMENTED', 'check-and-set needs linearizable storage, which the mesh\'s eventually consistent key/value store is not; use an etcd-backed store (createService({ kv: { etcd: {...} } }) or --registry etcd://...) for cas and locks (docs/kv.md)', { id: ID });
}
