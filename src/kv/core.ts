import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import { AsyncQueue } from '../registry/watcher.ts';
import { HybridClock, type Hlc } from './hlc.ts';
import { KvState, checkKey, type KvChange, type KvLimits, type KvVersion } from './store.ts';
import type { KvEvent, KvWatcher } from './types.ts';

const ID = 'micromesh.kv';
/** Largest flags value: Consul's are uint64, ours must stay exact in a JS number. */
export const MAX_FLAGS = Number.MAX_SAFE_INTEGER;

/**
 * What every key/value implementation on KvState shares: stamping local
 * writes, merging remote versions, and telling watchers and blocked index
 * waits about each change. No I/O.
 */
export class KvCore {
  readonly state: KvState;
  readonly hlc: HybridClock;
  readonly clock: Clock;
  private readonly limits: KvLimits;
  private readonly watchers = new Set<{ prefix: string; queue: AsyncQueue<KvEvent> }>();
  private readonly waiters = new Set<{ prefix: string; after: number; resolve: (index: number) => void }>();

  constructor(o: { node: string; clock: Clock; limits: KvLimits }) {
    this.clock = o.clock;
    this.limits = o.limits;
    this.state = new KvState(o.limits);
    // Wall time on purpose: the HLC orders writes across nodes, and tombstone ages survive restarts (snapshots).
    this.hlc = new HybridClock(o.node, () => o.clock.wallTime());
  }

  /** A local write (value null: delete), stamped now; the version to replicate, and whether anything changed. */
  write(key: string, value: Uint8Array | null, flags: number): { version: KvVersion; change: KvChange | undefined } {
    if (!Number.isInteger(flags) || flags < 0 || flags > MAX_FLAGS) {
      throw new MeshError('INVALID_ARGUMENT', `flags must be an integer in [0, ${MAX_FLAGS}], got ${flags}`, { id: ID });
    }
    this.state.checkWrite(key, value);
    const version: KvVersion = { key, value, flags, hlc: this.hlc.now() };
    return { version, change: this.commit(version) };
  }

  /** A version from a peer: applied when newer. Throws (STORAGE_FULL, PAYLOAD_TOO_LARGE) when it breaks this node's limits. */
  merge(v: KvVersion, deletedAtMs?: number): KvChange | undefined {
    this.hlc.observe(v.hlc);
    return this.commit(v, deletedAtMs);
  }

  checkKey(key: unknown, allowEmpty = false): asserts key is string {
    checkKey(key, this.limits, allowEmpty);
  }

  watch(prefix: string, signal?: AbortSignal): KvWatcher {
    if (typeof prefix !== 'string') throw new MeshError('INVALID_ARGUMENT', 'prefix must be a string', { id: ID });
    const w = { prefix, queue: undefined as unknown as AsyncQueue<KvEvent> };
    w.queue = new AsyncQueue<KvEvent>({ signal, onClose: () => this.watchers.delete(w) });
    this.watchers.add(w);
    return w.queue;
  }

  waitIndex(prefix: string, after: number, signal?: AbortSignal): Promise<number> {
    const now = this.state.prefixIndex(prefix);
    if (now > after || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w = {
        prefix, after,
        resolve: (index: number) => {
          this.waiters.delete(w);
          signal?.removeEventListener('abort', onAbort);
          resolve(index);
        },
      };
      const onAbort = (): void => w.resolve(this.state.prefixIndex(prefix));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  /** Ends every watch and wait (the store stops). */
  close(): void {
    for (const w of [...this.watchers]) w.queue.stop();
    for (const w of [...this.waiters]) w.resolve(this.state.prefixIndex(w.prefix));
  }

  /** Reaps tombstones older than `afterMs`; a reap moves prefix indexes, so waits re-check. */
  reap(afterMs: number): number {
    const n = this.state.reap(this.clock.wallTime(), afterMs);
    if (n > 0) this.wake();
    return n;
  }

  /** `deletedAtMs`: when a tombstone was made, if not now (a snapshot's, so its age survives a restart). */
  private commit(v: KvVersion, deletedAtMs?: number): KvChange | undefined {
    const change = this.state.apply(v, deletedAtMs ?? this.clock.wallTime());
    if (change === undefined) return undefined;
    const key = change.type === 'put' ? change.entry.key : change.key;
    for (const w of this.watchers) if (key.startsWith(w.prefix)) w.queue.push(change);
    this.wake();
    return change;
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      const index = this.state.prefixIndex(w.prefix);
      if (index > w.after) w.resolve(index);
    }
  }
}

/** Values as callers give them: bytes as is, strings as UTF-8. */
export function toBytes(value: Uint8Array | string): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw new MeshError('INVALID_ARGUMENT', 'value must be a Uint8Array or a string', { id: ID });
}

/** A cas index as given: an integer ≥ 0 (0: the key must not exist). */
export function checkCas(cas: number): number {
  if (!Number.isInteger(cas) || cas < 0) throw new MeshError('INVALID_ARGUMENT', `cas must be an index ≥ 0 (0: only if the key does not exist), got ${cas}`, { id: ID });
  return cas;
}

/** A failed check-and-set. */
export function casConflict(key: string, cas: number, now?: number): MeshError {
  const detail = cas === 0 ? `${key} already exists (cas 0: create only)`
    : now === undefined ? `${key} changed: its ModifyIndex is no longer ${cas}` : `${key} changed: its ModifyIndex is ${now}, not ${cas}`;
  return new MeshError('CONFLICT', detail, { id: ID });
}

export type { Hlc };
