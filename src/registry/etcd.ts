import type { Etcd3, IKeyValue, Watcher as EtcdWatcher } from 'etcd3';
import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { RateLimitedLog } from '../log/limit.ts';
import { silentLogger } from '../log/silent.ts';
import type { Logger } from '../log/types.ts';
import { EtcdCache } from './etcd-cache.ts';
import { decodeRecord, encodeRecord, nodeKey } from './etcd-codec.ts';
import { ETCD_MIN_TTL_MS, resolveEtcdConfig, type EtcdRegistryConfig, type EtcdRegistryOptions } from './etcd-config.ts';
import { EtcdLeases } from './etcd-leases.ts';
import { abortable, connectEtcd, ETCD_ERROR_ID as ID, jitter, notRunning, RETRY_MAX_MS, RETRY_MIN_MS, unavailable } from './etcd-util.ts';
import type { QueryOptions, RegisterOptions, Registry, Service, WatchOptions, Watcher } from './types.ts';
import { checkSignal, copyService, validateService } from './util.ts';

export type { EtcdRegistryOptions } from './etcd-config.ts';

/**
 * A Registry on etcd v3, in go-micro's key layout (docs/registry-etcd.md), so
 * Go services on go-micro's etcd registry and micromesh services find each
 * other.
 *
 * - Each registered node is a key under its own lease, kept alive by the
 *   etcd3 client. A lost lease (expired while etcd was unreachable, revoked,
 *   or gone with a wiped etcd) is granted again and the node put again, with
 *   retries, without the service doing anything.
 * - Lookups read a local index built from one listing and kept by a prefix
 *   watch: no round trip per call. While etcd is unreachable the last index
 *   is served; on its return the prefix is listed again (the differences are
 *   emitted as events) and watched from that revision.
 * - `register`/`deregister` return once this registry's own index shows the
 *   change (while the watch is up), so a lookup right after sees it.
 * - The etcd3 client is imported on first use: `import 'micromesh'` loads no gRPC.
 */
export class EtcdRegistry implements Registry {
  readonly name = 'etcd';
  private readonly cfg: EtcdRegistryConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly rlog: RateLimitedLog;
  private readonly cache = new EtcdCache();
  private readonly leases: EtcdLeases;
  private readonly revWaiters = new Set<{ rev: number; done: () => void }>();
  private clientP: Promise<Etcd3> | undefined;
  private client: Etcd3 | undefined;
  private attempt: Promise<void> | undefined;
  private loaded = false;
  private live = false;
  /** Bumped whenever the etcd watcher is replaced, so a stale watcher's events are ignored. */
  private gen = 0;
  private etcdWatcher: EtcdWatcher | undefined;
  private resyncTimer: TimerHandle | undefined;
  private resyncMs = RETRY_MIN_MS;
  private closing: Promise<void> | undefined;
  private malformedCount = 0;

  constructor(opts: EtcdRegistryOptions = {}) {
    this.cfg = resolveEtcdConfig(opts);
    this.clock = opts.clock ?? new SystemClock();
    this.random = opts.random ?? new SystemRandom();
    this.logger = (opts.logger ?? silentLogger).child({ component: 'registry-etcd' });
    this.rlog = new RateLimitedLog(this.logger, this.clock);
    this.leases = new EtcdLeases({
      client: () => this.getClient(),
      closed: () => this.closing !== undefined,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      rlog: this.rlog,
    });
  }

  /** Values under the prefix skipped as not go-micro records (someone else's keys, bad JSON), since construction. */
  get malformed(): number {
    return this.malformedCount;
  }

  async register(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    const ttlMs = opts.ttlMs ?? this.cfg.ttlMs;
    if (!(Number.isFinite(ttlMs) && ttlMs >= ETCD_MIN_TTL_MS)) {
      throw new MeshError('INVALID_ARGUMENT', `ttlMs must be at least ${ETCD_MIN_TTL_MS} (etcd's shortest lease is 2 s), got ${ttlMs}`, { id: ID });
    }
    const s = copyService(service);
    const keys = s.nodes.map((n) => nodeKey(this.cfg.prefix, s.name, n.id));
    await this.ensureLoaded(opts.signal);
    let rev = 0;
    for (let i = 0; i < s.nodes.length; i++) {
      const key = keys[i]!;
      const value = encodeRecord(s, s.nodes[i]!);
      const ttlSec = Math.ceil(ttlMs / 1000);
      rev = Math.max(rev, await this.leases.put(key, s, value, ttlSec, opts.signal));
    }
    await this.waitRevision(rev, opts.signal);
  }

  async deregister(service: Service, opts: RegisterOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    validateService(service);
    await this.ensureLoaded(opts.signal);
    let rev = 0;
    for (const n of service.nodes ?? []) {
      const key = nodeKey(this.cfg.prefix, service.name, n.id);
      rev = Math.max(rev, await this.leases.delete(key, service.name, service.version, opts.signal));
    }
    await this.waitRevision(rev, opts.signal);
  }

  async getService(name: string, opts: QueryOptions = {}): Promise<Service[]> {
    checkSignal(opts.signal);
    if (!this.loaded || this.closing !== undefined) await this.ensureLoaded(opts.signal);
    return this.cache.get(name);
  }

  async listServices(opts: QueryOptions = {}): Promise<Service[]> {
    checkSignal(opts.signal);
    if (!this.loaded || this.closing !== undefined) await this.ensureLoaded(opts.signal);
    return this.cache.list();
  }

  /** Events from the local index; starts watching etcd if nothing did yet (a failure is retried in the background). */
  watch(opts: WatchOptions = {}): Watcher {
    const w = this.cache.watch(opts);
    if (this.closing === undefined && !this.loaded) this.startSync().catch(() => undefined);
    if (this.closing !== undefined) w.stop();
    return w;
  }

