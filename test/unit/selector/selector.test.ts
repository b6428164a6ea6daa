import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors/index.ts';
import { silentLogger } from '../../../src/log/silent.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { byMetadata, byVersion } from '../../../src/selector/filters.ts';
import { StaticRegistry } from '../../../src/registry/static.ts';
import type { Filter } from '../../../src/selector/types.ts';
import type { Service } from '../../../src/registry/types.ts';
import { fixture, node, svc, three, tick } from './fixture.ts';

const errorOf = async (p: unknown): Promise<MeshError> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeshError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
};

test('SERVICE_NOT_FOUND when the service has no versions; NONE_AVAILABLE when filters leave nothing', async () => {
  const f = await fixture([svc('greeter', '1.0.0', [node('a')]), svc('greeter', '1.1.0', [node('b'), node('c')])]);
  const missing = await errorOf(f.selector.select('nobody'));
  assert.equal(missing.code, 'SERVICE_NOT_FOUND');
  assert.match(missing.detail, /nobody/);
  const none = await errorOf(f.selector.select('greeter', { filters: [byVersion('2.0.0'), byMetadata('zone', 'eu')] }));
  assert.equal(none.code, 'NONE_AVAILABLE');
  assert.match(none.detail, /greeter/);
  assert.match(none.detail, /byVersion\(2\.0\.0\), byMetadata\(zone=eu\)/);
  assert.match(none.detail, /1\.0\.0 \(1 node\), 1\.1\.0 \(2 nodes\)/);
});

test('the hot path makes no registry call; a registry change is seen by the next select', async () => {
  const f = await fixture(three());
  for (let i = 0; i < 100; i++) f.selector.mark('greeter', (await f.selector.select('greeter'))());
  assert.equal(f.registry.lookups, 1);
  assert.equal(f.registry.watches, 1);
  await f.memory.register(svc('greeter', '1.0.0', [node('d')]));
  // No extra wait: an in-process registry's event reaches the selector before the caller resumes.
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = (await f.selector.select('greeter'))();
    f.selector.mark('greeter', n);
    seen.add(n.id);
  }
  assert.ok(seen.has('d'), 'the new node is never picked: stale cache');
  assert.equal(f.registry.lookups, 2);
  await f.memory.deregister(svc('greeter', '1.0.0', [node('a'), node('b'), node('c'), node('d')]));
  assert.equal((await errorOf(f.selector.select('greeter'))).code, 'SERVICE_NOT_FOUND');
  await f.memory.register(svc('greeter', '2.0.0', [node('e')]));
  assert.equal((await f.selector.select('greeter'))().id, 'e', 'a cached not-found must not outlive the add event');
});

test('a registry change during a lookup is not cached over', async () => {
  const f = await fixture(three());
  const pending = f.selector.select('greeter'); // lookup in flight
  await f.memory.register(svc('greeter', '1.0.0', [node('z')]));
  await pending;
  await tick();
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) ids.add((await f.selector.select('greeter'))().id);
  assert.ok(ids.has('z'));
});

test('concurrent cold selects share one lookup', async () => {
  const f = await fixture(three());
  await Promise.all(Array.from({ length: 10 }, () => f.selector.select('greeter')));
  assert.equal(f.registry.lookups, 1);
});

test('without watch, lookups are reused for cacheTtlMs on the clock (0 disables reuse)', async () => {
  const f = await fixture(three(), { cacheTtlMs: 500 });
  f.registry.watchThrows = true;
  await f.selector.select('greeter');
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 1);
  f.clock.advance(499);
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 1);
  f.clock.advance(1);
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 2);

  const g = await fixture(three(), { cacheTtlMs: 0 });
  g.registry.watchThrows = true;
  for (let i = 0; i < 3; i++) await g.selector.select('greeter');
  assert.equal(g.registry.lookups, 3);
});

test('when the watch ends, the selector falls back to the TTL and watches again at the next lookup', async () => {
  const f = await fixture(three(), { cacheTtlMs: 100 });
  const watchers: Array<{ stop(): void }> = [];
  const inner = f.registry.watch;
  f.registry.watch = (o) => {
    const w = inner(o);
    watchers.push(w);
    return w;
  };
  await f.selector.select('greeter');
  watchers[0]!.stop(); // the registry ends the stream
  await tick();
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 2, 'the entry guarded by the ended watch is dropped');
  assert.equal(watchers.length, 2, 'watched again');
});

test('a failing registry: the last lookup is served while recent enough, the registry retried every cacheTtlMs', async () => {
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
  const f = await fixture(three(), { cacheTtlMs: 100, staleCacheMs: 1000 }, 1, logger);
  f.registry.watchThrows = true;
  await f.selector.select('greeter');
  f.registry.lookupsFail = true;
  f.clock.advance(100); // the lookup expires; the registry is down
  assert.ok(['a', 'b', 'c'].includes((await f.selector.select('greeter'))().id));
  assert.equal(f.registry.lookups, 2);
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 2, 'not asked again within cacheTtlMs');
  f.clock.advance(100);
  await f.selector.select('greeter');
  assert.equal(f.registry.lookups, 3);
  assert.equal(warnings.length, 1, 'warned once per episode');
  f.clock.advance(901); // 1001 ms since the lookup stopped being current (at its expiry)
  assert.equal((await errorOf(f.selector.select('greeter'))).code, 'UNAVAILABLE');
  // The registry is back: its answer replaces the stale one.
  f.registry.lookupsFail = false;
  await f.memory.deregister(three()[0]!);
  await f.memory.register(svc('greeter', '1.0.0', [node('z')]));
  assert.equal((await f.selector.select('greeter'))().id, 'z');
});

