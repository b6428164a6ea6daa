import { createHash } from 'node:crypto';
import type { JsMsg, JetStreamClient, JetStreamManager, Consumer } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import type { RateLimitedLog } from '../log/limit.ts';
import type { Counters } from '../metrics/counters.ts';
import { describeError } from './local.ts';
import type { NatsBrokerConfig } from './nats-config.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic, isDeadLetterTopic, tokensMatch } from './topic.ts';
import type { BrokerHandler, BrokerMessage, Headers, Subscription } from './types.ts';

/**
 * Queue groups on JetStream. One stream per `streamPrefix` with Interest
 * retention captures `$<prefix>.q.<slot>.<topic>`: `<slot>` is `m` for a
 * message as published, or a group's token for a copy only that group
 * should take (a retry). Each (queue, pattern) pair has one durable pull
 * consumer with explicit acks filtering `$<prefix>.q.*.<pattern>`, shared by
 * all its members, wherever they run. Interest retention (not WorkQueue)
 * because a WorkQueue stream refuses overlapping consumers, and two groups
 * on one topic each need every message; a message leaves the stream once
 * every group that wanted it acked it. Copies meant for another group are
 * acked unseen.
 *
 * A failed attempt is not nak'ed: the member publishes a copy carrying the
 * next attempt number and the members that tried it, then acks the
 * original, so the attempt count survives any member and the next attempt
 * can prefer someone else (JetStream alone redelivers to whoever pulls
 * next, often the member that just failed). A member given a copy it already
 * failed passes it on (a "bounce") and pauses its pulls briefly so another
 * member takes it; after BOUNCE_LIMIT bounces it takes the message itself.
 * A member that dies holding a message returns it through the server's ack
 * wait; that redelivery counts as an attempt (deliveryCount − 1 is added).
 */

/** Internal headers (removed from what handlers see). */
export const H = {
  id: 'micromesh-id',
  attempt: 'micromesh-attempt',
  tried: 'micromesh-tried',
  bounces: 'micromesh-bounces',
} as const;
const OURS: readonly string[] = Object.values(H);

/** Ours, and NATS's own (`Nats-Msg-Id` would make JetStream drop a retry as a duplicate): never a handler's. */
export function isInternalHeader(k: string): boolean {
  return OURS.includes(k) || /^nats-/i.test(k);
}

const ORIGINAL_SLOT = 'm';
const PULL_EXPIRES_MS = 5000;
const BOUNCE_LIMIT = 4;
const BOUNCE_BASE_MS = 10;
const MAX_TRIED = 32;

export const QUEUE_COUNTERS = ['queuePublished', 'queueDelivered', 'redelivered', 'bounced', 'deadLettered', 'handlerErrors', 'malformed', 'dropped'] as const;
export type QueueCounter = (typeof QUEUE_COUNTERS)[number];

export interface Names {
  stream: string;
  /** `$<prefix>.q` */
  root: string;
}

export function namesFor(prefix: string): Names {
  return { stream: `${prefix}_QUEUES`, root: `$${prefix}.q` };
}

/** Durable consumer name and slot token of a (queue, pattern) pair: stable across processes. */
export function groupIds(queue: string, pattern: string): { consumer: string; token: string } {
  const token = createHash('sha256').update(`${queue}\n${pattern}`).digest('hex').slice(0, 16);
  const readable = queue.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return { consumer: `g_${readable}_${token}`, token: `g${token}` };
}

/** The subject a publish goes to in the queue stream. */
export function originalSubject(n: Names, topic: string): string {
  return `${n.root}.${ORIGINAL_SLOT}.${topic}`;
}

/**
 * Which queue-group patterns exist (the stream's consumers): a publish goes to
 * the stream, and waits for its PubAck, only when one matches its topic. Learnt
 * from the consumer list at start and reconnect, the server's consumer
 * advisories, and this broker's own subscribes (at once).
 */
export class QueueInterest {
  private readonly patterns = new Map<string, string[]>();
  private readonly prefixTokens: number;

