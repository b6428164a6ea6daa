// Services on the mesh in one process, over real UDP/TCP on 127.0.0.1 (mDNS off: seeds only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, silentLogger, MeshError, type Service } from '../../src/index.ts';

const local = { address: '127.0.0.1:0', logger: silentLogger } as const;
const meshOpts = (join: string[] = []) => ({ mdns: false as const, join, profile: 'local' as const, swim: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 } });

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('services join by seed, call each other through the mesh registry, and vanish on stop', async () => {
  const a = createService({ name: 'greeter', ...local, mesh: meshOpts() }).handle('Greeter', { Hello: (r: { name: string }) => ({ msg: `Hello ${r.name}` }) });
  await a.start();
  const seed = a.mesh!.swim.address;
  const b = createService({ name: 'caller', ...local, mesh: meshOpts([seed]) });
  await b.start();
  await until(async () => (await b.registry.getService('greeter')).length === 1, 'greeter in b');
  assert.deepEqual(await b.client.call('greeter', 'Greeter.Hello', { name: 'mesh' }), { msg: 'Hello mesh' });
  assert.equal(b.mesh!.peerCount(), 1);
  await assert.rejects(b.client.call('nobody', 'X.Y', {}), (e: unknown) => e instanceof MeshError && e.code === 'SERVICE_NOT_FOUND');
  await a.stop();
  await until(async () => (await b.registry.getService('greeter')).length === 0, 'greeter gone from b after a graceful stop');
  await b.stop();
});

test('a node alone says no mesh was found, naming why', async () => {
  const lone: Service = createService({ name: 'lone', ...local, mesh: meshOpts(['127.0.0.1:9']) });
  await lone.start();
  await assert.rejects(lone.client.call('greeter', 'Greeter.Hello', {}), (e: unknown) =>
    e instanceof MeshError && e.code === 'NO_MESH_FOUND' && /mDNS is off; no seed answered \(127\.0\.0\.1:9\)/.test(e.detail));
  await lone.stop();
});

for (const broker of ['direct', 'gossip'] as const) {
  test(`publish/subscribe through services on the mesh (${broker} broker): broadcast and queue groups`, async () => {
    const got: string[] = [];
    const subs = [];
    let seed: string | undefined;
    for (const who of ['a', 'b']) {
      const s = createService({ name: `sub-${who}`, ...local, broker, mesh: meshOpts(seed ? [seed] : []) })
        .subscribe('orders.>', (m: { id: number }) => { got.push(`${who}:all:${m.id}`); })
        .subscribe('orders.created', (m: { id: number }) => { got.push(`${who}:q:${m.id}`); }, { queue: 'workers' });
      await s.start();
      seed ??= s.mesh!.swim.address;
      subs.push(s);
    }
    const pub = createService({ name: 'pub', ...local, broker, mesh: meshOpts([seed!]) });
    await pub.start();
    // Publish until both subscribers are known to the publisher (subscriptions travel in membership records).
    await until(() => pub.mesh!.peerCount() === 2, 'publisher sees both subscribers');
    await until(async () => {
      got.length = 0;
      await pub.client.publish('orders.created', { id: -1 });
      await new Promise((r) => setTimeout(r, 100));
      return got.filter((g) => g.includes(':all:')).length === 2;
    }, 'subscriptions propagated');
    got.length = 0;
    for (let id = 0; id < 20; id++) await pub.client.publish('orders.created', { id });
    await until(() => got.length === 60, `all deliveries (got ${got.length})`);
    for (const who of ['a', 'b']) assert.equal(got.filter((g) => g.startsWith(`${who}:all:`)).length, 20);
    const q = got.filter((g) => g.includes(':q:')).map((g) => Number(g.split(':')[2])).sort((x, y) => x - y);
    assert.deepEqual(q, Array.from({ length: 20 }, (_, i) => i), 'each queued message handled exactly once');
    for (const s of [...subs, pub]) await s.stop();
  });
}

test('a mesh broker off the mesh is a clear configuration error', () => {
  assert.throws(() => createService({ name: 'x', mesh: false, broker: 'direct' }), (e: unknown) =>
    e instanceof MeshError && e.code === 'INVALID_CONFIG' && /needs the mesh/.test(e.detail));
});
