import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import type { Counters } from '../metrics/counters.ts';
import { refusalError, type Outcome } from './local.ts';
import type { Held, QueueEntry } from './outbox.ts';
import type { PeerBrokerConfig } from './peer-config.ts';

/** Refusals (sends that reached no handler) one message may collect before it is given up on. */
export const MAX_REROUTES = 20;

type Counter = 'acked' | 'refused' | 'redelivered' | 'dropped';

export interface QueueHolderDeps {
  config: PeerBrokerConfig;
  clock: Clock;
  random: Random;
  logger: Logger;
  counters: Counters<Counter | (string & {})>;
  localId: string;
  /** Nodes with a member of the entry's group for its topic, as the membership shows them now. */
  candidates(e: QueueEntry): readonly string[];
  /** Sends the entry to `node` (this node's id: local delivery); the outcome comes back through `settle`. */
  send(e: QueueEntry, node: string): void;
  /** The entry is given up on: publish it to the dead-letter topic. */
  deadLetter(e: QueueEntry, err: { code: string; message: string; deliveries: number }): void;
  /** An entry left the holder (acked, dead-lettered or dropped). */
  settled(): void;
}

/**
 * At-least-once for queue groups, on the node that published the message
 * (the holder): it picks one member node of the group, waits for its
 * outcome, and on a failure (handler error, ack timeout, lost connection,
 * the member's node leaving) redelivers to another member, preferring
 * nodes that have not had it, with `deliveryAttempt` + 1; after
 * `maxDeliveries` failures the message is dead-lettered. A refusal (no
 * member there any more, busy, stopping, connection refused) never reached
 * a handler: the holder tries another node without counting an attempt,
 * at most MAX_REROUTES times. If the holder itself dies, what it held is
 * lost: at-least-once holds while the publishing node lives.
 */
export class QueueHolder {
  private readonly d: QueueHolderDeps;
  private readonly pending = new Set<QueueEntry>();
  private readonly cursors = new Map<string, number>();
  private readonly timers = new Set<TimerHandle>();

  constructor(d: QueueHolderDeps) {
    this.d = d;
  }

  get size(): number {
    return this.pending.size;
  }

  add(p: Held, queue: string): void {
    const e: QueueEntry = {
      p, queue, attempt: 1, tried: [], nodes: [], node: undefined, token: 0, reroutes: 0, failures: 0, inFlight: false, lastError: undefined,
    };
    this.pending.add(e);
    this.dispatch(e);
  }

  /** The outcome of the send that carried `token`; outcomes of superseded sends are ignored. */
  settle(e: QueueEntry, token: number, node: string, o: Outcome): void {
    if (!this.pending.has(e) || e.token !== token) return;
    e.inFlight = false;
    if (o === 0) {
      this.d.counters.inc('acked');
      this.finish(e);
      return;
    }
    if (typeof o === 'number') {
      this.d.counters.inc('refused');
      if (++e.reroutes > MAX_REROUTES) {
        const err = refusalError(o);
        this.giveUp(e, { code: e.lastError?.code ?? err.code, message: e.lastError?.message ?? err.detail });
        return;
      }
      // Straight to another node when there is one we have not tried; else back off a little.
      const fresh = this.d.candidates(e).some((n) => !e.nodes.includes(n));
      if (fresh) this.dispatch(e);
      else this.later(e, Math.min(10 * e.reroutes, 500));
      return;
    }
    this.fail(e, o.code, o.message, o.member, node);
  }

  /**
   * `node` left the membership: entries waiting in its outbox go elsewhere
   * (not counted: never sent); entries it had in hand may have run, so they
   * count as a failed attempt.
   */
  nodeLeft(node: string, unsent: readonly QueueEntry[]): void {
    for (const e of unsent) {
      if (!this.pending.has(e)) continue;
      e.inFlight = false;
      this.dispatch(e);
    }
    for (const e of [...this.pending]) {
      if (e.node === node && e.inFlight) {
        e.inFlight = false;
        this.fail(e, 'MEMBER_LEFT', `member node ${node} left the membership before acknowledging`, '', node);
      }
    }
  }

  /** Drops everything (broker stopping). */
  clear(): void {
    for (const t of this.timers) this.d.clock.clearTimeout(t);
    this.timers.clear();
    if (this.pending.size > 0) {
      this.d.counters.inc('dropped', this.pending.size);
      this.d.logger.warn('broker stopped holding unacknowledged queue-group messages; dropped', { messages: this.pending.size });
    }
    this.pending.clear();
    this.cursors.clear();
  }

  private fail(e: QueueEntry, code: string, message: string, member: string, node: string): void {
    e.failures++;
    e.lastError = { code, message };
    if (member.length > 0 && !e.tried.includes(member)) e.tried.push(member);
    if (e.failures >= this.d.config.maxDeliveries) {
      this.giveUp(e, e.lastError);
      return;
    }
    e.attempt++;
    this.d.counters.inc('redelivered');
    this.d.logger.debug('redelivering', { messageId: e.p.id, queue: e.queue, from: node, attempt: e.attempt, code });
    if (this.d.config.redeliveryDelayMs === 0) this.dispatch(e);
    else this.later(e, this.d.config.redeliveryDelayMs);
  }

  private giveUp(e: QueueEntry, err: { code: string; message: string }): void {
    this.finish(e);
    this.d.deadLetter(e, { ...err, deliveries: e.failures });
  }

  private finish(e: QueueEntry): void {
    this.pending.delete(e);
    this.d.settled();
  }

  private later(e: QueueEntry, ms: number): void {
    const token = ++e.token;
    const t = this.d.clock.setTimeout(() => {
      this.timers.delete(t);
      if (this.pending.has(e) && e.token === token) this.dispatch(e);
    }, ms);
    this.timers.add(t);
  }

  /** Sends to a member node: one that has not had the message, else any but the last, else the last. */
  private dispatch(e: QueueEntry): void {
    const all = this.d.candidates(e);
    if (all.length === 0) {
      const none = refusalError(1);
      this.giveUp(e, e.lastError ?? { code: none.code, message: none.detail });
      return;
    }
    let pool: readonly string[] = all.filter((n) => !e.nodes.includes(n));
    if (pool.length === 0) pool = all.filter((n) => n !== e.node);
    if (pool.length === 0) pool = all;
    const node = this.pick(e.queue, pool);
    e.node = node;
    if (!e.nodes.includes(node)) e.nodes.push(node);
    e.token++;
    e.inFlight = true;
    this.d.send(e, node);
  }

  private pick(queue: string, pool: readonly string[]): string {
    if (pool.length === 1) return pool[0]!;
    if (this.d.config.queueStrategy === 'random') return pool[this.d.random.int(pool.length)]!;
    const c = this.cursors.get(queue) ?? 0;
    this.cursors.set(queue, c + 1);
    return pool[c % pool.length]!;
  }
}
