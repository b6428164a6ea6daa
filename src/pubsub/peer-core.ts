import { Encoder } from 'cbor-x';
import type { Clock, Random } from '../clock/types.ts';
import { MeshError, toMeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { SUBS_KEY } from '../membership/keys.ts';
import type { MemberView, Membership, MembershipEvent } from '../membership/types.ts';
import { Counters } from '../metrics/counters.ts';
import { INTERNAL_SERVICE, BROKER_DELIVER } from '../rpc/internal.ts';
import type { Client } from '../rpc/types.ts';
import {
  decodeDeliver, encodeBroadcastMessage, decodeOutcome, encodeOutcome, type DeliverResponse,
} from './delivery-wire.ts';
import { LOCAL_COUNTERS, LocalSubs, REFUSED, type Inbound, type Outcome } from './local.ts';
import { HeldMessage, Outbox, type Held, type QueueEntry } from './outbox.ts';
import type { PeerBrokerConfig } from './peer-config.ts';
import { QueueHolder } from './queue-holder.ts';
import { decodeSubs, encodeSubs, queuesFor, wantsBroadcast, type PeerSubs } from './subs-record.ts';
import { DEAD_LETTER_HEADERS, TopicCache, deadLetterTopic, isDeadLetterTopic, parseTopic } from './topic.ts';
import type { Headers } from './types.ts';

export const PEER_COUNTERS = [
  ...LOCAL_COUNTERS, 'published', 'sent', 'received', 'acked', 'refused', 'redelivered', 'deadLettered',
  'deliveryFailures', 'malformed', 'badRecords', 'batchesSent',
] as const;
export type PeerCounter = (typeof PEER_COUNTERS)[number];

export interface CoreDeps {
  membership: Membership;
  client: Client;
  clock: Clock;
  random: Random;
  logger: Logger;
  config: PeerBrokerConfig;
  /** Whether broadcast subscriptions go in the `subs` record and broadcast copies over `$mesh` (direct) or elsewhere (gossip). */
  directBroadcast: boolean;
  /** Called after local subscriptions changed (the gossip broker joins or leaves gossip topics). */
  onLocalChange?: () => void;
}

interface Peer {
  subs: PeerSubs;
  address: string | undefined;
}

interface Route {
  /** Remote nodes wanting a broadcast copy (direct broadcast only), with their RPC address (undefined: the member has none). */
  targets: { node: string; address: string | undefined }[];
  /** Whether a local broadcast subscription matches. */
  local: boolean;
  /** Queue group → member nodes (this node's id included when it has a member). */
  groups: Map<string, string[]>;
}

const MAX_ROUTES = 10_000;

/**
 * What the direct and gossip brokers share: local subscriptions, the peers'
 * `subs` records, routing, batched `$mesh` delivery, and queue groups with
 * at-least-once delivery held by the publishing node (QueueHolder). The
 * direct broker sends broadcast copies through it too; the gossip broker
 * hands them to gossipsub and calls `acceptRemote` for what arrives.
 */
export class PeerCore {
  readonly counters = new Counters(PEER_COUNTERS);
  readonly local: LocalSubs;
  readonly nodeId: string;
  readonly idPrefix: string;
  /** Parsed topics (publish and delivery paths see the same few topics over and over). */
  readonly topics = new TopicCache();
  private readonly d: CoreDeps;
  private readonly log: Logger;
  private readonly outbox: Outbox;
  private readonly holder: QueueHolder;
  private readonly peers = new Map<string, Peer>();
  private readonly routes = new Map<string, Route>();
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
  private seq = 0;
  private bcastHeld = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];
  private unsubscribe: (() => void) | undefined;
  private lastRecord = 'null';
  running = false;

  constructor(d: CoreDeps) {
    this.d = d;
    this.nodeId = d.membership.localId;
    this.log = d.logger;
    this.idPrefix = Array.from(d.random.bytes(8), (b) => b.toString(16).padStart(2, '0')).join('');
    this.local = new LocalSubs({
      nodeId: this.nodeId, maxPendingPerSubscription: d.config.maxPendingPerSubscription, logger: d.logger,
      counters: this.counters, onChange: () => this.localChanged(),
    });
    const c = d.config;
    this.outbox = new Outbox({
      nodeId: this.nodeId, idPrefix: this.idPrefix, maxBatchMessages: c.maxBatchMessages, maxBatchBytes: c.maxBatchBytes,
      maxBatchesInFlight: c.maxBatchesInFlight, deliveryTimeoutMs: c.deliveryTimeoutMs, ackTimeoutMs: c.ackTimeoutMs,
      encode: (p) => encodeBroadcastMessage(p.seq, p.topic, p.headers, p.body),
      call: (address, req, timeoutMs) => (this.counters.inc('batchesSent'), d.client.call<DeliverResponse>(INTERNAL_SERVICE, BROKER_DELIVER.endpoint, req, {
        address, timeoutMs, retries: 0, contentType: 'application/cbor',
      })),
      broadcastFailed: (node, n, err) => this.broadcastFailed(node, n, err),
      queueSettled: (node, entries, tokens, outcomes, err) => this.queueSettled(node, entries, tokens, outcomes, err),
      released: (n) => {
        this.bcastHeld -= n;
        this.freed();
      },
    });
    this.holder = new QueueHolder({
      config: c, clock: d.clock, random: d.random, logger: d.logger, counters: this.counters, localId: this.nodeId,
      candidates: (e) => this.route(e.p.topic, e.p.tokens).groups.get(e.queue) ?? [],
      send: (e, node) => this.sendQueue(e, node),
      deadLetter: (e, err) => this.deadLetter(e, err),
      settled: () => this.freed(),
    });
  }

  /** Messages held: broadcast copies not yet sent plus queue-group messages not yet acked. */
  get held(): number {
    return this.bcastHeld + this.holder.size;
  }

  start(): void {
    this.running = true;
    this.unsubscribe = this.d.membership.subscribe((ev) => this.onMembership(ev));
    for (const m of this.d.membership.members()) this.upsert(m);
    this.publishRecord();
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.local.clear();
    this.outbox.clear();
    this.holder.clear();
    this.peers.clear();
    this.routes.clear();
    this.bcastHeld = 0;
    const err = new MeshError('NOT_RUNNING', 'broker stopped', { id: 'micromesh.broker' });
    for (const w of this.waiters.splice(0)) this.wake(w, err);
    this.publishRecord();
  }

  /** Waits until the broker holds fewer than `maxHeldMessages` (backpressure). */
  room(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.held < this.d.config.maxHeldMessages) return undefined;
    return new Promise((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal !== undefined) {
        w.onAbort = () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new MeshError('CANCELLED', 'publish aborted', { id: 'micromesh.broker', cause: signal.reason }));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  /** Builds a held message with a fresh id (body copied by the caller when needed). */
  make(topic: string, tokens: string[], headers: Headers, body: Uint8Array): Held {
    return new HeldMessage(this.idPrefix, this.seq++, topic, tokens, headers, body);
  }

  /**
   * Routes one message from this node: local broadcast subscriptions, remote
   * broadcast nodes (direct only), and one member of each queue group.
   * Returns whether anything anywhere wanted it.
   */
  accept(p: Held, counted = true): boolean {
    if (counted) this.counters.inc('published');
    const r = this.route(p.topic, p.tokens);
    // The local copy is built only when a local subscription wants it (most publishes only go out).
    const localCopies = r.local ? this.local.broadcast({ id: p.id, topic: p.topic, tokens: p.tokens, headers: p.headers, body: p.body, attempt: 1 }) : 0;
    for (const { node, address } of r.targets) {
      if (address === undefined) {
        this.counters.inc('dropped');
        continue;
      }
      this.bcastHeld++;
      this.outbox.broadcast(node, address, p);
    }
    for (const queue of r.groups.keys()) this.holder.add(p, queue);
    const wanted = localCopies > 0 || r.targets.length > 0 || r.groups.size > 0;
    if (!wanted && counted) this.counters.inc('unmatched');
    return wanted;
  }

  /** A broadcast message that arrived from elsewhere (gossip): local broadcast subscriptions only. */
  acceptRemote(m: Inbound): void {
    this.counters.inc('received');
    if (this.local.broadcast(m) === 0) this.counters.inc('unmatched');
  }

  /** The `$mesh` Broker.Deliver handler. */
  deliver(req: unknown): DeliverResponse | Promise<DeliverResponse> {
    if (!this.running) throw new MeshError('NOT_RUNNING', 'broker is not running on this node', { id: 'micromesh.broker' });
    let batch: ReturnType<typeof decodeDeliver>;
    try {
      batch = decodeDeliver(req, this.cbor, (t) => this.topics.parse(t));
    } catch (err) {
      this.counters.inc('malformed');
      this.log.warn('malformed delivery dropped', { error: String(err) });
      throw err;
    }
    this.counters.inc('received', batch.messages.length);
    let outcomes: Promise<Outcome>[] | undefined;
    for (const m of batch.messages) {
      if (m.queue === undefined) {
        if (this.local.broadcast(m) === 0) this.counters.inc('unmatched');
        continue;
      }
      const queue = m.queue;
      (outcomes ??= []).push(new Promise<Outcome>((resolve) => {
        const refused = this.local.queue(m, queue, m.tried, resolve);
        if (refused !== undefined) resolve(refused);
      }));
    }
    if (outcomes === undefined) return {};
    return Promise.all(outcomes).then((all) => ({ r: all.map(encodeOutcome) }));
  }

  stats(): Record<PeerCounter, number> & { subscriptions: number; peers: number; held: number } {
    return { ...this.counters.snapshot(), subscriptions: this.local.size, peers: this.peers.size, held: this.held };
  }

  // ---------------------------------------------------------------- routing

  private route(topic: string, tokens: string[]): Route {
    const cached = this.routes.get(topic);
    if (cached !== undefined) return cached;
    const r: Route = { targets: [], local: this.local.wantsBroadcast(tokens), groups: new Map() };
    for (const [id, peer] of this.peers) {
      if (this.d.directBroadcast && wantsBroadcast(peer.subs, tokens)) r.targets.push({ node: id, address: peer.address });
      for (const q of queuesFor(peer.subs, tokens)) add(r.groups, q, id);
    }
    for (const q of this.local.groups(tokens)) add(r.groups, q, this.nodeId);
    if (this.routes.size >= MAX_ROUTES) this.routes.clear();
    this.routes.set(topic, r);
    return r;
  }

  private localChanged(): void {
    this.routes.clear();
    this.publishRecord();
    this.d.onLocalChange?.();
  }

  /** Advertises local subscriptions (only while running; nothing once stopped). Throws when they do not fit. */
  private publishRecord(): void {
    const value = this.running
      ? encodeSubs(this.local.keys(), this.d.config.maxRecordBytes, (v) => this.cbor.encode(v).length, this.d.directBroadcast)
      : undefined;
    const json = JSON.stringify(value ?? null);
    if (json === this.lastRecord) return;
    this.d.membership.setLocal(SUBS_KEY, value);
    this.lastRecord = json;
  }

  private onMembership(ev: MembershipEvent): void {
    if (ev.type !== 'leave') return this.upsert(ev.member);
    const id = ev.member.id;
    this.peers.delete(id);
    this.routes.clear();
    const unsent = this.outbox.forget(id);
    this.holder.nodeLeft(id, unsent);
  }

  private upsert(m: MemberView): void {
    let subs: PeerSubs;
    try {
      subs = decodeSubs(m.data[SUBS_KEY]);
    } catch (err) {
      this.counters.inc('badRecords');
      this.log.warn('ignoring a malformed subs record', { member: m.id, error: String(err) });
      subs = decodeSubs(undefined);
    }
    const rpc = m.data.rpc;
    this.peers.set(m.id, { subs, address: typeof rpc === 'string' && rpc.length > 0 ? rpc : undefined });
    this.routes.clear();
  }

  // ---------------------------------------------------------------- delivery

  private sendQueue(e: QueueEntry, node: string): void {
    if (node === this.nodeId) {
      const token = e.token;
      const m: Inbound = { id: e.p.id, topic: e.p.topic, tokens: e.p.tokens, headers: e.p.headers, body: e.p.body, attempt: e.attempt };
      const refused = this.local.queue(m, e.queue, e.tried, (o) => this.holder.settle(e, token, node, o));
      if (refused !== undefined) queueMicrotask(() => this.holder.settle(e, token, node, refused));
      return;
    }
    const address = this.peers.get(node)?.address;
    if (address === undefined) {
      const token = e.token;
      queueMicrotask(() => this.holder.settle(e, token, node, REFUSED.noMember));
      return;
    }
    this.counters.inc('sent');
    this.outbox.queue(node, address, e);
  }

  private queueSettled(node: string, entries: QueueEntry[], tokens: number[], outcomes: unknown[] | undefined, err: unknown): void {
    if (outcomes !== undefined) {
      for (let i = 0; i < entries.length; i++) this.holder.settle(entries[i]!, tokens[i]!, node, decodeOutcome(outcomes[i]));
      return;
    }
    const e = toMeshError(err, 'micromesh.broker');
    this.counters.inc('deliveryFailures');
    this.reportUnreachable(node, e);
    // Refused connections and stopping nodes never ran a handler: try elsewhere without counting an attempt.
    const refusal = e.code === 'CONNECTION_REFUSED' || e.code === 'SERVER_STOPPING' || e.code === 'NOT_RUNNING';
    const outcome: Outcome = refusal ? REFUSED.notRunning : { code: e.code, message: e.detail, member: '' };
    this.log.warn('queue delivery failed', { member: node, messages: entries.length, code: e.code, error: e.detail });
    for (let i = 0; i < entries.length; i++) this.holder.settle(entries[i]!, tokens[i]!, node, outcome);
  }

  private broadcastFailed(node: string, n: number, err: unknown): void {
    const e = toMeshError(err, 'micromesh.broker');
    this.counters.inc('dropped', n);
    this.counters.inc('deliveryFailures');
    this.reportUnreachable(node, e);
    this.log.warn('broadcast delivery lost (at most once)', { member: node, messages: n, code: e.code, error: e.detail });
  }

  private reportUnreachable(node: string, e: MeshError): void {
    if (e.code !== 'CONNECTION_REFUSED' && e.code !== 'CONNECTION_LOST') return;
    if (this.d.membership.member(node) !== undefined) this.d.membership.reportUnreachable(node, e.code === 'CONNECTION_REFUSED');
  }

  /** Publishes `$dead-letter.<topic>` from here, keeping the headers and adding DEAD_LETTER_HEADERS. */
  private deadLetter(e: QueueEntry, err: { code: string; message: string; deliveries: number }): void {
    const p = e.p;
    if (isDeadLetterTopic(p.topic)) {
      this.counters.inc('dropped');
      this.log.error('dead letter could not be handled; dropped', { topic: p.topic, messageId: p.id, queue: e.queue });
      return;
    }
    const topic = deadLetterTopic(p.topic);
    const headers: Headers = {
      ...p.headers,
      [DEAD_LETTER_HEADERS.topic]: p.topic,
      [DEAD_LETTER_HEADERS.queue]: e.queue,
      [DEAD_LETTER_HEADERS.messageId]: p.id,
      [DEAD_LETTER_HEADERS.deliveries]: String(err.deliveries),
      [DEAD_LETTER_HEADERS.errorCode]: err.code,
      [DEAD_LETTER_HEADERS.errorMessage]: err.message,
    };
    this.counters.inc('deadLettered');
    this.log.warn('message dead-lettered', { topic: p.topic, messageId: p.id, queue: e.queue, code: err.code });
    this.accept(this.make(topic, parseTopic(topic), headers, p.body), false);
  }

  private freed(): void {
    if (this.waiters.length === 0 || this.held >= this.d.config.maxHeldMessages) return;
    for (const w of this.waiters.splice(0)) this.wake(w, undefined);
  }

  private wake(w: (typeof this.waiters)[number], err: unknown): void {
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
    if (err === undefined) w.resolve();
    else w.reject(err);
  }
}

function add(groups: Map<string, string[]>, queue: string, node: string): void {
  const list = groups.get(queue);
  if (list === undefined) groups.set(queue, [node]);
  else if (!list.includes(node)) list.push(node);
}
