// SWIM's suspicions steer the selector: a suspect gets no new calls while another node is healthy, and all of them
// suspected still leaves one to call; the mesh's ReportingSelector feeds it from SWIM's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportingSelector } from '../../../src/mesh/selector.ts';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { MeshError } from '../../../src/errors/index.ts';
import type { SwimEvent, SwimListener, SwimNode } from '../../../src/swim/types.ts';
import { fixture, three } from './fixture.ts';

async function picks(select: () => Promise<() => { id: string }>, n = 200): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await select())().id);
  return seen;
}

test('suspected nodes get no new calls while others are healthy; all suspected still leaves one; alive again restores it', async () => {
  const f = await fixture(three());
  const ids = [...await picks(() => Promise.resolve(f.selector.select('greeter')))].sort();
  assert.equal(ids.length, 3);
  f.selector.suspect(ids[0]!, true);
  assert.deepEqual([...await picks(() => Promise.resolve(f.selector.select('greeter')))].sort(), ids.slice(1));
  assert.equal(f.selector.figures().suspectedNow, 1);
  // A retry avoids the suspect too.
  const next = await f.selector.select('greeter');
  const first = next();
  const second = next();
  assert.notEqual(second.id, first.id);
  assert.notEqual(second.id, ids[0]);
  // Everyone suspected: suspicion only steers, it never leaves a service without a node.
  f.selector.suspect(ids[1]!, true);
  f.selector.suspect(ids[2]!, true);
  assert.equal((await picks(() => Promise.resolve(f.selector.select('greeter')))).size, 3);
  // Back to one suspect, then none.
  f.selector.suspect(ids[1]!, false);
  f.selector.suspect(ids[2]!, false);
  assert.equal((await picks(() => Promise.resolve(f.selector.select('greeter')))).size, 2);
  f.selector.suspect(ids[0]!, false);
  assert.equal((await picks(() => Promise.resolve(f.selector.select('greeter')))).size, 3);
  assert.equal(f.selector.figures().suspectedNow, 0);
});

test('an ejected node stays out even when the only other one is suspected', async () => {
  const f = await fixture(three(), { failureThreshold: 1 });
  const [a, b, c] = [...await picks(() => Promise.resolve(f.selector.select('greeter')))].sort();
  const node = (id: string) => ({ id, address: 'x', metadata: {} });
  f.selector.mark('greeter', node(a!), { error: new MeshError('CONNECTION_REFUSED', 'down') });
  f.selector.mark('greeter', node(a!), { error: new MeshError('CONNECTION_REFUSED', 'down') });
  f.selector.suspect(b!, true);
  assert.deepEqual([...await picks(() => Promise.resolve(f.selector.select('greeter')))], [c]);
  f.selector.suspect(c!, true);
  // b and c both suspected, a ejected: the suspects are eligible, the ejected node is not.
  assert.deepEqual([...await picks(() => Promise.resolve(f.selector.select('greeter')))].sort(), [b, c].sort());
});

test('ReportingSelector passes SWIM\'s suspect and alive events to the selector it wraps', async () => {
  const f = await fixture(three());
  let listener: SwimListener | undefined;
  const swim = { on: (_t: string, l: SwimListener) => { listener = l; return () => {}; } } as unknown as SwimNode;
  const s = new ReportingSelector(f.selector, () => new MemoryMembershipNetwork().join('self'), swim);
  const ids = [...await picks(() => Promise.resolve(s.select('greeter')))].sort();
  const ev = (type: SwimEvent['type'], id: string) => ({ type, member: { id, address: 'x', state: type, incarnation: 1 }, atMs: 0 }) as unknown as SwimEvent;
  listener!(ev('suspect', ids[1]!));
  assert.ok(!(await picks(() => Promise.resolve(s.select('greeter')))).has(ids[1]!));
  listener!(ev('alive', ids[1]!));
  assert.ok((await picks(() => Promise.resolve(s.select('greeter')))).has(ids[1]!));
  listener!(ev('suspect', ids[2]!));
  listener!(ev('dead', ids[2]!));
  assert.equal(f.selector.figures().suspectedNow, 0, 'a dead member is no longer a suspect (the registry drops it)');
});