test('a failing registry after a watch event serves the previous nodes; staleCacheMs 0 or no previous lookup fails', async () => {
  const f = await fixture(three());
  await f.selector.select('greeter');
  f.registry.lookupsFail = true;
  await f.memory.register(svc('greeter', '2.0.0', [node('y')])); // a watch event invalidates the cached lookup
  await tick();
  assert.ok(['a', 'b', 'c'].includes((await f.selector.select('greeter'))().id));

  const g = await fixture(three(), { staleCacheMs: 0 });
  await g.selector.select('greeter');
  g.registry.lookupsFail = true;
  await g.memory.register(svc('greeter', '2.0.0', [node('y')]));
  await tick();
  assert.equal((await errorOf(g.selector.select('greeter'))).code, 'UNAVAILABLE');

  const h = await fixture(three());
  h.registry.lookupsFail = true;
  assert.equal((await errorOf(h.selector.select('greeter'))).code, 'UNAVAILABLE');
});

test('Next: a retry goes to another node, even under random; all nodes before any repeat', async () => {
  const f = await fixture(three());
  for (let i = 0; i < 50; i++) {
    const next = await f.selector.select('greeter');
    const picks = [next(), next(), next(), next()].map((n) => n.id);
    assert.equal(new Set(picks.slice(0, 3)).size, 3, picks.join());
    assert.notEqual(picks[3], picks[2]);
  }
  const one = await fixture([svc('solo', '1', [node('only')])]);
  const next = await one.selector.select('solo');
  assert.deepEqual([next().id, next().id], ['only', 'only']);
});

test('Next re-reads ejections on every call: a node failed since select is skipped', async () => {
  const f = await fixture(three());
  for (let i = 0; i < 20; i++) {
    const nexts = [await f.selector.select('greeter'), await f.selector.select('greeter')];
    const first = nexts[0]!();
    f.selector.mark('greeter', first, { error: new MeshError('CONNECTION_REFUSED', 'refused') });
    for (let k = 0; k < 5; k++) assert.notEqual(nexts[1]!().id, first.id);
    f.selector.reset();
  }
});

test('in-flight counts run from next() to mark(); unknown nodes are ignored', async () => {
  const f = await fixture([svc('solo', '1', [node('a')])]);
  const next = await f.selector.select('solo');
  const a = next();
  next();
  assert.equal(f.selector.nodeStats('solo').get('a')!.inflight, 2);
  f.selector.mark('solo', a, { latencyMs: 4 });
  f.selector.mark('solo', a, { latencyMs: 8 });
  f.selector.mark('solo', a); // an extra mark does not go negative
  const s = f.selector.nodeStats('solo').get('a')!;
  assert.equal(s.inflight, 0);
  assert.equal(s.ewmaLatencyMs, 4 + 0.3 * (8 - 4));
  f.selector.mark('solo', node('ghost'), { error: new MeshError('TIMEOUT', 't') });
  f.selector.mark('nobody', a);
  assert.deepEqual([...f.selector.nodeStats('solo').keys()], ['a']);
});

test('the same filters array is applied once per registry state', async () => {
  const f = await fixture(three());
  let calls = 0;
  const counting: Filter = (s) => {
    calls++;
    return s;
  };
  const filters = [counting];
  for (let i = 0; i < 10; i++) await f.selector.select('greeter', { filters });
  assert.equal(calls, 1);
  await f.selector.select('greeter', { filters: [counting] }); // a new array: applied again
  assert.equal(calls, 2);
});

test('returned nodes are frozen: callers cannot corrupt the cache', async () => {
  const f = await fixture(three());
  const n = (await f.selector.select('greeter'))();
  assert.throws(() => {
    (n as { address: string }).address = 'evil:1';
  });
  assert.throws(() => {
    n.metadata.x = '1';
  });
});

test('maxServices bounds the services tracked, forgetting the oldest', async () => {
  const services: Service[] = ['s1', 's2', 's3'].flatMap((name) => three(name));
  const f = await fixture(services, { maxServices: 2 });
  for (const name of ['s1', 's2', 's3']) f.selector.mark(name, (await f.selector.select(name))());
  assert.equal(f.selector.nodeStats('s1').size, 0);
  assert.equal(f.selector.nodeStats('s3').size, 1);
  await f.selector.select('s1'); // comes back with a fresh lookup
  assert.equal(f.registry.lookups, 4);
});

test('works over the static registry', async () => {
  const registry = new StaticRegistry({ services: { '*': ['127.0.0.1:7000'] } });
  const selector = new DefaultSelector({ registry });
  assert.equal((await selector.select('anything'))().address, '127.0.0.1:7000');
  selector.close();
});

test('nodes that speak another protocol (an HTTP service the Consul agent registered) are never picked; only those is NONE_AVAILABLE naming it', async () => {
  const registry = new StaticRegistry({ services: {} });
  const mixed: Service[] = [svc('web', '1', [node('h1', { protocol: 'http' }), node('r1', { protocol: 'micromesh-rpc/1' }), node('old')])];
  const onlyHttp: Service[] = [svc('site', '', [node('h2', { protocol: 'http' })])];
  registry.getService = async (name) => (name === 'web' ? mixed : onlyHttp);
  const selector = new DefaultSelector({ registry, logger: silentLogger });
  const next = await selector.select('web');
  const picked = new Set(Array.from({ length: 20 }, () => next().id));
  assert.deepEqual([...picked].sort(), ['old', 'r1'], 'no protocol at all counts as RPC');
  await assert.rejects(async () => (await selector.select('site'))(), (e: unknown) =>
    e instanceof MeshError && e.code === 'NONE_AVAILABLE' && /site has no node that speaks micromesh RPC: its nodes speak http/.test(e.detail));
  selector.close();
});
