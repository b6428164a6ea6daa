import * as v from 'valibot';
import { definedOnly, intIn, oneOf, parseConfig } from '../config/validate.ts';

/**
 * Settings shared by the direct and gossip brokers (the part of them that
 * tracks peers' subscriptions and delivers over `$mesh` RPC). Validated; an
 * invalid value fails with INVALID_CONFIG naming the field and its range.
 */
export interface PeerBrokerConfig {
  /** Deliveries of one message within a queue group before it is dead-lettered. [1, 100], default 3. */
  maxDeliveries: number;
  /** How a queue group's member node is picked: `roundRobin` (default) or `random`. */
  queueStrategy: 'roundRobin' | 'random';
  /** Wait before redelivering a message a queue member failed on, ms. [0, 60000], default 0 (at once). */
  redeliveryDelayMs: number;
  /**
   * How long the holder of a queue-group message waits for the member's ack
   * (its handler finished), ms, per delivery batch. Past it the message is
   * redelivered to another member and the attempt counts. [100, 600000], default 30000.
   */
  ackTimeoutMs: number;
  /** Timeout of one broadcast delivery batch (the receiver acks on receipt), ms. [100, 600000], default 5000. */
  deliveryTimeoutMs: number;
  /** Most messages in one delivery batch (one `$mesh` call). [1, 65536], default 1024. */
  maxBatchMessages: number;
  /** Most payload bytes (bodies) in one delivery batch; a larger single message goes alone. [1024, 64 MiB], default 1 MiB. */
  maxBatchBytes: number;
  /** Delivery batches in flight to one peer at a time, per kind (broadcast, queue). [1, 1024], default 8. */
  maxBatchesInFlight: number;
  /**
   * Messages this broker may hold: waiting to be sent, or sent to a queue
   * member and not yet acked. Beyond it `publish` waits (backpressure) until
   * there is room or its signal aborts. [16, 10000000], default 100000.
   */
  maxHeldMessages: number;
  /**
   * Messages waiting for one subscription's handler. [1, 1000000], default
   * 65536. Beyond it a broadcast copy is dropped (logged and counted) and a
   * queue-group message is refused back to its holder, which tries another member.
   */
  maxPendingPerSubscription: number;
  /**
   * Budget for this node's `subs` membership record, bytes of CBOR. A larger
   * subscription list is coarsened (see subs-record.ts); if even that does
   * not fit, `subscribe` fails with SUBSCRIPTIONS_TOO_LARGE. [64, 1 MiB], default 4096.
   */
  maxRecordBytes: number;
}

export const PEER_BROKER_DEFAULTS: Readonly<PeerBrokerConfig> = Object.freeze({
  maxDeliveries: 3,
  queueStrategy: 'roundRobin',
  redeliveryDelayMs: 0,
  ackTimeoutMs: 30_000,
  deliveryTimeoutMs: 5000,
  maxBatchMessages: 1024,
  maxBatchBytes: 1 << 20,
  maxBatchesInFlight: 8,
  maxHeldMessages: 100_000,
  maxPendingPerSubscription: 65_536,
  maxRecordBytes: 4096,
});

export const peerBrokerSchema = {
  maxDeliveries: intIn(1, 100),
  queueStrategy: oneOf(['roundRobin', 'random']),
  redeliveryDelayMs: intIn(0, 60_000),
  ackTimeoutMs: intIn(100, 600_000),
  deliveryTimeoutMs: intIn(100, 600_000),
  maxBatchMessages: intIn(1, 65_536),
  maxBatchBytes: intIn(1024, 64 << 20),
  maxBatchesInFlight: intIn(1, 1024),
  maxHeldMessages: intIn(16, 10_000_000),
  maxPendingPerSubscription: intIn(1, 1_000_000),
  maxRecordBytes: intIn(64, 1 << 20),
};

/** Defaults overlaid with `overrides`, validated; `scope` prefixes field names in errors (`broker.ackTimeoutMs`). */
export function resolvePeerBrokerConfig(overrides: Partial<PeerBrokerConfig> | undefined, scope: string): PeerBrokerConfig {
  return parseConfig(v.strictObject(peerBrokerSchema), { ...PEER_BROKER_DEFAULTS, ...definedOnly(overrides) }, scope);
}
