import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import type { RegistryEvent, Watcher } from '../../../src/registry/types.ts';
import { registryCompliance, node, svc } from '../../compliance/registry.ts';

registryCompliance('memory', {
  setup: async () => ({ registry: new MemoryRegistry(), teardown: async () => {} }),
});

/** Everything the watcher has buffered, without waiting. */
async function drain(w: Watcher, n: number): Promise<RegistryEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: RegistryEvent[] = [];
  for (let i = 0; i < n; i++) out.push((await it.next()).value as RegistryEvent);
  return out;
}

test('memory registry: ttlMs expires nodes on the injected clock unless re-registered', async () => {
  const clock = new VirtualClock();
  const r = new MemoryRegistry({ clock });
  const w = r.watch({ service: 's' });
  await r.register(svc('s', '1', [node('a'), node('b')]), { ttlMs: 1000 });
  await r.register(svc('s', '1', [node('c')])); // no TTL: permanent
  clock.advance(600);
  await r.register(svc('s', '1', [node('a')]), { ttlMs: 1000 }); // refresh a only
  clock.advance(500); // b expires at 1000
  assert.deepEqual((await r.getService('s'))[0]!.nodes.map((n) => n.id), ['a', 'c']);
  clock.advance(600); // a expires at 1600
  assert.deepEqual((await r.getService('s'))[0]!.nodes.map((n) => n.id), ['c']);
  await r.deregister(svc('s', '1', [node('c')]));
  assert.deepEqual(await r.getService('s'), []);
  const events = await drain(w, 5);
  assert.deepEqual(events.map((e) => `${e.type}:${e.service.nodes.map((n) => n.id).join('')}`), ['add:ab', 'update:abc', 'update:ac', 'update:c', 'remove:c']);
  assert.equal(clock.pending(), 0);
  w.stop();
});

test('memory registry: re-registering without ttlMs makes a node permanent; expiry after deregister is harmless', async () => {
  const clock = new VirtualClock();
  const r = new MemoryRegistry({ clock });
  await r.register(svc('s', '1', [node('a')]), { ttlMs: 100 });
  await r.register(svc('s', '1', [node('a')]));
  clock.advance(1000);
  assert.equal((await r.getService('s')).length, 1);
  await r.register(svc('t', '1', [node('x')]), { ttlMs: 100 });
  await r.deregister(svc('t', '1', [node('x')]));
  await r.register(svc('t', '1', [node('x')]));
  clock.advance(1000);
  assert.equal((await r.getService('t')).length, 1, 'the old timer must not remove the new registration');
});

test('memory registry: an identical re-registration (a TTL refresh) emits no event', async () => {
  const r = new MemoryRegistry();
  const w = r.watch();
  await r.register(svc('s', '1', [node('a')]), { ttlMs: 60_000 });
  await r.register(svc('s', '1', [node('a')]), { ttlMs: 60_000 });
  await r.register(svc('s', '1', [node('a')], { metadata: { x: '1' } }));
  const events = await drain(w, 2);
  assert.deepEqual(events.map((e) => e.type), ['add', 'update']);
  assert.equal(events[1]!.service.metadata.x, '1');
  w.stop();
});

test('memory registry: registering no nodes into an unknown record creates nothing', async () => {
  const r = new MemoryRegistry();
  await r.register(svc('s', '1', []));
  assert.deepEqual(await r.listServices(), []);
});

test('memory registry: invalid input is rejected with INVALID_ARGUMENT naming the field', async () => {
  const r = new MemoryRegistry();
  await assert.rejects(r.register(svc('', '1', [node('a')])), { code: 'INVALID_ARGUMENT', message: /service.name/ });
  await assert.rejects(r.register(svc('s', '1', [{ id: '', address: 'x:1', metadata: {} }])), { code: 'INVALID_ARGUMENT', message: /non-empty id/ });
  await assert.rejects(r.register(svc('s', '1', [node('a', 'x:1', { n: 1 as unknown as string })])), { code: 'INVALID_ARGUMENT', message: /metadata.n must be a string/ });
  await assert.rejects(r.register(svc('s', '1', [node('a')]), { ttlMs: -5 }), { code: 'INVALID_ARGUMENT', message: /ttlMs/ });
});

test('memory registry: each watcher gets its own copy of an event', async () => {
  const r = new MemoryRegistry();
  const w1 = r.watch();
  const w2 = r.watch();
  await r.register(svc('s', '1', [node('a')]));
  const [e1] = await drain(w1, 1);
  e1!.service.nodes.length = 0;
  const [e2] = await drain(w2, 1);
  assert.equal(e2!.service.nodes.length, 1);
  w1.stop();
  w2.stop();
});
