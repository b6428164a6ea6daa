/**
 * The key/value store (issue 22): small shared values and configuration,
 * one interface for every implementation (memory, mesh, later etcd), as
 * Consul's KV shows it: each entry has Consul's `Flags`, `CreateIndex` and
 * `ModifyIndex`, and a prefix's index (the highest ModifyIndex under it,
 * deletions included) is what blocking queries wait on.
 */

export interface KvEntry {
  key: string;
  value: Uint8Array;
  /** Consul's opaque Flags, an integer in [0, 2^53 − 1]. */
  flags: number;
  /** The store's index when the key was created (last created, after a delete). */
  createIndex: number;
  /** The store's index when it last changed; only goes up. */
  modifyIndex: number;
}

export interface KvWriteOptions {
  signal?: AbortSignal;
  /** Flags stored with the value. Default 0. */
  flags?: number;
  /**
   * Check-and-set: write only if the key's ModifyIndex is this (0: only if
   * the key does not exist), else fail with CONFLICT. Needs a linearizable
   * store (memory, etcd); the mesh store refuses it with NOT_IMPLEMENTED.
   */
  cas?: number;
}

export interface KvDeleteOptions {
  signal?: AbortSignal;
  /** Delete every key under `key` as a prefix. */
  recurse?: boolean;
  /** Check-and-set: delete only if the key's ModifyIndex is this (see KvWriteOptions.cas). */
  cas?: number;
}

export interface KvReadOptions {
  signal?: AbortSignal;
}

export type KvEvent =
  | { type: 'put'; entry: KvEntry }
  | { type: 'delete'; key: string; modifyIndex: number };

/** Changes under a prefix, in order; `stop()` (or the signal) ends the iteration. */
export interface KvWatcher extends AsyncIterable<KvEvent> {
  stop(): void;
}

export interface KeyValueStore {
  /** Implementation name: `memory`, `mesh`, ... */
  readonly name: string;
  /** Where its data lives, for messages: `the mesh "micromesh"`, `this process`, `node 10.0.0.5:7000`. */
  readonly scope: string;
  /** The entry, or undefined when the key does not exist. */
  get(key: string, opts?: KvReadOptions): Promise<KvEntry | undefined>;
  /** Sets `key`; resolves once the implementation's durability holds (mesh: min(3, live) nodes hold it). */
  put(key: string, value: Uint8Array | string, opts?: KvWriteOptions): Promise<KvEntry>;
  /** Deletes `key` (or, with `recurse`, every key under it); resolves with how many existed. Deleting nothing is no error. */
  delete(key: string, opts?: KvDeleteOptions): Promise<number>;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list(prefix: string, opts?: KvReadOptions): Promise<KvEntry[]>;
  /** Changes under `prefix` from now on. */
  watch(prefix: string, opts?: KvReadOptions): KvWatcher;
  /** Consul's X-Consul-Index for `prefix`: the highest ModifyIndex under it, deletions included; at least 1. */
  index(prefix: string, opts?: KvReadOptions): Promise<number>;
  /** Resolves with the prefix's index once it is above `after`, or at once when it already is; on abort, with the index then. */
  waitIndex(prefix: string, after: number, opts?: KvReadOptions): Promise<number>;
}
