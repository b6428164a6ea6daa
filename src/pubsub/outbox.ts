import { AsyncResource } from 'node:async_hooks';
import { cborArrayOf, type DeliverRequest, type DeliverResponse, type WireMessage } from './delivery-wire.ts';
import type { Headers } from './types.ts';

/** A message this node published (or dead-lettered): what every copy of it shares. */
export interface Held {
  readonly seq: number;
  readonly id: string;
  readonly topic: string;
  readonly tokens: string[];
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** Its broadcast encoding, made on first send and shared by every target. */
  wire?: Uint8Array;
}

/** The Held a publish makes: its id string is built only if something asks for it. */
export class HeldMessage implements Held {
  readonly seq: number;
  readonly topic: string;
  readonly tokens: string[];
  readonly headers: Headers;
  readonly body: Uint8Array;
  wire: Uint8Array | undefined = undefined;
  private readonly idPrefix: string;
  private idText: string | undefined = undefined;

  constructor(idPrefix: string, seq: number, topic: string, tokens: string[], headers: Headers, body: Uint8Array) {
    this.idPrefix = idPrefix;
    this.seq = seq;
    this.topic = topic;
    this.tokens = tokens;
    this.headers = headers;
    this.body = body;
  }

  /** `<id prefix>-<seq in base 36>`, built on first use: copies sent to other nodes carry only `seq`. */
  get id(): string {
    return (this.idText ??= `${this.idPrefix}-${this.seq.toString(36)}`);
  }
}

/** One queue-group delivery in progress, owned by its holder until acked or dead-lettered. */
export interface QueueEntry {
  p: Held;
  queue: string;
  /** Attempt number the next (or current) delivery carries. */
  attempt: number;
  /** Member ids that failed it (sent along so a node with several members picks another). */
  tried: string[];
  /** Nodes it went to, for "prefer a node that has not seen it". */
  nodes: string[];
  /** Node it is at now. */
  node: string | undefined;
  /** Bumped on every send; a late outcome with an older token is ignored. */
  token: number;
  /** Sends that never reached a handler (refusals), bounded to stop ping-pong. */
  reroutes: number;
  /** Deliveries that may have reached a handler and were not acked (handler error, timeout, lost connection, node gone). */
  failures: number;
  /** Sent and not yet settled. */
  inFlight: boolean;
  lastError: { code: string; message: string } | undefined;
}

export interface OutboxHost {
  readonly nodeId: string;
  readonly idPrefix: string;
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
  readonly maxBatchesInFlight: number;
  readonly deliveryTimeoutMs: number;
  readonly ackTimeoutMs: number;
  /** CBOR of a broadcast message (encoded once, reused for every target). */
  encode(p: Held): Uint8Array;
  /** Performs the `$mesh` call. */
  call(address: string, req: DeliverRequest, timeoutMs: number): Promise<DeliverResponse>;
  /** `n` broadcast copies to `node` were lost (at-most-once). */
  broadcastFailed(node: string, n: number, err: unknown): void;
  /** A queue batch came back: `outcomes` aligned with `entries`, or the call failed with `err`. */
  queueSettled(node: string, entries: QueueEntry[], tokens: number[], outcomes: unknown[] | undefined, err: unknown): void;
  /** Broadcast copies left the outbox (sent, or dropped by `forget`). */
  released(n: number): void;
}

interface Link {
  node: string;
  address: string;
  bcast: Held[];
  queue: QueueEntry[];
  bInFlight: number;
  qInFlight: number;
  scheduled: boolean;
}

/**
 * Per-peer batching of deliveries: everything published to one node during
 * one event-loop turn goes out as one `$mesh` call (more when a batch limit
 * is reached), with at most `maxBatchesInFlight` calls outstanding per kind;
 * what arrives meanwhile waits and rides the next call. Broadcast and queue
 * batches are separate calls because a queue batch is answered only once
 * its handlers ran, and broadcast copies must not wait for that.
 */
export class Outbox {
  private readonly host: OutboxHost;
  private readonly links = new Map<string, Link>();
  /** Flushes run outside whatever handler published (no inherited deadline or metadata). */
  private readonly detached = AsyncResource.bind((fn: () => void) => fn());

