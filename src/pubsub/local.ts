import { AsyncResource } from 'node:async_hooks';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import type { Counters } from '../metrics/counters.ts';
import type { SubKey } from './subs-record.ts';
import { tokensMatch } from './topic.ts';
import type { BrokerHandler, BrokerMessage, Headers, Subscription } from './types.ts';

/** A message as it arrives at a node, from the network or from a local publish. */
export interface Inbound {
  id: string;
  topic: string;
  tokens: string[];
  headers: Headers;
  body: Uint8Array;
  attempt: number;
}

/**
 * Why a node did not take a queue-group message (it never reached a handler,
 * so the holder tries another node without counting an attempt).
 */
export const REFUSED = { noMember: 1, busy: 2, notRunning: 3 } as const;
export type Refusal = (typeof REFUSED)[keyof typeof REFUSED];

/** The outcome of a queue-group delivery: handled (0), refused, or the handler failed. */
export type Outcome = 0 | Refusal | { code: string; message: string; member: string };

export const LOCAL_COUNTERS = ['delivered', 'handlerErrors', 'dropped', 'unmatched'] as const;
export type LocalCounter = (typeof LOCAL_COUNTERS)[number];

interface Job {
  m: Inbound;
  /** Set for queue-group deliveries: reports the outcome to the holder. */
  done?: (o: Outcome) => void;
}

class LocalSub implements Subscription {
  readonly topic: string;
  readonly queue: string | undefined;
  readonly tokens: string[];
  readonly handler: BrokerHandler;
  readonly member: string;
  active = true;
  draining = false;
  mailbox: Job[] = [];
  head = 0;
  detach: (() => void) | undefined;
  private readonly owner: LocalSubs;

  constructor(owner: LocalSubs, member: string, topic: string, tokens: string[], queue: string | undefined, handler: BrokerHandler) {
    this.owner = owner;
    this.member = member;
    this.topic = topic;
    this.tokens = tokens;
    this.queue = queue;
    this.handler = handler;
  }

  get pending(): number {
    return this.mailbox.length - this.head;
  }

  async unsubscribe(): Promise<void> {
    this.owner.remove(this);
  }
}

export interface LocalSubsOptions {
  /** Prefix of member ids (`<node>/<n>`), so a holder can tell members apart across nodes. */
  nodeId: string;
  maxPendingPerSubscription: number;
  logger: Logger;
  counters: Counters<LocalCounter>;
  /** Called after the set of (pattern, queue) keys may have changed. */
  onChange: () => void;
  /** Picks the index of the queue member to try first among `n`; default round robin. */
  pick?: (n: number) => number;
}

/**
 * This node's subscriptions and their mailboxes: each subscription handles
 * its messages one at a time, in arrival order, off the caller's stack. A
 * throwing handler is logged and counted and its subscription goes on; for a
 * queue-group message the failure is reported to the holder, which decides
 * about redelivery. Queue members are picked round robin among the local
 * members of the group, skipping those that already failed the message.
 */
export class LocalSubs {
  private readonly o: LocalSubsOptions;
  private subs: LocalSub[] = [];
  private seq = 0;
  private cursor = 0;
  /**
   * Handlers run outside the context of whatever call delivered the message
   * (a `$mesh` delivery or a local publisher's handler), so they never
   * inherit its deadline or metadata.
   */
  private readonly detached = AsyncResource.bind((fn: () => void) => fn());

  constructor(o: LocalSubsOptions) {
    this.o = o;
  }

  get size(): number {
    return this.subs.length;
  }

  add(topic: string, tokens: string[], handler: BrokerHandler, queue: string | undefined, signal?: AbortSignal): LocalSub {
    const sub = new LocalSub(this, `${this.o.nodeId}/${++this.seq}`, topic, tokens, queue, handler);
    if (signal !== undefined) {
      const onAbort = (): void => this.remove(sub);
      signal.addEventListener('abort', onAbort, { once: true });
      sub.detach = () => signal.removeEventListener('abort', onAbort);
    }
    this.subs.push(sub);
    try {
      this.o.onChange();
    } catch (err) {
      this.remove(sub);
      throw err;
    }
    return sub;
  }

  /** Ends `sub`; its undelivered queue-group messages are refused back to their holders. Idempotent. */
  remove(sub: LocalSub, refusal: Refusal = REFUSED.noMember): void {
    if (!sub.active) return;
    sub.active = false;
    sub.detach?.();
    this.subs = this.subs.filter((s) => s !== sub);
    const left = sub.mailbox.slice(sub.head);
    sub.mailbox = [];
    sub.head = 0;
    for (const j of left) {
      if (j.done !== undefined) j.done(refusal);
      else this.o.counters.inc('dropped');
    }
    try {
      this.o.onChange();
    } catch (err) {
      this.o.logger.warn('could not update the subscriptions record', { error: String(err) });
    }
  }

