// Per-layer metrics of real services (TCP and SWIM on 127.0.0.1, mDNS off), read as Prometheus text: values, not timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, silentLogger, MeshError, MemoryRegistry, PrometheusExporter, type Service } from '../../src/index.ts';

/** `name{labels} value` lines of the exposition, as a lookup by the whole series text. */
async function scrape(svc: Service): Promise<Map<string, number>> {
  const { body } = await new PrometheusExporter(svc.metrics, { processMetrics: false }).render();
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a call, a failure, a stream and a message show in every layer\'s metrics on both nodes', async (t) => {
  const mesh = { mdns: false as const };
  const server = createService({ name: 'shop', address: '127.0.0.1:0', mesh, logger: silentLogger })
    .handle('Shop', {
      Get: (r: { id: number }) => ({ id: r.id }),
      Bad: () => { throw new MeshError('CONFLICT', 'taken'); },
      async *List(r: { n: number }) { for (let i = 0; i < r.n; i++) yield i; },
    })
    .subscribe('orders', () => {});
  await server.start();
  t.after(() => server.stop());
  const client = createService({ name: 'front', address: '127.0.0.1:0', mesh: { ...mesh, join: [server.mesh!.swim.address] }, logger: silentLogger });
  await client.start();
  t.after(() => client.stop());
  await until(async () => (await client.registry.getService('shop')).length > 0, 'shop in the registry');

  for (let i = 0; i < 5; i++) await client.client.call('shop', 'Shop.Get', { id: i });
  await assert.rejects(client.client.call('shop', 'Shop.Bad', {}));
  const items = [];
  for await (const x of await client.client.stream('shop', 'Shop.List', { n: 3 })) items.push(x);
  assert.deepEqual(items, [0, 1, 2]);
  await until(async () => ((await scrape(client)).get('micromesh_broker_peers{broker="direct"}') ?? 0) >= 1, 'the broker to see the subscriber');
  await client.client.publish('orders', { id: 1 });
  await until(async () => (await scrape(server)).get('micromesh_broker_delivered_total{broker="direct"}') === 1, 'the delivery');

  const c = await scrape(client);
  const s = await scrape(server);
  // RPC, client side: by callee service, endpoint and code; latency histogram for unary calls.
  assert.equal(c.get('micromesh_rpc_client_calls_total{service="shop",endpoint="Shop.Get",code="OK"}'), 5);
  assert.equal(c.get('micromesh_rpc_client_calls_total{service="shop",endpoint="Shop.Bad",code="CONFLICT"}'), 1);
  assert.equal(c.get('micromesh_rpc_client_calls_total{service="shop",endpoint="Shop.List",code="OK"}'), 1);
  assert.equal(c.get('micromesh_rpc_client_duration_seconds_count{service="shop",endpoint="Shop.Get"}'), 5);
  assert.equal(c.get('micromesh_rpc_client_duration_seconds_bucket{service="shop",endpoint="Shop.Get",le="+Inf"}'), 5);
  assert.equal(c.get('micromesh_rpc_client_in_flight'), 0);
  assert.equal(c.get('micromesh_rpc_stream_messages_received_total'), 3);
  assert.ok(c.get('micromesh_rpc_bytes_written_total')! > 0);
  // RPC, server side.
  assert.equal(s.get('micromesh_rpc_server_calls_total{service="shop",endpoint="Shop.Get",code="OK"}'), 5);
  assert.equal(s.get('micromesh_rpc_server_calls_total{service="shop",endpoint="Shop.Bad",code="CONFLICT"}'), 1);
  assert.equal(s.get('micromesh_rpc_server_duration_seconds_count{service="shop",endpoint="Shop.Get"}'), 5);
  assert.equal(s.get('micromesh_rpc_stream_messages_sent_total'), 3);
  assert.equal(s.get('micromesh_service_info{service="shop",version="latest"}'), 1);
  // Selector, SWIM, broker.
  assert.equal(c.get('micromesh_selector_picks_total{strategy="random"}'), 7);
  assert.equal(c.get('micromesh_selector_ejected_nodes'), 0);
  assert.equal(c.get('micromesh_swim_members{state="alive"}'), 2);
  assert.equal(c.get('micromesh_swim_local_health_score'), 0);
  // The join was a push-pull over TCP; UDP probes may not have started yet.
  assert.ok(c.get('micromesh_swim_bytes_sent_total')! + c.get('micromesh_swim_stream_bytes_sent_total')! > 0);
  assert.ok(c.get('micromesh_swim_push_pulls_total')! >= 1);
  assert.equal(c.get('micromesh_broker_published_total{broker="direct"}'), 1);
  assert.equal(s.get('micromesh_broker_subscriptions{broker="direct"}'), 1);
  assert.equal(s.get('micromesh_broker_dropped_total{broker="direct",reason="overflow"}'), 0);
});

test('label sets stay bounded: endpoints invented by callers fold into one series past the limit', async (t) => {
  const registry = new MemoryRegistry();
  const server = createService({ name: 'echo', registry, logger: silentLogger }).handle('Echo', { Say: (r: unknown) => r });
  await server.start();
  t.after(() => server.stop());
  const client = createService({ name: 'caller', registry, logger: silentLogger });
  t.after(() => client.stop());
  for (let i = 0; i < 1010; i++) await client.client.call('echo', `Echo.M${i}`, {}).catch(() => {});
  const c = await scrape(client);
  const series = [...c.keys()].filter((k) => k.startsWith('micromesh_rpc_client_calls_total{'));
  assert.equal(series.length, 1001);
  assert.equal(c.get('micromesh_rpc_client_calls_total{service="other",endpoint="other",code="NOT_FOUND"}'), 10);
  // The server never makes series for endpoints it does not have.
  const s = await scrape(server);
  assert.equal([...s.keys()].filter((k) => k.startsWith('micromesh_rpc_server_calls_total{')).length, 0);
});

test('two services in one process keep separate registries; metrics: false keeps only the plain counters', async (t) => {
  const registry = new MemoryRegistry();
  const a = createService({ name: 'a', registry, logger: silentLogger }).handle('A', { Ping: () => 'pong' });
  const b = createService({ name: 'b', registry, logger: silentLogger, metrics: false });
  await a.start();
  t.after(() => a.stop());
  t.after(() => b.stop());
  await b.client.call('a', 'A.Ping', {});
  assert.equal(b.stats().callsSucceeded, 1);
  const bm = await scrape(b);
  assert.equal([...bm.keys()].filter((k) => k.startsWith('micromesh_')).length, 0);
  const am = await scrape(a);
  assert.equal(am.get('micromesh_rpc_server_calls_total{service="a",endpoint="A.Ping",code="OK"}'), 1);
  assert.equal(am.get('micromesh_service_info{service="a",version="latest"}'), 1);
  assert.ok(![...am.keys()].some((k) => k.includes('service="b"')));
});
