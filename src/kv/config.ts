import * as v from 'valibot';
import { definedOnly, intIn, parseConfig } from '../config/validate.ts';

/** The key/value store's settings (every field optional on input; `kv` in createService). */
export interface KvConfig {
  /** Largest value, bytes. [1, 16777216], default 524288 (512 KiB, Consul's). */
  valueMaxBytes: number;
  /** Keys and values together on each node, bytes. [1024, 4294967296], default 67108864 (64 MiB). */
  totalMaxBytes: number;
  /** Longest key, bytes. [1, 65536], default 2048. */
  keyMaxBytes: number;
  /** A write resolves once this many nodes hold it (or every live node, when fewer). [1, 16], default 3. */
  writeCopies: number;
  /** How long a write waits for its copies, ms. [100, 600000], default 5000. */
  writeTimeoutMs: number;
  /**
   * Peers each node forwards a new version to. [1, 64], or `auto` (default):
   * max(3, ⌈log2(live members + 1)⌉), so the share of nodes a rumor misses
   * (about e^−fanout) shrinks as the mesh grows; anti-entropy repairs those.
   */
  fanout: number | 'auto';
  /** Each node compares its store with one random peer this often, ms: what a rumor missed arrives within about this. [100, 3600000], default 2000. */
  antiEntropyIntervalMs: number;
  /** Tombstones (deleted keys) are forgotten after this long, ms. [60000, 31536000000], default 86400000 (24 h). */
  tombstoneTtlMs: number;
  /** One replication or fetch message carries at most this many value bytes. [65536, 16777216], default 1048576. */
  batchMaxBytes: number;
  /** With a data dir, the store is written this long after a change, ms. [0, 60000], default 200. */
  saveDelayMs: number;
}

export const KV_DEFAULTS: KvConfig = {
  valueMaxBytes: 524_288,
  totalMaxBytes: 67_108_864,
  keyMaxBytes: 2048,
  writeCopies: 3,
  writeTimeoutMs: 5000,
  fanout: 'auto',
  antiEntropyIntervalMs: 2000,
  tombstoneTtlMs: 86_400_000,
  batchMaxBytes: 1_048_576,
  saveDelayMs: 200,
};

const schema = v.strictObject({
  valueMaxBytes: v.optional(intIn(1, 16_777_216)),
  totalMaxBytes: v.optional(intIn(1024, 4_294_967_296)),
  keyMaxBytes: v.optional(intIn(1, 65_536)),
  writeCopies: v.optional(intIn(1, 16)),
  writeTimeoutMs: v.optional(intIn(100, 600_000)),
  fanout: v.optional(v.union([intIn(1, 64), v.literal('auto')], 'must be an integer in [1, 64] or "auto"')),
  antiEntropyIntervalMs: v.optional(intIn(100, 3_600_000)),
  tombstoneTtlMs: v.optional(intIn(60_000, 31_536_000_000)),
  batchMaxBytes: v.optional(intIn(65_536, 16_777_216)),
  saveDelayMs: v.optional(intIn(0, 60_000)),
});

/** Validates `input`; errors name the field (`kv.field`), the allowed range and the value. */
export function resolveKvConfig(input: Partial<KvConfig> | undefined): KvConfig {
  const given = parseConfig(schema, definedOnly(input ?? {}), 'kv');
  const cfg = { ...KV_DEFAULTS, ...definedOnly(given) } as KvConfig;
  return cfg;
}

/** The fanout for a mesh of `live` members (this node included). */
export function fanoutFor(fanout: KvConfig['fanout'], live: number): number {
  return fanout === 'auto' ? Math.max(3, Math.ceil(Math.log2(live + 1))) : fanout;
}
