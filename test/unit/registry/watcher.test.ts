import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue } from '../../../src/registry/watcher.ts';

async function all<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

test('AsyncQueue: items come out in order; a pending next() gets the next push', async () => {
  const q = new AsyncQueue<number>();
  const pending = q.next();
  q.push(1);
  assert.deepEqual(await pending, { done: false, value: 1 });
  for (let i = 2; i <= 2000; i++) q.push(i);
  assert.equal(q.size, 1999);
  q.close();
  const rest = await all(q);
  assert.equal(rest.length, 1999);
  assert.equal(rest[0], 2);
  assert.equal(rest.at(-1), 2000);
});

test('AsyncQueue: close() lets the consumer drain, then done; close(error) throws once after the buffer', async () => {
  const q = new AsyncQueue<string>();
  q.push('a');
  q.close();
  assert.equal(q.push('b'), false);
  assert.deepEqual(await all(q), ['a']);

  const e = new AsyncQueue<string>();
  e.push('x');
  e.close(new Error('upstream failed'));
  assert.deepEqual(await e.next(), { done: false, value: 'x' });
  await assert.rejects(e.next(), /upstream failed/);
  assert.equal((await e.next()).done, true);

  const pending = new AsyncQueue<string>();
  const p = pending.next();
  pending.close(new Error('gone'));
  await assert.rejects(p, /gone/);
});

test('AsyncQueue: stop() discards the buffer and releases a pending next() at once', async () => {
  let closes = 0;
  const q = new AsyncQueue<number>({ onClose: () => closes++ });
  const p = q.next();
  q.stop();
  assert.deepEqual(await p, { done: true, value: undefined });
  const r = new AsyncQueue<number>({ onClose: () => closes++ });
  r.push(1);
  r.stop();
  r.stop();
  assert.equal((await r.next()).done, true);
  assert.equal(closes, 2);
});

test('AsyncQueue: the abort signal stops it, also when already aborted', async () => {
  const ac = new AbortController();
  let closed = false;
  const q = new AsyncQueue<number>({ signal: ac.signal, onClose: () => (closed = true) });
  const p = q.next();
  ac.abort();
  assert.equal((await p).done, true);
  assert.ok(closed);
  const pre = new AbortController();
  pre.abort();
  const dead = new AsyncQueue<number>({ signal: pre.signal });
  assert.ok(dead.closed);
  assert.equal(dead.push(1), false);
});

test('AsyncQueue: break out of for await stops the queue', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  q.push(2);
  for await (const x of q) {
    assert.equal(x, 1);
    break;
  }
  assert.ok(q.closed);
  assert.equal((await q.next()).done, true);
});

test('AsyncQueue: bounded, fail policy ends with QUEUE_OVERFLOW after the buffered items', async () => {
  const q = new AsyncQueue<number>({ maxSize: 2 });
  q.push(1);
  q.push(2);
  assert.equal(q.push(3), false);
  assert.ok(q.closed);
  assert.equal((await q.next()).value, 1);
  assert.equal((await q.next()).value, 2);
  await assert.rejects(q.next(), { code: 'QUEUE_OVERFLOW' });
});

test('AsyncQueue: bounded, dropOldest keeps the newest and counts drops', async () => {
  const q = new AsyncQueue<number>({ maxSize: 2, overflow: 'dropOldest' });
  for (let i = 1; i <= 5; i++) q.push(i);
  assert.equal(q.dropped, 3);
  q.close();
  assert.deepEqual(await all(q), [4, 5]);
});

test('AsyncQueue: one consumer at a time', async () => {
  const q = new AsyncQueue<number>();
  const first = q.next();
  await assert.rejects(q.next(), { code: 'INVALID_ARGUMENT' });
  q.push(7);
  assert.equal((await first).value, 7);
  assert.throws(() => new AsyncQueue({ maxSize: 0 }), { code: 'INVALID_ARGUMENT' });
});
