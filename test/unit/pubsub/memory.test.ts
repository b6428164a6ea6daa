import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker } from '../../../src/pubsub/memory.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import { SeededRandom } from '../../../src/clock/seeded.ts';
import type { Logger, LogFields } from '../../../src/log/types.ts';
import type { BrokerMessage } from '../../../src/pubsub/types.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { brokerCompliance, until } from '../../compliance/broker.ts';

brokerCompliance('memory', {
  setup: async () => ({ brokers: [new MemoryBroker({ maxDeliveries: 3 })], maxDeliveries: 3 }),
});

brokerCompliance('memory (random queue pick, 5 deliveries)', {
  setup: async () => ({
    brokers: [new MemoryBroker({ maxDeliveries: 5, queueStrategy: 'random', random: new SeededRandom(7) })],
    maxDeliveries: 5,
  }),
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function recordingLogger(lines: Array<{ level: string; msg: string; fields?: LogFields }>): Logger {
  const log = (level: string) => (msg: string, fields?: LogFields): void => void lines.push({ level, msg, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

test('memory broker: delivery is asynchronous and in publish order per subscription', async () => {
  const b = new MemoryBroker();
  await b.start();
  const seen: string[] = [];
  await b.subscribe('t', async (m) => {
    if (text(m.body) === 'm0') await new Promise((r) => setTimeout(r, 5)); // a slow first message must not be overtaken
    seen.push(text(m.body));
  });
  for (let i = 0; i < 100; i++) {
    await b.publish('t', bytes(`m${i}`));
    if (i === 0) assert.deepEqual(seen, [], 'handler ran inside publish');
  }
  await until(() => seen.length === 100, 'all messages');
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => `m${i}`));
  await b.stop();
});

test('memory broker: the body is copied at publish; handlers get their own headers', async () => {
  const b = new MemoryBroker();
  await b.start();
  const got: BrokerMessage[] = [];
  await b.subscribe('t', (m) => {
    m.headers.x = 'changed';
    got.push(m);
  });
  await b.subscribe('t', (m) => void got.push(m));
  const body = bytes('original');
  await b.publish('t', body, { headers: { x: 'y' } });
  body.fill(0);
  await until(() => got.length === 2, 'both copies');
  assert.equal(text(got[0]!.body), 'original');
  assert.equal(got[1]!.headers.x, 'y');
  await b.stop();
});

test('memory broker: failures are logged and counted in stats()', async () => {
  const lines: Array<{ level: string; msg: string; fields?: LogFields }> = [];
  const b = new MemoryBroker({ logger: recordingLogger(lines), maxDeliveries: 2 });
  await b.start();
  await b.subscribe('t', () => {
    throw new MeshError('BAD_REQUEST', 'nope');
  }, { queue: 'q' });
  await b.subscribe('t', () => {});
  await b.publish('t', bytes('x'));
  await b.publish('nobody.listens', bytes('x'));
  await until(() => b.stats().deadLettered === 1, 'dead letter');
  assert.deepEqual(b.stats(), {
    published: 2, unmatched: 2, delivered: 1, handlerErrors: 2, redelivered: 1, deadLettered: 1, dropped: 0, subscriptions: 2,
  });
  const failure = lines.find((l) => l.msg === 'subscriber handler failed');
  assert.equal(failure?.level, 'warn');
  assert.equal(failure?.fields?.code, 'BAD_REQUEST');
  assert.ok(lines.some((l) => l.msg === 'message dead-lettered'));
  await b.stop();
});

test('memory broker: a plain Error dead-letters with code INTERNAL; dead letters are never dead-lettered again', async () => {
  const b = new MemoryBroker({ maxDeliveries: 1 });
  await b.start();
  const dead: BrokerMessage[] = [];
  await b.subscribe('t', () => {
    throw new Error('boom');
  }, { queue: 'q' });
  await b.subscribe('$dead-letter.t', (m) => {
    dead.push(m);
    throw new Error('dead-letter handler broken too');
  }, { queue: 'dlq' });
  await b.publish('t', bytes('x'));
  await until(() => b.stats().dropped === 1, 'the failed dead letter dropped');
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.headers['x-dead-letter-error-code'], 'INTERNAL');
  assert.equal(dead[0]!.headers['x-dead-letter-error-message'], 'boom');
  assert.equal(b.stats().deadLettered, 1);
  await b.stop();
});

test('memory broker: unsubscribing hands pending queue-group messages to another member', async () => {
  const b = new MemoryBroker();
  await b.start();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: string[] = [];
  const fast: string[] = [];
  const s1 = await b.subscribe('t', async (m) => {
    slow.push(text(m.body));
    await gate;
  }, { queue: 'q' });
  await b.subscribe('t', (m) => void fast.push(text(m.body)), { queue: 'q' });
  for (let i = 0; i < 10; i++) await b.publish('t', bytes(`m${i}`));
  await until(() => slow.length === 1 && fast.length === 5, 'first round');
  await s1.unsubscribe(); // m2, m4, ... were waiting behind the slow handler
  release();
  await until(() => fast.length === 9, 'rerouted messages');
  assert.deepEqual([...slow, ...fast].sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
  await b.stop();
});

test('memory broker: a group with no member left dead-letters its pending messages', async () => {
  const b = new MemoryBroker();
  await b.start();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const dead: BrokerMessage[] = [];
  const s = await b.subscribe('t', () => gate, { queue: 'q' });
  await b.subscribe('$dead-letter.t', (m) => void dead.push(m));
  await b.publish('t', bytes('a'));
  await b.publish('t', bytes('b'));
  await new Promise((r) => setTimeout(r, 1));
  await s.unsubscribe();
  release();
  await until(() => dead.length === 1, 'dead letter');
  assert.equal(text(dead[0]!.body), 'b');
  assert.equal(dead[0]!.headers['x-dead-letter-error-code'], 'NONE_AVAILABLE');
  assert.equal(dead[0]!.headers['x-dead-letter-deliveries'], '0');
  await b.stop();
});

test('memory broker: stop ends subscriptions and discards undelivered messages; restart works', async () => {
  const b = new MemoryBroker();
  await b.start();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const old: string[] = [];
  await b.subscribe('t', async (m) => {
    old.push(text(m.body));
    await gate;
  });
  await b.publish('t', bytes('first'));
  await b.publish('t', bytes('waiting'));
  await until(() => old.length === 1, 'first delivery');
  await b.stop(); // 'waiting' is still queued behind the gated handler
  release();
  assert.equal(b.stats().dropped, 1);
  assert.equal(b.stats().subscriptions, 0);
  await b.start();
  const fresh: string[] = [];
  await b.subscribe('t', (m) => void fresh.push(text(m.body)));
  await b.publish('t', bytes('new'));
  await until(() => fresh.length === 1, 'delivery after restart');
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(old, ['first']);
  await b.stop();
});

test('memory broker: redeliveryDelayMs waits on the injected clock', async () => {
  const clock = new VirtualClock();
  const b = new MemoryBroker({ clock, redeliveryDelayMs: 1000 });
  await b.start();
  const attempts: number[] = [];
  await b.subscribe('t', (m) => {
    attempts.push(m.deliveryAttempt);
    if (m.deliveryAttempt === 1) throw new Error('first try fails');
  }, { queue: 'q' });
  await b.publish('t', bytes('x'));
  await until(() => attempts.length === 1, 'first attempt');
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(attempts, [1], 'redelivered before the delay');
  clock.advance(1000);
  await until(() => attempts.length === 2, 'redelivery');
  assert.deepEqual(attempts, [1, 2]);
  await b.stop();
});

test('memory broker: a full backlog drops broadcast copies (counted) and spills queue messages to members with room', async () => {
  const b = new MemoryBroker({ maxPendingPerSubscription: 2 });
  await b.start();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const busy: string[] = [];
  const spare: string[] = [];
  await b.subscribe('t', async (m) => {
    busy.push(text(m.body));
    await gate;
  });
  await b.subscribe('q', async (m) => {
    busy.push(text(m.body));
    await gate;
  }, { queue: 'g' });
  await b.subscribe('q', async (m) => void spare.push(text(m.body)), { queue: 'g' });
  await b.publish('t', bytes('t0'));
  await until(() => busy.length === 1, 'the broadcast handler is busy');
  for (let i = 1; i < 6; i++) await b.publish('t', bytes(`t${i}`)); // 2 fit in the backlog, 3 are dropped
  assert.equal(b.stats().dropped, 3);
  for (let i = 0; i < 10; i++) await b.publish('q', bytes(`q${i}`));
  release();
  await until(() => busy.length + spare.length === 1 + 2 + 10, 'everything that fitted');
  assert.equal(b.stats().dropped, 3, 'queue messages must spill over, not drop');
  await b.stop();
});

test('memory broker: config is validated, naming the field and range', () => {
  assert.throws(() => new MemoryBroker({ maxDeliveries: 0 }), { code: 'INVALID_CONFIG', message: /broker\.maxDeliveries must be an integer in \[1, 100\], got 0/ });
  assert.throws(() => new MemoryBroker({ queueStrategy: 'fastest' as 'random' }), { message: /broker\.queueStrategy must be one of roundRobin, random/ });
});
