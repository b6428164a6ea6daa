import type { Etcd3, IKeyValue } from 'etcd3';
import type { Clock } from '../clock/types.ts';
import { SystemClock } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { AsyncQueue } from '../registry/watcher.ts';
import { connectEtcd } from '../registry/etcd-util.ts';
import { MAX_FLAGS, casConflict, checkCas, toBytes } from './core.ts';
import { checkKey } from './store.ts';
import { resolveKvConfig } from './config.ts';
import { checkSignal } from './memory.ts';
import type { KeyValueStore, KvDeleteOptions, KvEntry, KvEvent, KvReadOptions, KvWatcher, KvWriteOptions } from './types.ts';

const ID = 'micromesh.kv';

export interface EtcdKvOptions {
  /** etcd client URLs. Default `http://127.0.0.1:2379`. */
  hosts?: string | string[];
  /** Where the keys live in etcd. Default `micromesh/kv/`. */
  prefix?: string;
  /** Deadline of one etcd call, ms. Default 5000. */
  callTimeoutMs?: number;
  valueMaxBytes?: number;
  keyMaxBytes?: number;
  clock?: Clock;
}

/** Values written with flags carry this header: `mm1`, then the flags as a 64-bit big-endian integer. */
const MAGIC = Buffer.from('mm1');

/**
 * The key/value store on etcd: linearizable, so it also does what the mesh
 * store cannot, check-and-set (`cas`). ModifyIndex and CreateIndex are
 * etcd's mod and create revisions; a prefix's index is etcd's revision. A
 * value with flags is stored behind a small header (`mm1` + flags); a value
 * written by other etcd clients reads as itself with flags 0. etcd3 loads
 * at the first call.
 */
export class EtcdKv implements KeyValueStore {
  readonly name = 'etcd';
  readonly scope: string;
  private readonly hosts: string[];
  private readonly root: string;
  private readonly clock: Clock;
  private readonly callTimeoutMs: number;
  private readonly limits: ReturnType<typeof resolveKvConfig>;
  private client: Promise<Etcd3> | undefined;

  constructor(o: EtcdKvOptions = {}) {
    this.hosts = typeof o.hosts === 'string' ? [o.hosts] : o.hosts ?? ['http://127.0.0.1:2379'];
    this.root = o.prefix ?? 'micromesh/kv/';
    this.clock = o.clock ?? new SystemClock();
    this.callTimeoutMs = o.callTimeoutMs ?? 5000;
    this.limits = resolveKvConfig({ valueMaxBytes: o.valueMaxBytes, keyMaxBytes: o.keyMaxBytes });
    this.scope = `etcd ${this.hosts.join(',')}`;
  }

  async get(key: string, opts: KvReadOptions = {}): Promise<KvEntry | undefined> {
    checkSignal(opts.signal);
    checkKey(key, this.limits);
    const c = await this.etcd();
    const r = await this.call(() => c.get(this.root + key).exec());
    return r.kvs.length === 0 ? undefined : this.entryOf(r.kvs[0]!);
  }

