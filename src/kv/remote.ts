import { MeshError } from '../errors/index.ts';
import { AsyncQueue } from '../registry/watcher.ts';
import { INTERNAL_SERVICE, KV_DELETE, KV_GET, KV_PUT, KV_WAIT } from '../rpc/internal.ts';
import type { Client } from '../rpc/types.ts';
import { toBytes } from './core.ts';
import { fromWireEntry, type GetAnswer, type WireEntry } from './serve.ts';
import type { KeyValueStore, KvDeleteOptions, KvEntry, KvEvent, KvReadOptions, KvWatcher, KvWriteOptions } from './types.ts';

/** A wait on a node's index is a call; it is renewed this often so no deadline cuts it. */
const WAIT_SLICE_MS = 60_000;

/**
 * The store of one node, used from a process that is not a member (the
 * CLI): every operation is a `$mesh Kv.*` call to `address`, so reads are
 * that node's and writes have its durability. `watch` is built on index
 * waits and re-lists, as a Consul blocking query is.
 */
export class KvRemote implements KeyValueStore {
  readonly name = 'remote';
  readonly scope: string;
  private readonly client: Client;
  private readonly address: string;
  private readonly timeoutMs: number;

  constructor(o: { client: Client; address: string; timeoutMs?: number }) {
    this.client = o.client;
    this.address = o.address;
    this.scope = `node ${o.address}`;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  private call<T>(endpoint: string, body: unknown, signal: AbortSignal | undefined, timeoutMs = this.timeoutMs): Promise<T> {
    return this.client.call<T>(INTERNAL_SERVICE, endpoint, body, { address: this.address, timeoutMs, retries: 0, signal });
  }

  async get(key: string, opts: KvReadOptions = {}): Promise<KvEntry | undefined> {
    const a = await this.call<GetAnswer>(KV_GET.endpoint, { k: key }, opts.signal);
    return a.e.length === 0 ? undefined : fromWireEntry(a.e[0]);
  }

  async put(key: string, value: Uint8Array | string, opts: KvWriteOptions = {}): Promise<KvEntry> {
    return fromWireEntry(await this.call<WireEntry>(KV_PUT.endpoint, { k: key, v: toBytes(value), f: opts.flags ?? 0, c: opts.cas }, opts.signal));
  }

  async delete(key: string, opts: KvDeleteOptions = {}): Promise<number> {
    return (await this.call<{ n: number }>(KV_DELETE.endpoint, { k: key, r: opts.recurse === true, c: opts.cas }, opts.signal)).n;
  }

  async list(prefix: string, opts: KvReadOptions = {}): Promise<KvEntry[]> {
    return (await this.call<GetAnswer>(KV_GET.endpoint, { k: prefix, p: true }, opts.signal)).e.map(fromWireEntry);
  }

  async index(prefix: string, opts: KvReadOptions = {}): Promise<number> {
    return (await this.call<GetAnswer>(KV_GET.endpoint, { k: prefix, p: true }, opts.signal)).i;
  }

  async waitIndex(prefix: string, after: number, opts: KvReadOptions = {}): Promise<number> {
    for (;;) {
      const slice = new AbortController();
      const onAbort = (): void => slice.abort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        // The node answers at its own index when the slice ends; a longer wait asks again.
        const done = this.call<{ i: number }>(KV_WAIT.endpoint, { p: prefix, a: after }, slice.signal, WAIT_SLICE_MS + 5000);
        const i = (await done).i;
        if (i > after || opts.signal?.aborted) return i;
      } catch (err) {
        if (opts.signal?.aborted) return after;
        if (!(err instanceof MeshError && err.code === 'TIMEOUT')) throw err;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  watch(prefix: string, opts: KvReadOptions = {}): KvWatcher {
    const stop = new AbortController();
    const queue = new AsyncQueue<KvEvent>({ signal: opts.signal, onClose: () => stop.abort() });
    void (async () => {
      let known = new Map((await this.list(prefix, { signal: stop.signal })).map((e) => [e.key, e]));
      let index = await this.index(prefix, { signal: stop.signal });
      while (!stop.signal.aborted) {
        index = await this.waitIndex(prefix, index, { signal: stop.signal });
        if (stop.signal.aborted) break;
        const now = new Map((await this.list(prefix, { signal: stop.signal })).map((e) => [e.key, e]));
        for (const [key, e] of now) if (known.get(key)?.modifyIndex !== e.modifyIndex) queue.push({ type: 'put', entry: e });
        for (const key of known.keys()) if (!now.has(key)) queue.push({ type: 'delete', key, modifyIndex: index });
        known = now;
      }
    })().catch((err: unknown) => {
      if (!stop.signal.aborted) queue.close(err);
    });
    return queue;
  }
}