  /** Stops watching, revokes the leases of the nodes registered here (they leave at once) and closes the client. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- the watched index --------------------------------------------------

  /** Resolves once the index has been listed at least once; the first listing failing rejects (UNAVAILABLE). */
  private async ensureLoaded(signal: AbortSignal | undefined): Promise<void> {
    if (this.closing !== undefined) throw notRunning();
    if (this.loaded) return;
    await abortable(this.startSync(), signal);
  }

  private startSync(): Promise<void> {
    if (this.attempt !== undefined) return this.attempt;
    this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    const attempt = this.resync().then(
      () => {
        this.attempt = undefined;
        this.resyncMs = RETRY_MIN_MS;
      },
      (err: unknown) => {
        this.attempt = undefined;
        this.scheduleResync();
        throw err instanceof MeshError ? err : unavailable('list', err);
      },
    );
    this.attempt = attempt;
    return attempt;
  }

  /** Lists the prefix into the index (emitting what changed), then watches from the listing's revision on. */
  private async resync(): Promise<void> {
    const client = await this.getClient();
    const gen = ++this.gen;
    this.dropWatcher();
    const res = await client.getAll().prefix(this.cfg.prefix).exec();
    if (this.closing !== undefined || gen !== this.gen) return;
    const revision = Number(res.header.revision);
    const entries = [];
    for (const kv of res.kvs) {
      const e = this.decode(kv);
      if (e !== undefined) entries.push(e);
    }
    this.cache.replace(entries, revision);
    this.loaded = true;
    const w = await client.watch().prefix(this.cfg.prefix).startRevision(String(revision + 1)).create();
    if (this.closing !== undefined || gen !== this.gen) {
      w.cancel().catch(() => undefined);
      return;
    }
    this.etcdWatcher = w;
    this.live = true;
    w.on('put', (kv) => {
      if (gen !== this.gen) return;
      const e = this.decode(kv);
      if (e === undefined) this.cache.delete(kv.key.toString('utf8'));
      else this.cache.put(e.key, e.record, e.modRevision);
    });
    w.on('delete', (kv) => {
      if (gen === this.gen) this.cache.delete(kv.key.toString('utf8'));
    });
    w.on('data', (r) => {
      if (gen === this.gen) this.noteRevision(Number(r.header.revision));
    });
    w.on('disconnected', (err) => this.onWatchBroken(gen, err));
    w.on('error', (err) => this.onWatchBroken(gen, err));
    this.noteRevision(revision);
  }

  private onWatchBroken(gen: number, err: unknown): void {
    if (gen !== this.gen || this.closing !== undefined) return;
    this.gen++;
    this.dropWatcher();
    this.rlog.warn('watch-lost', 'etcd watch lost; serving the last registry until etcd is back', { error: String(err) });
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.closing !== undefined || this.resyncTimer !== undefined || this.attempt !== undefined) return;
    const ms = jitter(this.random, this.resyncMs);
    this.resyncMs = Math.min(this.resyncMs * 2, RETRY_MAX_MS);
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      this.startSync().catch(() => undefined); // a failure schedules the next try
    }, ms);
  }

  private dropWatcher(): void {
    this.live = false;
    const w = this.etcdWatcher;
    this.etcdWatcher = undefined;
    w?.removeAllListeners();
    w?.on('error', () => undefined); // a late error from a cancelled watcher must not throw
    w?.cancel().catch(() => undefined);
    this.releaseWaiters();
  }

  private decode(kv: IKeyValue): { key: string; record: Service; modRevision: number } | undefined {
    const key = kv.key.toString('utf8');
    const rec = decodeRecord(kv.value.toString('utf8'));
    if (typeof rec === 'string') {
      this.malformedCount++;
      this.rlog.warn('malformed', 'skipping a value under the etcd prefix that is not a go-micro service record', { key, reason: rec, malformed: this.malformedCount });
      return undefined;
    }
    return { key, record: rec, modRevision: Number(kv.mod_revision) };
  }

  private noteRevision(rev: number): void {
    if (rev > this.cache.revision) this.cache.revision = rev;
    for (const w of this.revWaiters) if (w.rev <= this.cache.revision) w.done();
  }

  /** Waits until the index reflects revision `rev`, unless the watch is down (then there is nothing to wait for). */
  private waitRevision(rev: number, signal: AbortSignal | undefined): Promise<void> {
    if (rev <= this.cache.revision || !this.live) return Promise.resolve();
    return abortable(new Promise<void>((resolve) => {
      const w = { rev, done: () => { this.revWaiters.delete(w); resolve(); } };
      this.revWaiters.add(w);
    }), signal);
  }

  private releaseWaiters(): void {
    for (const w of [...this.revWaiters]) w.done();
  }

  // ---- plumbing -----------------------------------------------------------

  private getClient(): Promise<Etcd3> {
    if (this.closing !== undefined) return Promise.reject(notRunning());
    this.clientP ??= this.createClient().catch((err: unknown) => {
      this.clientP = undefined;
      throw err;
    });
    return this.clientP;
  }

  private async createClient(): Promise<Etcd3> {
    const client = await connectEtcd(this.cfg.hosts, this.clock, this.cfg.dialTimeoutMs, 'EtcdRegistry');
    if (this.closing !== undefined) {
      client.close();
      throw notRunning();
    }
    this.client = client;
    return client;
  }

  private async shutdown(): Promise<void> {
    this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.gen++;
    this.dropWatcher();
    this.cache.closeWatchers();
    await this.leases.revokeAll();
    const client = this.client ?? (await this.clientP?.catch(() => undefined));
    client?.close();
  }
}

