import * as v from 'valibot';
import type { Random } from '../clock/types.ts';
import { definedOnly, intIn, numIn, oneOf, parseConfig } from '../config/validate.ts';
import type { StrategyName } from './types.ts';

/** Settings of the DefaultSelector. Every field is optional on input; defaults below. */
export interface SelectorConfig {
  /** Strategy used when `select` names none. Default `random`, as in Go Micro. */
  strategy: StrategyName;
  /**
   * Consecutive node-level failures that eject a node. [1, 1000], default 1:
   * a refused connection or a timeout already says the node is unwell, and
   * the client's retry then goes elsewhere.
   */
  failureThreshold: number;
  /** Length of a node's first ejection, ms. [1, 3600000], default 1000. */
  ejectBaseMs: number;
  /** Cap of the ejection length, which doubles with each further ejection, ms. [1, 3600000] and ≥ ejectBaseMs, default 30000. */
  ejectMaxMs: number;
  /**
   * Random extra ejection time, as a fraction of the (capped) backoff: the
   * backoff is multiplied by 1 + ejectJitter·u, u uniform in [0, 1). Spreads
   * the return of nodes ejected together. [0, 1], default 0.2.
   */
  ejectJitter: number;
  /** Weight of the newest latency sample in the per-node EWMA. (0, 1], default 0.3 (about the last 6 calls matter). */
  ewmaAlpha: number;
  /**
   * Least-latency strategy: latencies below this count as this, ms. Keeps
   * unmeasured nodes (EWMA 0) from winning every draw forever, and sub-floor
   * noise from deciding between nodes (in-flight count decides instead).
   * [0.001, 60000], default 1.
   */
  latencyFloorMs: number;
  /**
   * How long a registry lookup is reused when the registry cannot watch (or
   * its watch ended), ms. With a working watch, results are reused until a
   * watch event invalidates them and this is unused. 0 disables reuse.
   * [0, 600000], default 1000.
   */
  cacheTtlMs: number;
  /**
   * How long a lookup may still be served after it stopped being current
   * (a watch event or its TTL) when the registry fails to answer a new one,
   * ms. Go Micro's cache serves stale nodes on registry errors; this bounds
   * how stale. While serving it the registry is asked again every
   * `cacheTtlMs` at most. 0: never (selects fail with the registry's error).
   * [0, 86400000], default 300000.
   */
  staleCacheMs: number;
  /**
   * Services whose lookups, watch and node stats are kept at once; beyond it
   * the oldest is forgotten (bounded memory with callers that name many
   * services). [1, 1000000], default 1024.
   */
  maxServices: number;
  /**
   * A node that appears again (re-registered after it was gone) or stops
   * being suspected gets a growing share of calls over this many ms: chosen
   * with probability rising from 10 % to 100 %, when another node can take
   * the call instead. 0 turns slow start off. Default 5000.
   */
  slowStartMs: number;
}

const schema = v.pipe(
  v.strictObject({
    strategy: v.optional(oneOf(['random', 'roundRobin', 'leastLatency']), 'random'),
    failureThreshold: v.optional(intIn(1, 1000), 1),
    ejectBaseMs: v.optional(intIn(1, 3_600_000), 1000),
    ejectMaxMs: v.optional(intIn(1, 3_600_000), 30_000),
    ejectJitter: v.optional(numIn(0, 1), 0.2),
    ewmaAlpha: v.optional(v.pipe(numIn(0, 1), v.check((a) => a > 0, 'must be a number in (0, 1]')), 0.3),
    latencyFloorMs: v.optional(numIn(0.001, 60_000), 1),
    cacheTtlMs: v.optional(intIn(0, 600_000), 1000),
    staleCacheMs: v.optional(intIn(0, 86_400_000), 300_000),
    maxServices: v.optional(intIn(1, 1_000_000), 1024),
    slowStartMs: v.optional(intIn(0, 3_600_000), 5000),
  }),
  v.forward(v.check((c) => c.ejectMaxMs >= c.ejectBaseMs, 'must be ≥ selector.ejectBaseMs'), ['ejectMaxMs']),
);

/** Fills defaults and validates; throws MeshError `INVALID_CONFIG` naming each bad field and its range. */
export function parseSelectorConfig(input: Partial<SelectorConfig> | undefined): SelectorConfig {
  return parseConfig(schema, definedOnly(input), 'selector');
}

/**
 * Error codes that say something is wrong with the node or the path to it,
 * not with the request: these count toward ejection. Anything else (a
 * handler's BAD_REQUEST, NOT_FOUND, INTERNAL...) means the node answered.
 */
export const NODE_ERROR_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_REFUSED', 'CONNECTION_LOST', 'UNAVAILABLE', 'TIMEOUT', 'SERVER_STOPPING', 'PROTOCOL_ERROR',
  // A node whose certificate our CA does not accept (or that refuses ours) stays unusable until someone fixes it.
  'TLS_REJECTED',
]);

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** Whether `err` (a MeshError or any object with a `code`) is a node-level failure. Matches on `code` only. */
export function isNodeError(err: unknown): boolean {
  const code = codeOf(err);
  return typeof code === 'string' && NODE_ERROR_CODES.has(code);
}

/** A cancelled call says nothing about the node's health. */
export function isCancellation(err: unknown): boolean {
  return codeOf(err) === 'CANCELLED' || (err instanceof Error && err.name === 'AbortError');
}

/**
 * Length of a node's `ejections`-th consecutive ejection (1-based):
 * min(ejectMaxMs, ejectBaseMs · 2^(ejections−1)) · (1 + ejectJitter · u),
 * u drawn from `random`. The cap applies before the jitter so nodes at the
 * cap still come back spread out.
 */
export function ejectionBackoffMs(ejections: number, cfg: Pick<SelectorConfig, 'ejectBaseMs' | 'ejectMaxMs' | 'ejectJitter'>, random: Random): number {
  const exp = Math.min(Math.max(ejections - 1, 0), 52);
  const base = Math.min(cfg.ejectMaxMs, cfg.ejectBaseMs * 2 ** exp);
  return cfg.ejectJitter === 0 ? base : base * (1 + cfg.ejectJitter * random.next());
}
