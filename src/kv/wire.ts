import type { Hlc } from './hlc.ts';
import type { KvVersion } from './store.ts';
import type { KeyStamp } from './sync.ts';

/**
 * The store's messages between nodes (docs/PROTOCOL.md "Key/value store"),
 * as arrays so CBOR keeps them small: a version is
 * `[key, value | null, flags, wallMs, logical, node]`, a stamp
 * `[key, wallMs, logical, node]`. Peers are untrusted: anything malformed is
 * dropped (and counted by the caller), never applied.
 */

export type WireVersion = [string, Uint8Array | null, number, number, number, string];
export type WireStamp = [string, number, number, string];

export const toWireVersion = (v: KvVersion): WireVersion => [v.key, v.value, v.flags, v.hlc.wallMs, v.hlc.logical, v.hlc.node];
export const toWireStamp = (s: KeyStamp): WireStamp => [s.key, s.hlc.wallMs, s.hlc.logical, s.hlc.node];

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER;

function hlcOf(wallMs: unknown, logical: unknown, node: unknown): Hlc | undefined {
  if (!isCount(wallMs) || !isCount(logical) || typeof node !== 'string' || node.length === 0) return undefined;
  return { wallMs, logical, node };
}

export function fromWireVersion(w: unknown): KvVersion | undefined {
  if (!Array.isArray(w) || w.length !== 6) return undefined;
  const [key, value, flags, wallMs, logical, node] = w as unknown[];
  const hlc = hlcOf(wallMs, logical, node);
  if (typeof key !== 'string' || key.length === 0 || hlc === undefined || !isCount(flags)) return undefined;
  if (value !== null && !(value instanceof Uint8Array)) return undefined;
  return { key, value: value === null ? null : new Uint8Array(value), flags, hlc };
}

export function fromWireStamp(w: unknown): KeyStamp | undefined {
  if (!Array.isArray(w) || w.length !== 4) return undefined;
  const [key, wallMs, logical, node] = w as unknown[];
  const hlc = hlcOf(wallMs, logical, node);
  return typeof key === 'string' && key.length > 0 && hlc !== undefined ? { key, hlc } : undefined;
}

/** Replicate request: versions, and whether the receiver forwards what is new to it. */
export interface ReplicateRequest { e: WireVersion[]; f: boolean }
/** Digest request: the asker's bucket hashes. Answer: the buckets that differ, and the answerer's stamps in them. */
export interface DigestRequest { b: number[] }
export interface DigestAnswer { k: WireStamp[]; d: number[] }
/** Fetch request: keys. Answer: their versions (tombstones included), up to the batch limit; `more` when some were left out. */
export interface FetchRequest { k: string[] }
export interface FetchAnswer { e: WireVersion[]; more: boolean }
