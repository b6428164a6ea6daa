import { z } from 'zod';
import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { intIn, parseConfig, definedOnly } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import { Counters } from '../metrics/counters.ts';
import type { Broker, BrokerHandler, BrokerMessage, Headers, PublishOptions, SubscribeOptions, Subscription } from './types.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic, isDeadLetterTopic, messageIds, parsePattern, parseTopic, tokensMatch } from './topic.ts';

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

const configSchema = z.object({
  maxDeliveries: intIn(1, 100).default(3),
  queueStrategy: z.enum(['roundRobin', 'random'], { error: 'must be one of roundRobin, random' }).default('roundRobin'),
  redeliveryDelayMs: intIn(0, 60_000).default(0),
  maxPendingPerSubscription: intIn(1, 1_000_000).default(65_536),
}).strict();

export interface MemoryBrokerOptions extends Partial<MemoryBrokerConfig> {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

const COUNTERS = ['published', 'unmatched', 'delivered', 'handlerErrors', 'redelivered', 'deadLettered', 'dropped'] as const;
export type MemoryBrokerCounter = (typeof COUNTERS)[number];
export type MemoryBrokerStats = Readonly<Record<MemoryBrokerCounter, number>> & { subscriptions: number };

/** One accepted publish, shared by all its deliveries (handlers get their own message object). */
interface Published {
  id: string;
  topic: string;
  tokens: string[];
  headers: Headers;
  body: Uint8Array;
}

interface Delivery {
  p: Published;
  attempt: number;
  /** Set for queue-group deliveries: the group, and the members that already failed it. */
  queue?: string;
  tried?: Sub[];
}

class Sub implements Subscription {
  readonly topic: string;
  readonly queue: string | undefined;
  readonly tokens: string[];
  readonly handler: BrokerHandler;
  active = true;
  draining = false;
  mailbox: Delivery[] = [];
  head = 0;
  detach: (() => void) | undefined;
  private readonly owner: MemoryBroker;

  constructor(owner: MemoryBroker, topic: string, tokens: string[], queue: string | undefined, handler: BrokerHandler) {
    this.owner = owner;
    this.topic = topic;
    this.tokens = tokens;
    this.queue = queue;
    this.handler = handler;
  }

  get pending(): number {
    return this.mailbox.length - this.head;
  }

  async unsubscribe(): Promise<void> {
    this.owner.remove(this, true);
  }
}

/**
 * An in-process Broker with the delivery semantics of src/pubsub/types.ts.
 *
 * Guarantees, in memory:
 * - `publish` resolves once the message is accepted: copied, matched against
 *   subscriptions and queued for each. No handler runs inside `publish`;
 *   each subscription handles its messages one at a time, in publish order
 *   (redeliveries join the back of the line).
 * - Broadcast subscriptions: at most once. A throwing handler is logged and
 *   counted, never retried; its subscription continues.
 * - Queue groups: at least once, up to `maxDeliveries`. A failed message goes
 *   to a member that has not failed it yet when there is one (then to any
 *   other member), with `deliveryAttempt` + 1; after the last attempt, or when
 *   the group has no member left, it is published to `$dead-letter.<topic>`
 *   with the DEAD_LETTER_HEADERS added. Dead letters are not dead-lettered
 *   again (dropped and counted instead).
 * - `stop` ends every subscription and discards undelivered messages
 *   (counted as dropped); handlers already running finish on their own.
 *   The message body is copied once at publish and shared by all deliveries:
 *   handlers must treat it as read-only.
 */
export class MemoryBroker implements Broker {
  readonly name: string = 'memory';
  private readonly config: MemoryBrokerConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly counters = new Counters(COUNTERS);
  private readonly nextId: () => string;
  private subs: Sub[] = [];
  private readonly cursors = new Map<string, number>();
  private readonly timers = new Set<TimerHandle>();
  private running = false;

  constructor(opts: MemoryBrokerOptions = {}) {
    const { clock, random, logger, ...rest } = opts;
    this.config = parseConfig(configSchema, definedOnly(rest), 'broker');
    this.clock = clock ?? new SystemClock();
    this.random = random ?? new SystemRandom();
    this.log = (logger ?? silentLogger).child({ component: 'broker', broker: 'memory' });
    this.nextId = messageIds(this.random);
  }