  async put(key: string, value: Uint8Array | string, opts: KvWriteOptions = {}): Promise<KvEntry> {
    checkSignal(opts.signal);
    checkKey(key, this.limits);
    const bytes = toBytes(value);
    const flags = opts.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > MAX_FLAGS) throw new MeshError('INVALID_ARGUMENT', `flags must be an integer in [0, ${MAX_FLAGS}], got ${flags}`, { id: ID });
    if (bytes.length > this.limits.valueMaxBytes) {
      throw new MeshError('PAYLOAD_TOO_LARGE', `value of ${bytes.length} bytes exceeds the limit of ${this.limits.valueMaxBytes} bytes (kv.valueMaxBytes)`, { id: ID });
    }
    const c = await this.etcd();
    const k = this.root + key;
    const stored = encode(bytes, flags);
    let revision: string;
    if (opts.cas === undefined) {
      revision = (await this.call(() => c.put(k).value(stored).exec())).header.revision;
    } else {
      const cas = checkCas(opts.cas);
      const r = await this.call(() => c.if(k, cas === 0 ? 'Create' : 'Mod', '==', cas).then(c.put(k).value(stored)).commit());
      if (!r.succeeded) throw casConflict(key, cas);
      revision = r.header.revision;
    }
    // The entry as of that write (its CreateIndex), even if another write follows at once.
    const at = await this.call(() => c.get(k).revision(revision).exec());
    return at.kvs.length > 0 ? this.entryOf(at.kvs[0]!) : { key, value: bytes, flags, createIndex: Number(revision), modifyIndex: Number(revision) };
  }

  async delete(key: string, opts: KvDeleteOptions = {}): Promise<number> {
    checkSignal(opts.signal);
    checkKey(key, this.limits, opts.recurse === true);
    const c = await this.etcd();
    const k = this.root + key;
    if (opts.cas !== undefined) {
      if (opts.recurse === true) throw new MeshError('INVALID_ARGUMENT', 'cas applies to one key, not with recurse', { id: ID });
      const cas = checkCas(opts.cas);
      const r = await this.call(() => c.if(k, 'Mod', '==', cas).then(c.delete().key(k)).commit());
      if (!r.succeeded) throw casConflict(key, cas);
      return Number(r.responses[0]?.response_delete_range?.deleted ?? 0);
    }
    const r = await this.call(() => (opts.recurse === true ? c.delete().prefix(k) : c.delete().key(k)).exec());
    return Number(r.deleted);
  }

  async list(prefix: string, opts: KvReadOptions = {}): Promise<KvEntry[]> {
    checkSignal(opts.signal);
    const c = await this.etcd();
    const r = await this.call(() => c.getAll().prefix(this.root + prefix).exec());
    return r.kvs.map((kv) => this.entryOf(kv)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async index(prefix: string, opts: KvReadOptions = {}): Promise<number> {
    checkSignal(opts.signal);
    // etcd's revision: at least the highest under the prefix, deletes included (a wait on it may wake for nothing, never miss).
    return Math.max(1, Number(await this.revision(await this.etcd())));
  }

  async waitIndex(prefix: string, after: number, opts: KvReadOptions = {}): Promise<number> {
    if (opts.signal?.aborted) return this.index(prefix);
    const c = await this.etcd();
    // From the revision after `after`: a change made since is replayed at once.
    const w = await c.watch().prefix(this.root + prefix).startRevision(String(after + 1)).create();
    let onAbort = (): void => {};
    try {
      return await new Promise<number>((resolve) => {
        const done = (kv: IKeyValue): void => resolve(Number(kv.mod_revision));
        w.on('put', done);
        w.on('delete', done);
        onAbort = () => resolve(after);
        // It may have aborted while the watch was being created.
        if (opts.signal?.aborted) onAbort();
        else opts.signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await w.cancel().catch(() => {});
    }
  }

  watch(prefix: string, opts: KvReadOptions = {}): KvWatcher {
    let cancel: (() => Promise<void>) | undefined;
    const queue = new AsyncQueue<KvEvent>({ signal: opts.signal, onClose: () => void cancel?.() });
    void (async () => {
      const c = await this.etcd();
      const w = await c.watch().prefix(this.root + prefix).create();
      cancel = () => w.cancel();
      w.on('put', (kv) => queue.push({ type: 'put', entry: this.entryOf(kv) }));
      w.on('delete', (kv) => queue.push({ type: 'delete', key: kv.key.toString('utf8').slice(this.root.length), modifyIndex: Number(kv.mod_revision) }));
      w.on('error', (err) => queue.close(new MeshError('UNAVAILABLE', `etcd watch failed: ${String(err)}`, { id: ID })));
    })().catch((err: unknown) => queue.close(err));
    return queue;
  }

  /** Closes the etcd client (the service stops). Idempotent. */
  async close(): Promise<void> {
    const c = await this.client?.catch(() => undefined);
    this.client = undefined;
    c?.close();
  }

  private async revision(c: Etcd3): Promise<string> {
    return (await this.call(() => c.get(this.root).exec())).header.revision;
  }

  private entryOf(kv: IKeyValue): KvEntry {
    const { value, flags } = decode(kv.value);
    return { key: kv.key.toString('utf8').slice(this.root.length), value, flags, createIndex: Number(kv.create_revision), modifyIndex: Number(kv.mod_revision) };
  }

  private etcd(): Promise<Etcd3> {
    this.client ??= connectEtcd(this.hosts, this.clock, this.callTimeoutMs, 'EtcdKv').catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof MeshError ? err : new MeshError('UNAVAILABLE', `etcd (${this.hosts.join(', ')}): ${(err as Error).message}`, { id: ID, cause: err });
    }
  }
}

function encode(value: Uint8Array, flags: number): Buffer {
  if (flags === 0 && !startsWithMagic(value)) return Buffer.from(value);
  const head = Buffer.alloc(MAGIC.length + 8);
  MAGIC.copy(head);
  head.writeBigUInt64BE(BigInt(flags), MAGIC.length);
  return Buffer.concat([head, value]);
}

function decode(stored: Buffer): { value: Uint8Array; flags: number } {
  if (!startsWithMagic(stored) || stored.length < MAGIC.length + 8) return { value: new Uint8Array(stored), flags: 0 };
  return { value: new Uint8Array(stored.subarray(MAGIC.length + 8)), flags: Number(stored.readBigUInt64BE(MAGIC.length)) };
}

function startsWithMagic(b: Uint8Array): boolean {
  return b.length >= MAGIC.length && b[0] === MAGIC[0] && b[1] === MAGIC[1] && b[2] === MAGIC[2];
}
