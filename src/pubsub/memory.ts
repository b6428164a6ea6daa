import * as v from 'valibot';
import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { definedOnly, intIn, oneOf, parseConfig } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import { Counters } from '../metrics/counters.ts';
import { LocalSubs, REFUSED, describeError, refusalError, type Inbound, type Outcome } from './local.ts';
import type { Broker, BrokerHandler, Headers, PublishOptions, SubscribeOptions, Subscription } from './types.ts';
import { DEAD_LETTER_HEADERS, copyBytes, deadLetterTopic, isDeadLetterTopic, messageIds, parsePattern, parseTopic } from './topic.ts';

/** Settings of the memory broker (validated; the error names the field and range). */
export interface MemoryBrokerConfig {
  /** Deliveries of one message within a queue group before it is dead-lettered. [1, 100], default 3. */
  maxDeliveries: number;
  /** How a queue group picks the member for a message: `roundRobin` (default) or `random`. */
  queueStrategy: 'roundRobin' | 'random';
  /** Wait before redelivering a message a queue member failed on, ms. [0, 60000], default 0 (at once). */
  redeliveryDelayMs: number;
  /**
   * Messages waiting for one subscription's handler. [1, 1000000], default
   * 65536. Beyond it a broadcast copy is dropped (logged and counted) and a
   * queue-group message goes to another member with room, else is dropped.
   */
  maxPendingPerSubscription: number;
}

const configSchema = v.strictObject({
  maxDeliveries: v.optional(intIn(1, 100), 3),
  queueStrategy: v.optional(oneOf(['roundRobin', 'random']), 'roundRobin'),
  redeliveryDelayMs: v.optional(intIn(0, 60_000), 0),
  maxPendingPerSubscription: v.optional(intIn(1, 1_000_000), 65_536),
});

export interface MemoryBrokerOptions extends Partial<MemoryBrokerConfig> {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

const COUNTERS = ['published', 'unmatched', 'delivered', 'handlerErrors', 'redelivered', 'deadLettered', 'dropped'] as const;
export type MemoryBrokerCounter = (typeof COUNTERS)[number];
export type MemoryBrokerStats = Readonly<Record<MemoryBrokerCounter, number>> & { subscriptions: number };

/**
 * An in-process Broker with the delivery semantics of src/pubsub/types.ts,
 * built on the same local subscriptions (mailboxes, one handler call at a
 * time, off the publisher's stack and context) as the mesh brokers, with an
 * in-process queue-group holder instead of a network one.
 *
 * - `publish` resolves once the message is accepted: copied, matched against
 *   subscriptions and queued for each. No handler runs inside `publish`;
 *   each subscription handles its messages one at a time, in publish order
 *   (redeliveries join the back of the line).
 * - Broadcast subscriptions: at most once. A throwing handler is logged and
 *   counted, never retried; its subscription continues.
 * - Queue groups: at least once, up to `maxDeliveries`. A failed message goes
 *   to a member that has not failed it yet when there is one, with
 *   `deliveryAttempt` + 1; after the last attempt, or when the group has no
 *   member left, it is published to `$dead-letter.<topic>` with the
 *   DEAD_LETTER_HEADERS added. Dead letters are not dead-lettered again
 *   (dropped and counted instead). A member that unsubscribes hands its
 *   waiting queue-group messages to the other members.
 * - `stop` ends every subscription and discards undelivered messages
 *   (counted as dropped); handlers already running finish on their own.
 *   The message body is copied once at publish and shared by all deliveries:
 *   handlers must treat it as read-only.
 */
export class MemoryBroker implements Broker {
  readonly name: string = 'memory';
  private readonly config: MemoryBrokerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly counters = new Counters(COUNTERS);
  private readonly nextId: () => string;
  private readonly local: LocalSubs;
  private readonly timers = new Set<TimerHandle>();
  private running = false;

  constructor(opts: MemoryBrokerOptions = {}) {
    const { clock, random, logger, ...rest } = opts;
    this.config = parseConfig(configSchema, definedOnly(rest), 'broker');
    this.clock = clock ?? new SystemClock();
    const rnd = random ?? new SystemRandom();
    this.log = (logger ?? silentLogger).child({ component: 'broker', broker: 'memory' });
    this.nextId = messageIds(rnd);
    this.local = new LocalSubs({
      nodeId: 'memory', maxPendingPerSubscription: this.config.maxPendingPerSubscription, logger: this.log, counters: this.counters,
      onChange: () => {}, pick: this.config.queueStrategy === 'random' ? (n) => rnd.int(n) : undefined,
    });
  }

  async start(_opts?: { signal?: AbortSignal }): Promise<void> {
    this.running = true;
  }

  async stop(_opts?: { signal?: AbortSignal }): Promise<void> {
    this.running = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.local.clear();
  }

  /** Counters plus the number of live subscriptions. */
  stats(): MemoryBrokerStats {
    return { ...this.counters.snapshot(), subscriptions: this.local.size };
  }

