// The agent's Consul HTTP API in one process over real HTTP: a 3-node mesh on loopback, the agent on node a.
// Shapes and indexes, blocking queries woken by their own part of the catalog only, registration of an
// outside service with TTL checks seen from another node, maintenance, the ACL token, limits and bad input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError, type Service } from '../../src/index.ts';
import { consulAgent, createAgent, type Agent } from '../../src/agent/index.ts';
import { eventually, startNode } from '../support/agent-mesh.ts';

let a: Service;
let b: Service;
let c: Service;
let agent: Agent;
let base: string;
const TOKEN = 's3cret-token';

before(async () => {
  a = await startNode('greeter');
  b = await startNode('greeter', a.mesh!.swim.address);
  c = await startNode('inventory', a.mesh!.swim.address);
  agent = createAgent({ service: a, httpAddress: '127.0.0.1:0', dnsAddress: '', token: TOKEN, maxServices: 3, bodyLimitBytes: 4096 });
  await agent.start();
  base = `http://${agent.httpAddress}`;
  await eventually(() => agent.snapshot().nodes.length, (n) => n === 3, 'three nodes in the catalog');
});
after(async () => {
  await agent.stop();
  for (const s of [c, b, a]) await s.stop();
});

const get = async (path: string): Promise<{ status: number; index: number; body: any }> => {
  const r = await fetch(base + path);
  const text = await r.text();
  return { status: r.status, index: Number(r.headers.get('x-consul-index') ?? 0), body: text === '' ? undefined : JSON.parse(text) };
};
const put = async (path: string, body?: unknown, headers: Record<string, string> = { 'x-consul-token': TOKEN }): Promise<{ status: number; body: string }> => {
  const r = await fetch(base + path, { method: 'PUT', headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.text() };
};

test('catalog and health answer in Consul\'s shapes, with X-Consul-Index ≥ 1; unknown services are 200 []', async () => {
  const services = await get('/v1/catalog/services?stale=&wait=120000ms&index=0&some-future-param=1');
  assert.equal(services.status, 200);
  assert.ok(services.index >= 1);
  assert.deepEqual(Object.keys(services.body).sort(), ['greeter', 'inventory']);

  const nodes = await get('/v1/catalog/nodes');
  assert.equal(nodes.body.length, 3);
  for (const n of nodes.body) {
    assert.equal(typeof n.ID, 'string');
    assert.equal(n.Address, '127.0.0.1');
    assert.equal(n.Datacenter, 'micromesh');
    assert.ok(n.CreateIndex >= 1 && n.ModifyIndex >= n.CreateIndex);
  }

  const greeter = await get('/v1/catalog/service/greeter');
  assert.deepEqual(greeter.body.map((e: any) => e.ServiceID).sort(), [a.id, b.id].sort());
  for (const e of greeter.body) {
    assert.equal(e.ServiceName, 'greeter');
    assert.equal(typeof e.ServicePort, 'number');
    assert.equal(e.ServiceAddress, '', 'same host as the node: Consul leaves it empty');
    assert.deepEqual(e.ServiceWeights, { Passing: 1, Warning: 1 });
  }
  const health = await get('/v1/health/service/greeter?passing=1&dc=micromesh');
  assert.equal(health.body.length, 2);
  for (const e of health.body) {
    assert.deepEqual(e.Checks.map((x: any) => [x.CheckID, x.Status]), [['serfHealth', 'passing']]);
    assert.equal(e.Service.Service, 'greeter');
    assert.equal(e.Node.Node, e.Checks[0].Node);
  }
  for (const path of ['/v1/catalog/service/nope', '/v1/health/service/nope']) {
    const r = await get(path);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, []);
    assert.ok(r.index >= 1);
  }
  const node = await get(`/v1/catalog/node/${c.id}`);
  assert.equal(node.body.Node.ID, c.id);
  assert.deepEqual(Object.keys(node.body.Services), [c.id]);
  assert.deepEqual((await get(`/v1/health/node/${b.id}`)).body.map((x: any) => x.CheckID), ['serfHealth']);
  assert.ok((await get('/v1/health/state/passing')).body.length >= 3);
  assert.equal((await get('/v1/health/state/bogus')).status, 400);
  assert.equal((await get('/v1/catalog/services?dc=elsewhere')).status, 404);
  assert.equal((await get('/v1/catalog/services?index=abc')).status, 400);
  assert.equal((await get('/v1/catalog/services?index=1&wait=forever')).status, 400);

  const self = await get('/v1/agent/self');
  assert.equal(self.body.Config.Datacenter, 'micromesh');
  assert.equal(self.body.Config.NodeName, a.id);
  assert.equal((await get('/v1/agent/members')).body.length, 3);
  assert.equal((await get('/v1/status/leader')).body, a.mesh!.swim.address, 'a leaderless mesh: each node names itself');
  assert.equal((await get('/v1/status/peers')).body.length, 3);
});

