import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistry, VirtualClock, silentLogger, type Member, type MemberState, type SwimEvent } from 'micromesh';
import type { LiveBatch } from '../../../src/web/model.ts';
import { MeshModel } from '../../../src/web/model.ts';
import type { MeshSource } from '../../../src/web/source.ts';

/** A SWIM view driven by the test. */
function fakeSource(clock: VirtualClock) {
  const members = new Map<string, Member>();
  const listeners = new Set<(e: SwimEvent) => void>();
  const source: MeshSource = {
    localId: 'a',
    registry: new MemoryRegistry({ clock }),
    members: () => [...members.values()],
    onEvent: (l) => { listeners.add(l); return () => listeners.delete(l); },
    records: () => [],
    record: () => undefined,
  };
  const set = (id: string, state: MemberState, incarnation: number, type?: SwimEvent['type']): void => {
    const m = { id, address: `10.0.0.1:${id.charCodeAt(0)}`, state, incarnation, metadata: new Uint8Array(), metaVersion: 0, stateChangedAtMs: clock.now() } as unknown as Member;
    members.set(id, m);
    if (type !== undefined) for (const l of listeners) l({ type, member: m, atMs: clock.now() } as SwimEvent);
  };
  return { source, set, members, listeners };
}

test('member rows follow SWIM events; the log names refutations and recoveries; changes go out in batches', () => {
  const clock = new VirtualClock();
  const f = fakeSource(clock);
  f.set('a', 'alive', 1);
  const model = new MeshModel({ source: f.source, clock, logger: silentLogger, flushMs: 100, reconcileMs: 10_000 });
  model.start();
  const batches: LiveBatch[] = [];
  model.subscribe((b) => batches.push(b));
  assert.deepEqual(model.snapshot().members.map((m) => [m.id, m.state, m.local]), [['a', 'alive', true]]);

  f.set('b', 'alive', 1, 'join');
  f.set('b', 'suspect', 1, 'suspect');
  f.set('b', 'alive', 2, 'alive');
  clock.advance(50);
  assert.equal(batches.length, 0, 'not before the batch interval');
  clock.advance(60);
  assert.equal(batches.length, 1, 'three changes, one batch');
  assert.deepEqual(batches[0]!.members!.map((m) => [m.id, m.state, m.incarnation]), [['b', 'alive', 2]]);
  assert.deepEqual(batches[0]!.events!.map((e) => e.type), ['join', 'suspect', 'refuted']);

  f.set('b', 'dead', 2, 'dead');
  f.set('b', 'alive', 3, 'alive');
  f.set('c', 'alive', 1, 'join');
  f.set('c', 'alive', 1, 'update');
  clock.advance(100);
  assert.deepEqual(batches[1]!.events!.map((e) => [e.type, e.member]), [['dead', 'b'], ['recovered', 'b'], ['join', 'c']], 'updates change rows, not the log');
  assert.deepEqual(model.snapshot().events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  model.stop();
});

test('a member SWIM reaped is removed at the next reconcile; the log keeps its last lines only', () => {
  const clock = new VirtualClock();
  const f = fakeSource(clock);
  const model = new MeshModel({ source: f.source, clock, logger: silentLogger, flushMs: 100, reconcileMs: 1000, logSize: 3 });
  model.start();
  const batches: LiveBatch[] = [];
  model.subscribe((b) => batches.push(b));
  for (let i = 0; i < 5; i++) f.set('b', i % 2 === 0 ? 'suspect' : 'alive', i + 1, i % 2 === 0 ? 'suspect' : 'alive');
  clock.advance(100);
  assert.equal(model.snapshot().events.length, 3);
  f.members.delete('b');
  clock.advance(1000);
  clock.advance(100);
  assert.deepEqual(batches.at(-1)!.removed, ['b']);
  assert.deepEqual(model.snapshot().members, []);
  model.stop();
  assert.equal(f.listeners.size, 0, 'stop() unsubscribes from SWIM');
});

test('a registry change is announced as a new services version', async () => {
  const clock = new VirtualClock();
  const f = fakeSource(clock);
  const model = new MeshModel({ source: f.source, clock, logger: silentLogger, flushMs: 100 });
  model.start();
  const batches: LiveBatch[] = [];
  model.subscribe((b) => batches.push(b));
  await f.source.registry.register({ name: 'x', version: '1', metadata: {}, endpoints: [], nodes: [{ id: 'x1', address: '10.0.0.2:1', metadata: {} }] });
  for (let i = 0; i < 10 && batches.length === 0; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
  }
  assert.equal(batches[0]!.services, 1);
  assert.equal(model.snapshot().servicesVersion, 1);
  model.stop();
});
