// The Broker compliance suite (DEVELOPERS.md rule 9): memory, direct, gossip
// and NATS brokers must all pass it. Deliveries are awaited by polling with a
// generous real-time limit (networked brokers deliver when they deliver);
// nothing asserts timings or cross-subscription order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker, BrokerHandler, BrokerMessage, SubscribeOptions, Subscription } from '../../src/pubsub/types.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic } from '../../src/pubsub/topic.ts';
import { MeshError } from '../../src/errors/index.ts';

export interface BrokerHarness {
  /**
   * Brokers of one network, not started (one for in-process brokers).
   * Subscriptions are spread over them; publishes come from the first.
   */
  brokers: Broker[];
  /** The `maxDeliveries` the brokers were configured with. */
  maxDeliveries: number;
  /** Resolves once the subscriptions made so far are in effect network-wide (e.g. gossiped). Default: at once. */
  settle?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

export interface BrokerComplianceOptions {
  setup: () => Promise<BrokerHarness>;
}

const LIMIT_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let counter = 0;
const topicFor = (label: string): string => `compliance.${label}.p${process.pid}n${++counter}`;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Polls `cond` until true; fails naming `what` after a generous real-time limit. */
export async function until(cond: () => boolean, what: string, limitMs = LIMIT_MS): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > limitMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A short real-time pause after the expected deliveries, to catch extra ones. */
const quiesce = (): Promise<void> => sleep(50);

export function brokerCompliance(name: string, opts: BrokerComplianceOptions): void {
  const run = (title: string, body: (h: BrokerHarness, ctx: Ctx) => Promise<void>): void => {
    test(`${name} broker: ${title}`, async () => {
      const h = await opts.setup();
      const ctx = new Ctx(h);
      try {
        await body(h, ctx);
      } finally {
        for (const b of h.brokers) await b.stop();
        await h.teardown?.();
      }
    });
  };

  run('start and stop are idempotent; publish needs a started broker (NOT_RUNNING)', async (h) => {
    const b = h.brokers[0]!;
    await b.stop(); // stop before start is harmless
    await assert.rejects(b.publish(topicFor('idle'), bytes('x')), (e: unknown) => e instanceof MeshError && e.code === 'NOT_RUNNING');
    await b.start();
    await b.start();
    await b.publish(topicFor('idle'), bytes('x'));
    await b.stop();
    await b.stop();
    await assert.rejects(b.publish(topicFor('idle'), bytes('x')), { code: 'NOT_RUNNING' });
  });

  run('broadcast: every subscription gets every message, intact', async (h, c) => {
    await c.startAll();
    const topic = topicFor('broadcast');
    const got = [0, 1, 2].map(() => [] as BrokerMessage[]);
    for (let i = 0; i < 3; i++) await c.sub(i, topic, (m) => void got[i]!.push(m));
    await c.settle();
    for (let i = 0; i < 10; i++) await c.pub(topic, `m${i}`, { k: `v${i}` });
    await until(() => got.every((g) => g.length >= 10), 'all copies');
    await quiesce();
    for (const g of got) {
      assert.equal(g.length, 10);
      assert.deepEqual(g.map((m) => text(m.body)).sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
      for (const m of g) {
        assert.equal(m.topic, topic);
        assert.equal(m.deliveryAttempt, 1);
        assert.equal(m.headers.k, `v${text(m.body).slice(1)}`);
      }
    }
    assert.deepEqual(got[0]!.map((m) => m.id).sort(), got[1]!.map((m) => m.id).sort());
    assert.equal(new Set(got[0]!.map((m) => m.id)).size, 10);
  });

  run('a queue group splits messages: none handled twice, none lost', async (h, c) => {
    await c.startAll();
    const topic = topicFor('queue');
    const got = [0, 1, 2].map(() => [] as string[]);
    for (let i = 0; i < 3; i++) await c.sub(i, topic, (m) => void got[i]!.push(text(m.body)), { queue: 'workers' });
    await c.settle();
    for (let i = 0; i < 300; i++) await c.pub(topic, `m${i}`);
    const total = (): number => got.reduce((n, g) => n + g.length, 0);
    await until(() => total() >= 300, '300 deliveries');
    await quiesce();
    const all = got.flat();
    assert.equal(all.length, 300, 'a message was handled twice');
    assert.equal(new Set(all).size, 300, 'a message was lost');
    assert.ok(got.filter((g) => g.length > 0).length >= 2, `the group did not share the load: ${got.map((g) => g.length)}`);
  });

  run('two queue groups and a broadcast subscription each get every message', async (h, c) => {
    await c.startAll();
    const topic = topicFor('groups');
    const g1: string[] = [];
    const g2: string[] = [];
    const solo: string[] = [];
    for (let i = 0; i < 2; i++) await c.sub(i, topic, (m) => void g1.push(text(m.body)), { queue: 'one' });
    for (let i = 0; i < 2; i++) await c.sub(i + 1, topic, (m) => void g2.push(text(m.body)), { queue: 'two' });
    await c.sub(0, topic, (m) => void solo.push(text(m.body)));
    await c.settle();
    for (let i = 0; i < 50; i++) await c.pub(topic, `m${i}`);
    await until(() => g1.length >= 50 && g2.length >= 50 && solo.length >= 50, 'every copy');
    await quiesce();
    for (const list of [g1, g2, solo]) {
      assert.equal(list.length, 50);
      assert.equal(new Set(list).size, 50);
    }
  });

  run('a throwing broadcast handler keeps its subscription', async (h, c) => {
    await c.startAll();
    const topic = topicFor('throws');
    const seen: string[] = [];
    await c.sub(0, topic, (m) => {
      seen.push(text(m.body));
      throw new Error('handler failed');
    });
    await c.settle();
    for (let i = 0; i < 5; i++) await c.pub(topic, `m${i}`);
    await until(() => seen.length >= 5, 'five deliveries');
    await quiesce();
    assert.deepEqual([...seen].sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  run('a queue-group failure is redelivered to another member, same id, next attempt', async (h, c) => {
    await c.startAll();
    const topic = topicFor('redeliver');
    const failedIds: string[] = [];
    const handled: BrokerMessage[] = [];
    const dead: BrokerMessage[] = [];
    await c.sub(0, topic, (m) => {
      failedIds.push(m.id);
      throw new MeshError('UNAVAILABLE', 'member A is broken');
    }, { queue: 'q' });
    await c.sub(1, topic, (m) => void handled.push(m), { queue: 'q' });
    await c.sub(0, deadLetterTopic(topic), (m) => void dead.push(m));
    await c.settle();
    for (let i = 0; i < 20; i++) await c.pub(topic, `m${i}`);
    await until(() => handled.length >= 20, 'all handled by the healthy member');
    await quiesce();
    assert.equal(handled.length, 20);
    assert.equal(new Set(handled.map((m) => text(m.body))).size, 20);
    assert.equal(dead.length, 0);
    for (const id of failedIds) {
      const m = handled.find((x) => x.id === id);
      assert.ok(m !== undefined, 'a failed message was not redelivered');
      assert.equal(m.deliveryAttempt, 2);
    }
    for (const m of handled) if (!failedIds.includes(m.id)) assert.equal(m.deliveryAttempt, 1);
  });

  run('after maxDeliveries failures a message goes to $dead-letter.<topic> with the error recorded', async (h, c) => {
    await c.startAll();
    const topic = topicFor('dead');
    const attempts: number[] = [];
    const dead: BrokerMessage[] = [];
    const failing: BrokerHandler = (m) => {
      attempts.push(m.deliveryAttempt);
      throw new MeshError('BAD_REQUEST', 'cannot parse order');
    };
    await c.sub(0, topic, failing, { queue: 'q' });
    await c.sub(1, topic, failing, { queue: 'q' });
    await c.sub(0, deadLetterTopic(topic), (m) => void dead.push(m));
    await c.settle();
    await c.pub(topic, 'poison', { 'content-type': 'application/json' });
    await until(() => dead.length >= 1, 'the dead letter');
    await quiesce();
    assert.deepEqual(attempts, Array.from({ length: h.maxDeliveries }, (_, i) => i + 1));
    assert.equal(dead.length, 1);
    const d = dead[0]!;
    assert.equal(d.topic, deadLetterTopic(topic));
    assert.equal(text(d.body), 'poison');
    assert.equal(d.headers['content-type'], 'application/json');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.topic], topic);
    assert.equal(d.headers[DEAD_LETTER_HEADERS.queue], 'q');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.errorCode], 'BAD_REQUEST');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.errorMessage], 'cannot parse order');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.deliveries], String(h.maxDeliveries));
    assert.ok(d.headers[DEAD_LETTER_HEADERS.messageId]!.length > 0);
  });

  run('wildcards: * is one token, > one or more trailing tokens', async (h, c) => {
    await c.startAll();
    const base = topicFor('wild');
    const star: string[] = [];
    const tail: string[] = [];
    const exact: string[] = [];
    await c.sub(0, `${base}.*`, (m) => void star.push(m.topic));
    await c.sub(0, `${base}.>`, (m) => void tail.push(m.topic));
    await c.sub(0, `${base}.a`, (m) => void exact.push(m.topic));
    await c.settle();
    for (const t of [base, `${base}.a`, `${base}.b`, `${base}.a.deep`]) await c.pub(t, 'x');
    await until(() => star.length >= 2 && tail.length >= 3 && exact.length >= 1, 'wildcard deliveries');
    await quiesce();
    assert.deepEqual(star.sort(), [`${base}.a`, `${base}.b`]);
    assert.deepEqual(tail.sort(), [`${base}.a`, `${base}.a.deep`, `${base}.b`]);
    assert.deepEqual(exact, [`${base}.a`]);
  });

  run('unsubscribe (or aborting the subscribe signal) stops delivery', async (h, c) => {
    await c.startAll();
    const topic = topicFor('unsub');
    const gone: string[] = [];
    const aborted: string[] = [];
    const stays: string[] = [];
    const sub = await c.sub(0, topic, (m) => void gone.push(text(m.body)));
    const ac = new AbortController();
    await c.sub(0, topic, (m) => void aborted.push(text(m.body)), { signal: ac.signal });
    await c.sub(0, topic, (m) => void stays.push(text(m.body)));
    await c.settle();
    await c.pub(topic, 'before');
    await until(() => gone.length === 1 && aborted.length === 1 && stays.length === 1, 'first message');
    await sub.unsubscribe();
    await sub.unsubscribe(); // idempotent
    ac.abort();
    await c.settle();
    await c.pub(topic, 'after');
    await until(() => stays.length === 2, 'second message');
    await quiesce();
    assert.deepEqual(gone, ['before']);
    assert.deepEqual(aborted, ['before']);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(h.brokers[0]!.subscribe(topic, () => {}, { signal: pre.signal }));
  });

  run('invalid topics and patterns are rejected with INVALID_ARGUMENT', async (h, c) => {
    await c.startAll();
    const b = h.brokers[0]!;
    await assert.rejects(b.publish('a..b', bytes('x')), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(b.publish('a.*', bytes('x')), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(b.subscribe('a.>.b', () => {}), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(b.subscribe('', () => {}), { code: 'INVALID_ARGUMENT' });
  });
}

/** Spreads subscriptions over the harness's brokers and publishes from the first. */
class Ctx {
  private readonly h: BrokerHarness;
  constructor(h: BrokerHarness) {
    this.h = h;
  }

  async startAll(): Promise<void> {
    for (const b of this.h.brokers) await b.start();
  }

  sub(i: number, topic: string, handler: BrokerHandler, opts?: SubscribeOptions): Promise<Subscription> {
    return this.h.brokers[i % this.h.brokers.length]!.subscribe(topic, handler, opts);
  }

  async settle(): Promise<void> {
    await this.h.settle?.();
  }

  pub(topic: string, body: string, headers?: Record<string, string>): Promise<void> {
    return this.h.brokers[0]!.publish(topic, bytes(body), { headers });
  }
}
