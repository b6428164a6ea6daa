import { AsyncResource } from 'node:async_hooks';
import { Encoder } from 'cbor-x';
import { SystemClock, SystemRandom } from '../../clock/system.ts';
import type { Clock, TimerHandle } from '../../clock/types.ts';
import { parseConfig, definedOnly } from '../../config/validate.ts';
import { MeshError } from '../../errors/index.ts';
import { Lifecycle } from '../../lifecycle/lifecycle.ts';
import type { Logger } from '../../log/types.ts';
import { silentLogger } from '../../log/silent.ts';
import { Counters } from '../../metrics/counters.ts';
import { checkPublish, checkSubscribe, type PeerBrokerStats } from '../direct.ts';
import { LIBP2P_KEY } from '../../membership/keys.ts';
import { BROKER_DELIVER } from '../../rpc/internal.ts';
import { GOSSIP_WILDCARD_TOPIC, decodeEnvelope, encodeEnvelope, gossipTopicOf, prefixBytes } from './envelope.ts';
import { createGossipNode, multiaddrParser, peerIdParser, type GossipNode } from './node.ts';
import type { WireFallback } from './wire.ts';
import { canSendTo, knownSubscriber, subscriberIds } from './view.ts';
import { GossipPeers, MAX_RECORD_TOPICS } from './peers.ts';
import type { Held } from '../outbox.ts';
import { GOSSIP_BROKER_DEFAULTS, gossipSchema, lanGossipsubOptions, type GossipBrokerConfig, type GossipBrokerOptions } from './config.ts';
import { PeerCore } from '../peer-core.ts';
import { StreamWait } from './stream-wait.ts';
import { copyBytes } from '../topic.ts';
import type { Broker, BrokerHandler, PublishOptions, SubscribeOptions, Subscription } from '../types.ts';


const GOSSIP_COUNTERS = ['envelopesSent', 'envelopesReceived', 'malformedEnvelopes', 'publishFailures', 'badRecords', 'dialFailures', 'duplicates', 'wireFallbacks', 'notSentCopies'] as const;
type GossipCounter = (typeof GOSSIP_COUNTERS)[number];

/** How often a queue held for a subscriber's outbound stream looks again, ms (the gap is usually a few ms). */
const STREAM_POLL_MS = 5;

/** Dedup window for nodes that receive the same message on two gossip topics (mm/<token> and mm/*). */
const DEDUP_IDS = 16_384;

/**
 * The gossip broker: broadcast over libp2p gossipsub, queue groups over the
 * direct path. Broadcast messages are batched per gossip topic (the
 * topic's first token, `mm/<token>`; patterns starting with a wildcard use
 * `mm/*`) per event-loop turn into unsigned envelopes carrying our own
 * message ids (envelope.ts). Peers come from the membership
 * (peers.ts). A queue-group message has exactly one recipient, so
 * flooding it would cost N copies for one use and still need a unicast ack:
 * queue groups use the direct broker's machinery (`subs` record with queue
 * groups only, `$mesh` Broker.Deliver, at-least-once held by the publisher).
 * libp2p is imported only in `start()`.
 */
export class GossipBroker implements Broker {
  readonly name: string = 'gossip';
  private readonly core: PeerCore;
  private readonly cfg: GossipBrokerConfig;
  private readonly o: GossipBrokerOptions;
  private readonly log: Logger;
  private readonly lifecycle = new Lifecycle();
  private readonly counters = new Counters(GOSSIP_COUNTERS);
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
  private readonly detached = AsyncResource.bind((fn: () => void) => fn());
  private readonly outgoing = new Map<string, Held[]>();
  private readonly fallbacksLogged = new Set<WireFallback>();
  private notSentWarnedAtMs = -Infinity;
  /** Envelopes handed to gossipsub and not yet sent (see sent()). */
  private readonly sending = new Set<Promise<void>>();
  private readonly seen = new Set<string>();
  private node: GossipNode | undefined;
  private peers: GossipPeers | undefined;
  private prefix: Uint8Array = new Uint8Array(8);
  private envelopeSeq = 0;
  private scheduled = false;
  /** Timer of the next flush while a queue waits for a subscriber's stream (see flush). */
  private retry: TimerHandle | undefined;
  /** sent() callers waiting for held queues to go out. */
  private drained: (() => void)[] = [];
  private readonly streamWait: StreamWait;
  private topics = new Set<string>();
  private readonly clock: Clock;

