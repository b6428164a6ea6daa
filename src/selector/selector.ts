import type { Clock, Random } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import { NODE_PROTOCOL_KEY, speaksRpc, type Node, type Registry, type RegistryEvent, type Service, type Watcher } from '../registry/types.ts';
import { ejectionBackoffMs, isCancellation, isNodeError, parseSelectorConfig, type SelectorConfig } from './config.ts';
import { buildEntry, flatten, type CacheEntry } from './cache.ts';
import { NodeState, type ServiceState } from './state.ts';
import { Steering } from './steering.ts';
import { filterName } from './filters.ts';
import { leastLatency, random as randomStrategy, roundRobin } from './strategies.ts';
import type { CallOutcome, Filter, Next, NodeStats, SelectOptions, Selector, SelectorFigures, Strategy } from './types.ts';

export interface DefaultSelectorOptions {
  registry: Registry;
  /** Times ejections and cache expiry. Default SystemClock. */
  clock?: Clock;
  /** Draws for strategies and ejection jitter. Default SystemRandom. */
  random?: Random;
  /** Warns when a failing registry makes the selector serve a stale lookup. Default silent. */
  logger?: Logger;
  options?: Partial<SelectorConfig>;
}

const ID = 'micromesh.selector';

/**
 * Go Micro's registry selector, with Mark and Reset done for real.
 *
 * Lookups: the first `select` of a service watches it in the registry, then
 * reads it; the result (with its nodes flattened) is reused until a watch
 * event for the service arrives, so the hot path makes no registry call.
 * Events reach the selector asynchronously (a microtask later for in-process
 * registries); once one has, the old result is not served again unless the
 * registry then fails to answer (served for up to `staleCacheMs`, like Go
 * Micro's cache). Without a working watch, results are reused for `cacheTtlMs`.
 *
 * Health: `mark` keeps per-node in-flight counts, a latency EWMA and
 * consecutive node-level failures. At `failureThreshold` failures the node
 * is ejected for ejectionBackoffMs(k) (k = consecutive ejections: base
 * doubling to the cap, plus jitter). When the ejection ends the node is
 * eligible again (half-open): a success clears its record, a node-level
 * failure ejects it again at once for twice as long. Failures of calls that
 * were in flight while it was already ejected do not lengthen the ejection.
 * If every node that passed the filters is ejected, `next()` returns the one
 * whose ejection ends soonest rather than failing: errors alone never take a
 * whole service offline. `Next` reads ejections on every call, and avoids
 * the nodes it already returned while other eligible ones exist, so retries
 * land elsewhere.
 */
export class DefaultSelector implements Selector {
  readonly config: SelectorConfig;
  private readonly registry: Registry;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly leastLatency: Strategy;
  private readonly services = new Map<string, ServiceState>();
  private closed = false;
  /** Nodes returned by Next, by strategy name (`custom` for a function): a handful of keys. */
  private readonly picks: Record<string, number> = {};
  private ejections = 0;
  /** Suspicion and slow start: which nodes new calls avoid or ramp up to. */
  private readonly steer: Steering;
  /** Picks made while every candidate was ejected (the one back soonest was used). */
  private ejectedPicks = 0;

  constructor(opts: DefaultSelectorOptions) {
    this.config = parseSelectorConfig(opts.options);
    this.registry = opts.registry;
    this.clock = opts.clock ?? new SystemClock();
    this.random = opts.random ?? new SystemRandom();
    this.log = opts.logger ?? silentLogger;
    this.leastLatency = leastLatency({ latencyFloorMs: this.config.latencyFloorMs });
    this.steer = new Steering(this.config.slowStartMs);
  }

