// The metrics kernel: histogram buckets from a sketch, the registry's merging and fault isolation, Prometheus text through prom-client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencySketch } from '../../../src/metrics/latency.ts';
import { MetricsRegistry } from '../../../src/metrics/registry.ts';
import { PrometheusExporter } from '../../../src/metrics/prometheus.ts';
import { counterFamilies, latencyHistogram, snakeCase } from '../../../src/metrics/families.ts';
import type { Sample } from '../../../src/metrics/types.ts';

test('cumulative buckets count values at or below each bound, within the sketch error', () => {
  const s = new LatencySketch();
  for (const ms of [0.05, 0.5, 0.9, 3, 40, 40, 900]) s.record(ms);
  assert.deepEqual(s.cumulative([0.1, 1, 10, 100, 1000]), [1, 3, 4, 6, 7]);
  assert.deepEqual(s.cumulative([]), []);
  assert.ok(Math.abs(s.sum - 984.45) < 1e-9);
  const h = latencyHistogram(s, { endpoint: 'X.Y' });
  assert.equal(h.count, 7);
  assert.ok(Math.abs(h.sum - 0.98445) < 1e-9);
  // Cumulative: never decreasing, the last bucket (10 s) holds everything here.
  for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i]! >= h.buckets[i - 1]!);
  assert.equal(h.buckets.at(-1), 7);
  s.reset();
  assert.equal(s.sum, 0);
});

test('counter families are named from the keys, snake case, with _total', () => {
  assert.equal(snakeCase('packetsSent'), 'packets_sent');
  const f = counterFamilies('micromesh_swim', { packetsSent: 3, deathsDeclared: 1 }, { deathsDeclared: 'members declared dead' });
  assert.deepEqual(f.map((x) => x.name), ['micromesh_swim_packets_sent_total', 'micromesh_swim_deaths_declared_total']);
  assert.equal(f[1]!.help, 'members declared dead');
  assert.equal(f[0]!.samples[0]!.value, 3);
});

test('the registry merges families of one name, skips a throwing collector and bad names, and forgets removed collectors', () => {
  const r = new MetricsRegistry();
  r.add(() => [{ name: 'x_total', help: 'x', type: 'counter', samples: [{ labels: { a: '1' }, value: 1 }] }]);
  const remove = r.add(() => [{ name: 'x_total', help: 'x', type: 'counter', samples: [{ labels: { a: '2' }, value: 2 }] }]);
  r.add(() => { throw new Error('broken component'); });
  r.add(() => [{ name: 'bad name', help: '', type: 'gauge', samples: [] }]);
  const errors: unknown[] = [];
  const fams = r.collect((e) => errors.push(e));
  assert.equal(fams.length, 1);
  assert.deepEqual(fams[0]!.samples.map((s) => (s as Sample).value), [1, 2]);
  assert.equal(errors.length, 2);
  remove();
  assert.deepEqual(r.collect()[0]!.samples.map((s) => (s as Sample).value), [1]);
});

test('PrometheusExporter renders counters, gauges and histograms in the text format, with process metrics, per registry', async () => {
  const r = new MetricsRegistry();
  let n = 1;
  const s = new LatencySketch();
  s.record(2);
  r.add(() => [
    { name: 'demo_calls_total', help: 'calls', type: 'counter', samples: [{ labels: { code: 'OK' }, value: n }] },
    { name: 'demo_in_flight', help: 'now', type: 'gauge', samples: [{ labels: {}, value: 3 }] },
    { name: 'demo_seconds', help: 'latency', type: 'histogram', bounds: [0.001, 0.01], samples: [{ ...latencyHistogram(s, { e: 'a' }), buckets: s.cumulative([1, 10]) }] },
  ]);
  const other = new PrometheusExporter(new MetricsRegistry(), { processMetrics: false });
  const ex = new PrometheusExporter(r);
  const first = await ex.render();
  assert.match(first.contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(first.body, /# TYPE demo_calls_total counter\ndemo_calls_total\{code="OK"\} 1\n/);
  assert.match(first.body, /demo_in_flight 3\n/);
  assert.match(first.body, /demo_seconds_bucket\{e="a",le="0\.001"\} 0\ndemo_seconds_bucket\{e="a",le="0\.01"\} 1\ndemo_seconds_bucket\{e="a",le="\+Inf"\} 1\n/);
  assert.match(first.body, /demo_seconds_sum\{e="a"\} 0\.002\ndemo_seconds_count\{e="a"\} 1/);
  assert.match(first.body, /process_resident_memory_bytes \d+/);
  n = 5;
  assert.match((await ex.render()).body, /demo_calls_total\{code="OK"\} 5\n/);
  // Another registry in the same process shares nothing.
  assert.doesNotMatch((await other.render()).body, /demo_|process_/);
});

test('a call slot keeps 32 codes, folds the rest into OTHER, and never folds OK', async () => {
  const { CallSlot } = await import('../../../src/metrics/calls.ts');
  const s = new CallSlot('svc', 'E.P');
  for (let i = 0; i < 40; i++) s.count(`E${i}`);
  s.count('OK');
  assert.equal(s.codes.get('OK'), 1);
  assert.equal(s.codes.get('OTHER'), 8);
  assert.equal(s.codes.size, 34);
});