  constructor(n: Names) {
    this.prefixTokens = n.root.split('.').length + 1;
  }

  get size(): number {
    return this.patterns.size;
  }

  set(consumer: string, filterSubject: string | undefined): void {
    if (filterSubject === undefined) return;
    const tokens = filterSubject.split('.');
    if (tokens.length <= this.prefixTokens) return;
    this.patterns.set(consumer, tokens.slice(this.prefixTokens));
  }

  delete(consumer: string): void {
    this.patterns.delete(consumer);
  }

  clear(): void {
    this.patterns.clear();
  }

  wants(tokens: readonly string[]): boolean {
    for (const p of this.patterns.values()) if (tokensMatch(p, tokens)) return true;
    return false;
  }
}

export interface QueueContext {
  names: Names;
  config: NatsBrokerConfig;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  counters: Counters<QueueCounter>;
  js: () => JetStreamClient;
  jsm: () => JetStreamManager;
  makeHeaders: () => MsgHdrs;
  /** Publishes a dead letter through the broker (broadcast and queue groups of `$dead-letter.<topic>`). */
  publish: (topic: string, body: Uint8Array, headers: Headers) => Promise<void>;
  /** Runs `fn` outside the subscriber's async context. */
  detached: (fn: () => void) => void;
  running: () => boolean;
}

