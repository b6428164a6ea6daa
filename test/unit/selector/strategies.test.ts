import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/seeded.ts';
import { leastLatency, leastLatencyScore, random, roundRobin, strategyByName } from '../../../src/selector/strategies.ts';
import type { NodeStats, StrategyContext } from '../../../src/selector/types.ts';
import type { Node } from '../../../src/registry/types.ts';
import { fixture, node, three } from './fixture.ts';

const nodes: Node[] = ['a', 'b', 'c'].map((id) => node(id));
const blank = (): NodeStats => ({ inflight: 0, ewmaLatencyMs: 0, failures: 0, ejectedUntil: 0 });

function ctxWith(seed: number, stats: Record<string, Partial<NodeStats>> = {}): StrategyContext {
  return { random: new SeededRandom(seed), stats: (n) => ({ ...blank(), ...stats[n.id] }) };
}

function counts(pick: () => Node, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const id = pick().id;
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

test('random is roughly uniform', () => {
  const ctx = ctxWith(42);
  const c = counts(() => random(nodes, ctx), 30_000);
  for (const id of ['a', 'b', 'c']) assert.ok(Math.abs(c[id]! - 10_000) < 500, `${id}: ${c[id]}`);
  assert.equal(random([nodes[1]!], ctx).id, 'b');
});

test('roundRobin rotates exactly from a random start', () => {
  for (const seed of [1, 2, 3, 4]) {
    const rr = roundRobin();
    const ctx = ctxWith(seed);
    const seq = Array.from({ length: 9 }, () => rr(nodes, ctx).id);
    const start = nodes.findIndex((n) => n.id === seq[0]);
    assert.deepEqual(seq, Array.from({ length: 9 }, (_, i) => nodes[(start + i) % 3]!.id));
  }
  // A shrinking list keeps the cursor in range.
  const rr = roundRobin();
  const ctx = ctxWith(9);
  for (let i = 0; i < 5; i++) rr(nodes, ctx);
  assert.ok(['a', 'b'].includes(rr(nodes.slice(0, 2), ctx).id));
});

test('roundRobin through the selector rotates across selects, per service', async () => {
  const f = await fixture([...three('one'), ...three('two')], { strategy: 'roundRobin' });
  const picks = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < 6; i++) {
      const n = (await f.selector.select(name))();
      f.selector.mark(name, n);
      out.push(n.id);
    }
    return out;
  };
  for (const name of ['one', 'two', 'one']) {
    const seq = await picks(name);
    assert.deepEqual(seq.slice(3), seq.slice(0, 3), `${name}: ${seq}`);
    assert.equal(new Set(seq.slice(0, 3)).size, 3, `${name}: ${seq}`);
  }
});

test('leastLatencyScore = (inflight + 1) * max(ewma, floor)', () => {
  const table: Array<[Partial<NodeStats>, number, number]> = [
    [{}, 1, 1],
    [{ ewmaLatencyMs: 10 }, 1, 10],
    [{ ewmaLatencyMs: 10, inflight: 2 }, 1, 30],
    [{ ewmaLatencyMs: 0.2, inflight: 1 }, 1, 2],
    [{ ewmaLatencyMs: 0.2 }, 0.1, 0.2],
  ];
  for (const [s, floor, want] of table) assert.equal(leastLatencyScore({ ...blank(), ...s }, floor), want);
});

test('leastLatency: power of two choices prefers the faster and the less loaded node', () => {
  // Two nodes: both are always drawn, so the better one always wins.
  const two = nodes.slice(0, 2);
  const fastSlow = ctxWith(5, { a: { ewmaLatencyMs: 50 }, b: { ewmaLatencyMs: 5 } });
  assert.deepEqual(counts(() => leastLatency()(two, fastSlow), 200), { b: 200 });
  const loaded = ctxWith(5, { a: { ewmaLatencyMs: 5, inflight: 4 }, b: { ewmaLatencyMs: 5 } });
  assert.deepEqual(counts(() => leastLatency()(two, loaded), 200), { b: 200 });
  // Three nodes: the slowest never wins a pair; the fastest wins every pair it is in (2/3 of draws).
  const ctx = ctxWith(11, { a: { ewmaLatencyMs: 1 }, b: { ewmaLatencyMs: 10 }, c: { ewmaLatencyMs: 100 } });
  const c = counts(() => leastLatency()(nodes, ctx), 30_000);
  assert.equal(c.c, undefined);
  assert.ok(Math.abs(c.a! - 20_000) < 600, `a: ${c.a}`);
  // An unmeasured node scores the floor, so it gets tried.
  const fresh = ctxWith(3, { a: { ewmaLatencyMs: 20 } });
  assert.deepEqual(counts(() => leastLatency({ latencyFloorMs: 1 })(two, fresh), 50), { b: 50 });
});

test('leastLatency through the selector sends most calls to the fast node', async () => {
  const f = await fixture(three(), { strategy: 'leastLatency' });
  const latency: Record<string, number> = { a: 2, b: 20, c: 40 };
  const c: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 3000; i++) {
    const n = (await f.selector.select('greeter'))();
    c[n.id]!++;
    f.selector.mark('greeter', n, { latencyMs: latency[n.id]! });
  }
  assert.ok(c.a! > 1800 && c.a! > c.b! && c.b! > c.c!, JSON.stringify(c));
});

test('strategyByName builds each strategy and rejects unknown names', () => {
  assert.equal(strategyByName('random'), random);
  assert.notEqual(strategyByName('roundRobin'), strategyByName('roundRobin'));
  assert.equal(typeof strategyByName('leastLatency'), 'function');
  assert.throws(() => strategyByName('fastest' as 'random'), { code: 'INVALID_ARGUMENT' });
});