  async publish(topic: string, body: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (!this.running) throw new MeshError('NOT_RUNNING', `broker is not started; cannot publish to ${topic}`, { id: 'micromesh.broker' });
    if (opts.signal?.aborted) throw new MeshError('CANCELLED', 'publish aborted', { id: 'micromesh.broker', cause: opts.signal.reason });
    const tokens = parseTopic(topic);
    if (!(body instanceof Uint8Array)) throw new MeshError('INVALID_ARGUMENT', 'body must be a Uint8Array', { id: 'micromesh.broker' });
    const headers: Headers = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (typeof v !== 'string') throw new MeshError('INVALID_ARGUMENT', `header ${k} must be a string`, { id: 'micromesh.broker' });
      headers[k] = v;
    }
    this.accept({ id: this.nextId(), topic, tokens, headers, body: copyBytes(body), attempt: 1 });
  }

  async subscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const tokens = parsePattern(topic);
    if (typeof handler !== 'function') throw new MeshError('INVALID_ARGUMENT', 'handler must be a function', { id: 'micromesh.broker' });
    if (opts.queue !== undefined && (typeof opts.queue !== 'string' || opts.queue.length === 0)) {
      throw new MeshError('INVALID_ARGUMENT', 'queue must be a non-empty string', { id: 'micromesh.broker' });
    }
    if (opts.signal?.aborted) throw new MeshError('CANCELLED', 'subscribe aborted', { id: 'micromesh.broker', cause: opts.signal.reason });
    return this.local.add(topic, tokens, handler, opts.queue, opts.signal);
  }

  private accept(m: Inbound, counted = true): void {
    if (counted) this.counters.inc('published');
    const copies = this.local.broadcast(m);
    const groups = this.local.groups(m.tokens);
    if (copies === 0 && groups.length === 0) this.counters.inc('unmatched');
    for (const queue of groups) this.deliver(m, queue, []);
  }

  /** Hands a queue-group message to a member (preferring those not in `tried`), or deals with the refusal. */
  private deliver(m: Inbound, queue: string, tried: string[]): void {
    const refusal = this.local.queue(m, queue, tried, (o) => this.settled(m, queue, tried, o));
    if (refusal === undefined) return;
    if (refusal === REFUSED.busy) this.drop(m, queue, 'every queue-group member backlog is full');
    else if (this.running) this.deadLetter(m, queue, describeError(refusalError(refusal)), m.attempt - 1);
    else this.drop(m, queue, 'broker stopped');
  }

  /** The outcome of one queue-group delivery. */
  private settled(m: Inbound, queue: string, tried: string[], o: Outcome): void {
    if (o === 0) return;
    if (typeof o === 'number') {
      // Handed back before a handler saw it: the member left (another takes it, same attempt) or the broker stopped.
      if (o === REFUSED.notRunning || !this.running) this.counters.inc('dropped');
      else this.deliver(m, queue, tried);
      return;
    }
    if (!this.running) return;
    if (m.attempt >= this.config.maxDeliveries) {
      this.deadLetter(m, queue, o, m.attempt);
      return;
    }
    this.counters.inc('redelivered');
    const next: Inbound = { ...m, attempt: m.attempt + 1 };
    const nextTried = [...tried, o.member];
    if (this.config.redeliveryDelayMs === 0) {
      this.deliver(next, queue, nextTried);
      return;
    }
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      if (this.running) this.deliver(next, queue, nextTried);
    }, this.config.redeliveryDelayMs);
    this.timers.add(t);
  }

  private drop(m: Inbound, queue: string, why: string): void {
    this.counters.inc('dropped');
    this.log.warn('message dropped', { topic: m.topic, messageId: m.id, queue, why });
  }

  /** `deliveries`: how many handler calls the message got; `why` the last error's code and message. */
  private deadLetter(m: Inbound, queue: string, why: { code: string; message: string }, deliveries: number): void {
    if (isDeadLetterTopic(m.topic)) {
      this.counters.inc('dropped');
      this.log.error('dead letter could not be handled; dropped', { topic: m.topic, messageId: m.id, queue });
      return;
    }
    const { code, message } = why;
    const topic = deadLetterTopic(m.topic);
    const headers: Headers = {
      ...m.headers,
      [DEAD_LETTER_HEADERS.topic]: m.topic,
      [DEAD_LETTER_HEADERS.queue]: queue,
      [DEAD_LETTER_HEADERS.messageId]: m.id,
      [DEAD_LETTER_HEADERS.deliveries]: String(deliveries),
      [DEAD_LETTER_HEADERS.errorCode]: code,
      [DEAD_LETTER_HEADERS.errorMessage]: message,
    };
    this.counters.inc('deadLettered');
    this.log.warn('message dead-lettered', { topic: m.topic, deadLetterTopic: topic, messageId: m.id, queue, code });
    this.accept({ id: this.nextId(), topic, tokens: parseTopic(topic), headers, body: m.body, attempt: 1 }, false);
  }
}