test('a blocking query waits on its own part of the catalog and wakes on a change to it', async () => {
  const first = await get('/v1/health/service/inventory');
  assert.equal(first.body.length, 1);
  let done = false;
  const blocked = get(`/v1/health/service/inventory?index=${first.index}&wait=60s`).then((r) => ((done = true), r));
  // A change elsewhere in the catalog (another service appears) does not wake it.
  const other = await startNode('elsewhere', a.mesh!.swim.address);
  await eventually(() => get('/v1/catalog/service/elsewhere'), (r) => r.body.length === 1, 'the new service listed');
  assert.equal(done, false, 'a change to another service left the query blocked');
  // A second inventory node does.
  const d = await startNode('inventory', a.mesh!.swim.address);
  const woke = await blocked;
  assert.ok(woke.index > first.index);
  assert.equal(woke.body.length, 2);
  // And one leaving wakes the next query.
  const gone = get(`/v1/health/service/inventory?index=${woke.index}&wait=60s`);
  await d.stop();
  const after = await gone;
  assert.equal(after.body.length, 1);
  assert.ok(after.index > woke.index);
  await other.stop();
});

test('an outside service registers (lower-case keys), follows its TTL check, is seen from another node, and deregisters', async () => {
  assert.equal((await put('/v1/agent/service/register', { name: 'web2', port: 8080, tags: ['rails'], meta: { team: 'web' }, check: { ttl: '30s' } })).status, 200);
  let entry = (await get('/v1/health/service/web2')).body[0];
  assert.equal(entry.Service.ID, 'web2');
  assert.deepEqual(entry.Service.Tags, ['rails']);
  assert.deepEqual(entry.Service.Meta, { team: 'web' });
  assert.deepEqual(entry.Checks.map((x: any) => [x.CheckID, x.Status]), [['serfHealth', 'passing'], ['service:web2', 'critical']], 'checks start critical');
  assert.deepEqual((await get('/v1/health/service/web2?passing')).body, []);
  // Node b's registry lists it, served through a's record.
  const onB = await eventually(() => b.registry.getService('web2'), (s) => s.length === 1, 'web2 in b\'s registry');
  assert.equal(onB[0]!.nodes[0]!.address, '127.0.0.1:8080');

  assert.equal((await put('/v1/agent/check/pass/service:web2?note=ok')).status, 200);
  entry = (await get('/v1/health/service/web2?passing')).body[0];
  assert.equal(entry.Checks[1].Status, 'passing');
  assert.equal(entry.Checks[1].Output, 'ok');
  assert.equal((await put('/v1/agent/check/update/service:web2', { Status: 'warning', Output: 'slow' })).status, 200);
  assert.equal((await get('/v1/health/service/web2')).body[0].Checks[1].Status, 'warning');
  assert.equal((await put('/v1/agent/check/pass/no-such-check')).status, 404);

  assert.equal((await put('/v1/agent/service/maintenance/web2?enable=true&reason=upgrading')).status, 200);
  const maint = (await get('/v1/health/service/web2')).body[0].Checks;
  assert.ok(maint.some((x: any) => x.CheckID === '_service_maintenance:web2' && x.Status === 'critical' && x.Notes === 'upgrading'));
  assert.equal((await put('/v1/agent/service/maintenance/web2?enable=false')).status, 200);
  assert.ok((await get('/v1/agent/services')).body.web2 !== undefined);
  assert.ok((await get('/v1/agent/checks')).body['service:web2'] !== undefined);

  assert.equal((await put('/v1/agent/service/deregister/web2')).status, 200);
  assert.deepEqual((await get('/v1/catalog/service/web2')).body, []);
  await eventually(() => b.registry.getService('web2'), (s) => s.length === 0, 'web2 gone from b\'s registry');
  assert.equal((await put('/v1/agent/service/deregister/never-was')).status, 200, 'unknown ids are no error, as in Consul');
});

