// Debug.Stats on a real service (TCP on 127.0.0.1, MemoryRegistry, mesh off): counts and codes, not timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createService, silentLogger, MemoryRegistry, MeshError, badRequest, type DebugStats, type HandlerMiddleware,
} from '../../src/index.ts';

test('Debug.Stats counts served calls, errors by code and latency, per endpoint, leaving Debug and $mesh out', async () => {
  const registry = new MemoryRegistry();
  // A user middleware refusing one endpoint: its refusals count too (the stats middleware is outermost).
  const guard: HandlerMiddleware = (next, info) => (info.endpoint === 'Shop.Secret' ? () => { throw new MeshError('UNAUTHORIZED', 'no'); } : next);
  const svc = createService({ name: 'shop', registry, logger: silentLogger, handlerMiddleware: [guard] })
    .handle('Shop', {
      Get: (r: { id: number }) => ({ id: r.id }),
      Slow: async () => { await new Promise((r) => setTimeout(r, 5)); return 'ok'; },
      Bad: (r: { how: string }) => {
        if (r.how === 'typed') throw badRequest('bad id');
        throw new Error('boom');
      },
      Reject: async () => { throw new MeshError('CONFLICT', 'taken'); },
      Secret: () => 'never',
      async *List(r: { n: number }) {
        for (let i = 0; i < r.n; i++) yield i;
        if (r.n === 2) throw new MeshError('UNAVAILABLE', 'ran dry');
      },
    });
  await svc.start();
  const caller = createService({ name: 'caller', registry, logger: silentLogger });
  const call = (endpoint: string, req: unknown) => caller.client.call('shop', endpoint, req);
  const fails = async (endpoint: string, req: unknown, code: string) =>
    assert.rejects(call(endpoint, req), (e: unknown) => e instanceof MeshError && e.code === code);

  for (let i = 0; i < 5; i++) await call('Shop.Get', { id: i });
  await call('Shop.Slow', {});
  await fails('Shop.Bad', { how: 'typed' }, 'BAD_REQUEST');
  await fails('Shop.Bad', { how: 'untyped' }, 'INTERNAL');
  await fails('Shop.Bad', { how: 'untyped' }, 'INTERNAL');
  await fails('Shop.Reject', {}, 'CONFLICT');
  await fails('Shop.Secret', {}, 'UNAUTHORIZED');
  await fails('Shop.Nope', {}, 'NOT_FOUND'); // never reaches a handler: not an endpoint's call
  const whole: number[] = [];
  for await (const x of await caller.client.stream('shop', 'Shop.List', { n: 3 })) whole.push(x as number);
  assert.deepEqual(whole, [0, 1, 2]);
  await assert.rejects(async () => { for await (const _ of await caller.client.stream('shop', 'Shop.List', { n: 2 })); },
    (e: unknown) => e instanceof MeshError && e.code === 'UNAVAILABLE');
  await call('Debug.Health', {});

  const stats = await call('Debug.Stats', {}) as DebugStats;
  assert.equal(stats.served, 13);
  assert.deepEqual(stats.errors, { BAD_REQUEST: 1, INTERNAL: 2, CONFLICT: 1, UNAUTHORIZED: 1, UNAVAILABLE: 1 });
  assert.deepEqual(Object.keys(stats.endpoints).sort(), ['Shop.Bad', 'Shop.Get', 'Shop.List', 'Shop.Reject', 'Shop.Secret', 'Shop.Slow']);
  assert.deepEqual(
    Object.fromEntries(Object.entries(stats.endpoints).map(([k, e]) => [k, [e.served, e.errors]])),
    {
      'Shop.Get': [5, {}], 'Shop.Slow': [1, {}], 'Shop.Bad': [3, { BAD_REQUEST: 1, INTERNAL: 2 }], 'Shop.Reject': [1, { CONFLICT: 1 }],
      'Shop.Secret': [1, { UNAUTHORIZED: 1 }], 'Shop.List': [2, { UNAVAILABLE: 1 }],
    },
  );
  for (const s of [stats.latencyMs, stats.latencyMsSinceStart]) {
    assert.equal(s.count, 11, "the two streams are counted, not timed");
    assert.ok(s.p50 >= 0 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max, JSON.stringify(s));
  }
  assert.ok(stats.endpoints['Shop.Slow']!.p50 > 0, 'an awaited handler is timed to its answer');
  assert.ok(stats.recentWindowMs >= 0 && stats.recentWindowMs <= 60_000);
  assert.ok(stats.uptimeMs >= 0 && stats.rssBytes > 0 && stats.heapUsedBytes > 0);
  assert.equal(typeof stats.rpc.requestsServed, 'number');
  // A stream the caller abandons counts once, as CANCELLED, when the server stops it.
  const endless = createService({ name: 'ticker', registry, logger: silentLogger })
    .handle('Tick', { async *Forever() { for (let i = 0; ; i++) { yield i; await new Promise((r) => setTimeout(r, 1)); } } });
  await endless.start();
  const s = await caller.client.stream('ticker', 'Tick.Forever', {});
  for await (const x of s) if ((x as number) >= 2) break;
  // The server learns of the cancel asynchronously: poll until the stream is counted.
  let t = await caller.client.call<DebugStats>('ticker', 'Debug.Stats', {});
  for (const end = Date.now() + 5000; t.served === 0 && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 10));
    t = await caller.client.call<DebugStats>('ticker', 'Debug.Stats', {});
  }
  assert.equal(t.served, 1);
  assert.deepEqual(t.errors, { CANCELLED: 1 });
  await caller.stop();
  await endless.stop();
  await svc.stop();
});
