import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencySketch, MeshError, SeededRandom, VirtualClock, WindowedLatency } from '../../../src/index.ts';

/** Exact nearest-rank percentile of a sorted array, the definition the sketch approximates. */
const exact = (sorted: number[], q: number): number => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;

const within = (got: number, want: number, rel: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= rel * want + 1e-12, `${what}: got ${got}, want ${want} ± ${rel * 100}%`);
};

test('percentiles stay within the relative error of the exact ones, over several distributions', () => {
  const random = new SeededRandom(7);
  const shapes: Record<string, () => number> = {
    uniform: () => 1 + random.next() * 99,
    // Heavy tail spanning µs to minutes, as RPC latencies do.
    logUniform: () => 0.002 * 10 ** (random.next() * 7.4),
    bimodal: () => (random.next() < 0.9 ? 0.2 + random.next() * 0.1 : 50 + random.next() * 20),
  };
  for (const [name, draw] of Object.entries(shapes)) {
    const sketch = new LatencySketch();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = draw();
      values.push(v);
      sketch.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) within(sketch.quantile(q), exact(values, q), sketch.relativeError, `${name} q=${q}`);
    const s = sketch.summary();
    assert.equal(s.count, values.length);
    assert.equal(s.max, values.at(-1));
    within(s.p99, exact(values, 0.99), 0.05, `${name} summary p99`);
  }
});

test('fixed memory: about 200 buckets for 1 µs to 10 min at 5 %; out-of-range and bad values are clamped, never thrown', () => {
  const sketch = new LatencySketch();
  assert.ok(sketch.buckets > 150 && sketch.buckets < 250, `${sketch.buckets} buckets`);
  assert.equal(sketch.quantile(0.5), 0, 'empty');
  assert.deepEqual(sketch.summary(), { p50: 0, p90: 0, p99: 0, max: 0, count: 0 });
  sketch.record(0.0001);
  sketch.record(-5);
  sketch.record(Number.NaN);
  sketch.record(3_600_000);
  assert.equal(sketch.count, 4);
  assert.equal(sketch.quantile(0), 0, 'bad values count as 0');
  assert.equal(sketch.max, 3_600_000, 'max stays exact above the range');
  assert.equal(sketch.quantile(1), 3_600_000, 'clamped to the largest value seen');
  sketch.reset();
  assert.equal(sketch.count, 0);
  sketch.record(42);
  assert.equal(sketch.quantile(0.5), 42, 'a single value is reported exactly');
});

test('options are validated, naming the field and the range', () => {
  assert.throws(() => new LatencySketch({ relativeError: 0 }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /relativeError.*\(0, 0\.5\].*got 0/.test(e.detail));
  assert.throws(() => new LatencySketch({ minMs: 10, maxMs: 5 }), /maxMs/);
  assert.throws(() => new WindowedLatency(0, { halfWindowMs: -1 }), /halfWindowMs/);
  const fine = new LatencySketch({ relativeError: 0.01, minMs: 0.01, maxMs: 1000 });
  assert.ok(fine.buckets > new LatencySketch().buckets);
});

test('the window covers the previous and the current half, rotated by the clock', () => {
  const clock = new VirtualClock();
  const w = new WindowedLatency(clock.now(), { halfWindowMs: 30_000 });
  assert.equal(w.spanMs(clock.now()), 0);
  for (let i = 0; i < 100; i++) w.record(100, clock.now());
  clock.advance(20_000);
  assert.equal(w.summary(clock.now()).p50, 100);
  assert.equal(w.spanMs(clock.now()), 20_000);
  // Into the second half: the first half's calls still count.
  clock.advance(15_000);
  for (let i = 0; i < 100; i++) w.record(1, clock.now());
  let s = w.summary(clock.now());
  assert.equal(s.count, 200);
  assert.equal(s.max, 100);
  assert.equal(w.spanMs(clock.now()), 35_000);
  // Third half: the first half's slow calls have left the window.
  clock.advance(30_000);
  s = w.summary(clock.now());
  assert.equal(s.count, 100);
  assert.equal(s.p99, 1);
  assert.equal(s.max, 1);
  assert.ok(w.spanMs(clock.now()) >= 30_000 && w.spanMs(clock.now()) < 60_000);
  // A quiet minute empties it: recent figures describe now, not since boot.
  clock.advance(61_000);
  assert.deepEqual(w.summary(clock.now()), { p50: 0, p90: 0, p99: 0, max: 0, count: 0 });
  w.record(7, clock.now());
  assert.equal(w.quantile(0.5, clock.now()), 7);
});
