import * as v from 'valibot';
import { definedOnly, intIn, parseConfig, str } from '../config/validate.ts';
import type { Clock, Random } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';

/** etcd refuses leases shorter than 2 s (it rounds them up), so a shorter TTL would silently lie. */
export const ETCD_MIN_TTL_MS = 2000;

export interface EtcdRegistryOptions {
  /** etcd client URLs, one or a list. Default `http://127.0.0.1:2379`. */
  hosts?: string | string[];
  /** Key prefix; go-micro's default `/micro/registry/`, so Go services share the records. */
  prefix?: string;
  /** Lease TTL of registered nodes, ms. [2000, 3600000], default 10000; `register`'s `ttlMs` overrides it. */
  ttlMs?: number;
  /** Deadline of each etcd request (connecting included), ms. [100, 600000], default 5000. */
  dialTimeoutMs?: number;
  /** Drives retries and deadlines. Default SystemClock. */
  clock?: Clock;
  /** Jitter of retry delays. Default SystemRandom. */
  random?: Random;
  /** Default silent. */
  logger?: Logger;
}

export interface EtcdRegistryConfig {
  hosts: string[];
  /** Normalised: ends with exactly one `/`. */
  prefix: string;
  ttlMs: number;
  dialTimeoutMs: number;
}

const ETCD_DEFAULTS = { hosts: ['http://127.0.0.1:2379'], prefix: '/micro/registry/', ttlMs: 10_000, dialTimeoutMs: 5000 };

const url = v.pipe(str(512), v.regex(/^https?:\/\/[^/\s]+\/?$/, 'must be an http:// or https:// URL (host:port)'));

/** intIn with the reason for the floor in the message. */
export function ttlIn(min: number, max: number) {
  const error = `must be an integer in [${min}, ${max}] (etcd's shortest lease is 2 s)`;
  return v.pipe(v.number(error), v.integer(error), v.minValue(min, error), v.maxValue(max, error));
}

const schema = v.strictObject({
  hosts: v.optional(v.union([url, v.pipe(v.array(url), v.minLength(1))], 'must be an http(s)://host:port URL or a non-empty list of them')),
  prefix: v.optional(v.pipe(str(256), v.regex(/^[^\s]*[^\s/.][^\s]*$/, 'must be a key prefix such as /micro/registry/'))),
  ttlMs: v.optional(ttlIn(ETCD_MIN_TTL_MS, 3_600_000)),
  dialTimeoutMs: v.optional(intIn(100, 600_000)),
});

/** Validated settings over the defaults; MeshError INVALID_CONFIG names the field and its range. */
export function resolveEtcdConfig(input: EtcdRegistryOptions | undefined): EtcdRegistryConfig {
  const { clock: _c, random: _r, logger: _l, ...rest } = input ?? {};
  const c = { ...ETCD_DEFAULTS, ...definedOnly(parseConfig(schema, definedOnly(rest), 'etcd')) };
  return {
    hosts: typeof c.hosts === 'string' ? [c.hosts] : [...c.hosts],
    prefix: normalisePrefix(c.prefix),
    ttlMs: c.ttlMs,
    dialTimeoutMs: c.dialTimeoutMs,
  };
}

/** Collapses repeated slashes and ends with one, as go-micro's `path.Join` would place keys under it. */
function normalisePrefix(p: string): string {
  return `${p.replace(/\/+/g, '/').replace(/\/$/, '')}/`;
}
