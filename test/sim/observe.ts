// What the simulator sees: it listens to the nodes' own events (each carries
// `atMs`, the virtual time it happened) and turns them into the figures:
// detection times of failures, dissemination times of news, false positives,
// and a digest of the whole event log for determinism checks.
import { createHash, type Hash } from 'node:crypto';
import type { SwimEvent, SwimEventType } from '../../src/swim/types.ts';
import type { SimHost } from './cluster.ts';

/** A member the simulator made fail, and who has noticed. */
interface Failure {
  readonly id: string;
  readonly atMs: number;
  /** Deaths about this incarnation or older are true; about a newer one (a restart) they are false. */
  readonly incarnation: number;
  /** Observers expected to declare it dead, and when each did (NaN until then). */
  readonly deadAt: Map<string, number>;
  deadCount: number;
  firstMs: number | undefined;
  firstDeadMs: number | undefined;
  everywhereMs: number | undefined;
}

/** A piece of news (an update, a join) and how many of the members expected to learn it have. */
interface News {
  readonly startMs: number;
  readonly waiting: Set<string>;
  firstMs: number | undefined;
  doneMs: number | undefined;
}

export class Observer {
  /** Events seen, all types watched. */
  events = 0;
  falsePositives = 0;
  falsePositivesHealthy = 0;
  readonly falselyDeclared = new Set<string>();
  /** Members that stall now and then (the stall scenario): a death about them is still false, but not about a healthy member. */
  readonly slow = new Set<string>();
  /**
   * How to judge a death of a member that did not fail (partitions): a
   * death `expected` across a split; a `stale` verdict (one reached across
   * the split, arriving after the heal, before the member refuted); or
   * `false` (the default): a false positive.
   */
  judge: (observer: string, member: string, incarnation: number) => 'expected' | 'stale' | 'false' = () => 'false';
  /** Deaths judged stale (see judge). */
  staleDeaths = 0;
  /** Called on each false positive (for debugging a scenario). */
  onFalsePositive: ((observer: string, member: string, incarnation: number, atMs: number) => void) | undefined;
  private readonly failures = new Map<string, Failure>();
  /** The newest incarnation of each member whose process really ended: deaths about it (or older lives) are true. */
  private readonly ended = new Map<string, number>();
  private readonly news = new Map<string, News>();
  private readonly hash: Hash = createHash('sha256');

  /** Subscribes to `types` on `host` (suspect, dead and alive are what failures and false positives need). */
  attach(host: SimHost, types: readonly SwimEventType[]): void {
    for (const t of types) host.node.on(t, (e) => this.onEvent(host.name, e));
  }

  /**
   * `id` fails now (at `incarnation`): start timing its detection by
   * `observers`, the members alive at that moment.
   */
  failed(id: string, atMs: number, incarnation: number, observers: readonly string[]): void {
    this.ended.set(id, Math.max(incarnation, this.ended.get(id) ?? -1));
    const deadAt = new Map<string, number>();
    for (const o of observers) if (o !== id) deadAt.set(o, Number.NaN);
    this.failures.set(id, { id, atMs, incarnation, deadAt, deadCount: 0, firstMs: undefined, firstDeadMs: undefined, everywhereMs: undefined });
  }

  /**
   * Stops timing the detection of `id`'s failure (it restarted before
   * everyone noticed). Deaths about its ended life stay true; about the new
   * one, false.
   */
  recovered(id: string): void {
    this.failures.delete(id);
  }

  /** Whether every observer of every failure has declared it dead. */
  allDetected(): boolean {
    for (const f of this.failures.values()) if (f.deadCount < f.deadAt.size) return false;
    return true;
  }

  /** Starts timing `key` (see newsKey) until each of `observers` has seen it. */
  expect(key: string, startMs: number, observers: Iterable<string>): void {
    this.news.set(key, { startMs, waiting: new Set(observers), firstMs: undefined, doneMs: undefined });
  }

  /** Marks `observer` as knowing `key` (for news the simulator polls rather than hears). */
  learned(key: string, observer: string, atMs: number): void {
    const n = this.news.get(key);
    if (n === undefined || !n.waiting.delete(observer)) return;
    n.firstMs ??= atMs;
    if (n.waiting.size === 0) n.doneMs = atMs;
  }

