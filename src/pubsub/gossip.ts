import { AsyncResource } from 'node:async_hooks';
import { Encoder } from 'cbor-x';
import { z } from 'zod';
import { SystemClock, SystemRandom } from '../clock/system.ts';
import type { Clock } from '../clock/types.ts';
import { intIn, parseConfig, definedOnly, str } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';
import { Lifecycle } from '../lifecycle/lifecycle.ts';
import type { Logger } from '../log/types.ts';
import { silentLogger } from '../log/silent.ts';
import { Counters } from '../metrics/counters.ts';
import { checkPublish, checkSubscribe, type PeerBrokerOptions, type PeerBrokerStats } from './direct.ts';
import { DELIVER_HANDLER } from './delivery-wire.ts';
import { GOSSIP_WILDCARD_TOPIC, decodeEnvelope, encodeEnvelope, envelopeMsgId, gossipTopicOf, prefixBytes } from './gossip-envelope.ts';
import { createGossipNode, multiaddrParser, peerIdParser, type GossipNode } from './gossip-node.ts';
import type { WireFallback } from './gossip-wire.ts';
import { canSendTo, subscriberIds } from './gossip-view.ts';
import { GossipPeers, LIBP2P_KEY, MAX_RECORD_TOPICS, decodeLibp2p } from './gossip-peers.ts';
import type { Held } from './outbox.ts';
import { peerBrokerSchema, PEER_BROKER_DEFAULTS, type PeerBrokerConfig } from './peer-config.ts';
import { PeerCore } from './peer-core.ts';
import { copyBytes } from './topic.ts';
import type { Broker, BrokerHandler, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

/** Settings of the gossip broker on top of PeerBrokerConfig (validated like it). */
export interface GossipBrokerConfig extends PeerBrokerConfig {
  /** Interface libp2p listens on. Default `127.0.0.1`; `0.0.0.0` on a LAN. */
  listenHost: string;
  /** TCP port libp2p listens on. [0, 65535], default 0 (any free port). */
  listenPort: number;
  /** Gossipsub mesh degree D (Dlo, Dhi around it). [1, 12], default 3: publishes are flooded to every topic peer anyway, so a small mesh only adds redundancy. */
  meshDegree: number;
  /** Gossipsub heartbeat, ms. [100, 10000], default 1000. */
  heartbeatIntervalMs: number;
  /** Gossipsub seen-cache lifetime, ms. [1000, 600000], default 30000 (gossipsub's 120 s keeps 4x the ids for nothing on a LAN). */
  seenTtlMs: number;
  /** Redial members we are not connected to this often, ms. [100, 600000], default 2000. */
  redialIntervalMs: number;
  /** Timeout of one libp2p dial, ms. [100, 60000], default 5000. */
  dialTimeoutMs: number;
  /** Largest message body accepted by publish, bytes. [1, 16 MiB], default 1 MiB (gossipsub holds whole messages in memory). */
  maxMessageBytes: number;
  /**
   * Whether nodes forward what they receive to their mesh peers (gossipsub's
   * normal relaying). Default false: every node dials every member, and the
   * publisher floods each message to every subscriber itself, so relayed
   * copies are pure duplicates (3 per message per receiver in a 5-node mesh,
   * each encrypted, sent, decrypted and deduplicated). Turn it on when not
   * every node can reach every other.
   */
  relay: boolean;
}

const gossipSchema = z.object({
  ...peerBrokerSchema,
  listenHost: str(255),
  listenPort: intIn(0, 65_535),
  meshDegree: intIn(1, 12),
  heartbeatIntervalMs: intIn(100, 10_000),
  seenTtlMs: intIn(1000, 600_000),
  redialIntervalMs: intIn(100, 600_000),
  dialTimeoutMs: intIn(100, 60_000),
  maxMessageBytes: intIn(1, 16 << 20),
  relay: z.boolean({ error: 'must be true or false' }),
}).strict();

export const GOSSIP_BROKER_DEFAULTS: Readonly<GossipBrokerConfig> = Object.freeze({
  ...PEER_BROKER_DEFAULTS,
  listenHost: '127.0.0.1',
  listenPort: 0,
  meshDegree: 3,
  heartbeatIntervalMs: 1000,
  seenTtlMs: 30_000,
  redialIntervalMs: 2000,
  dialTimeoutMs: 5000,
  maxMessageBytes: 1 << 20,
  relay: false,
});

export interface GossipBrokerOptions extends PeerBrokerOptions, Partial<Omit<GossipBrokerConfig, keyof PeerBrokerConfig>> {
  /** Directory keeping the libp2p key (`libp2p.key`), so the peer id survives restarts. Default: none (new id per start). */
  dataDir?: string;
}

const GOSSIP_COUNTERS = ['envelopesSent', 'envelopesReceived', 'malformedEnvelopes', 'publishFailures', 'badRecords', 'dialFailures', 'duplicates', 'wireFallbacks', 'notSentCopies'] as const;
type GossipCounter = (typeof GOSSIP_COUNTERS)[number];

/** Dedup window for nodes that receive the same message on two gossip topics (mm/<token> and mm/*). */
const DEDUP_IDS = 16_384;

/**
 * The gossip broker: broadcast over libp2p gossipsub, queue groups over the
 * direct path. Broadcast messages are batched per gossip topic (the
 * topic's first token, `mm/<token>`; patterns starting with a wildcard use
 * `mm/*`) per event-loop turn into unsigned envelopes carrying our own
 * message ids (gossip-envelope.ts). Peers come from the membership
 * (gossip-peers.ts). A queue-group message has exactly one recipient, so
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
  private topics = new Set<string>();
  private readonly clock: Clock;

  constructor(opts: GossipBrokerOptions) {
    const { membership, client, server, clock, random, logger, dataDir, ...rest } = opts;
    this.o = opts;
    this.cfg = parseConfig(gossipSchema, { ...GOSSIP_BROKER_DEFAULTS, ...definedOnly(rest) }, 'broker');
    if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) {
      throw new MeshError('INVALID_CONFIG', `broker.dataDir must be a non-empty path, got ${JSON.stringify(dataDir)}`);
    }
    this.log = (logger ?? silentLogger).child({ component: 'broker', broker: 'gossip' });
    this.clock = clock ?? new SystemClock();
    this.core = new PeerCore({
      membership, client, config: this.cfg, directBroadcast: false, onLocalChange: () => this.syncTopics(),
      clock: this.clock, random: random ?? new SystemRandom(), logger: this.log,
    });
    server.handleInternal(DELIVER_HANDLER, { Deliver: (req: unknown) => this.core.deliver(req) });
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
   * Members whose record says they listen on the gossip topic that carries
   * `topic` (or on `mm/*`) but whom gossipsub does not yet know as such
   * subscribers, or cannot send to yet: a publish now would miss them.
   * Empty = ready. For publishers that start just to publish (the CLI).
   */
  missingSubscribers(topic: string): string[] {
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined) return [];
    const carriers = [gossipTopicOf(topic.split('.')), GOSSIP_WILDCARD_TOPIC];
    const canSend = canSendTo(pubsub, (w) => this.wireFallback(w));
    const known = new Map(carriers.map((t) => [t, new Set([...subscriberIds(pubsub, t)].filter(canSend))]));
    const missing: string[] = [];
    for (const m of this.o.membership.members()) {
      const rec = m.id === this.o.membership.local().id ? undefined : decodeLibp2p(m.data[LIBP2P_KEY]);
      if (rec?.t === undefined) continue;
      if (carriers.some((t) => rec.t!.includes(t) && !known.get(t)!.has(rec.i))) missing.push(m.id);
    }
    return missing;
  }

  /** Resolves once what was published so far has been handed to the peers' streams (a publisher about to stop waits for it). */
  async sent(): Promise<void> {
    await new Promise<void>((resolve) => process.nextTick(resolve));
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
    const D = c.meshDegree;
    const node = await createGossipNode({
      listen: `/ip4/${c.listenHost}/tcp/${c.listenPort}`,
      dataDir: this.o.dataDir,
      onWireFallback: (what) => this.wireFallback(what),
      gossipsub: {
        globalSignaturePolicy: 'StrictNoSign',
        // The id is 12 header bytes, so no fastMsgIdFn (a second cache in front of a free id) and a
        // latin1 key instead of gossipsub's base64 (12 chars; keys only, never sent).
        msgIdFn: (m) => (m.data === undefined ? new Uint8Array(0) : envelopeMsgId(m.data)),
        msgIdToStrFn: (id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1'),
        // One RPC encoding per publish for every subscriber; control messages wait for the heartbeat instead of riding along.
        batchPublish: true,
        allowPublishToZeroTopicPeers: true,
        floodPublish: true,
        fallbackToFloodsub: false,
        emitSelf: false,
        D, Dlo: Math.max(1, D - 1), Dhi: D + 2, Dlazy: D, Dout: Math.min(1, D - 1), Dscore: Math.max(1, Math.floor(D / 2)),
        heartbeatInterval: c.heartbeatIntervalMs,
        seenTTL: c.seenTtlMs,
        maxInboundDataLength: c.maxBatchBytes + c.maxMessageBytes + 65_536,
        // Without relaying, messages wait for a validation verdict that is always "ignore": delivered here, never forwarded.
        asyncValidation: !c.relay,
      },
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
    this.outgoing.clear();
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

  /** A gossip-wire.ts adjustment did not apply: slower, still correct; counted, and logged once per kind. */
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

  /** Whether gossipsub knows a peer subscribed to the gossip topic, or to mm/* (never matched by `$` topics). */
  private remoteSubscribers(gossipTopic: string, topic: string): boolean {
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined) return false;
    return hasAny(subscriberIds(pubsub, gossipTopic)) || (!topic.startsWith('$') && hasAny(subscriberIds(pubsub, GOSSIP_WILDCARD_TOPIC)));
  }

  private enqueue(gossipTopic: string, p: Held): void {
    const list = this.outgoing.get(gossipTopic);
    if (list === undefined) this.outgoing.set(gossipTopic, [p]);
    else list.push(p);
    if (this.scheduled) return;
    this.scheduled = true;
    this.detached(() => process.nextTick(() => this.flush()));
  }

  private flush(): void {
    this.scheduled = false;
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined) return;
    // Subscribers whose pattern starts with a wildcard listen on mm/*; `$` topics never match those.
    if (hasAny(subscriberIds(pubsub, GOSSIP_WILDCARD_TOPIC))) {
      const all: Held[] = [];
      for (const msgs of this.outgoing.values()) for (const p of msgs) if (!p.topic.startsWith('$')) all.push(p);
      if (all.length > 0) this.outgoing.set(GOSSIP_WILDCARD_TOPIC, all);
    }
    const canSend = canSendTo(pubsub, (w) => this.wireFallback(w));
    for (const [topic, msgs] of this.outgoing) {
      // Subscribers gossipsub would skip in silence: their copies are lost (at most once), so count them.
      let skipped = 0;
      for (const id of subscriberIds(pubsub, topic)) if (!canSend(id)) skipped++;
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
    this.outgoing.clear();
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

function hasAny(ids: Iterable<string>): boolean {
  for (const _ of ids) return true;
  return false;
}
