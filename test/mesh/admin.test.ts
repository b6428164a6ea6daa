// The admin port of real services (127.0.0.1, mDNS off): readiness through start, drain and stop; metrics; the http_sd list of the mesh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, silentLogger, type Service } from '../../src/index.ts';

const mesh = (join: string[] = []) => ({ mdns: false as const, join, profile: 'local' as const, swim: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 } });

async function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('readiness flips: starting → ready → draining while a call finishes → port closed after stop', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let finish!: () => void;
  const slow = new Promise<void>((r) => { finish = r; });
  let admin = '';
  const svc: Service = createService({
    name: 'slowpoke', address: '127.0.0.1:0', mesh: mesh(), logger: silentLogger, admin: { address: '127.0.0.1:0' },
    beforeStart: [async () => {
      admin = svc.adminAddress!;
      await gate;
    }],
  }).handle('Slow', { Wait: async () => { await slow; return 'done'; } });
  const starting = svc.start();
  await until(() => admin !== '', 'the admin port');
  // Starting: live, not ready.
  assert.equal((await get(admin, '/health/live')).status, 200);
  const r1 = await get(admin, '/health/ready');
  assert.equal(r1.status, 503);
  assert.match(r1.body, /starting/);
  release();
  await starting;
  assert.equal((await get(admin, '/health/ready')).status, 200);
  assert.match((await get(admin, '/metrics')).body, /micromesh_service_info\{service="slowpoke",version="latest"\} 1/);
  assert.match((await get(admin, '/debug/stats')).body, /"uptimeMs":/);

  // Draining: a call in flight holds the stop; the node says not ready meanwhile.
  const caller = createService({ name: 'caller', address: '127.0.0.1:0', mesh: mesh([svc.mesh!.swim.address]), logger: silentLogger });
  await caller.start();
  await until(async () => (await caller.registry.getService('slowpoke')).length > 0, 'slowpoke in the caller\'s registry');
  const call = caller.client.call('slowpoke', 'Slow.Wait', {});
  await until(() => (svc as unknown as { server: { inFlight(): number } }).server.inFlight() === 1, 'the call to arrive');
  const stopping = svc.stop();
  await until(async () => (await get(admin, '/health/ready')).status === 503, 'not ready while draining');
  assert.match((await get(admin, '/health/ready')).body, /draining/);
  assert.equal((await get(admin, '/health/live')).status, 200);
  finish();
  assert.equal(await call, 'done');
  await stopping;
  await assert.rejects(get(admin, '/health/live'));
  await caller.stop();
});

test('deregister makes a running node not ready; register makes it ready again', async (t) => {
  const svc = createService({ name: 'flip', address: '127.0.0.1:0', mesh: mesh(), logger: silentLogger, admin: { address: '127.0.0.1:0' } });
  await svc.start();
  t.after(() => svc.stop());
  const admin = svc.adminAddress!;
  assert.equal((await get(admin, '/health/ready')).status, 200);
  await svc.deregister();
  assert.match((await get(admin, '/health/ready')).body, /deregistered/);
  await svc.register();
  assert.equal((await get(admin, '/health/ready')).status, 200);
});

test('any node lists every live member\'s admin port for Prometheus; a node that leaves drops out', async (t) => {
  const a = createService({ name: 'alpha', version: '1.2.0', address: '127.0.0.1:0', mesh: mesh(), logger: silentLogger, admin: { address: '127.0.0.1:0' } });
  await a.start();
  t.after(() => a.stop());
  const b = createService({ name: 'beta', address: '127.0.0.1:0', mesh: mesh([a.mesh!.swim.address]), logger: silentLogger, admin: { address: '127.0.0.1:0' } });
  await b.start();
  // A member without an admin port is not a target.
  const c = createService({ name: 'gamma', address: '127.0.0.1:0', mesh: mesh([a.mesh!.swim.address]), logger: silentLogger });
  await c.start();
  t.after(() => c.stop());
  const targets = async (svc: Service) => JSON.parse((await get(svc.adminAddress!, '/v1/prometheus/targets')).body) as { targets: string[]; labels: Record<string, string> }[];
  await until(async () => (await targets(a)).length === 2 && (await targets(b)).length === 2, 'both admin ports listed on both nodes');
  const list = await targets(b);
  assert.deepEqual(list.map((g) => g.targets[0]).sort(), [a.adminAddress, b.adminAddress].sort());
  const alpha = list.find((g) => g.targets[0] === a.adminAddress)!;
  assert.equal(alpha.labels.__meta_micromesh_services, ',alpha,');
  assert.equal(alpha.labels.__meta_micromesh_version, ',1.2.0,');
  assert.equal(alpha.labels.__meta_micromesh_node_id, a.id);
  // The admin address is in the registry's node metadata too.
  assert.equal((await c.registry.getService('alpha'))[0]!.nodes[0]!.metadata?.admin, a.adminAddress);
  await b.stop();
  await until(async () => (await targets(a)).length === 1, 'beta to drop out');
});
