import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, VirtualClock } from '../../../src/clock/index.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { MemoryPacketNetwork, gateStreams } from '../../../src/transport/memory-packet.ts';
import { MeshError } from '../../../src/errors/index.ts';

function net(opts: { latencyMs?: number; jitterMs?: number; loss?: number; seed?: number } = {}) {
  const clock = new VirtualClock();
  const n = new MemoryPacketNetwork({ clock, random: new SeededRandom(opts.seed ?? 1), ...opts });
  return { clock, n };
}

test('latency is exact without jitter, and within [latency, latency + jitter) with it', () => {
  const { clock, n } = net({ latencyMs: 10 });
  const a = n.bindSync('a:1');
  const b = n.bindSync('b:1');
  const at: number[] = [];
  b.onPacket(() => at.push(clock.now()));
  a.send('b:1', new Uint8Array([1]));
  clock.advance(9);
  assert.deepEqual(at, []);
  clock.advance(1);
  assert.deepEqual(at, [10]);
  n.setDefaults({ jitterMs: 5 });
  const start = clock.now();
  for (let i = 0; i < 200; i++) a.send('b:1', new Uint8Array([1]));
  clock.advance(100);
  assert.equal(at.length, 201);
  for (const t of at.slice(1)) assert.ok(t - start >= 10 && t - start < 15, `${t - start}`);
});

test('loss drops about the configured fraction, counted, deterministically by seed', () => {
  const run = (seed: number) => {
    const { clock, n } = net({ loss: 0.1, seed });
    const a = n.bindSync('a:1');
    const b = n.bindSync('b:1');
    const got: number[] = [];
    b.onPacket((_from, p) => got.push(p[0]! | (p[1]! << 8)));
    for (let i = 0; i < 10_000; i++) a.send('b:1', new Uint8Array([i & 0xff, i >> 8]));
    clock.advance(1);
    return { got, stats: n.stats() };
  };
  const r = run(7);
  assert.ok(r.stats.droppedLoss > 850 && r.stats.droppedLoss < 1150, String(r.stats.droppedLoss));
  assert.equal(r.stats.delivered + r.stats.droppedLoss, 10_000);
  assert.deepEqual(run(7).got, r.got, 'same seed, same packets lost');
  assert.notDeepEqual(run(8).got, r.got);
});

test('partitions drop traffic between groups both ways until healed', () => {
  const { clock, n } = net();
  const eps = ['a', 'b', 'c'].map((h) => n.bindSync(`${h}:1`));
  const got = new Map<string, string[]>();
  for (const ep of eps) ep.onPacket((from) => got.set(ep.address, [...(got.get(ep.address) ?? []), from]));
  n.partition([['a', 'b'], ['c']]);
  assert.equal(n.canReach('a', 'c'), false);
  assert.equal(n.canReach('a', 'b'), true);
  eps[0]!.send('c:1', new Uint8Array([1]));
  eps[2]!.send('a:1', new Uint8Array([1]));
  eps[0]!.send('b:1', new Uint8Array([1]));
  clock.advance(1);
  assert.deepEqual([...got.keys()], ['b:1']);
  assert.equal(n.stats().droppedPartition, 2);
  n.heal();
  eps[2]!.send('a:1', new Uint8Array([1]));
  clock.advance(1);
  assert.deepEqual(got.get('a:1'), ['c:1']);
});

test('a down host sends and receives nothing, including packets already in flight', () => {
  const { clock, n } = net({ latencyMs: 5 });
  const a = n.bindSync('a:1');
  const b = n.bindSync('b:1');
  let got = 0;
  b.onPacket(() => got++);
  a.send('b:1', new Uint8Array([1]));
  n.setHostDown('b', true);
  clock.advance(10);
  a.send('b:1', new Uint8Array([1]));
  b.send('a:1', new Uint8Array([1]));
  clock.advance(10);
  assert.equal(got, 0);
  assert.equal(n.stats().droppedHostDown, 3);
  n.setHostDown('b', false);
  a.send('b:1', new Uint8Array([1]));
  clock.advance(10);
  assert.equal(got, 1);
});

test('per-link overrides apply to one direction only', () => {
  const { clock, n } = net({ latencyMs: 1 });
  const a = n.bindSync('a:1');
  const b = n.bindSync('b:1');
  n.setLink('a', 'b', { latencyMs: 50, loss: 0 });
  const at: string[] = [];
  a.onPacket(() => at.push(`a@${clock.now()}`));
  b.onPacket(() => at.push(`b@${clock.now()}`));
  a.send('b:1', new Uint8Array([1]));
  b.send('a:1', new Uint8Array([1]));
  clock.advance(100);
  assert.deepEqual(at, ['a@1', 'b@50']);
  n.clearLinks();
});

test('per-endpoint counters measure what each node sent and received', () => {
  const { clock, n } = net();
  const a = n.bindSync('a:1');
  const b = n.bindSync('b:1');
  b.onPacket(() => {});
  a.send('b:1', new Uint8Array(100));
  a.send('b:1', new Uint8Array(2000)); // oversized: not sent
  clock.advance(1);
  assert.deepEqual([a.sent, a.bytesSent, b.received, b.bytesReceived], [1, 100, 1, 100]);
  assert.equal(n.stats().droppedOversized, 1);
});

test('gateStreams: dials to a partitioned or down host time out on the clock; others pass through', async () => {
  const clock = new VirtualClock();
  const packets = new MemoryPacketNetwork({ clock, random: new SeededRandom(1) });
  const streams = new MemoryNetwork({ clock });
  const fromA = gateStreams(streams.transport(), packets, 'a');
  const l = await streams.transport().listen('b:9', (s) => s.destroy());
  const ok = await fromA.dial('b:9');
  ok.destroy();
  await assert.rejects(fromA.dial('b:10'), (e: unknown) => e instanceof MeshError && e.code === 'CONNECTION_REFUSED');
  packets.setHostDown('b', true);
  const box: { settled?: unknown } = {};
  const p = fromA.dial('b:9', { timeoutMs: 300 }).catch((e: unknown) => (box.settled = e));
  const settled = (): unknown => box.settled;
  await new Promise((r) => setImmediate(r));
  clock.advance(299);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled(), undefined, 'still waiting: a down host answers nothing');
  clock.advance(1);
  await p;
  const err = settled();
  assert.ok(err instanceof MeshError && err.code === 'TIMEOUT');
  packets.setHostDown('b', false);
  packets.partition([['a'], ['b']]);
  const aborted = fromA.dial('b:9', { signal: AbortSignal.abort() });
  await assert.rejects(aborted, (e: unknown) => e instanceof MeshError && e.code === 'CANCELLED');
  await l.close();
});
