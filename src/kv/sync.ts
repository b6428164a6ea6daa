import { compareHlc, type Hlc } from './hlc.ts';
import type { KvRecord } from './store.ts';

/**
 * Anti-entropy (pure): two replicas find what differs without sending
 * their stores. Keys fall into BUCKETS by a hash; each side sums its
 * buckets (XOR of per-version hashes, so order does not matter); only the
 * buckets that differ are listed key by key, and only the versions one side
 * lacks then travel.
 */

export const BUCKETS = 64;

/** FNV-1a, 32 bits: cheap, and collisions only delay a repair by a round. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const bucketOf = (key: string): number => fnv1a(key) % BUCKETS;

function versionHash(key: string, hlc: Hlc): number {
  return fnv1a(`${key}\u0000${hlc.wallMs}\u0000${hlc.logical}\u0000${hlc.node}`);
}

/** Each bucket's XOR of its versions' hashes (tombstones included: a delete is a version too). */
export function bucketHashes(records: Iterable<KvRecord>): number[] {
  const out = new Array<number>(BUCKETS).fill(0);
  for (const r of records) out[bucketOf(r.key)] = (out[bucketOf(r.key)]! ^ versionHash(r.key, r.hlc)) >>> 0;
  return out;
}

/** The buckets where `theirs` differs from `mine`. */
export function differing(mine: readonly number[], theirs: readonly number[]): Set<number> {
  const out = new Set<number>();
  for (let b = 0; b < BUCKETS; b++) if ((mine[b] ?? 0) !== (theirs[b] ?? 0)) out.add(b);
  return out;
}

/** One key's version as listed in a digest answer. */
export interface KeyStamp {
  key: string;
  hlc: Hlc;
}

/** The versions of `records` in `buckets`. */
export function stampsIn(records: Iterable<KvRecord>, buckets: ReadonlySet<number>): KeyStamp[] {
  const out: KeyStamp[] = [];
  for (const r of records) if (buckets.has(bucketOf(r.key))) out.push({ key: r.key, hlc: r.hlc });
  return out;
}

/**
 * Given the peer's stamps in the differing buckets: the keys to fetch from
 * it (it holds a newer version) and our records to send it (it lacks them,
 * or holds an older version).
 */
export function reconcile(mine: (key: string) => KvRecord | undefined, ownInBuckets: Iterable<KvRecord>, theirs: readonly KeyStamp[]): { fetch: string[]; push: KvRecord[] } {
  const fetch: string[] = [];
  const seen = new Map<string, Hlc>();
  for (const s of theirs) {
    seen.set(s.key, s.hlc);
    const held = mine(s.key);
    if (held === undefined || compareHlc(s.hlc, held.hlc) > 0) fetch.push(s.key);
  }
  const push: KvRecord[] = [];
  for (const r of ownInBuckets) {
    const other = seen.get(r.key);
    if (other === undefined || compareHlc(r.hlc, other) > 0) push.push(r);
  }
  return { fetch, push };
}
