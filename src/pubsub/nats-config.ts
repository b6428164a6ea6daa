import * as v from 'valibot';
import { definedOnly, intIn, parseConfig, str } from '../config/validate.ts';
import { PEER_BROKER_DEFAULTS } from './peer-config.ts';

/** Settings of the NATS broker. Validated; an invalid value fails with INVALID_CONFIG naming the field and range. */
export interface NatsBrokerConfig {
  /** NATS server URL(s): `nats://127.0.0.1:4222` (default) or a list; the client fails over among them. */
  servers: string[];
  /** Connection name shown by the server (`/connz`). Default `micromesh`. */
  name: string;
  /** Deliveries of one queue-group message before it is dead-lettered. [1, 100], default 3 (as the mesh brokers). */
  maxDeliveries: number;
  /**
   * How long a queue-group handler may run, ms. Past it the attempt counts as
   * failed (TIMEOUT) and the message goes to the next attempt; a member that
   * died holding a message gives it back after this plus 1 s (the consumer's
   * ack wait). [100, 3600000], default 30000.
   */
  ackWaitMs: number;
  /**
   * Prefix of the JetStream stream (`<prefix>_QUEUES`) and of its subjects
   * (`$<prefix>.q.…`); services that share queue groups must share it.
   * Letters, digits, `_` and `-`, 1 to 32 characters. Default `MICROMESH`.
   */
  streamPrefix: string;
  /**
   * How long `publish` waits for the server: for a PubAck (queue groups) or
   * for the connection to come back during an outage, ms. Past it publish
   * fails with UNAVAILABLE. [100, 600000], default 10000.
   */
  publishTimeoutMs: number;
  /** Messages waiting for one broadcast subscription's handler; beyond it copies are dropped (counted). [1, 1000000], default 65536. */
  maxPendingPerSubscription: number;
  /**
   * A queue group's durable consumer is deleted by the server after this
   * long without any member, ms (its undelivered messages with it).
   * [60000, 31536000000], default 7 days.
   */
  idleGroupMs: number;
}

export const NATS_BROKER_DEFAULTS: Readonly<NatsBrokerConfig> = Object.freeze({
  servers: ['nats://127.0.0.1:4222'],
  name: 'micromesh',
  maxDeliveries: PEER_BROKER_DEFAULTS.maxDeliveries,
  ackWaitMs: 30_000,
  streamPrefix: 'MICROMESH',
  publishTimeoutMs: 10_000,
  maxPendingPerSubscription: 65_536,
  idleGroupMs: 7 * 24 * 3600_000,
});

/** What the options accept (a single server URL or a list). */
export type NatsBrokerConfigInput = Partial<Omit<NatsBrokerConfig, 'servers'>> & { servers?: string | string[] };

const url = v.pipe(str(1024), v.regex(/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s:/]+(:\d+)?$/, 'must be a URL like nats://host:4222'));

const schema = v.strictObject({
  servers: v.optional(v.union([url, v.pipe(v.array(url), v.minLength(1), v.maxLength(64))], 'must be a server URL like nats://127.0.0.1:4222 or a list of 1 to 64 of them')),
  name: v.optional(str(256)),
  maxDeliveries: v.optional(intIn(1, 100)),
  ackWaitMs: v.optional(intIn(100, 3_600_000)),
  streamPrefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, _ or -'))),
  publishTimeoutMs: v.optional(intIn(100, 600_000)),
  maxPendingPerSubscription: v.optional(intIn(1, 1_000_000)),
  idleGroupMs: v.optional(intIn(60_000, 31_536_000_000)),
});

/** Defaults overlaid with `input`, validated (`broker.nats.<field> must be …, got …`). */
export function resolveNatsBrokerConfig(input: NatsBrokerConfigInput | undefined, scope = 'broker.nats'): NatsBrokerConfig {
  const parsed = parseConfig(schema, definedOnly(input), scope);
  const servers = parsed.servers === undefined ? undefined : typeof parsed.servers === 'string' ? [parsed.servers] : parsed.servers;
  return { ...NATS_BROKER_DEFAULTS, ...definedOnly({ ...parsed, servers }) } as NatsBrokerConfig;
}
