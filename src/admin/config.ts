import * as v from 'valibot';
import { definedOnly, intIn, parseConfig } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';
import { tryParseHostPort, type HostPort } from '../net/address.ts';
import type { AdminLimits, AdminOptions } from './types.ts';

export const ADMIN_DEFAULTS: Readonly<AdminLimits> = Object.freeze({
  maxUrlBytes: 2048,
  maxHeaderBytes: 8192,
  maxBodyBytes: 1024,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 5000,
  sourceTimeoutMs: 10_000,
  maxConnections: 64,
  drainTimeoutMs: 2000,
});

const schema = v.pipe(v.strictObject({
  maxUrlBytes: intIn(16, 65_536),
  maxHeaderBytes: intIn(1024, 65_536),
  maxBodyBytes: intIn(0, 65_536),
  headersTimeoutMs: intIn(100, 120_000),
  requestTimeoutMs: intIn(100, 300_000),
  idleTimeoutMs: intIn(0, 600_000),
  sourceTimeoutMs: intIn(10, 300_000),
  maxConnections: intIn(1, 100_000),
  drainTimeoutMs: intIn(0, 60_000),
}), v.forward(v.check(
  // Node refuses a head timeout longer than the request's.
  (c) => c.requestTimeoutMs >= c.headersTimeoutMs,
  'must be at least headersTimeoutMs',
), ['requestTimeoutMs']));

/** The admin port's settings: where it listens, and its limits. */
export interface AdminConfig extends AdminLimits {
  /** The address as given. */
  address: string;
  /** Where to bind (`:port` is every IPv4 interface). */
  listen: HostPort;
}

/**
 * Validates the address and the limits (defaults for those left out).
 * Throws MeshError `INVALID_CONFIG` naming the field, its range and the value.
 */
export function resolveAdminConfig(options: Pick<AdminOptions, 'address'> & Partial<AdminLimits>): AdminConfig {
  const { address, ...rest } = options;
  const limits: Record<string, unknown> = {};
  for (const k of Object.keys(ADMIN_DEFAULTS) as (keyof AdminLimits)[]) if (k in rest) limits[k] = rest[k];
  const c = parseConfig(schema, { ...ADMIN_DEFAULTS, ...definedOnly(limits) }, 'admin');
  const listen = typeof address === 'string' ? tryParseHostPort(address.startsWith(':') ? `0.0.0.0${address}` : address) : undefined;
  if (listen === undefined) {
    throw new MeshError('INVALID_CONFIG', `admin.address must be host:port or :port with port in [0, 65535], got ${JSON.stringify(address)}`);
  }
  return { ...c, address, listen };
}
