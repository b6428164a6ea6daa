import { MeshError } from '../errors/index.ts';
import { compareHlc, type Hlc } from './hlc.ts';
import type { KvEntry } from './types.ts';

/** One key as the store holds it: a value, or a tombstone (value null) kept until reaped. */
export interface KvRecord {
  key: string;
  value: Uint8Array | null;
  flags: number;
  hlc: Hlc;
  createIndex: number;
  modifyIndex: number;
  /** Local clock ms when it became a tombstone (for reaping). */
  deletedAtMs?: number;
}

/** What replicas exchange: a key's state without this node's indexes. */
export interface KvVersion {
  key: string;
  value: Uint8Array | null;
  flags: number;
  hlc: Hlc;
}

export interface KvLimits {
  /** Largest value, bytes. */
  valueMaxBytes: number;
  /** Keys and values together, bytes. */
  totalMaxBytes: number;
  /** Longest key, bytes (UTF-8). */
  keyMaxBytes: number;
}

export type KvChange = { type: 'put'; entry: KvEntry } | { type: 'delete'; key: string; modifyIndex: number };

const ID = 'micromesh.kv';
const utf8 = new TextEncoder();

/** Bytes a record costs against totalMaxBytes (a tombstone: its key). */
export function recordBytes(key: string, value: Uint8Array | null): number {
  return utf8.encode(key).length + (value?.length ?? 0);
}

/** Throws INVALID_ARGUMENT unless `key` is a usable key: non-empty, no NUL, not starting with `/`, within the limit. */
export function checkKey(key: unknown, limits: KvLimits, allowEmpty = false): asserts key is string {
  if (typeof key !== 'string' || (!allowEmpty && key.length === 0)) throw new MeshError('INVALID_ARGUMENT', 'key must be a non-empty string', { id: ID });
  if (key.includes('\u0000')) throw new MeshError('INVALID_ARGUMENT', 'key must not contain NUL', { id: ID });
  if (key.startsWith('/')) throw new MeshError('INVALID_ARGUMENT', `key must not start with "/" (got "${key.slice(0, 64)}")`, { id: ID });
  const n = utf8.encode(key).length;
  if (n > limits.keyMaxBytes) throw new MeshError('PAYLOAD_TOO_LARGE', `key of ${n} bytes exceeds the limit of ${limits.keyMaxBytes} bytes (kv.keyMaxBytes)`, { id: ID });
}

/**
 * The replicated store's state (pure: no I/O, no timers). Every write is a
 * version stamped with a hybrid logical clock; a version replaces the held
 * one only when its stamp is newer, so any two replicas that saw the same
 * versions hold the same values, whatever the order (last writer wins).
 * Deletes are versions too (tombstones), kept until `reap` so a late copy
 * of the deleted value cannot bring it back. Indexes are this replica's:
 * one counter, raised on every change here.
 */
export class KvState {
  private readonly records = new Map<string, KvRecord>();
  private readonly limits: KvLimits;
  /** Starts at 1, the index an empty prefix reports: the first write (2) then moves it, and a blocking wait on 1 wakes. */
  private index = 1;
  private bytes = 0;
  /** The highest ModifyIndex of a reaped tombstone: prefix indexes never go below it. */
  private reapedIndex = 0;

  constructor(limits: KvLimits) {
    this.limits = limits;
  }

  get size(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.value !== null) n++;
    return n;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The highest index handed out (1 when nothing was). */
  get lastIndex(): number {
    return this.index;
  }

  get(key: string): KvEntry | undefined {
    const r = this.records.get(key);
    return r === undefined || r.value === null ? undefined : entryOf(r);
  }

  /** The record, tombstones included. */
  record(key: string): KvRecord | undefined {
    return this.records.get(key);
  }

  /** Live entries under `prefix`, sorted by key. */
  list(prefix: string): KvEntry[] {
    const out: KvEntry[] = [];
    for (const r of this.records.values()) if (r.value !== null && r.key.startsWith(prefix)) out.push(entryOf(r));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Every record, tombstones included (anti-entropy, snapshots). */
  all(): IterableIterator<KvRecord> {
    return this.records.values();
  }

  /** The highest ModifyIndex under `prefix`, tombstones and reaped ones included; at least 1. */
  prefixIndex(prefix: string): number {
    let max = this.reapedIndex;
    for (const r of this.records.values()) if (r.modifyIndex > max && r.key.startsWith(prefix)) max = r.modifyIndex;
    return Math.max(1, max);
  }

  /**
   * Checks a local write against the limits before it is stamped: the value's
   * size, and the total after replacing what the key holds now.
   */
  checkWrite(key: string, value: Uint8Array | null): void {
    checkKey(key, this.limits);
    if (value !== null && value.length > this.limits.valueMaxBytes) {
      throw new MeshError('PAYLOAD_TOO_LARGE', `value of ${value.length} bytes exceeds the limit of ${this.limits.valueMaxBytes} bytes (kv.valueMaxBytes)`, { id: ID });
    }
    const after = this.bytes - this.held(key) + recordBytes(key, value);
    if (value !== null && after > this.limits.totalMaxBytes) {
      throw new MeshError('STORAGE_FULL', `the store would hold ${after} bytes, over its limit of ${this.limits.totalMaxBytes} bytes (kv.totalMaxBytes); nothing was written`, { id: ID });
    }
  }

  /**
   * Applies a version if it is newer than the one held. Returns the change
   * (for watchers) or undefined when it changed nothing. A remote version
   * over the limits is refused with the error the caller counts and logs.
   */
  apply(v: KvVersion, nowMs: number): KvChange | undefined {
    const held = this.records.get(v.key);
    if (held !== undefined && compareHlc(v.hlc, held.hlc) <= 0) return undefined;
    if (v.value !== null) this.checkWrite(v.key, v.value);
    const modifyIndex = ++this.index;
    const createIndex = held === undefined || held.value === null ? modifyIndex : held.createIndex;
    const rec: KvRecord = { key: v.key, value: v.value, flags: v.flags, hlc: v.hlc, createIndex, modifyIndex };
    if (v.value === null) rec.deletedAtMs = nowMs;
    this.bytes += recordBytes(v.key, v.value) - this.held(v.key);
    this.records.set(v.key, rec);
    if (v.value === null) return held === undefined || held.value === null ? undefined : { type: 'delete', key: v.key, modifyIndex };
    return { type: 'put', entry: entryOf(rec) };
  }

  /** Restores the index counter from a snapshot, so indexes keep going up across restarts. */
  raiseIndexTo(index: number): void {
    if (index > this.index) this.index = index;
  }

  /** Forgets tombstones older than `olderThanMs` (local time); returns how many. */
  reap(nowMs: number, olderThanMs: number): number {
    let n = 0;
    for (const [key, r] of this.records) {
      if (r.value !== null || r.deletedAtMs === undefined || nowMs - r.deletedAtMs < olderThanMs) continue;
      this.records.delete(key);
      this.bytes -= recordBytes(key, null);
      if (r.modifyIndex > this.reapedIndex) this.reapedIndex = r.modifyIndex;
      n++;
    }
    return n;
  }

  private held(key: string): number {
    const r = this.records.get(key);
    return r === undefined ? 0 : recordBytes(key, r.value);
  }
}

export function entryOf(r: KvRecord): KvEntry {
  return { key: r.key, value: r.value!, flags: r.flags, createIndex: r.createIndex, modifyIndex: r.modifyIndex };
}

export function versionOf(r: KvRecord): KvVersion {
  return { key: r.key, value: r.value, flags: r.flags, hlc: r.hlc };
}
