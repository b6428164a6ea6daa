/**
 * The Broker: publish/subscribe between services (Go Micro's broker).
 *
 * A broker moves opaque bytes plus string headers. Encoding is the caller's
 * job: `client.publish` encodes with the service codec and records the
 * content type in the `content-type` header, and `server.subscribe` decodes.
 *
 * Delivery semantics (the same for every implementation):
 * - without a queue, every subscription on every live node gets each message;
 * - subscriptions sharing a `queue` name form a group, and each message goes
 *   to exactly one member of each group;
 * - a handler that throws does not end its subscription: the error is logged
 *   and counted; in a queue group the message is redelivered (to another
 *   member when there is one) up to `maxDeliveries` times, then published to
 *   the dead-letter topic `$dead-letter.<topic>` (see topic.ts), keeping its
 *   headers and adding the DEAD_LETTER_HEADERS of topic.ts (original topic,
 *   queue, message id, deliveries, last error code and message).
 */

export type Headers = Record<string, string>;

/** Header naming the content type of a published message (`client.publish` sets it, `subscribe` decodes by it). */
export const CONTENT_TYPE_HEADER = 'content-type';

export interface BrokerMessage {
  /** Unique per publish; redeliveries keep it. */
  id: string;
  topic: string;
  headers: Headers;
  body: Uint8Array;
  /** 1 on first delivery, then 2, 3, ... on redelivery within a queue group. */
  deliveryAttempt: number;
}

export type BrokerHandler = (message: BrokerMessage) => void | Promise<void>;

export interface PublishOptions {
  headers?: Headers;
  signal?: AbortSignal;
}

export interface SubscribeOptions {
  /** Queue group name; omit for broadcast. */
  queue?: string;
  signal?: AbortSignal;
}

export interface Subscription {
  readonly topic: string;
  readonly queue: string | undefined;
  /** Stops delivery to this handler. Idempotent. */
  unsubscribe(): Promise<void>;
}

export interface Broker {
  /** Implementation name: `memory`, `direct`, `gossip`, `nats`, ... */
  readonly name: string;
  /** Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Idempotent; ends every subscription. */
  stop(opts?: { signal?: AbortSignal }): Promise<void>;
  publish(topic: string, body: Uint8Array, opts?: PublishOptions): Promise<void>;
  /**
   * `topic` may use NATS-style wildcards: `*` matches one dot-separated token,
   * `>` (last token only) matches one or more. A wildcard in first position
   * does not match a first token starting with `$` (so `>` does not receive
   * dead letters; subscribe to `$dead-letter.>` for those).
   */
  subscribe(topic: string, handler: BrokerHandler, opts?: SubscribeOptions): Promise<Subscription>;
}

// ------------------------------------------- decoded messages (Service.subscribe)

/** What a subscriber handler receives besides the decoded message. */
export interface MessageContext {
  readonly id: string;
  readonly topic: string;
  readonly metadata: Readonly<Headers>;
  /** 1 on first delivery; higher on queue-group redelivery. */
  readonly deliveryAttempt: number;
}

/** A subscriber of decoded messages; throwing counts as a failed delivery (redelivered in a queue group). */
export type MessageHandler<T = any> = (message: T, ctx: MessageContext) => void | Promise<void>;

export interface SubscriberOptions {
  /** Queue group: each message goes to one subscriber of the group. */
  queue?: string;
}
