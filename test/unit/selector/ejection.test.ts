import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError, badRequest, notFound, internal } from '../../../src/errors/index.ts';
import { SeededRandom } from '../../../src/clock/seeded.ts';
import { ejectionBackoffMs, isNodeError } from '../../../src/selector/config.ts';
import type { Node } from '../../../src/registry/types.ts';
import { fixture, node, svc, three, type Fixture } from './fixture.ts';

const refused = (): MeshError => new MeshError('CONNECTION_REFUSED', 'nothing listens');

/** Picks through fresh selects until `id` comes up (or fails), so a test can fail a specific node. */
async function pickUntil(f: Fixture, id: string, service = 'greeter'): Promise<Node> {
  for (let i = 0; i < 200; i++) {
    const n = (await f.selector.select(service))();
    if (n.id === id) return n;
    f.selector.mark(service, n);
  }
  assert.fail(`node ${id} was never picked`);
}

async function picked(f: Fixture, times = 60, service = 'greeter'): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < times; i++) {
    const n = (await f.selector.select(service))();
    f.selector.mark(service, n);
    out.add(n.id);
  }
  return out;
}

const ejectedFor = (f: Fixture, id: string): number => f.selector.nodeStats('greeter').get(id)!.ejectedUntil - f.clock.now();

test('a node-level error ejects at the threshold; the backoff doubles per ejection up to the cap', async () => {
  const f = await fixture(three(), { ejectJitter: 0, ejectBaseMs: 1000, ejectMaxMs: 5000 });
  const lengths: number[] = [];
  for (let round = 0; round < 5; round++) {
    const a = await pickUntil(f, 'a'); // eligible (again: half-open after the previous backoff)
    f.selector.mark('greeter', a, { error: refused() }); // and failing again, with no success in between
    lengths.push(ejectedFor(f, 'a'));
    assert.ok(!(await picked(f)).has('a'), 'an ejected node was picked');
    f.clock.advance(lengths.at(-1)! - 1);
    assert.ok(!(await picked(f)).has('a'), 'picked before its backoff ended');
    f.clock.advance(1);
  }
  assert.deepEqual(lengths, [1000, 2000, 4000, 5000, 5000]);
});

test('half-open: a success clears the record, so the next ejection is short again', async () => {
  const f = await fixture(three(), { ejectJitter: 0 });
  for (let i = 0; i < 3; i++) {
    f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
    f.clock.advance(ejectedFor(f, 'a'));
  }
  f.selector.mark('greeter', await pickUntil(f, 'a'), { latencyMs: 1 });
  assert.equal(f.selector.nodeStats('greeter').get('a')!.failures, 0);
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
  assert.equal(ejectedFor(f, 'a'), 1000);
});

test('failureThreshold counts consecutive node-level failures; a success in between resets them', async () => {
  const f = await fixture(three(), { failureThreshold: 3, ejectJitter: 0 });
  const fail = async (): Promise<void> => f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
  await fail();
  await fail();
  f.selector.mark('greeter', await pickUntil(f, 'a'));
  await fail();
  await fail();
  assert.equal(f.selector.nodeStats('greeter').get('a')!.ejectedUntil, 0);
  await fail();
  assert.equal(ejectedFor(f, 'a'), 1000);
  f.clock.advance(1000);
  await fail(); // half-open: one failure re-ejects, no new threshold
  assert.equal(ejectedFor(f, 'a'), 2000);
});

test('only node-level codes eject; application errors, messages and cancellations never do', async () => {
  for (const code of ['CONNECTION_REFUSED', 'CONNECTION_LOST', 'UNAVAILABLE', 'TIMEOUT', 'SERVER_STOPPING', 'PROTOCOL_ERROR']) {
    assert.ok(isNodeError(new MeshError(code, 'x')), code);
    assert.ok(isNodeError(Object.assign(new Error('plain'), { code })), `plain ${code}`);
  }
  const harmless: unknown[] = [
    badRequest('bad'), notFound('nope'), internal('handler blew up'), new Error('TIMEOUT while CONNECTION_REFUSED'),
    { code: 'ECONNREFUSED' }, 'TIMEOUT', new MeshError('CANCELLED', 'caller gave up'),
  ];
  const f = await fixture(three());
  for (const error of harmless) {
    assert.ok(!isNodeError(error));
    f.selector.mark('greeter', await pickUntil(f, 'a'), { error });
  }
  const s = f.selector.nodeStats('greeter').get('a')!;
  assert.equal(s.ejectedUntil, 0);
  assert.equal(s.failures, 0);
});

test('an application error counts as an answer: it resets failures and records latency; a cancellation records nothing', async () => {
  const f = await fixture(three(), { failureThreshold: 2 });
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: badRequest('no'), latencyMs: 7 });
  let s = f.selector.nodeStats('greeter').get('a')!;
  assert.equal(s.failures, 0);
  assert.equal(s.ewmaLatencyMs, 7);
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: new MeshError('CANCELLED', 'x'), latencyMs: 1000 });
  s = f.selector.nodeStats('greeter').get('a')!;
  assert.equal(s.failures, 1);
  assert.equal(s.ewmaLatencyMs, 7);
});