  constructor(host: OutboxHost) {
    this.host = host;
  }

  broadcast(node: string, address: string, p: Held): void {
    const link = this.link(node, address);
    link.bcast.push(p);
    this.schedule(link);
  }

  queue(node: string, address: string, e: QueueEntry): void {
    const link = this.link(node, address);
    link.queue.push(e);
    this.schedule(link);
  }

  /** Forgets `node` (it left): unsent broadcast copies are dropped, unsent queue entries returned for rerouting. */
  forget(node: string): QueueEntry[] {
    const link = this.links.get(node);
    if (link === undefined) return [];
    this.links.delete(node);
    if (link.bcast.length > 0) this.host.broadcastFailed(node, link.bcast.length, new Error('member left'));
    this.host.released(link.bcast.length);
    return link.queue;
  }

  /** Drops everything unsent (broker stopping); returns the queue entries. */
  clear(): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (const node of [...this.links.keys()]) out.push(...this.forget(node));
    return out;
  }

  private link(node: string, address: string): Link {
    let link = this.links.get(node);
    if (link === undefined || link.address !== address) {
      const old = link;
      link = { node, address, bcast: old?.bcast ?? [], queue: old?.queue ?? [], bInFlight: 0, qInFlight: 0, scheduled: false };
      this.links.set(node, link);
    }
    return link;
  }

  private schedule(link: Link): void {
    if (link.scheduled) return;
    link.scheduled = true;
    this.detached(() => process.nextTick(() => this.flush(link)));
  }

  private flush(link: Link): void {
    link.scheduled = false;
    if (this.links.get(link.node) !== link) return;
    const h = this.host;
    while (link.bcast.length > 0 && link.bInFlight < h.maxBatchesInFlight) this.sendBroadcast(link);
    while (link.queue.length > 0 && link.qInFlight < h.maxBatchesInFlight) this.sendQueue(link);
  }

  /** How many of `items` (bodies) fit one batch. */
  private batchSize(bodies: (i: number) => number, n: number): number {
    const h = this.host;
    let bytes = 0;
    let k = 0;
    while (k < n && k < h.maxBatchMessages) {
      bytes += bodies(k);
      if (bytes > h.maxBatchBytes && k > 0) break;
      k++;
    }
    return k;
  }

  private sendBroadcast(link: Link): void {
    const h = this.host;
    const k = this.batchSize((i) => link.bcast[i]!.body.length, link.bcast.length);
    const items = link.bcast.splice(0, k);
    const m = cborArrayOf(items.map((p) => (p.wire ??= h.encode(p))));
    link.bInFlight++;
    h.released(items.length);
    h.call(link.address, { n: h.nodeId, p: h.idPrefix, m }, h.deliveryTimeoutMs).then(
      () => this.done(link, 'b'),
      (err: unknown) => {
        h.broadcastFailed(link.node, items.length, err);
        this.done(link, 'b');
      },
    );
  }

  private sendQueue(link: Link): void {
    const h = this.host;
    const k = this.batchSize((i) => link.queue[i]!.p.body.length, link.queue.length);
    const entries = link.queue.splice(0, k);
    const tokens = entries.map((e) => e.token);
    const m: WireMessage[] = entries.map((e) => {
      const p = e.p;
      return e.tried.length > 0
        ? [p.seq, p.topic, p.headers, p.body, e.queue, e.attempt, e.tried]
        : [p.seq, p.topic, p.headers, p.body, e.queue, e.attempt];
    });
    link.qInFlight++;
    h.call(link.address, { n: h.nodeId, p: h.idPrefix, m }, h.ackTimeoutMs).then(
      (res) => {
        this.done(link, 'q');
        h.queueSettled(link.node, entries, tokens, Array.isArray(res?.r) ? res.r : [], undefined);
      },
      (err: unknown) => {
        this.done(link, 'q');
        h.queueSettled(link.node, entries, tokens, undefined, err);
      },
    );
  }

  private done(link: Link, kind: 'b' | 'q'): void {
    if (kind === 'b') link.bInFlight--;
    else link.qInFlight--;
    if (link.bcast.length > 0 || link.queue.length > 0) this.schedule(link);
  }
}