  select(service: string, opts?: SelectOptions): Next | Promise<Next> {
    try {
      if (this.closed) throw new MeshError('NOT_RUNNING', 'selector is closed', { id: ID });
      if (opts?.signal?.aborted) throw new MeshError('CANCELLED', `select of ${service} aborted`, { id: ID, cause: opts.signal.reason });
      const st = this.state(service);
      const entry = st.entry;
      // Watch-guarded entries never expire: no clock read on the hot path.
      if (entry !== undefined && (entry.expiresAt === Infinity || this.clock.now() < entry.expiresAt)) {
        return this.makeNext(st, entry, opts);
      }
      if (entry !== undefined) this.retire(st, entry.expiresAt);
      if (st.stale !== undefined && st.retryAt !== undefined && this.clock.now() < st.retryAt) return this.makeNext(st, st.stale, opts);
      return this.load(st).then((e) => this.makeNext(st, e, opts), (err: unknown) => {
        const stale = this.staleOnFailure(st, err);
        if (stale === undefined) throw err;
        return this.makeNext(st, stale, opts);
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  mark(service: string, node: Node, outcome?: CallOutcome): void {
    const s = this.services.get(service)?.stats.get(node.id);
    if (s === undefined) return; // never returned, reset or gone from the registry
    if (s.inflight > 0) s.inflight--;
    const err = outcome?.error;
    if (err !== undefined && err !== null) {
      if (isNodeError(err)) {
        this.failed(this.services.get(service)!, s);
        return;
      }
      if (isCancellation(err)) return;
    }
    // A success, or an application error: either way the node answered.
    s.failures = 0;
    s.ejections = 0;
    if (s.ejectedUntil !== 0) {
      s.ejectedUntil = 0;
      this.services.get(service)!.ejectGen++;
    }
    const latency = outcome?.latencyMs;
    if (latency !== undefined && Number.isFinite(latency) && latency >= 0) {
      s.ewmaLatencyMs = s.measured ? s.ewmaLatencyMs + this.config.ewmaAlpha * (latency - s.ewmaLatencyMs) : latency;
      s.measured = true;
    }
  }

  reset(service?: string): void {
    const clear = (st: ServiceState): void => {
      st.stats.clear();
      st.ejectedUntilMax = 0;
      st.ejectGen++;
      st.eligibleMemo = undefined;
    };
    if (service === undefined) for (const st of this.services.values()) clear(st);
    else {
      const st = this.services.get(service);
      if (st !== undefined) clear(st);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const st of this.services.values()) this.forget(st);
    this.services.clear();
  }

  /** A copy of the figures kept for `service`'s nodes, by node id (for dashboards and tests). */
  nodeStats(service: string): Map<string, NodeStats> {
    const out = new Map<string, NodeStats>();
    for (const [id, s] of this.services.get(service)?.stats ?? []) {
      out.set(id, { inflight: s.inflight, ewmaLatencyMs: s.ewmaLatencyMs, failures: s.failures, ejectedUntil: s.ejectedUntil });
    }
    return out;
  }

  /**
   * The membership suspects a node (SWIM: no answer to probes; `key` is
   * its id), or the RPC client finds its connection silent (`key` is its
   * address), or no longer does: new calls avoid a suspect while another
   * node is neither ejected nor suspect, so a silent host stops getting
   * calls within a fraction of a second, not once it is declared dead.
   */
  suspect(key: string, suspected: boolean): void {
    this.steer.suspect(key, suspected, this.clock.now());
  }

  /** Counts for metrics: ejections, picks by strategy, and the nodes ejected now. */
  figures(): SelectorFigures {
    const now = this.clock.now();
    let ejectedNow = 0;
    for (const st of this.services.values()) {
      if (st.ejectedUntilMax <= now) continue;
      for (const s of st.stats.values()) if (s.ejectedUntil > now) ejectedNow++;
    }
    return { ejections: this.ejections, ejectedNow, suspectedNow: this.steer.suspects.size, picks: { ...this.picks }, ejectedPicks: this.ejectedPicks, services: this.services.size };
  }

  private failed(st: ServiceState, s: NodeState): void {
    s.failures++;
    const now = this.clock.now();
    if (s.ejectedUntil > now) return; // a call that was in flight when the node got ejected
    if (s.failures < this.config.failureThreshold && s.ejections === 0) return;
    s.ejections++;
    this.ejections++;
    s.ejectedUntil = now + ejectionBackoffMs(s.ejections, this.config, this.random);
    if (s.ejectedUntil > st.ejectedUntilMax) st.ejectedUntilMax = s.ejectedUntil;
    st.ejectGen++;
  }

  private state(name: string): ServiceState {
    let st = this.services.get(name);
    if (st !== undefined) return st;
    if (this.services.size >= this.config.maxServices) {
      const oldest = this.services.values().next().value!;
      this.forget(oldest);
      this.services.delete(oldest.name);
    }
    const stats = new Map<string, NodeState>();
    st = {
      name, entry: undefined, stale: undefined, staleSince: 0, retryAt: undefined, gen: 0, loading: undefined, loadingGen: -1, watcher: undefined, stats, knownIds: undefined,
      ejectedUntilMax: 0, ejectGen: 0, eligibleMemo: undefined, roundRobin: undefined,
      ctx: { random: this.random, stats: (node) => stats.get(node.id) ?? new NodeState() },
    };
    this.services.set(name, st);
    return st;
  }

  private forget(st: ServiceState): void {
    const w = st.watcher;
    st.watcher = undefined;
    st.entry = undefined;
    st.gen++;
    w?.stop();
  }

  private load(st: ServiceState): Promise<CacheEntry> {
    if (st.loading !== undefined && st.loadingGen === st.gen) return st.loading;
    this.watch(st);
    const gen = st.gen;
    const p = this.registry.getService(st.name).then((services) => {
      const watched = st.watcher !== undefined && st.gen === gen;
      const entry = buildEntry(services, watched ? Infinity : this.clock.now() + this.config.cacheTtlMs);
      if (st.gen === gen && this.services.get(st.name) === st) {
        st.entry = entry;
        st.stale = undefined;
        st.retryAt = undefined;
        for (const id of st.stats.keys()) if (!entry.ids.has(id)) st.stats.delete(id);
        // Nodes new since the last lookup (not the first: a starting caller throttles nobody) warm up.
        if (st.knownIds !== undefined) this.steer.appeared(entry.ids, st.knownIds, this.clock.now());
        st.knownIds = entry.ids;
      }
      return entry;
    }).finally(() => {
      if (st.loading === p) st.loading = undefined;
    });
    st.loading = p;
    st.loadingGen = gen;
    return p;
  }

  /** Starts the service's watch if it has none; each event drops the cached lookup. */
  private watch(st: ServiceState): void {
    if (st.watcher !== undefined || this.closed) return;
    let w: Watcher;
    try {
      w = this.registry.watch({ service: st.name });
    } catch {
      return; // no watch: entries live for cacheTtlMs; retried at the next lookup
    }
    st.watcher = w;
    const it = w[Symbol.asyncIterator]();
    const ended = (): void => {
      if (st.watcher !== w) return;
      st.watcher = undefined;
      this.retire(st, this.clock.now()); // events may have been missed
      st.gen++;
    };
    const onEvent = (r: IteratorResult<RegistryEvent>): void => {
      if (st.watcher !== w) return;
      if (r.done) return ended();
      this.retire(st, this.clock.now());
      st.gen++;
      pull();
    };
    const pull = (): void => {
      it.next().then(onEvent, ended);
    };
    pull();
  }

  /** The current lookup stops being current at `since`; it is kept as the stale fallback. */
  private retire(st: ServiceState, since: number): void {
    if (st.entry === undefined) return;
    st.stale = st.entry;
    st.staleSince = since;
    st.entry = undefined;
  }

  /** The stale lookup to serve after the registry failed with `err`, if it is recent enough. */
  private staleOnFailure(st: ServiceState, err: unknown): CacheEntry | undefined {
    const stale = st.stale;
    const now = this.clock.now();
    const max = this.config.staleCacheMs;
    if (stale === undefined || this.closed || max === 0 || now - st.staleSince > max) return undefined;
    if (st.retryAt === undefined) {
      this.log.warn('registry lookup failed; serving the last known nodes', {
        service: st.name, nodes: stale.nodes.length, staleMs: now - st.staleSince, error: String(err),
      });
    }
    st.retryAt = now + this.config.cacheTtlMs;
    return stale;
  }

  private makeNext(st: ServiceState, entry: CacheEntry, opts: SelectOptions | undefined): Next {
    const candidates = this.candidates(st, entry, opts?.filters);
    const strategy = this.strategy(st, opts?.strategy);
    const choice = opts?.strategy ?? this.config.strategy;
    const label = typeof choice === 'function' ? 'custom' : choice;
    let first: Node | undefined; // the retry list is only allocated on a retry
    let tried: Node[] | undefined;
    return () => {
      this.picks[label] = (this.picks[label] ?? 0) + 1;
      let node: Node;
      if (first === undefined) node = first = this.pick(st, candidates, strategy);
      else {
        tried ??= [first];
        node = this.pickRetry(st, candidates, strategy, tried);
        if (tried.length >= candidates.length) tried.length = 0; // all tried: start a new round (bounded memory)
        tried.push(node);
      }
      let s = st.stats.get(node.id);
      if (s === undefined && (st.entry === undefined || st.entry.ids.has(node.id))) st.stats.set(node.id, (s = new NodeState()));
      if (s !== undefined) s.inflight++;
      return node;
    };
  }

  private candidates(st: ServiceState, entry: CacheEntry, filters: readonly Filter[] | undefined): readonly Node[] {
    if (entry.services.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `service ${st.name} is not registered`, { id: ID });
    let nodes: readonly Node[];
    if (filters === undefined || filters.length === 0) nodes = entry.nodes;
    else if (entry.memoFilters === filters) nodes = entry.memoNodes!;
    else {
      let services: Service[] = entry.services as Service[];
      for (const f of filters) services = f(services);
      nodes = flatten(services);
      entry.memoFilters = filters;
      entry.memoNodes = nodes;
    }
    if (nodes.length > 0) return nodes;
    const foreign = [...new Set(entry.services.flatMap((s) => s.nodes.filter((n) => !speaksRpc(n)).map((n) => n.metadata[NODE_PROTOCOL_KEY])))];
    if (foreign.length > 0 && (filters === undefined || filters.length === 0)) {
      throw new MeshError('NONE_AVAILABLE', `service ${st.name} has no node that speaks micromesh RPC: its nodes speak ${foreign.join(', ')} (reach an http one through the API gateway's proxy, /${st.name}/)`, { id: ID });
    }
    const seen = entry.services.map((s) => `${s.version === '' ? '(no version)' : s.version} (${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'})`).join(', ');
    const detail = filters === undefined || filters.length === 0
      ? `service ${st.name} has no nodes; versions seen: ${seen}`
      : `no node of ${st.name} passes filters [${filters.map(filterName).join(', ')}]; versions seen: ${seen}`;
    throw new MeshError('NONE_AVAILABLE', detail, { id: ID });
  }

  private strategy(st: ServiceState, s: SelectOptions['strategy']): Strategy {
    const choice = s ?? this.config.strategy;
    if (typeof choice === 'function') return choice;
    switch (choice) {
      case 'random':
        return randomStrategy;
      case 'roundRobin':
        return (st.roundRobin ??= roundRobin());
      case 'leastLatency':
        return this.leastLatency;
      default:
        throw new MeshError('INVALID_ARGUMENT', `unknown selector strategy ${JSON.stringify(choice)}`, { id: ID });
    }
  }

  /**
   * The nodes of `candidates` not ejected now and not suspected by the
   * membership; `candidates` itself (no copy) when none is either. When every
   * node left is suspected, those are eligible: suspicion only steers calls.
   */
  private eligible(st: ServiceState, candidates: readonly Node[]): readonly Node[] {
    const suspects = this.steer.suspects.size;
    if (st.ejectedUntilMax === 0 && suspects === 0) return candidates; // never ejected since the last reset: no clock read
    const now = st.ejectedUntilMax === 0 ? 0 : this.clock.now();
    if (now >= st.ejectedUntilMax && suspects === 0) return candidates;
    const m = st.eligibleMemo;
    if (m !== undefined && m.from === candidates && m.gen === st.ejectGen + this.steer.gen && now < m.validUntil) return m.nodes;
    let validUntil = Infinity;
    const nodes: Node[] = [];
    let suspected: Node[] | undefined;
    for (const n of candidates) {
      const until = st.stats.get(n.id)?.ejectedUntil ?? 0;
      if (until > now) validUntil = Math.min(validUntil, until);
      else if (suspects > 0 && this.steer.suspected(n)) (suspected ??= []).push(n);
      else nodes.push(n);
    }
    const out = nodes.length === 0 && suspected !== undefined ? suspected : nodes;
    st.eligibleMemo = { from: candidates, gen: st.ejectGen + this.steer.gen, validUntil, nodes: out };
    return out;
  }

  private pick(st: ServiceState, candidates: readonly Node[], strategy: Strategy): Node {
    const eligible = this.eligible(st, candidates);
    if (eligible.length === 0) return this.soonest(st, candidates, undefined);
    const n = strategy(eligible, st.ctx);
    if (this.steer.warming.size === 0 || eligible.length < 2 || this.steer.keeps(n, this.clock.now(), this.random)) return n;
    return strategy(eligible.filter((x) => x !== n), st.ctx);
  }

  /** A retry: prefer nodes this Next has not returned, then any but the last, then the last. */
  private pickRetry(st: ServiceState, candidates: readonly Node[], strategy: Strategy, tried: readonly Node[]): Node {
    const eligible = this.eligible(st, candidates);
    const last = tried[tried.length - 1]!;
    let pool = eligible.filter((n) => !tried.includes(n));
    if (pool.length === 0) pool = eligible.filter((n) => n !== last);
    if (pool.length > 0) return strategy(pool, st.ctx);
    if (eligible.length > 0) return eligible[0]!;
    return this.soonest(st, candidates, last);
  }

  /** Every candidate is ejected: the one back soonest, preferring one other than `avoid`. */
  private soonest(st: ServiceState, candidates: readonly Node[], avoid: Node | undefined): Node {
    this.ejectedPicks++;
    let best: Node | undefined;
    let bestUntil = Infinity;
    for (const n of candidates) {
      if (n === avoid && candidates.length > 1) continue;
      const until = st.stats.get(n.id)?.ejectedUntil ?? 0;
      if (best === undefined || until < bestUntil) {
        best = n;
        bestUntil = until;
      }
    }
    return best!;
  }
}