test('writes need the ACL token (header, bearer or ?token=); reads do not', async () => {
  const body = { Name: 'tok', Port: 1 };
  assert.equal((await put('/v1/agent/service/register', body, {})).status, 403);
  assert.equal((await put('/v1/agent/service/register', body, { 'x-consul-token': 'wrong' })).status, 403);
  assert.equal((await put('/v1/agent/service/register', body, { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await put(`/v1/agent/service/deregister/tok?token=${TOKEN}`, undefined, {})).status, 200);
  assert.equal((await get('/v1/catalog/services')).status, 200);
});

test('bad input gets a coded error, never a crash; limits name themselves', async () => {
  const bad = await put('/v1/agent/service/register', '{"Name": "x", ');
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).code, 'BAD_REQUEST');
  const noName = await put('/v1/agent/service/register', { Port: 80 });
  assert.equal(noName.status, 400);
  assert.match(JSON.parse(noName.body).detail, /Name/);
  const huge = await put('/v1/agent/service/register', { Name: 'big', Meta: { pad: 'x'.repeat(500) }, Tags: Array.from({ length: 20 }, (_, i) => `t${i}-${'y'.repeat(300)}`) });
  assert.equal(huge.status, 413);
  for (let i = 0; i < 3; i++) assert.equal((await put('/v1/agent/service/register', { Name: `n${i}` })).status, 200);
  const full = await put('/v1/agent/service/register', { Name: 'n3' });
  assert.equal(full.status, 429);
  assert.match(JSON.parse(full.body).detail, /maxServices 3/);
  for (let i = 0; i < 3; i++) await put(`/v1/agent/service/deregister/n${i}`);
  assert.equal((await get('/v1/catalog/services')).status, 200, 'still serving');
  const counted = a.metrics.collect().find((f) => f.name === 'micromesh_agent_http_requests_total');
  assert.ok(counted?.type === 'counter');
  assert.ok((counted.samples.find((x) => x.labels.status_class === '4xx')?.value ?? 0) >= 3, 'bad requests are counted');
});

test('binding beyond loopback must be asked for; the addon form starts and stops with its service', async () => {
  assert.throws(() => createAgent({ service: a, httpAddress: '0.0.0.0:0' }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /agent.httpAddress/.test(e.detail));
  assert.throws(() => createAgent({ service: a, dnsTtlSeconds: -1 }), (e: unknown) => e instanceof MeshError && /agent.dnsTtlSeconds/.test(e.detail));
  const addon = consulAgent({ httpAddress: '127.0.0.1:0', dnsAddress: '127.0.0.1:0' });
  const s = await startNode('with-agent', a.mesh!.swim.address, { addons: [addon] });
  const r = await fetch(`http://${addon.agent!.httpAddress}/v1/catalog/service/with-agent`);
  assert.equal(((await r.json()) as unknown[]).length, 1);
  await s.stop();
  await s.stop();
  await assert.rejects(fetch(`http://${addon.agent!.httpAddress}/v1/catalog/services`));
});
