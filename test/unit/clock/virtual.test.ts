import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/clock/virtual.ts';

test('VirtualClock fires timers in time then creation order, each at its due time', () => {
  const clock = new VirtualClock();
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
  clock.advance(15);
  assert.deepEqual(seen, ['a@10']);
  assert.equal(clock.now(), 15);
  clock.advance(100);
  assert.deepEqual(seen, ['a@10', 'b@20', 'c@20']);
  assert.equal(clock.now(), 115);
});

test('VirtualClock clearTimeout cancels, and timers set from timers run in the same advance', () => {
  const clock = new VirtualClock();
  const seen: number[] = [];
  const t = clock.setTimeout(() => seen.push(-1), 5);
  clock.clearTimeout(t);
  clock.clearTimeout(t); // idempotent
  clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 3), 4);
  clock.advance(10);
  assert.deepEqual(seen, [7]);
  assert.equal(clock.pending(), 0);
});

test('VirtualClock stays correct when most timers are cancelled (heap compaction)', () => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  const handles = [];
  for (let i = 0; i < 5000; i++) handles.push(clock.setTimeout(() => fired.push(i), i));
  for (let i = 0; i < 5000; i++) if (i % 10 !== 0) clock.clearTimeout(handles[i]);
  assert.equal(clock.pending(), 500);
  clock.runUntilIdle();
  assert.equal(fired.length, 500);
  assert.deepEqual(fired.slice(0, 3), [0, 10, 20]);
});

test('VirtualClock runUntil stops when the condition holds or the limit passes', () => {
  const clock = new VirtualClock();
  let n = 0;
  const tick = (): void => {
    n++;
    clock.setTimeout(tick, 100);
  };
  clock.setTimeout(tick, 100);
  assert.equal(clock.runUntil(() => n === 3, 10_000), true);
  assert.equal(clock.now(), 300);
  assert.equal(clock.runUntil(() => n === 1000, 250), false);
  assert.equal(clock.now(), 550);
});

test('sleep resolves in virtual time and rejects on abort', async () => {
  const clock = new VirtualClock();
  const p = clock.sleep(50);
  clock.advance(50);
  await p;
  const ac = new AbortController();
  const q = clock.sleep(50, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(q, /stop/);
  assert.equal(clock.pending(), 0);
});