  /** Ends every subscription (broker stopping). */
  clear(): void {
    for (const s of [...this.subs]) this.remove(s, REFUSED.notRunning);
  }

  /** The (pattern, queue) pairs to advertise. */
  keys(): SubKey[] {
    return this.subs.map((s) => ({ pattern: s.topic, queue: s.queue }));
  }

  /** Queues a copy for every matching broadcast subscription; returns how many. */
  broadcast(m: Inbound): number {
    let n = 0;
    for (const sub of this.subs) {
      if (sub.queue !== undefined || !tokensMatch(sub.tokens, m.tokens)) continue;
      n++;
      if (sub.pending >= this.o.maxPendingPerSubscription) {
        this.o.counters.inc('dropped');
        this.o.logger.warn('message dropped: subscription backlog full', { topic: m.topic, messageId: m.id, subscription: sub.topic });
        continue;
      }
      this.enqueue(sub, { m });
    }
    return n;
  }

  /** Whether a broadcast subscription here matches `tokens`. */
  wantsBroadcast(tokens: readonly string[]): boolean {
    return this.subs.some((s) => s.queue === undefined && tokensMatch(s.tokens, tokens));
  }

  /** Local queue groups that may take `tokens`. */
  groups(tokens: readonly string[]): string[] {
    const out: string[] = [];
    for (const s of this.subs) if (s.queue !== undefined && !out.includes(s.queue) && tokensMatch(s.tokens, tokens)) out.push(s.queue);
    return out;
  }

  hasMember(queue: string, tokens: readonly string[]): boolean {
    return this.subs.some((s) => s.queue === queue && tokensMatch(s.tokens, tokens));
  }

  /**
   * Hands a queue-group message to one local member (preferring members not
   * in `tried`); `done` gets the outcome once its handler finished. Returns
   * a refusal instead (and never calls `done`) when no member can take it now.
   */
  queue(m: Inbound, queue: string, tried: readonly string[] | undefined, done: (o: Outcome) => void): Refusal | undefined {
    const members = this.subs.filter((s) => s.queue === queue && tokensMatch(s.tokens, m.tokens));
    if (members.length === 0) return REFUSED.noMember;
    let pool = tried === undefined || tried.length === 0 ? members : members.filter((s) => !tried.includes(s.member));
    if (pool.length === 0) pool = members;
    const start = this.o.pick ? this.o.pick(pool.length) : this.cursor++;
    for (let i = 0; i < pool.length; i++) {
      const sub = pool[(start + i) % pool.length]!;
      if (sub.pending < this.o.maxPendingPerSubscription) {
        this.enqueue(sub, { m, done });
        return undefined;
      }
    }
    return REFUSED.busy;
  }

  private enqueue(sub: LocalSub, job: Job): void {
    sub.mailbox.push(job);
    if (sub.draining) return;
    sub.draining = true;
    this.detached(() => queueMicrotask(() => void this.drain(sub)));
  }

  private async drain(sub: LocalSub): Promise<void> {
    while (sub.active && sub.head < sub.mailbox.length) {
      const job = sub.mailbox[sub.head]!;
      sub.mailbox[sub.head++] = undefined as unknown as Job;
      if (sub.head === sub.mailbox.length) {
        sub.mailbox = [];
        sub.head = 0;
      }
      const m = job.m;
      const message: BrokerMessage = { id: m.id, topic: m.topic, headers: { ...m.headers }, body: m.body, deliveryAttempt: m.attempt };
      try {
        // Await only real promises: a synchronous handler costs no extra microtask per message.
        const r = sub.handler(message);
        if (r instanceof Promise) await r;
        this.o.counters.inc('delivered');
        job.done?.(0);
      } catch (err) {
        this.o.counters.inc('handlerErrors');
        const { code, message: text } = describeError(err);
        this.o.logger.warn('subscriber handler failed', {
          topic: m.topic, subscription: sub.topic, queue: sub.queue, messageId: m.id, attempt: m.attempt, code, error: text,
        });
        job.done?.({ code, message: text, member: sub.member });
      }
    }
    sub.draining = false;
  }
}

/** The error's stable `code` (never its text) and message, for the holder and dead-letter headers. */
export function describeError(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { code: typeof code === 'string' && code.length > 0 ? code : 'INTERNAL', message };
}

/** MeshError for a refusal, when a refusal must be reported as an error (logs, dead letters). */
export function refusalError(r: Refusal): MeshError {
  if (r === REFUSED.busy) return new MeshError('UNAVAILABLE', 'every member of the queue group is busy', { id: 'micromesh.broker' });
  if (r === REFUSED.notRunning) return new MeshError('NOT_RUNNING', 'the member node is stopping', { id: 'micromesh.broker' });
  return new MeshError('NONE_AVAILABLE', 'the queue group has no member left', { id: 'micromesh.broker' });
}
