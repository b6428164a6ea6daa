import { AsyncResource } from 'node:async_hooks';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection, Msg, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Clock, Random } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import { RateLimitedLog } from '../log/limit.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import { Counters } from '../metrics/counters.ts';
import { describeError } from './local.ts';
import { resolveNatsBrokerConfig, type NatsBrokerConfig, type NatsBrokerConfigInput } from './nats-config.ts';
import { NatsConnectionState } from './nats-connection.ts';
import {
  H, QUEUE_COUNTERS, isInternalHeader, QueueInterest, QueueMember, ensureGroup, namesFor, originalSubject, type Names, type QueueContext,
} from './nats-queue.ts';
import { TopicCache, messageIds, parsePattern } from './topic.ts';
import type { Broker, BrokerHandler, BrokerMessage, Headers, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

export interface NatsBrokerOptions extends NatsBrokerConfigInput {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

const COUNTERS = ['published', 'delivered', 'publishFailures', ...QUEUE_COUNTERS] as const;
export type NatsBrokerCounter = (typeof COUNTERS)[number];
export type NatsBrokerStats = Readonly<Record<NatsBrokerCounter, number>> & {
  subscriptions: number;
  /** Queue-group consumers this broker knows of (publishes to matching topics go through JetStream). */
  queueGroups: number;
  connected: boolean;
};

const HEADER_NAME = /^[!-9;-~]+$/; // printable ASCII without ':' (NATS header names)
const err = (code: string, detail: string, cause?: unknown): MeshError => new MeshError(code, detail, { id: 'micromesh.broker', cause });

/**
 * A Broker on a NATS server (nats-server 2.9+ with JetStream for queue groups).
 *
 * - Broadcast: core NATS on the topic itself as subject (our `*` and `>` are
 *   NATS's); at most once, like core NATS. Headers travel as NATS headers.
 * - Queue groups: a JetStream stream with explicit acks (nats-queue.ts), so
 *   a message whose `publish` resolved survives the crash of its publisher
 *   and of the member handling it; redelivery prefers another member,
 *   dead letters go to `$dead-letter.<topic>` after `maxDeliveries`.
 * - `publish` sends on core NATS, and also to the queue stream (waiting for
 *   its PubAck) when a queue group's pattern matches the topic.
 * - The client reconnects by itself, forever; while it is away, publish waits
 *   up to `publishTimeoutMs`, then fails with UNAVAILABLE.
 *
 * The NATS client libraries are loaded by `start()`, not by importing micromesh.
 */
export class NatsBroker implements Broker {
  readonly name: string = 'nats';
  private readonly config: NatsBrokerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly counters = new Counters(COUNTERS);
  private readonly nextId: () => string;
  private readonly memberPrefix: string;
  private readonly names: Names;
  private readonly topics = new TopicCache();
  private readonly lifecycle = new Lifecycle();
  private readonly interest: QueueInterest;
  private readonly conn: NatsConnectionState;
  private readonly subs = new Set<Subscription>();
  private readonly q: QueueContext;
  private readonly detached = AsyncResource.bind((fn: () => void) => fn());
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private makeHeaders: (() => MsgHdrs) | undefined;
  private running = false;
  private memberSeq = 0;

  constructor(opts: NatsBrokerOptions = {}) {
    const { clock, random, logger, ...rest } = opts;
    this.config = resolveNatsBrokerConfig(rest);
    this.clock = clock ?? new SystemClock();
    const rnd = random ?? new SystemRandom();
    this.log = (logger ?? silentLogger).child({ component: 'broker', broker: 'nats' });
    this.limited = new RateLimitedLog(this.log, this.clock);
    this.nextId = messageIds(rnd);
    this.memberPrefix = Array.from(rnd.bytes(6), (b) => b.toString(16).padStart(2, '0')).join('');
    this.names = namesFor(this.config.streamPrefix);
    this.interest = new QueueInterest(this.names);
    this.conn = new NatsConnectionState({
      config: this.config, clock: this.clock, random: rnd, log: this.log, limited: this.limited, names: this.names, interest: this.interest,
      jsm: () => this.jsm,
    });
    this.q = {
      names: this.names, config: this.config, clock: this.clock, log: this.log, limited: this.limited, counters: this.counters,
      js: () => this.need(this.js), jsm: () => this.need(this.jsm), makeHeaders: () => this.need(this.makeHeaders)(),
      publish: (topic, body, headers) => this.publish(topic, body, { headers }),
      detached: this.detached, running: () => this.running,
    };
  }

  start(opts?: { signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.start(async () => {
      const [core, jetstream] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
      const nc = await this.conn.open(core, opts?.signal);
      this.js = jetstream.jetstream(nc, { timeout: this.config.publishTimeoutMs });
      this.jsm = await jetstream.jetstreamManager(nc, { timeout: this.config.publishTimeoutMs, checkAPI: false });
      this.makeHeaders = () => core.headers();
      this.running = true;
      await this.conn.watchInterest(nc);
    });
  }

  stop(_opts?: { signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.stop(async () => {
      this.running = false;
      for (const s of [...this.subs]) await s.unsubscribe();
      this.subs.clear();
      this.interest.clear();
      await this.conn.close();
      this.js = undefined;
      this.jsm = undefined;
    });
  }

  stats(): NatsBrokerStats {
    return { ...this.counters.snapshot(), subscriptions: this.subs.size, queueGroups: this.interest.size, connected: this.conn.connected };
  }

  async publish(topic: string, body: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (!this.running) throw err('NOT_RUNNING', `broker is not started; cannot publish to ${topic}`);
    if (opts.signal?.aborted) throw err('CANCELLED', 'publish aborted', opts.signal.reason);
    const tokens = this.topics.parse(topic);
    if (!(body instanceof Uint8Array)) throw err('INVALID_ARGUMENT', 'body must be a Uint8Array');
    const id = this.nextId();
    const h = this.headersFor(opts.headers, id);
    const nc = await this.conn.ready(opts.signal, topic);
    const limit = nc.info?.max_payload;
    const size = body.length + headerBytes(h);
    if (limit !== undefined && size > limit) {
      this.counters.inc('dropped');
      throw err('PAYLOAD_TOO_LARGE', `message to ${topic} is ${size} bytes (body and headers), over the NATS server's max_payload of ${limit} bytes`);
    }
    try {
      nc.publish(topic, body, { headers: h });
    } catch (e) {
      this.counters.inc('publishFailures');
      throw err('UNAVAILABLE', `publish to ${topic} failed: ${describeError(e).message}`, e);
    }
    this.counters.inc('published');
    if (!this.interest.wants(tokens)) return;
    try {
      await this.need(this.js).publish(originalSubject(this.names, topic), body, { headers: h, msgID: id, timeout: this.config.publishTimeoutMs });
      this.counters.inc('queuePublished');
    } catch (e) {
      this.counters.inc('publishFailures');
      throw err('UNAVAILABLE', `queue-group publish to ${topic} was not acknowledged by JetStream: ${describeError(e).message}`, e);
    }
  }

  async subscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const tokens = parsePattern(topic);
    if (typeof handler !== 'function') throw err('INVALID_ARGUMENT', 'handler must be a function');
    const queue = opts.queue;
    if (queue !== undefined && (typeof queue !== 'string' || queue.length === 0)) throw err('INVALID_ARGUMENT', 'queue must be a non-empty string');
    if (opts.signal?.aborted) throw err('CANCELLED', 'subscribe aborted', opts.signal.reason);
    if (!this.running) throw err('NOT_RUNNING', `broker is not started; cannot subscribe to ${topic}`);
    if (queue === undefined) {
      const nc = await this.conn.ready(opts.signal, topic);
      const sub = new BroadcastSub(this, nc, topic, tokens, handler, opts.signal);
      this.subs.add(sub);
      return sub;
    }
    let group: Awaited<ReturnType<typeof ensureGroup>>;
    try {
      group = await ensureGroup(this.q, queue, topic);
    } catch (e) {
      throw err('UNAVAILABLE', `cannot set up queue group ${queue} on ${topic} in JetStream (is nats-server running with -js?): ${describeError(e).message}`, e);
    }
    this.interest.set(group.consumer, group.filter);
    const member: Subscription = new QueueMember(this.q, {
      topic, tokens, queue, handler, member: `${this.memberPrefix}/${++this.memberSeq}`, consumer: group.consumer, token: group.token,
      signal: opts.signal, onEnd: () => this.subs.delete(member),
    });
    this.subs.add(member);
    return member;
  }

  /** @internal (BroadcastSub) */
  deliverBroadcast(sub: BroadcastSub, msg: Msg): void {
    let m: BrokerMessage;
    try {
      const headers: Headers = {};
      let id = '';
      if (msg.headers !== undefined) {
        for (const k of msg.headers.keys()) {
          const values = msg.headers.values(k);
          const val = values[values.length - 1] ?? '';
          if (k === H.id) id = val;
          else if (!isInternalHeader(k)) headers[k] = val;
        }
      }
      m = { id: id === '' ? this.nextId() : id, topic: msg.subject, headers, body: msg.data, deliveryAttempt: 1 };
    } catch (e) {
      this.counters.inc('malformed');
      this.limited.warn('malformed', 'malformed NATS message dropped', { subject: msg.subject, error: String(e) });
      return;
    }
    if (sub.pending >= this.config.maxPendingPerSubscription) {
      this.counters.inc('dropped');
      this.limited.warn(`full:${sub.topic}`, 'message dropped: subscription backlog full', { topic: m.topic, subscription: sub.topic });
      return;
    }
    sub.push(m);
  }

  /** @internal */
  handled(ok: boolean, sub: BroadcastSub, m: BrokerMessage, e?: unknown): void {
    if (ok) {
      this.counters.inc('delivered');
      return;
    }
    this.counters.inc('handlerErrors');
    const { code, message } = describeError(e);
    this.log.warn('subscriber handler failed', { topic: m.topic, subscription: sub.topic, messageId: m.id, code, error: message });
  }

  /** @internal */
  ended(sub: Subscription): void {
    this.subs.delete(sub);
  }

  /** @internal */
  runDetached(fn: () => void): void {
    this.detached(fn);
  }

  private headersFor(given: Headers | undefined, id: string): MsgHdrs {
    const h = this.need(this.makeHeaders)();
    if (given !== undefined) {
      for (const k in given) {
        if (!Object.hasOwn(given, k)) continue;
        const v = given[k];
        if (typeof v !== 'string') throw err('INVALID_ARGUMENT', `header ${k} must be a string`);
        if (!HEADER_NAME.test(k)) throw err('INVALID_ARGUMENT', `header name ${JSON.stringify(k)} is not valid in NATS (printable ASCII without ':' or spaces)`);
        if (/[\r\n]/.test(v)) throw err('INVALID_ARGUMENT', `header ${k} contains a line break, which NATS headers cannot carry`);
        if (isInternalHeader(k)) continue; // ours, or NATS's (Nats-Msg-Id, Nats-Expected-…): set by the broker only
        h.set(k, v);
      }
    }
    h.set(H.id, id);
    return h;
  }

  private need<T>(x: T | undefined): T {
    if (x === undefined) throw err('NOT_RUNNING', 'broker is not started');
    return x;
  }
}

/** A broadcast subscription: a core NATS subscription feeding a mailbox drained one message at a time. */
class BroadcastSub implements Subscription {
  readonly topic: string;
  readonly queue = undefined;
  private readonly broker: NatsBroker;
  private readonly handler: BrokerHandler;
  private readonly sub: NatsSubscription;
  private readonly skipDollar: boolean;
  private mailbox: BrokerMessage[] = [];
  private head = 0;
  private draining = false;
  private active = true;
  private detach: (() => void) | undefined;

  constructor(broker: NatsBroker, nc: NatsConnection, topic: string, tokens: string[], handler: BrokerHandler, signal?: AbortSignal) {
    this.broker = broker;
    this.topic = topic;
    this.handler = handler;
    // Our rule (topic.ts): a leading wildcard matches no `$…` first token; NATS's does. Inboxes are the client's replies.
    this.skipDollar = tokens[0] === '*' || tokens[0] === '>';
    this.sub = nc.subscribe(topic, {
      callback: (_e, msg) => {
        if (!this.active) return;
        if (this.skipDollar && (msg.subject.startsWith('$') || msg.subject.startsWith('_INBOX.'))) return;
        broker.deliverBroadcast(this, msg);
      },
    });
    if (signal !== undefined) {
      const onAbort = (): void => void this.unsubscribe();
      signal.addEventListener('abort', onAbort, { once: true });
      this.detach = () => signal.removeEventListener('abort', onAbort);
    }
  }

  get pending(): number {
    return this.mailbox.length - this.head;
  }

  push(m: BrokerMessage): void {
    this.mailbox.push(m);
    if (this.draining) return;
    this.draining = true;
    this.broker.runDetached(() => queueMicrotask(() => void this.drain()));
  }

  async unsubscribe(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.detach?.();
    this.mailbox = [];
    this.head = 0;
    try {
      this.sub.unsubscribe();
    } catch {
      // the connection is already closed
    }
    this.broker.ended(this);
  }

  private async drain(): Promise<void> {
    while (this.active && this.head < this.mailbox.length) {
      const m = this.mailbox[this.head++]!;
      if (this.head === this.mailbox.length) {
        this.mailbox = [];
        this.head = 0;
      }
      try {
        const r = this.handler(m);
        if (r instanceof Promise) await r;
        this.broker.handled(true, this, m);
      } catch (e) {
        this.broker.handled(false, this, m, e);
      }
    }
    this.draining = false;
  }
}

function headerBytes(h: MsgHdrs): number {
  let n = 12; // "NATS/1.0\r\n" and the final "\r\n"
  for (const [k, vs] of h) for (const v of vs) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 4;
  return n;
}

/** `micromesh/nats` also gives the settings' defaults and validation. */
export { NATS_BROKER_DEFAULTS, resolveNatsBrokerConfig, type NatsBrokerConfig, type NatsBrokerConfigInput } from './nats-config.ts';