  constructor(opts: GossipBrokerOptions) {
    const { membership, client, server, clock, random, logger, dataDir, ...rest } = opts;
    this.o = opts;
    this.cfg = parseConfig(gossipSchema, { ...GOSSIP_BROKER_DEFAULTS, ...definedOnly(rest) }, 'broker');
    this.streamWait = new StreamWait(this.cfg.streamWaitMs);
    if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) {
      throw new MeshError('INVALID_CONFIG', `broker.dataDir must be a non-empty path, got ${JSON.stringify(dataDir)}`);
    }
    this.log = (logger ?? silentLogger).child({ component: 'broker', broker: 'gossip' });
    this.clock = clock ?? new SystemClock();
    this.core = new PeerCore({
      membership, client, config: this.cfg, directBroadcast: false, onLocalChange: () => this.syncTopics(),
      clock: this.clock, random: random ?? new SystemRandom(), logger: this.log,
    });
    server.handleInternal(BROKER_DELIVER.handler, { [BROKER_DELIVER.method]: (req: unknown) => this.core.deliver(req) });
  }

  /** The libp2p peer id once started. */
  get peerId(): string | undefined {
    return this.node?.peerId.toString();
  }

  /** Our gossip topics (`mm/<token>`, `mm/*`), for readiness checks. */
  gossipTopics(): string[] {
    return [...this.topics];
  }

  /**
   * Peer ids gossipsub knows to subscribe to `gossipTopic`, for readiness
   * checks (tests, tools): gossipsub's subscription-change event is
   * unreliable with manual dialing.
   */
  gossipSubscribers(gossipTopic: string): string[] {
    return this.node?.services.pubsub.getSubscribers(gossipTopic).map(String) ?? [];
  }

  /**
   * Subscribers a publish to `topic` would miss now (missingOn, on the
   * topic's gossip topic and, unless it starts with `$`, on `mm/*`). Empty =
   * ready. For publishers that start just to publish (the CLI).
   */
  missingSubscribers(topic: string): string[] {
    const pubsub = this.node?.services.pubsub;
    const peers = this.peers;
    if (pubsub === undefined || peers === undefined) return [];
    const canSend = canSendTo(pubsub, (w) => this.wireFallback(w));
    const carriers = [gossipTopicOf(topic.split('.')), ...(topic.startsWith('$') ? [] : [GOSSIP_WILDCARD_TOPIC])];
    return [...new Set(carriers.flatMap((t) => missingOn(pubsub, peers, canSend, t)))];
  }

  /** Resolves once what was published so far has been handed to the peers' streams (a publisher about to stop waits for it). */
  async sent(): Promise<void> {
    await new Promise<void>((resolve) => process.nextTick(resolve));
    if (this.retry !== undefined) await new Promise<void>((resolve) => this.drained.push(resolve));
    await Promise.all([...this.sending]);
  }

  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.start(() => this.doStart(opts.signal));
  }

  stop(_opts?: { signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.stop(() => this.doStop());
  }

  stats(): PeerBrokerStats & Readonly<Record<GossipCounter, number>> & { libp2pPeers: number } {
    return { ...this.core.stats(), ...this.counters.snapshot(), libp2pPeers: this.peers?.connected() ?? 0 };
  }

  async publish(topic: string, body: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    const { tokens, headers } = checkPublish(this.core.running, topic, body, opts, (t) => this.core.topics.parse(t));
    if (body.length > this.cfg.maxMessageBytes) {
      throw new MeshError('FRAME_TOO_LARGE', `message of ${body.length} bytes exceeds broker.maxMessageBytes ${this.cfg.maxMessageBytes}`, { id: 'micromesh.broker' });
    }
    const copy = copyBytes(body); // before any wait: the caller may reuse its buffer once we return control
    const wait = this.core.room(opts.signal);
    if (wait !== undefined) {
      await wait;
      if (!this.core.running) throw new MeshError('NOT_RUNNING', `broker stopped; cannot publish to ${topic}`, { id: 'micromesh.broker' });
    }
    const p = this.core.make(topic, tokens, headers, copy);
    const gossipTopic = gossipTopicOf(tokens);
    // accept() only sees local subscribers and queue groups: remote broadcast subscribers are gossipsub's to know.
    this.core.counters.inc('published');
    if (!this.core.accept(p, false) && !this.remoteSubscribers(gossipTopic, topic)) this.core.counters.inc('unmatched');
    this.enqueue(gossipTopic, p);
  }

  async subscribe(topic: string, handler: BrokerHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const tokens = checkSubscribe(topic, handler, opts);
    return this.core.local.add(topic, tokens, handler, opts.queue, opts.signal);
  }

  private async doStart(signal: AbortSignal | undefined): Promise<void> {
    const c = this.cfg;
    const membership = this.o.membership;
    const node = await createGossipNode({
      listen: `/ip4/${c.listenHost}/tcp/${c.listenPort}`,
      dataDir: this.o.dataDir,
      onWireFallback: (what) => this.wireFallback(what),
      gossipsub: lanGossipsubOptions(c),
    });
    try {
      if (signal?.aborted) throw new MeshError('CANCELLED', 'start aborted', { cause: signal.reason });
      this.node = node;
      this.prefix = prefixBytes(this.core.idPrefix);
      const pubsub = node.services.pubsub;
      if (c.relay) {
        pubsub.addEventListener('message', (evt) => this.onGossip(evt.detail.topic, evt.detail.data));
      } else {
        // reportMessageValidationResult is on gossipsub's class, not its exported interface.
        const report = (pubsub as unknown as { reportMessageValidationResult(id: string, from: string, verdict: string): void }).reportMessageValidationResult.bind(pubsub);
        pubsub.addEventListener('gossipsub:message', (evt) => {
          const { msg, msgId, propagationSource } = evt.detail;
          this.onGossip(msg.topic, msg.data);
          report(msgId, propagationSource.toString(), 'ignore');
        });
      }
      this.advertise();
      this.peers = new GossipPeers({
        membership, node, clock: this.clock, logger: this.log,
        redialIntervalMs: c.redialIntervalMs, dialTimeoutMs: c.dialTimeoutMs,
        parseAddr: await multiaddrParser(), parsePeer: await peerIdParser(),
        onProblem: (kind) => this.counters.inc(kind),
      });
      this.core.start();
      this.syncTopics();
      this.peers.start();
    } catch (err) {
      await this.doStop();
      throw err;
    }
  }

  private async doStop(): Promise<void> {
    this.core.stop();
    this.peers?.stop();
    this.peers = undefined;
    // Queues still waiting for a subscriber's stream (or not flushed yet) are lost: count and say so.
    let unsent = 0;
    for (const msgs of this.outgoing.values()) unsent += msgs.length;
    if (unsent > 0) {
      this.core.counters.inc('dropped', unsent);
      this.log.warn('broker stopped with gossip copies unsent (at most once)', { copies: unsent });
    }
    this.outgoing.clear();
    this.clock.clearTimeout(this.retry);
    this.retry = undefined;
    for (const w of this.drained.splice(0)) w();
    this.streamWait.clear();
    this.seen.clear();
    this.topics.clear();
    const node = this.node;
    this.node = undefined;
    try {
      this.o.membership.setLocal(LIBP2P_KEY, undefined);
    } catch (err) {
      this.log.warn('could not clear the libp2p record', { error: String(err) });
    }
    await node?.stop();
  }

  /** Copies gossipsub skipped (canSendTo): lost, at most once; counted, and warned about at most every 10 s. */
  private notSent(topic: string, peers: number, messages: number): void {
    this.counters.inc('notSentCopies', peers * messages);
    this.core.counters.inc('dropped', peers * messages);
    const now = this.clock.now();
    if (now - this.notSentWarnedAtMs < 10_000) return;
    this.notSentWarnedAtMs = now;
    this.log.warn('gossip copies lost: subscribers gossipsub has no stream to yet (at most once)', { topic, peers, messages });
  }

  /** A src/pubsub/gossip/wire.ts adjustment did not apply: slower, still correct; counted, and logged once per kind. */
  private wireFallback(what: WireFallback): void {
    this.counters.inc('wireFallbacks');
    if (this.fallbacksLogged.has(what)) return;
    this.fallbacksLogged.add(what);
    this.log.warn('a libp2p internal changed: gossip-wire adjustment not applied (slower, still correct)', { adjustment: what });
  }

  /** Joins exactly the gossip topics the local broadcast subscriptions need. */
  private syncTopics(): void {
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined || !this.core.running) return;
    const want = new Set<string>();
    for (const k of this.core.local.keys()) if (k.queue === undefined) want.add(gossipTopicOf(k.pattern.split('.')));
    const changed = want.size !== this.topics.size || [...want].some((t) => !this.topics.has(t));
    for (const t of this.topics) if (!want.has(t)) pubsub.unsubscribe(t);
    for (const t of want) if (!this.topics.has(t)) pubsub.subscribe(t);
    this.topics = want;
    if (changed) this.advertise();
  }

  /** Puts our libp2p identity and gossip topics in the membership record (WireLibp2p). */
  private advertise(): void {
    const node = this.node;
    if (node === undefined) return;
    const t = [...this.topics].slice(0, MAX_RECORD_TOPICS);
    this.o.membership.setLocal(LIBP2P_KEY, { i: node.peerId.toString(), a: node.getMultiaddrs().map((a) => a.toString()), t });
  }

  /** Whether a peer subscribes to the gossip topic, or to mm/* (never matched by `$` topics). */
  private remoteSubscribers(gossipTopic: string, topic: string): boolean {
    return this.hasSubscribers(gossipTopic) || (!topic.startsWith('$') && this.hasSubscribers(GOSSIP_WILDCARD_TOPIC));
  }

  private enqueue(gossipTopic: string, p: Held): void {
    this.append(gossipTopic, p);
    // Subscribers whose pattern starts with a wildcard listen on mm/*; `$` topics never match those.
    if (!p.topic.startsWith('$') && this.hasSubscribers(GOSSIP_WILDCARD_TOPIC)) this.append(GOSSIP_WILDCARD_TOPIC, p);
    if (this.scheduled) return;
    this.scheduled = true;
    this.detached(() => process.nextTick(() => this.flush()));
  }

  /** Whether gossipsub, or a membership record, knows a peer subscribed to `gossipTopic`. */
  private hasSubscribers(gossipTopic: string): boolean {
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined) return false;
    return subscriberIds(pubsub, gossipTopic).size > 0 || (this.peers?.recordSubscribers(gossipTopic).size ?? 0) > 0;
  }

  private append(gossipTopic: string, p: Held): void {
    const list = this.outgoing.get(gossipTopic);
    if (list === undefined) this.outgoing.set(gossipTopic, [p]);
    else list.push(p);
  }

  /**
   * Hands each gossip topic's queue to gossipsub, unless a subscriber of it
   * cannot be sent to yet (missingOn) and is still worth waiting for
   * (StreamWait): then that queue stays, in order, and a timer looks again
   * shortly.
   */
  private flush(): void {
    this.scheduled = false;
    this.clock.clearTimeout(this.retry);
    this.retry = undefined;
    const pubsub = this.node?.services.pubsub;
    const peers = this.peers;
    if (pubsub === undefined || peers === undefined) return;
    const canSend = canSendTo(pubsub, (w) => this.wireFallback(w));
    const now = this.clock.now();
    let wait = Infinity;
    for (const [topic, msgs] of this.outgoing) {
      const missing = missingOn(pubsub, peers, canSend, topic);
      const left = missing.length === 0 ? 0 : this.streamWait.remaining(missing, now);
      if (left > 0 && msgs.length < this.cfg.maxHeldMessages) {
        wait = Math.min(wait, left);
        continue;
      }
      this.outgoing.delete(topic);
      this.send(pubsub, topic, msgs, missing.length);
    }
    if (this.streamWait.size > 0) this.streamWait.retain((id) => (knownSubscriber(pubsub, id) ? !canSend(id) : peers.listsTopics(id)));
    if (wait !== Infinity) this.retry = this.clock.setTimeout(() => this.flush(), Math.min(wait, STREAM_POLL_MS));
    if (this.outgoing.size === 0) for (const w of this.drained.splice(0)) w();
  }

  /** Envelopes for one gossip topic; `skipped` subscribers without a stream lose their copies (at most once, counted). */
  private send(pubsub: GossipNode['services']['pubsub'], topic: string, msgs: readonly Held[], skipped: number): void {
    let i = 0;
    while (i < msgs.length) {
      let bytes = 0;
      let j = i;
      while (j < msgs.length && j - i < this.cfg.maxBatchMessages && (j === i || bytes + msgs[j]!.body.length <= this.cfg.maxBatchBytes)) bytes += msgs[j++]!.body.length;
      const data = encodeEnvelope(this.prefix, this.envelopeSeq++, this.core.nodeId, msgs.slice(i, j));
      const n = j - i;
      this.counters.inc('envelopesSent');
      if (skipped > 0) this.notSent(topic, skipped, n);
      const sent: Promise<void> = pubsub.publish(topic, data).then(() => undefined, (err: unknown) => {
        this.counters.inc('publishFailures');
        this.core.counters.inc('dropped', n);
        this.log.warn('gossip publish failed (at most once)', { topic, messages: n, error: String(err) });
      }).finally(() => this.sending.delete(sent));
      this.sending.add(sent);
      i = j;
    }
  }

  private onGossip(topic: string, data: Uint8Array): void {
    if (!this.topics.has(topic)) return;
    this.counters.inc('envelopesReceived');
    let env: ReturnType<typeof decodeEnvelope>;
    try {
      env = decodeEnvelope(this.cbor, data, (t) => this.core.topics.parse(t));
    } catch (err) {
      this.counters.inc('malformedEnvelopes');
      this.log.warn('malformed gossip envelope dropped', { topic, error: String(err) });
      return;
    }
    // A node on both mm/<token> and mm/* may get a message twice: keep the first.
    const dedup = this.topics.size > 1 && this.topics.has(GOSSIP_WILDCARD_TOPIC);
    for (const m of env.messages) {
      if (dedup) {
        if (this.seen.has(m.id)) {
          this.counters.inc('duplicates');
          continue;
        }
        this.seen.add(m.id);
        if (this.seen.size > DEDUP_IDS) this.seen.delete(this.seen.values().next().value!);
      }
      this.core.acceptRemote(m);
    }
  }
}

/**
 * Subscribers of `gossipTopic` that gossipsub would skip now: one it knows
 * there and has no outbound stream to, or one whose membership record lists
 * the topic while gossipsub has heard none of its subscriptions (it just
 * joined). So a subscription gets what is published after its record
 * reached us, as with the direct broker. Once gossipsub has heard a peer,
 * its view wins (it is the fresher one after an unsubscribe).
 */
function missingOn(pubsub: GossipNode['services']['pubsub'], peers: GossipPeers, canSend: (id: string) => boolean, gossipTopic: string): string[] {
  const missing: string[] = [];
  const subs = subscriberIds(pubsub, gossipTopic);
  for (const id of subs) if (!canSend(id)) missing.push(id);
  for (const id of peers.recordSubscribers(gossipTopic)) if (!subs.has(id) && !knownSubscriber(pubsub, id)) missing.push(id);
  return missing;
}
