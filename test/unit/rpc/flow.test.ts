import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreditGate, MessageQueue } from '../../../src/rpc/flow.ts';

const bytes = (n: number): Uint8Array => new Uint8Array(n);

test('MessageQueue returns credit as the consumer reads, not as messages arrive', async () => {
  const consumed: number[] = [];
  const q = new MessageQueue((n) => consumed.push(n), () => {});
  q.push(bytes(10));
  q.push(bytes(20));
  assert.equal(q.buffered, 30);
  assert.deepEqual(consumed, []);
  assert.equal((await q.next()).value!.length, 10);
  assert.deepEqual(consumed, [10]);
  const pending = q.next();
  assert.equal((await pending).value!.length, 20);
  const waiting = q.next();
  q.push(bytes(5));
  assert.equal((await waiting).value!.length, 5);
  assert.deepEqual(consumed, [10, 20, 5]);
  q.end();
  assert.equal((await q.next()).done, true);
});

test('MessageQueue delivers queued messages before end, drops them on fail, and reports early return', async () => {
  let returned = 0;
  const q = new MessageQueue(() => {}, () => returned++);
  q.push(bytes(1));
  q.end();
  assert.equal((await q.next()).value!.length, 1);
  assert.equal((await q.next()).done, true);
  const f = new MessageQueue(() => {}, () => {});
  f.push(bytes(1));
  f.fail(new Error('boom'));
  await assert.rejects(f.next(), /boom/);
  const r = new MessageQueue(() => {}, () => returned++);
  for await (const _ of (r.push(bytes(1)), r)) break;
  assert.equal(returned, 1);
});

test('CreditGate blocks senders at zero credit and lets them through on grant; fail and abort reject waiters', async () => {
  const g = new CreditGate(10);
  await g.acquire();
  g.consume(15); // one message may overshoot
  assert.equal(g.available, -5);
  let through = false;
  const waiting = g.acquire().then(() => (through = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(through, false);
  g.grant(4);
  await new Promise((r) => setImmediate(r));
  assert.equal(through, false, 'still not positive');
  g.grant(2);
  await waiting;
  assert.equal(through, true);
  const ac = new AbortController();
  g.consume(10);
  const aborted = g.acquire(ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  const failed = g.acquire();
  g.fail(new Error('gone'));
  await assert.rejects(failed, /gone/);
  await assert.rejects(g.acquire(), /gone/);
});
