// The kv scenario on a small cluster with fixed seeds: real MeshKv nodes over
// real RPC in virtual time. Asserts the store's properties (every write
// reaches every node, puts get their copies, rumor and anti-entropy both
// carry it, runs are deterministic), never timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, type SimOptions } from './options.ts';
import { runOnce, simulate } from './run.ts';

function options(...argv: string[]): SimOptions {
  const o = parseOptions(['--scenario', 'kv', ...argv]);
  assert.notEqual(o, 'help');
  return o as SimOptions;
}

test('kv: every write reaches all 40 nodes; each put gets its copies; the bytes are counted', async () => {
  const r = await runOnce(options('--nodes', '40', '--kv-writes', '3', '--kv-every', '8s', '--seed', '4'), 4);
  assert.equal(r.samples?.kv_all_ms?.length, 3, 'each write held by every node');
  assert.equal(r.samples?.kv_node_ms?.length, 3 * 40);
  assert.equal(r.extra.kv_unreached, 0);
  assert.equal(r.samples?.kv_put_ms?.length, 3, 'every put resolved');
  assert.equal(r.extra.kv_put_failures, 0);
  assert.ok(Number(r.extra.kv_calls_per_write_replicate_rumor) >= 3, 'the writer sent its copies and they were forwarded');
  assert.ok(r.samples!.kv_write_bytes!.every((b) => b > 0), 'a write costs bytes beyond the background');
  assert.equal(r.disseminate.length, 3);
});

test('kv: with fanout 1 the rumor misses nodes and anti-entropy brings them the write', async () => {
  const r = await runOnce(options('--nodes', '40', '--kv-fanout', '1', '--kv-anti-entropy', '1s', '--kv-every', '5s', '--seed', '6'), 6);
  assert.equal(r.extra.kv_unreached, 0);
  assert.ok(Number(r.extra.kv_repaired_by_anti_entropy_per_write) > 0, 'some nodes got it through a sync');
});

test('kv: at 10 % loss every write still reaches every node', async () => {
  const r = await runOnce(options('--nodes', '30', '--loss', '0.1', '--kv-writes', '2', '--seed', '8'), 8);
  assert.equal(r.extra.kv_unreached, 0);
  assert.equal(r.samples?.kv_all_ms?.length, 2);
});

test('kv: the same seed gives the same figures; the report pools the samples of every seed', async () => {
  const o = options('--nodes', '20', '--kv-writes', '2', '--kv-every', '3s', '--seed', '9');
  const [a, b] = [await runOnce(o, 9), await runOnce(o, 9)];
  assert.deepEqual(a.samples, b.samples);
  assert.deepEqual(a.extra, b.extra);
  const { report } = await simulate(options('--nodes', '20', '--kv-writes', '2', '--kv-every', '3s', '--seeds', '9..10'));
  assert.equal(report.kv_writes, 4);
  assert.ok(typeof report.kv_all_p99_ms === 'number' && typeof report.kv_write_bytes_per_node === 'number');
});

test('kv: its options apply to --scenario kv only, with ranges', () => {
  assert.throws(() => parseOptions(['--scenario', 'crash', '--kv-writes', '2']), /--kv-writes applies to --scenario kv only/);
  assert.throws(() => parseOptions(['--scenario', 'kv', '--kv-fanout', '0']), /--kv-fanout must be an integer in \[1, 64\]/);
  assert.equal(options('--kv-every', '2s').kvEveryMs, 2000);
});
