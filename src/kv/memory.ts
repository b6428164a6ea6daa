import type { Clock } from '../clock/types.ts';
import { SystemClock } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { KvCore, casConflict, checkCas, toBytes } from './core.ts';
import { resolveKvConfig, type KvConfig } from './config.ts';
import type { KeyValueStore, KvDeleteOptions, KvEntry, KvReadOptions, KvWatcher, KvWriteOptions } from './types.ts';

const ID = 'micromesh.kv';

export interface MemoryKvOptions extends Partial<Pick<KvConfig, 'valueMaxBytes' | 'totalMaxBytes' | 'keyMaxBytes'>> {
  clock?: Clock;
}

/** The key/value store in one process (tests, services off the mesh): the mesh store's semantics without replication. */
export class MemoryKv implements KeyValueStore {
  readonly name: string = 'memory';
  readonly scope: string = 'this process';
  protected readonly core: KvCore;

  constructor(o: MemoryKvOptions = {}, node = 'local') {
    const { clock, ...limits } = o;
    const cfg = resolveKvConfig(limits);
    this.core = new KvCore({ node, clock: clock ?? new SystemClock(), limits: cfg });
  }

  async get(key: string, opts: KvReadOptions = {}): Promise<KvEntry | undefined> {
    checkSignal(opts.signal);
    this.core.checkKey(key);
    return this.core.state.get(key);
  }

  async put(key: string, value: Uint8Array | string, opts: KvWriteOptions = {}): Promise<KvEntry> {
    checkSignal(opts.signal);
    // One process is linearizable: check-and-set is honest here.
    if (opts.cas !== undefined) this.checkCas(key, opts.cas);
    const { change } = this.core.write(key, toBytes(value), opts.flags ?? 0);
    return change?.type === 'put' ? change.entry : this.core.state.get(key)!;
  }

  async delete(key: string, opts: KvDeleteOptions = {}): Promise<number> {
    checkSignal(opts.signal);
    if (opts.cas !== undefined) {
      if (opts.recurse === true) throw new MeshError('INVALID_ARGUMENT', 'cas applies to one key, not with recurse', { id: ID });
      this.checkCas(key, opts.cas);
    }
    const keys = this.keysToDelete(key, opts.recurse === true);
    for (const k of keys) this.core.write(k, null, 0);
    return keys.length;
  }

  /** The keys a delete of `key` (a prefix with `recurse`) removes: those that exist. */
  protected keysToDelete(key: string, recurse: boolean): string[] {
    this.core.checkKey(key, recurse);
    if (recurse) return this.core.state.list(key).map((e) => e.key);
    return this.core.state.get(key) === undefined ? [] : [key];
  }

  async list(prefix: string, opts: KvReadOptions = {}): Promise<KvEntry[]> {
    checkSignal(opts.signal);
    return this.core.state.list(prefix);
  }

  /** Throws CONFLICT unless the key's ModifyIndex is `cas` (0: the key does not exist). */
  protected checkCas(key: string, cas: number): void {
    const now = this.core.state.get(key)?.modifyIndex ?? 0;
    if (now !== checkCas(cas)) throw casConflict(key, cas, now);
  }

  watch(prefix: string, opts: KvReadOptions = {}): KvWatcher {
    return this.core.watch(prefix, opts.signal);
  }

  async index(prefix: string, opts: KvReadOptions = {}): Promise<number> {
    checkSignal(opts.signal);
    return this.core.state.prefixIndex(prefix);
  }

  waitIndex(prefix: string, after: number, opts: KvReadOptions = {}): Promise<number> {
    return this.core.waitIndex(prefix, after, opts.signal);
  }
}

export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MeshError('CANCELLED', 'operation aborted', { id: ID, cause: signal.reason });
}