  async start(_opts?: { signal?: AbortSignal }): Promise<void> {
    this.running = true;
  }

  async stop(_opts?: { signal?: AbortSignal }): Promise<void> {
    this.running = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const sub of [...this.subs]) this.remove(sub, false);
  }

  /** Counters plus the number of live subscriptions. */
  stats(): MemoryBrokerStats {
    return { ...this.counters.snapshot(), subscriptions: this.subs.length };
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
    this.accept({ id: this.nextId(), topic, tokens, headers, body: body.slice() });
  }

  async subscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const tokens = parsePattern(topic);
    if (typeof handler !== 'function') throw new MeshError('INVALID_ARGUMENT', 'handler must be a function', { id: 'micromesh.broker' });
    if (opts.queue !== undefined && (typeof opts.queue !== 'string' || opts.queue.length === 0)) {
      throw new MeshError('INVALID_ARGUMENT', 'queue must be a non-empty string', { id: 'micromesh.broker' });
    }
    const signal = opts.signal;
    if (signal?.aborted) throw new MeshError('CANCELLED', 'subscribe aborted', { id: 'micromesh.broker', cause: signal.reason });
    const sub = new Sub(this, topic, tokens, opts.queue, handler);
    if (signal !== undefined) {
      const onAbort = (): void => this.remove(sub, true);
      signal.addEventListener('abort', onAbort, { once: true });
      sub.detach = () => signal.removeEventListener('abort', onAbort);
    }
    this.subs.push(sub);
    return sub;
  }

  /** Ends `sub`. When `reroute`, its undelivered queue-group messages go to other members. */
  remove(sub: Sub, reroute: boolean): void {
    if (!sub.active) return;
    sub.active = false;
    sub.detach?.();
    this.subs = this.subs.filter((s) => s !== sub);
    if (sub.queue !== undefined && !this.subs.some((s) => s.queue === sub.queue)) this.cursors.delete(sub.queue);
    const left = sub.mailbox.slice(sub.head);
    sub.mailbox = [];
    sub.head = 0;
    for (const d of left) {
      if (reroute && d.queue !== undefined) this.route(d, undefined, undefined);
      else this.counters.inc('dropped');
    }
  }

  private accept(p: Published, counted = true): void {
    if (counted) this.counters.inc('published');
    let groups: Map<string, Sub[]> | undefined;
    let matched = false;
    for (const sub of this.subs) {
      if (!tokensMatch(sub.tokens, p.tokens)) continue;
      matched = true;
      if (sub.queue === undefined) {
        this.enqueue(sub, { p, attempt: 1 }, true);
        continue;
      }
      groups ??= new Map();
      const members = groups.get(sub.queue);
      if (members === undefined) groups.set(sub.queue, [sub]);
      else members.push(sub);
    }
    if (!matched) this.counters.inc('unmatched');
    if (groups === undefined) return;
    for (const [queue, members] of groups) {
      const d: Delivery = { p, attempt: 1, queue, tried: [] };
      const target = this.pick(queue, members);
      if (!this.enqueue(target, d, false)) this.overflow(d, members);
    }
  }

  /** Current members of `d`'s group that match its topic. */
  private members(d: Delivery): Sub[] {
    return this.subs.filter((s) => s.queue === d.queue && tokensMatch(s.tokens, d.p.tokens));
  }

  /** Sends a queue-group delivery to a member that has not failed it, else any other than `last`, else dead-letters it. */
  private route(d: Delivery, last: Sub | undefined, error: unknown): void {
    const all = this.members(d);
    if (all.length === 0) {
      const err = error ?? new MeshError('NONE_AVAILABLE', `queue group ${d.queue} has no member left`);
      this.deadLetter(d, err, d.attempt - 1);
      return;
    }
    let pool = all.filter((s) => !d.tried!.includes(s));
    if (pool.length === 0) pool = all.filter((s) => s !== last);
    if (pool.length === 0) pool = all;
    if (!this.enqueue(this.pick(d.queue!, pool), d, false)) this.overflow(d, all);
  }

  private pick(queue: string, members: Sub[]): Sub {
    if (members.length === 1) return members[0]!;
    if (this.config.queueStrategy === 'random') return members[this.random.int(members.length)]!;
    const c = this.cursors.get(queue) ?? 0;
    this.cursors.set(queue, c + 1);
    return members[c % members.length]!;
  }

  /** Queues a delivery; false when the mailbox is full (a broadcast copy is then dropped here). */
  private enqueue(sub: Sub, d: Delivery, dropWhenFull: boolean): boolean {
    if (sub.pending >= this.config.maxPendingPerSubscription) {
      if (dropWhenFull) this.drop(d, sub, 'subscription backlog full');
      return false;
    }
    sub.mailbox.push(d);
    if (!sub.draining) {
      sub.draining = true;
      queueMicrotask(() => void this.drain(sub));
    }
    return true;
  }

  private overflow(d: Delivery, members: Sub[]): void {
    for (const m of members) if (this.enqueue(m, d, false)) return;
    this.drop(d, undefined, 'every queue-group member backlog is full');
  }

  private drop(d: Delivery, sub: Sub | undefined, why: string): void {
    this.counters.inc('dropped');
    this.log.warn('message dropped', { topic: d.p.topic, messageId: d.p.id, subscription: sub?.topic, queue: d.queue, why });
  }

  private async drain(sub: Sub): Promise<void> {
    while (sub.active && sub.head < sub.mailbox.length) {
      const d = sub.mailbox[sub.head]!;
      sub.mailbox[sub.head++] = undefined as unknown as Delivery;
      if (sub.head === sub.mailbox.length) {
        sub.mailbox = [];
        sub.head = 0;
      }
      const message: BrokerMessage = { id: d.p.id, topic: d.p.topic, headers: { ...d.p.headers }, body: d.p.body, deliveryAttempt: d.attempt };
      try {
        await sub.handler(message);
        this.counters.inc('delivered');
      } catch (err) {
        this.failed(sub, d, err);
      }
    }
    sub.draining = false;
  }

  private failed(sub: Sub, d: Delivery, err: unknown): void {
    this.counters.inc('handlerErrors');
    const { code, message } = describe(err);
    this.log.warn('subscriber handler failed', {
      topic: d.p.topic, subscription: sub.topic, queue: sub.queue, messageId: d.p.id, attempt: d.attempt, code, error: message,
    });
    if (d.queue === undefined || !this.running) return;
    if (d.attempt >= this.config.maxDeliveries) {
      this.deadLetter(d, err, d.attempt);
      return;
    }
    const next: Delivery = { p: d.p, attempt: d.attempt + 1, queue: d.queue, tried: [...d.tried!, sub] };
    this.counters.inc('redelivered');
    if (this.config.redeliveryDelayMs === 0) {
      this.route(next, sub, err);
      return;
    }
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      if (this.running) this.route(next, sub, err);
    }, this.config.redeliveryDelayMs);
    this.timers.add(t);
  }

  /** `deliveries`: how many handler calls the message got. */
  private deadLetter(d: Delivery, err: unknown, deliveries: number): void {
    if (isDeadLetterTopic(d.p.topic)) {
      this.counters.inc('dropped');
      this.log.error('dead letter could not be handled; dropped', { topic: d.p.topic, messageId: d.p.id, queue: d.queue });
      return;
    }
    const { code, message } = describe(err);
    const topic = deadLetterTopic(d.p.topic);
    const headers: Headers = {
      ...d.p.headers,
      [DEAD_LETTER_HEADERS.topic]: d.p.topic,
      [DEAD_LETTER_HEADERS.queue]: d.queue ?? '',
      [DEAD_LETTER_HEADERS.messageId]: d.p.id,
      [DEAD_LETTER_HEADERS.deliveries]: String(deliveries),
      [DEAD_LETTER_HEADERS.errorCode]: code,
      [DEAD_LETTER_HEADERS.errorMessage]: message,
    };
    this.counters.inc('deadLettered');
    this.log.warn('message dead-lettered', { topic: d.p.topic, deadLetterTopic: topic, messageId: d.p.id, queue: d.queue, code });
    this.accept({ id: this.nextId(), topic, tokens: parseTopic(topic), headers, body: d.p.body }, false);
  }
}

/** The error's stable `code` (never its text) and message, for logs and dead-letter headers. */
function describe(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { code: typeof code === 'string' && code.length > 0 ? code : 'INTERNAL', message };
}
