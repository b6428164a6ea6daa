import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/seeded.ts';

test('SeededRandom is deterministic per seed and differs across seeds', () => {
  const a = new SeededRandom(7);
  const b = new SeededRandom(7);
  const c = new SeededRandom(8);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.next()));
});

test('SeededRandom draws are in range and roughly uniform', () => {
  const r = new SeededRandom(1);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const v = r.next();
    assert.ok(v >= 0 && v < 1);
    buckets[Math.floor(v * 10)]++;
  }
  for (const b of buckets) assert.ok(b > 9_000 && b < 11_000, `bucket ${b}`);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(3);
    assert.ok(k === 0 || k === 1 || k === 2);
  }
});

test('shuffle permutes in place; fork gives an independent stream', () => {
  const r = new SeededRandom(3);
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  r.shuffle(items);
  assert.deepEqual([...items].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  const f1 = new SeededRandom(9).fork();
  const f2 = new SeededRandom(9).fork();
  assert.equal(f1.next(), f2.next());
  assert.equal(r.bytes(7).length, 7);
});
