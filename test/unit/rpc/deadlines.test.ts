import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineWheel, type Expirable } from '../../../src/rpc/deadlines.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';

interface Item extends Expirable { name: string }
const item = (name: string): Item => ({ name, dlBucket: undefined, dlPrev: undefined, dlNext: undefined });

test('entries expire in deadline order, never early, at most one resolution late', () => {
  const clock = new VirtualClock();
  const fired: [string, number][] = [];
  const w = new DeadlineWheel<Item>(clock, 5, (i) => fired.push([i.name, clock.now()]));
  w.add(item('b'), 20);
  w.add(item('a'), 12);
  w.add(item('c'), 100);
  clock.advance(11);
  assert.equal(fired.length, 0);
  clock.advance(200);
  assert.deepEqual(fired.map(([n]) => n), ['a', 'b', 'c']);
  for (const [name, at] of fired) {
    const due = { a: 12, b: 20, c: 100 }[name]!;
    assert.ok(at >= due && at <= due + 5, `${name} fired at ${at}, due ${due}`);
  }
  assert.equal(w.size(), 0);
});

test('removed entries never fire; an earlier deadline re-arms the timer', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const w = new DeadlineWheel<Item>(clock, 5, (i) => fired.push(i.name));
  const late = item('late');
  w.add(late, 1000);
  const gone = item('gone');
  w.add(gone, 50);
  w.remove(gone);
  w.remove(gone); // idempotent
  w.add(item('early'), 10);
  clock.advance(20);
  assert.deepEqual(fired, ['early']);
  w.remove(late);
  clock.advance(5000);
  assert.deepEqual(fired, ['early']);
  assert.equal(clock.pending(), 0, 'no timer left once every entry is gone');
});

test('many short-lived entries leave nothing behind', () => {
  const clock = new VirtualClock();
  const w = new DeadlineWheel<Item>(clock, 5, () => assert.fail('nothing should expire'));
  for (let i = 0; i < 10_000; i++) {
    const it = item(String(i));
    w.add(it, clock.now() + 5000);
    w.remove(it);
    if (i % 100 === 0) clock.advance(1);
  }
  clock.advance(10_000);
  assert.equal(w.size(), 0);
  assert.equal(clock.pending(), 0);
});