  /** An observer no longer counts (it crashed): stop waiting for it. */
  observerGone(observer: string, atMs: number): void {
    for (const n of this.news.values()) {
      if (n.waiting.delete(observer) && n.waiting.size === 0 && n.doneMs === undefined) n.doneMs = atMs;
    }
    for (const f of this.failures.values()) {
      if (f.deadAt.has(observer) && Number.isNaN(f.deadAt.get(observer)!)) {
        f.deadAt.delete(observer);
        if (f.deadCount === f.deadAt.size && f.everywhereMs === undefined) f.everywhereMs = atMs;
      }
    }
  }

  /** Whether every expected piece of news has reached everyone. */
  allNewsDone(): boolean {
    for (const n of this.news.values()) if (n.doneMs === undefined) return false;
    return true;
  }

  pendingNews(key: string): ReadonlySet<string> | undefined {
    return this.news.get(key)?.waiting;
  }

  /** The samples: detection and dissemination times, in ms. */
  figures(): { firstSuspect: number[]; detectDead: number[]; deadEverywhere: number[]; disseminate: number[]; deathNews: number[]; undetected: number } {
    const firstSuspect: number[] = [];
    const detectDead: number[] = [];
    const deadEverywhere: number[] = [];
    const deathNews: number[] = [];
    let undetected = 0;
    for (const f of this.failures.values()) {
      if (f.firstMs !== undefined) firstSuspect.push(f.firstMs - f.atMs);
      for (const t of f.deadAt.values()) {
        if (Number.isNaN(t)) undetected++;
        else detectDead.push(t - f.atMs);
      }
      if (f.everywhereMs !== undefined) {
        deadEverywhere.push(f.everywhereMs - f.atMs);
        if (f.firstDeadMs !== undefined) deathNews.push(f.everywhereMs - f.firstDeadMs);
      }
    }
    const disseminate: number[] = [];
    for (const n of this.news.values()) if (n.doneMs !== undefined) disseminate.push(n.doneMs - n.startMs);
    return { firstSuspect, detectDead, deadEverywhere, disseminate, deathNews, undetected };
  }

  /** sha256 of every event seen (time, observer, type, member, incarnation), in order. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  private onEvent(observer: string, e: SwimEvent): void {
    this.events++;
    const m = e.member;
    this.hash.update(`${e.atMs}|${observer}|${e.type}|${m.id}|${m.incarnation}|${m.metaVersion}\n`);
    switch (e.type) {
      case 'suspect':
        this.onSuspect(m.id, m.incarnation, e.atMs);
        return;
      case 'dead':
        this.onDead(observer, m.id, m.incarnation, e.atMs);
        return;
      case 'alive': // a member we held suspect publishes news as an alive, not an update
      case 'update':
        this.learned(newsKey(m.id, m.metaVersion), observer, e.atMs);
        return;
      case 'join':
        this.learned(newsKey(m.id), observer, e.atMs);
        return;
      default:
    }
  }

  private onSuspect(id: string, incarnation: number, atMs: number): void {
    const f = this.failures.get(id);
    if (f !== undefined && incarnation <= f.incarnation) f.firstMs ??= atMs;
  }

  private onDead(observer: string, id: string, incarnation: number, atMs: number): void {
    const f = this.failures.get(id);
    if (f !== undefined && incarnation <= f.incarnation) {
      f.firstMs ??= atMs;
      f.firstDeadMs ??= atMs;
      const prev = f.deadAt.get(observer);
      if (prev !== undefined && Number.isNaN(prev)) {
        f.deadAt.set(observer, atMs);
        f.deadCount++;
        if (f.deadCount === f.deadAt.size) f.everywhereMs = atMs;
      }
      return;
    }
    if (incarnation <= (this.ended.get(id) ?? -1)) return;
    const verdict = this.judge(observer, id, incarnation);
    if (verdict === 'stale') this.staleDeaths++;
    if (verdict !== 'false') return;
    this.falsePositives++;
    this.onFalsePositive?.(observer, id, incarnation, atMs);
    if (!this.slow.has(id)) this.falsePositivesHealthy++;
    this.falselyDeclared.add(`${id}@${incarnation}`);
  }
}

/** The key of a piece of news: a member's join, or its metadata at `metaVersion`. */
export function newsKey(id: string, metaVersion?: number): string {
  return metaVersion === undefined ? `join:${id}` : `meta:${id}#${metaVersion}`;
}
