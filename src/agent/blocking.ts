import { MeshError, type Clock, type Random, type TimerHandle } from '../index.ts';
import { scopeIndex } from './catalog.ts';
import { parseGoDuration } from './go-duration.ts';
import type { CatalogSnapshot } from './types.ts';

/** Consul's blocking-query bounds (agent/config/default.go): default 5 min, at most 10. */
export const DEFAULT_WAIT_MS = 300_000;
export const MAX_WAIT_MS = 600_000;

export interface BlockingQuery {
  /** The client's last X-Consul-Index; 0 answers at once. */
  index: number;
  waitMs: number;
}

/**
 * `?index=N&wait=D` as Consul reads them: no index (or 0) is no blocking;
 * `wait` is a Go duration (`10s`, `5m`, and the Go client's `120000ms`),
 * default 5 min, capped at 10; a bad value is a 400 naming the parameter.
 */
export function parseBlocking(query: Record<string, string | undefined>): BlockingQuery {
  const rawIndex = query.index;
  let index = 0;
  if (rawIndex !== undefined && rawIndex !== '') {
    if (!/^\d{1,20}$/.test(rawIndex)) throw new MeshError('BAD_REQUEST', `index must be an unsigned integer, got "${rawIndex}"`, { id: 'micromesh.agent' });
    index = Number(rawIndex);
  }
  let waitMs = DEFAULT_WAIT_MS;
  if (query.wait !== undefined && query.wait !== '') {
    const ms = parseGoDuration(query.wait);
    if (ms === undefined) throw new MeshError('BAD_REQUEST', `wait must be a duration like 10s, 5m or 120000ms, got "${query.wait}"`, { id: 'micromesh.agent' });
    waitMs = Math.min(MAX_WAIT_MS, ms);
  }
  return { index, waitMs };
}

/** How long a blocking query may wait: its `wait` plus up to wait/16 of jitter, as Consul adds, so many clients do not return together. */
export function jitteredWaitMs(q: BlockingQuery, random: Random): number {
  return q.waitMs + Math.floor(random.next() * (q.waitMs / 16));
}

interface Waiter {
  scope: string;
  index: number;
  resolve: (snap: CatalogSnapshot) => void;
  timer: TimerHandle | undefined;
}

/**
 * Blocked requests, woken by a new snapshot whose scope moved past the
 * index they sent, or by their wait (jitteredWaitMs). A query whose
 * index is behind, or 0, answers at once.
 */
export class Blocking {
  private readonly waiters = new Set<Waiter>();
  private readonly clock: Clock;
  private readonly random: Random;
  private current: () => CatalogSnapshot;

  constructor(o: { clock: Clock; random: Random; current: () => CatalogSnapshot }) {
    this.clock = o.clock;
    this.random = o.random;
    this.current = o.current;
  }

  /** The snapshot to answer from: at once, or when `scope` moves past `q.index`, or at the wait's end, or when `signal` aborts. */
  wait(scope: string, q: BlockingQuery, signal?: AbortSignal): Promise<CatalogSnapshot> {
    const now = this.current();
    if (q.index === 0 || scopeIndex(now, scope) > q.index || q.waitMs === 0 || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = { scope, index: q.index, timer: undefined, resolve: () => {} };
      const done = (): void => {
        if (!this.waiters.delete(w)) return;
        this.clock.clearTimeout(w.timer);
        signal?.removeEventListener('abort', done);
        resolve(this.current());
      };
      w.resolve = done;
      w.timer = this.clock.setTimeout(done, jitteredWaitMs(q, this.random));
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(w);
    });
  }

  /** A new snapshot: wakes every waiter whose scope moved. */
  changed(snap: CatalogSnapshot): void {
    for (const w of [...this.waiters]) if (scopeIndex(snap, w.scope) > w.index) w.resolve(snap);
  }

  /** Answers every waiter now (the server stops). */
  releaseAll(): void {
    for (const w of [...this.waiters]) w.resolve(this.current());
  }

  get blocked(): number {
    return this.waiters.size;
  }
}
