import type { Clock, Random } from '../clock/types.ts';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import type { Membership } from '../membership/types.ts';
import { BROKER_DELIVER } from '../rpc/internal.ts';
import type { Client, Server } from '../rpc/types.ts';
import { resolvePeerBrokerConfig, type PeerBrokerConfig } from './peer-config.ts';
import { PeerCore, type PeerCounter } from './peer-core.ts';
import { copyBytes, parsePattern, parseTopic } from './topic.ts';
import type { Broker, BrokerHandler, Headers, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

export interface PeerBrokerOptions extends Partial<PeerBrokerConfig> {
  /** The peer view: who is live, their `subs` and `rpc` record keys. */
  membership: Membership;
  /** Calls peers' `$mesh` Broker.Deliver (the service's client: one connection per peer). */
  client: Client;
  /** Answers Broker.Deliver (registered with `handleInternal` at construction). */
  server: Server;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

export type PeerBrokerStats = Readonly<Record<PeerCounter, number>> & { subscriptions: number; peers: number; held: number };

/** Shared argument checks of publish/subscribe (the same errors as the memory broker). */
export function checkPublish(running: boolean, topic: string, body: Uint8Array, opts: PublishOptions,
  parse: (topic: string) => string[] = parseTopic): { tokens: string[]; headers: Headers } {
  if (!running) throw new MeshError('NOT_RUNNING', `broker is not started; cannot publish to ${topic}`, { id: 'micromesh.broker' });
  if (opts.signal?.aborted) throw new MeshError('CANCELLED', 'publish aborted', { id: 'micromesh.broker', cause: opts.signal.reason });
  const tokens = parse(topic);
  if (!(body instanceof Uint8Array)) throw new MeshError('INVALID_ARGUMENT', 'body must be a Uint8Array', { id: 'micromesh.broker' });
  // A copy (the caller may change its object later), made without Object.entries' arrays: this runs per publish.
  const headers: Headers = {};
  const given = opts.headers;
  if (given !== undefined) {
    for (const k in given) {
      if (!Object.hasOwn(given, k)) continue;
      const v = given[k];
      if (typeof v !== 'string') throw new MeshError('INVALID_ARGUMENT', `header ${k} must be a string`, { id: 'micromesh.broker' });
      headers[k] = v;
    }
  }
  return { tokens, headers };
}

export function checkSubscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions): string[] {
  const tokens = parsePattern(topic);
  if (typeof handler !== 'function') throw new MeshError('INVALID_ARGUMENT', 'handler must be a function', { id: 'micromesh.broker' });
  if (opts.queue !== undefined && (typeof opts.queue !== 'string' || opts.queue.length === 0)) {
    throw new MeshError('INVALID_ARGUMENT', 'queue must be a non-empty string', { id: 'micromesh.broker' });
  }
  if (opts.signal?.aborted) throw new MeshError('CANCELLED', 'subscribe aborted', { id: 'micromesh.broker', cause: opts.signal.reason });
  return tokens;
}

/**
 * The direct broker: no broker process and no overlay. Each node lists its
 * subscriptions in its membership record (`subs`); a publish is matched
 * against the live members' records and sent straight to the nodes that
 * want it, batched per node per event-loop turn, over the RPC connections
 * the service already has (`$mesh` Broker.Deliver).
 *
 * Guarantees:
 * - `publish` resolves once the message is accepted here (matched and
 *   queued for each target); it waits first when the broker holds
 *   `maxHeldMessages` (backpressure, abortable with its signal).
 * - Broadcast subscriptions: at most once. A copy is lost if the target's
 *   connection fails or the target's backlog is full (logged and counted).
 * - Queue groups: at least once while the publishing node lives (QueueHolder):
 *   redelivered to another member on handler error, ack timeout, lost
 *   connection or the member's node leaving, then dead-lettered after
 *   `maxDeliveries`.
 * - Late joiners get messages published after their record reached the publisher.
 */
export class DirectBroker implements Broker {
  readonly name: string = 'direct';
  protected readonly core: PeerCore;
  private readonly lifecycle = new Lifecycle();

  constructor(opts: PeerBrokerOptions) {
    const { membership, client, server, clock, random, logger, ...rest } = opts;
    const config = resolvePeerBrokerConfig(rest, 'broker');
    this.core = new PeerCore({
      membership, client, config, directBroadcast: true,
      clock: clock ?? new SystemClock(), random: random ?? new SystemRandom(),
      logger: (logger ?? silentLogger).child({ component: 'broker', broker: 'direct' }),
    });
    server.handleInternal(BROKER_DELIVER.handler, { [BROKER_DELIVER.method]: (req: unknown) => this.core.deliver(req) });
  }

  start(_opts?: { signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.start(async () => this.core.start());
  }

  stop(_opts?: { signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.stop(async () => this.core.stop());
  }

  stats(): PeerBrokerStats {
    return this.core.stats();
  }

  async publish(topic: string, body: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    const { tokens, headers } = checkPublish(this.core.running, topic, body, opts, (t) => this.core.topics.parse(t));
    const copy = copyBytes(body); // before any wait: the caller may reuse its buffer once we return control
    const wait = this.core.room(opts.signal);
    if (wait !== undefined) {
      await wait;
      if (!this.core.running) throw new MeshError('NOT_RUNNING', `broker stopped; cannot publish to ${topic}`, { id: 'micromesh.broker' });
    }
    this.core.accept(this.core.make(topic, tokens, headers, copy));
  }

  async subscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const tokens = checkSubscribe(topic, handler, opts);
    return this.core.local.add(topic, tokens, handler, opts.queue, opts.signal);
  }
}