test('failures of calls in flight while the node is ejected do not lengthen the ejection', async () => {
  const f = await fixture([svc('greeter', '1', [node('a'), node('b')])], { ejectJitter: 0 });
  const inflight: Node[] = [];
  for (let i = 0; i < 10; i++) inflight.push(await pickUntil(f, 'a'));
  for (const n of inflight) f.selector.mark('greeter', n, { error: refused() });
  assert.equal(ejectedFor(f, 'a'), 1000);
  assert.equal(f.selector.nodeStats('greeter').get('a')!.inflight, 0);
});

test('a success while ejected clears the ejection at once', async () => {
  const f = await fixture(three());
  const calls = [await pickUntil(f, 'a'), await pickUntil(f, 'a')];
  f.selector.mark('greeter', calls[0]!, { error: refused() });
  assert.ok(!(await picked(f)).has('a'));
  f.selector.mark('greeter', calls[1]!, { latencyMs: 3 });
  assert.ok((await picked(f)).has('a'));
});

test('jitter adds up to ejectJitter of the capped backoff, drawn from the injected Random', () => {
  const cfg = { ejectBaseMs: 1000, ejectMaxMs: 30_000, ejectJitter: 0 };
  assert.deepEqual([1, 2, 3, 5, 6, 7, 100].map((k) => ejectionBackoffMs(k, cfg, new SeededRandom(1))), [1000, 2000, 4000, 16_000, 30_000, 30_000, 30_000]);
  const jittered = { ...cfg, ejectJitter: 0.5 };
  const draws = Array.from({ length: 200 }, (_, i) => ejectionBackoffMs(6, jittered, new SeededRandom(i)));
  assert.ok(draws.every((d) => d >= 30_000 && d < 45_000), 'outside [cap, cap * 1.5)');
  assert.ok(new Set(draws).size > 150, 'jitter does not vary');
  assert.equal(ejectionBackoffMs(3, jittered, new SeededRandom(7)), ejectionBackoffMs(3, jittered, new SeededRandom(7)));
});

test('jittered ejections through the selector fall within [backoff, backoff * (1 + jitter))', async () => {
  const f = await fixture(three(), { ejectJitter: 0.2 });
  for (const id of ['a', 'b']) f.selector.mark('greeter', await pickUntil(f, id), { error: refused() });
  const [a, b] = [ejectedFor(f, 'a'), ejectedFor(f, 'b')];
  for (const d of [a, b]) assert.ok(d >= 1000 && d < 1200, String(d));
  assert.notEqual(a, b);
});

test('when every node is ejected, next() still returns the one back soonest', async () => {
  const f = await fixture(three(), { ejectJitter: 0 });
  // Eject c, then b, then a: c twice, so it is out longest.
  f.selector.mark('greeter', await pickUntil(f, 'c'), { error: refused() });
  f.clock.advance(1000);
  f.selector.mark('greeter', await pickUntil(f, 'c'), { error: refused() }); // c: until 3000
  f.clock.advance(100);
  f.selector.mark('greeter', await pickUntil(f, 'b'), { error: refused() }); // b: until 2100
  f.clock.advance(100);
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() }); // a: until 2200
  const next = await f.selector.select('greeter');
  assert.equal(next().id, 'b');
  assert.equal(next().id, 'a', 'a retry avoids the node it just returned');
  f.clock.advance(2100 - f.clock.now());
  assert.deepEqual([...(await picked(f, 20))], ['b'], 'b is back (half-open); the others are still out');
});

test('stats of nodes gone from the registry are dropped', async () => {
  const f = await fixture(three());
  await picked(f, 100);
  assert.deepEqual([...f.selector.nodeStats('greeter').keys()].sort(), ['a', 'b', 'c']);
  await f.memory.deregister(svc('greeter', '1.0.0', [node('b')]));
  await picked(f, 10);
  assert.deepEqual([...f.selector.nodeStats('greeter').keys()].sort(), ['a', 'c']);
  for (let i = 0; i < 50; i++) {
    await f.memory.register(svc('greeter', '1.0.0', [node(`tmp${i}`)]));
    await picked(f, 3);
    await f.memory.deregister(svc('greeter', '1.0.0', [node(`tmp${i}`)]));
  }
  await picked(f, 3);
  assert.ok(f.selector.nodeStats('greeter').size <= 3, `${f.selector.nodeStats('greeter').size} stats kept`);
});

test('reset clears stats and ejections, for one service or all', async () => {
  const f = await fixture([...three('greeter'), ...three('other')], { ejectJitter: 0 });
  f.selector.mark('greeter', await pickUntil(f, 'a'), { error: refused() });
  f.selector.mark('other', await pickUntil(f, 'a', 'other'), { error: refused() });
  f.selector.reset('greeter');
  assert.equal(f.selector.nodeStats('greeter').size, 0);
  assert.ok((await picked(f)).has('a'));
  assert.ok(!(await picked(f, 60, 'other')).has('a'));
  f.selector.reset();
  assert.ok((await picked(f, 60, 'other')).has('a'));
  f.selector.reset('never-selected');
});
