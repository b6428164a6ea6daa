import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createService, silentLogger, MemoryRegistry, MemoryBroker, MeshError, type HandlerMiddleware, type Service,
} from '../../../src/index.ts';

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('start registers, stop deregisters; both idempotent; hooks run in order; restart works', async () => {
  const registry = new MemoryRegistry();
  const order: string[] = [];
  const svc = createService({
    name: 'greeter', version: '1.2.0', metadata: { team: 'core' }, registry, logger: silentLogger,
    beforeStart: [() => { order.push('beforeStart'); }], afterStart: [async () => { order.push('afterStart'); }],
    beforeStop: [() => { order.push('beforeStop'); }], afterStop: [() => { order.push('afterStop'); }],
  }).handle('Greeter', { Hello: (r: { name: string }) => ({ msg: `Hello ${r.name}` }), async *Count() { yield 1; } });
  await Promise.all([svc.start(), svc.start()]);
  await svc.start();
  const [record] = await registry.getService('greeter');
  assert.equal(record!.version, '1.2.0');
  assert.deepEqual(record!.metadata, { team: 'core' });
  assert.deepEqual(record!.nodes.map((n) => [n.id, n.address]), [[svc.id, svc.address]]);
  const endpoints = Object.fromEntries(record!.endpoints.map((e) => [e.name, e.metadata]));
  assert.deepEqual(endpoints['Greeter.Count'], { stream: 'true' });
  assert.ok('Greeter.Hello' in endpoints && 'Debug.Health' in endpoints);
  await Promise.all([svc.stop(), svc.stop()]);
  await svc.stop();
  assert.deepEqual(await registry.getService('greeter'), []);
  assert.deepEqual(order, ['beforeStart', 'afterStart', 'beforeStop', 'afterStop']);
  await svc.start();
  const caller = createService({ name: 'caller', registry, logger: silentLogger });
  assert.deepEqual(await caller.client.call('greeter', 'Greeter.Hello', { name: 'again' }), { msg: 'Hello again' });
  assert.deepEqual(await caller.client.call('greeter', 'Debug.Health', {}), { status: 'ok' });
  assert.deepEqual(await svc.client.call('greeter', 'Greeter.Hello', { name: 'self' }), { msg: 'Hello self' }, 'a restarted service calls out');
  await caller.stop();
  await svc.stop();
});

test('two services find each other through a shared registry, calls round-robin across replicas', async () => {
  const registry = new MemoryRegistry();
  const replicas: Service[] = [];
  for (let i = 0; i < 3; i++) {
    const s = createService({ name: 'echo', registry, logger: silentLogger }).handle('Echo', { Who: () => i });
    await s.start();
    replicas.push(s);
  }
  const caller = createService({ name: 'caller', registry, logger: silentLogger });
  const seen = new Set<number>();
  for (let k = 0; k < 30; k++) seen.add(await caller.client.call<number>('echo', 'Echo.Who', {}, { select: { strategy: 'roundRobin' } }));
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
  await assert.rejects(caller.client.call('nobody', 'X.Y', {}), (e: unknown) => e instanceof MeshError && e.code === 'SERVICE_NOT_FOUND');
  await caller.stop();
  for (const s of replicas) await s.stop();
});

test('publish and subscribe through the service broker: broadcast, queue groups, metadata and content type', async () => {
  const broker = new MemoryBroker();
  const registry = new MemoryRegistry();
  const got: { who: string; msg: unknown; meta: Record<string, string> }[] = [];
  const mk = (who: string, queue?: string) =>
    createService({ name: `sub-${who}`, broker, registry, logger: silentLogger })
      .subscribe('orders.created', (msg, ctx) => { got.push({ who, msg, meta: { ...ctx.metadata } }); }, { queue });
  const subs = [mk('a'), mk('b'), mk('w1', 'workers'), mk('w2', 'workers')];
  for (const s of subs) await s.start();
  const pub = createService({ name: 'pub', broker, registry, logger: silentLogger });
  await pub.start();
  for (let i = 0; i < 10; i++) await pub.client.publish('orders.created', { id: i }, { metadata: { source: 'test' } });
  await pub.client.publish('orders.created', { id: 'json' }, { contentType: 'application/json' });
  await until(() => got.length === 33, 'deliveries');
  const by = (w: string) => got.filter((g) => g.who === w).length;
  assert.equal(by('a'), 11);
  assert.equal(by('b'), 11);
  assert.equal(by('w1') + by('w2'), 11, 'each message once per queue group');
  assert.equal(got[0]!.meta.source, 'test');
  assert.ok(got.some((g) => (g.msg as { id: unknown }).id === 'json'));
  for (const s of [...subs, pub]) await s.stop();
});

test('handler middleware wraps every endpoint; run() stops on abort', async () => {
  const seen: string[] = [];
  const mw: HandlerMiddleware = (next, info) => (req, ctx) => {
    seen.push(info.endpoint);
    return next(req, ctx);
  };
  const registry = new MemoryRegistry();
  const svc = createService({ name: 'mw', registry, logger: silentLogger, handlerMiddleware: [mw] }).handle('A', { B: () => 'ok' });
  const ac = new AbortController();
  const running = svc.run({ signal: ac.signal });
  await until(() => svc.address !== undefined, 'start');
  const caller = createService({ name: 'c', registry, logger: silentLogger });
  assert.equal(await caller.client.call('mw', 'A.B', {}), 'ok');
  assert.deepEqual(seen, ['A.B']);
  ac.abort();
  await running;
  assert.deepEqual(await registry.getService('mw'), []);
  await caller.stop();
});

test('invalid names and options fail fast with INVALID_CONFIG naming the field', () => {
  assert.throws(() => createService({ name: 'bad name!' }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /service\.name/.test(e.detail));
  assert.throws(() => createService({ name: 'x', rpc: { maxFrameBytes: 10 } }), (e: unknown) =>
    e instanceof MeshError && e.code === 'INVALID_CONFIG' && /rpc\.maxFrameBytes must be an integer in \[1024, 268435456\], got 10/.test(e.detail));
});