/** Creates the queue stream and the group's durable consumer when missing (idempotent, race-safe). */
export async function ensureGroup(q: QueueContext, queue: string, pattern: string): Promise<{ consumer: string; token: string; filter: string }> {
  const { consumer, token } = groupIds(queue, pattern);
  const filter = `${q.names.root}.*.${pattern}`;
  const jsm = q.jsm();
  const mod = await import('@nats-io/jetstream');
  try {
    await jsm.streams.info(q.names.stream);
  } catch (err) {
    if (!(err instanceof mod.JetStreamApiError && err.code === mod.JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add({
        name: q.names.stream, subjects: [`${q.names.root}.>`], retention: mod.RetentionPolicy.Interest,
        storage: mod.StorageType.File, description: 'micromesh queue groups (one consumer per queue group and pattern)',
      });
    } catch (e) {
      if (!/already in use|exists/i.test(String(e))) throw e;
    }
  }
  try {
    await jsm.consumers.info(q.names.stream, consumer);
  } catch (err) {
    if (!(err instanceof mod.JetStreamApiError && err.code === mod.JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(q.names.stream, {
      durable_name: consumer, filter_subject: filter, ack_policy: mod.AckPolicy.Explicit,
      deliver_policy: mod.DeliverPolicy.New, max_deliver: -1,
      // The server's redelivery only covers members that died: the member itself times a handler out at ackWaitMs.
      ack_wait: (q.config.ackWaitMs + 1000) * 1e6, inactive_threshold: q.config.idleGroupMs * 1e6,
      description: JSON.stringify({ queue, pattern }).slice(0, 1024),
    });
  }
  return { consumer, token, filter };
}

/** One member of a queue group: a pull loop on the group's consumer, one message at a time. */
export class QueueMember implements Subscription {
  readonly topic: string;
  readonly queue: string;
  private readonly q: QueueContext;
  private readonly tokens: string[];
  private readonly handler: BrokerHandler;
  private readonly member: string;
  private readonly consumerName: string;
  private readonly slot: string;
  private readonly abort = new AbortController();
  private active = true;
  private detach: (() => void) | undefined;
  private onEnd: (() => void) | undefined;
  private pauseMs = 0;

  constructor(q: QueueContext, o: {
    topic: string; tokens: string[]; queue: string; handler: BrokerHandler; member: string; consumer: string; token: string;
    signal?: AbortSignal; onEnd: () => void;
  }) {
    this.q = q;
    this.topic = o.topic;
    this.tokens = o.tokens;
    this.queue = o.queue;
    this.handler = o.handler;
    this.member = o.member;
    this.consumerName = o.consumer;
    this.slot = o.token;
    this.onEnd = o.onEnd;
    if (o.signal !== undefined) {
      const s = o.signal;
      const onAbort = (): void => void this.unsubscribe();
      s.addEventListener('abort', onAbort, { once: true });
      this.detach = () => s.removeEventListener('abort', onAbort);
    }
    q.detached(() => void this.run());
  }

  async unsubscribe(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.abort.abort();
    this.detach?.();
    this.onEnd?.();
    this.onEnd = undefined;
  }

  private async run(): Promise<void> {
    let consumer: Consumer | undefined;
    let failures = 0;
    while (this.active && this.q.running()) {
      try {
        if (this.pauseMs > 0) {
          const ms = this.pauseMs;
          this.pauseMs = 0;
          await this.q.clock.sleep(ms, this.abort.signal);
        }
        consumer ??= await this.q.js().consumers.get(this.q.names.stream, this.consumerName);
        const m = await consumer.next({ expires: PULL_EXPIRES_MS });
        failures = 0;
        if (m === null) continue;
        if (!this.active || !this.q.running()) {
          m.nak(); // handed back at once to the other members
          break;
        }
        await this.handle(m);
      } catch (err) {
        if (!this.active || !this.q.running()) break;
        consumer = undefined;
        failures++;
        this.q.limited.warn(`pull:${this.consumerName}`, 'queue group pull failed; retrying', { queue: this.queue, topic: this.topic, error: String(err) });
        // Back off while the server is away (the client reconnects by itself); its consumer is durable.
        if (failures > 3) {
          try {
            await ensureGroup(this.q, this.queue, this.topic);
          } catch {
            // still unavailable: the next round tries again
          }
        }
        await this.q.clock.sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)), this.abort.signal).catch(() => {});
      }
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const parts = m.subject.split('.');
    const rootLen = this.q.names.root.split('.').length;
    const slot = parts[rootLen];
    const tokens = parts.slice(rootLen + 1);
    // Another group's retry, or a `$…` topic a leading wildcard must not take: not ours to see.
    if ((slot !== ORIGINAL_SLOT && slot !== this.slot) || tokens.length === 0 || !tokensMatch(this.tokens, tokens)) {
      m.ack();
      return;
    }
    const topic = tokens.join('.');
    const h = m.headers;
    const headers: Headers = {};
    let id = '';
    let base = 1;
    let tried: string[] = [];
    let bounces = 0;
    try {
      if (h !== undefined) {
        for (const k of h.keys()) {
          const values = h.values(k);
          const val = values[values.length - 1] ?? '';
          if (k === H.id) id = val;
          else if (k === H.attempt) base = Math.max(1, Math.min(1000, Number.parseInt(val, 10) || 1));
          else if (k === H.tried) tried = val === '' ? [] : val.split(',').slice(0, MAX_TRIED);
          else if (k === H.bounces) bounces = Math.max(0, Number.parseInt(val, 10) || 0);
          else if (!isInternalHeader(k)) headers[k] = val;
        }
      }
    } catch (err) {
      this.q.counters.inc('malformed');
      this.q.limited.warn('queue-malformed', 'malformed queue message dropped', { subject: m.subject, error: String(err) });
      m.term();
      return;
    }
    if (id === '') id = `${this.q.names.stream}:${m.seq}`;
    const attempt = base + m.info.deliveryCount - 1;
    const cfg = this.q.config;
    if (attempt > cfg.maxDeliveries) {
      // Its last attempt's member died or never acked: the handler is not run again.
      const err = { code: 'TIMEOUT', message: `not acknowledged within the ack wait (${cfg.ackWaitMs} ms + 1 s)` };
      await this.finish(m, topic, id, headers, err, attempt - 1);
      return;
    }
    if (tried.includes(this.member) && bounces < BOUNCE_LIMIT) {
      await this.copy(m, topic, id, headers, base, tried, bounces + 1, 'bounced');
      this.pauseMs = BOUNCE_BASE_MS * 2 ** bounces;
      return;
    }
    const message: BrokerMessage = { id, topic, headers, body: m.data, deliveryAttempt: attempt };
    const outcome = await this.call(message);
    if (outcome === undefined) {
      this.q.counters.inc('queueDelivered');
      m.ack();
      return;
    }
    this.q.counters.inc('handlerErrors');
    this.q.log.warn('subscriber handler failed', {
      topic, subscription: this.topic, queue: this.queue, messageId: id, attempt, code: outcome.code, error: outcome.message,
    });
    if (attempt >= cfg.maxDeliveries) {
      await this.finish(m, topic, id, headers, outcome, attempt);
      return;
    }
    const nextTried = [...tried, this.member].slice(-MAX_TRIED);
    await this.copy(m, topic, id, headers, base + 1, nextTried, 0, 'redelivered');
  }

  /** Runs the handler with the ack-wait deadline; undefined when it succeeded. */
  private async call(message: BrokerMessage): Promise<{ code: string; message: string } | undefined> {
    const deadline = new AbortController();
    try {
      const r = this.handler(message);
      if (r instanceof Promise) {
        const ms = this.q.config.ackWaitMs;
        const timeout = this.q.clock.sleep(ms, deadline.signal).then(() => {
          throw new MeshError('TIMEOUT', `handler did not finish within ackWaitMs (${ms} ms)`, { id: 'micromesh.broker' });
        });
        await Promise.race([r, timeout]);
      }
      return undefined;
    } catch (err) {
      return describeError(err);
    } finally {
      deadline.abort();
    }
  }

  /** Publishes the next attempt (or a bounce) for this group only, then acks `m`; on failure naks `m` (the server redelivers, which counts the same). */
  private async copy(m: JsMsg, topic: string, id: string, headers: Headers, attempt: number, tried: string[], bounces: number,
    counter: 'redelivered' | 'bounced'): Promise<void> {
    try {
      const h = this.q.makeHeaders();
      for (const k in headers) h.set(k, headers[k]!);
      h.set(H.id, id);
      h.set(H.attempt, String(attempt));
      h.set(H.tried, tried.join(','));
      h.set(H.bounces, String(bounces));
      await this.q.js().publish(`${this.q.names.root}.${this.slot}.${topic}`, m.data, { headers: h, timeout: this.q.config.publishTimeoutMs });
      this.q.counters.inc(counter);
      m.ack();
    } catch (err) {
      this.q.limited.warn('queue-retry', 'could not queue the next attempt; the server will redeliver', { topic, messageId: id, error: String(err) });
      m.nak();
    }
  }

  /** Dead-letters (or, for a dead letter, drops) and acks. */
  private async finish(m: JsMsg, topic: string, id: string, headers: Headers, err: { code: string; message: string }, deliveries: number): Promise<void> {
    if (isDeadLetterTopic(topic)) {
      this.q.counters.inc('dropped');
      this.q.log.error('dead letter could not be handled; dropped', { topic, messageId: id, queue: this.queue });
      m.ack();
      return;
    }
    const dead: Headers = {
      ...headers,
      [DEAD_LETTER_HEADERS.topic]: topic,
      [DEAD_LETTER_HEADERS.queue]: this.queue,
      [DEAD_LETTER_HEADERS.messageId]: id,
      [DEAD_LETTER_HEADERS.deliveries]: String(deliveries),
      [DEAD_LETTER_HEADERS.errorCode]: oneLine(err.code),
      [DEAD_LETTER_HEADERS.errorMessage]: oneLine(err.message),
    };
    try {
      await this.q.publish(deadLetterTopic(topic), m.data, dead);
      this.q.counters.inc('deadLettered');
      this.q.log.warn('message dead-lettered', { topic, messageId: id, queue: this.queue, code: err.code });
      m.ack();
    } catch (e) {
      this.q.limited.warn('dead-letter', 'could not publish a dead letter; the server will redeliver', { topic, messageId: id, error: String(e) });
      m.nak(1000);
    }
  }
}

/** NATS header values cannot hold line breaks (and lose surrounding spaces). */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim().slice(0, 4096) || '-';
}
