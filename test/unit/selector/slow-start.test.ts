// Slow start: a node that appears again, or stops being suspected, gets a share of calls that grows over slowStartMs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, node, svc, three } from './fixture.ts';
import type { Fixture } from './fixture.ts';

async function share(f: Fixture, id: string, calls = 4000): Promise<number> {
  let hits = 0;
  for (let i = 0; i < calls; i++) {
    const n = (await f.selector.select('greeter'))();
    f.selector.mark('greeter', n, { latencyMs: 1 });
    if (n.id === id) hits++;
  }
  return hits / calls;
}

test('a node registered after the first lookup ramps from 10 % of its share to all of it over slowStartMs', async () => {
  const f = await fixture(three(), { slowStartMs: 5000 });
  await share(f, 'a', 10);
  await f.memory.register(svc('greeter', '1.0.0', [node('d')]));
  const fair = 1 / 4;
  const start = await share(f, 'd');
  assert.ok(start > 0 && start < fair * 0.25, `at first d gets about a tenth of its share: ${start}`);
  f.clock.advance(2500);
  const half = await share(f, 'd');
  assert.ok(half > fair * 0.35 && half < fair * 0.7, `halfway about half its share: ${half}`);
  f.clock.advance(2500);
  const full = await share(f, 'd');
  assert.ok(full > fair * 0.85 && full < fair * 1.15, `then all of it: ${full}`);
});

test('the nodes of the first lookup start at full share; slowStartMs 0 turns it off', async () => {
  const f = await fixture(three(), { slowStartMs: 5000 });
  const a = await share(f, 'a');
  assert.ok(a > 0.28 && a < 0.39, `a starts with a third: ${a}`);
  const off = await fixture(three(), { slowStartMs: 0 });
  await share(off, 'a', 10);
  await off.memory.register(svc('greeter', '1.0.0', [node('d')]));
  const d = await share(off, 'd');
  assert.ok(d > 0.2 && d < 0.3, `without slow start d gets its share at once: ${d}`);
});

test('a node no longer suspected warms up again; a suspected one gets nothing', async () => {
  const f = await fixture(three(), { slowStartMs: 5000 });
  f.selector.suspect('b', true);
  assert.equal(await share(f, 'b', 500), 0);
  f.selector.suspect('b', false);
  const back = await share(f, 'b');
  assert.ok(back > 0 && back < 0.1, `b ramps up again: ${back}`);
  f.clock.advance(5000);
  const full = await share(f, 'b');
  assert.ok(full > 0.28 && full < 0.39, `b back to a third: ${full}`);
});
