import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BroadcastQueue } from '../../../src/swim/broadcasts.ts';

const msg = (tag: number, size = 10): Uint8Array => new Uint8Array(size).fill(tag);
const tags = (out: Uint8Array[]): number[] => out.map((b) => b[0]!);

test('packs fewest-transmitted first, newest first among equals', () => {
  const q = new BroadcastQueue(100);
  q.enqueue('a', msg(1));
  q.enqueue('b', msg(2));
  q.enqueue('c', msg(3));
  assert.deepEqual(q.order(), ['c', 'b', 'a']);
  const out: Uint8Array[] = [];
  q.take(25, 10, out); // room for two
  assert.deepEqual(tags(out), [3, 2]);
  assert.deepEqual(q.order(), ['a', 'c', 'b'], 'a was never sent, so it goes first now');
  q.enqueue('d', msg(4));
  assert.deepEqual(q.order(), ['d', 'a', 'c', 'b']);
});

test('newer news about a member replaces the older, and notifies its waiter', () => {
  const q = new BroadcastQueue(100);
  let notified = 0;
  q.enqueue('a', msg(1), () => notified++);
  q.enqueue('b', msg(2));
  q.enqueue('a', msg(9));
  assert.equal(notified, 1);
  assert.equal(q.size, 2);
  const out: Uint8Array[] = [];
  q.take(1000, 10, out);
  assert.deepEqual(tags(out), [9, 2], 'the invalidated entry is never sent');
});

test('an entry is sent `limit` times, never twice in one packet, then leaves the queue and notifies', () => {
  const q = new BroadcastQueue(100);
  let done = false;
  q.enqueue('a', msg(1), () => (done = true));
  for (let i = 0; i < 3; i++) {
    const out: Uint8Array[] = [];
    assert.equal(q.take(1000, 3, out), 10);
    assert.deepEqual(tags(out), [1]);
  }
  assert.equal(done, true);
  assert.equal(q.size, 0);
  const out: Uint8Array[] = [];
  assert.equal(q.take(1000, 3, out), 0);
});

test('a lower limit (the cluster shrank) retires entries already sent that often', () => {
  const q = new BroadcastQueue(100);
  q.enqueue('a', msg(1));
  q.take(1000, 10, []);
  q.take(1000, 10, []);
  const out: Uint8Array[] = [];
  q.take(1000, 2, out);
  assert.deepEqual(out, []);
  assert.equal(q.size, 0);
});

test('entries that do not fit are skipped for smaller ones, and the budget is never exceeded', () => {
  const q = new BroadcastQueue(100);
  q.enqueue('small', msg(1, 10));
  q.enqueue('big', msg(2, 100));
  const out: Uint8Array[] = [];
  const used = q.take(50, 10, out);
  assert.equal(used, 10);
  assert.deepEqual(tags(out), [1]);
});

test('past maxEntries, the most-sent entry is dropped and counted', () => {
  const q = new BroadcastQueue(2);
  q.enqueue('old', msg(1));
  q.take(1000, 10, []); // old: 1 transmission
  q.enqueue('b', msg(2));
  q.enqueue('c', msg(3));
  assert.equal(q.size, 2);
  assert.equal(q.dropped, 1);
  assert.equal(q.has('old'), false);
  q.clear();
  assert.equal(q.size, 0);
});

test('many invalidations do not grow the queue without bound', () => {
  const q = new BroadcastQueue(100_000);
  for (let i = 0; i < 10_000; i++) q.enqueue(`m${i % 10}`, msg(i & 0xff));
  assert.equal(q.size, 10);
  const out: Uint8Array[] = [];
  q.take(10_000, 5, out);
  assert.equal(out.length, 10);
});
