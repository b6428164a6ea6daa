// An app behind the sidecar declares JSON Schemas in its describe document:
// the sidecar validates requests before forwarding them and publishes them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { MemoryBroker, MemoryRegistry, MeshError, createService, endpointSchemas, silentLogger } from 'micromesh';
import { createSidecar, httpNode, parseDescription } from 'micromesh/sidecar';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const request = { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }, required: ['sku'] };
const response = { type: 'object', properties: { id: { type: 'string' } } };

test('describe documents carry request and response JSON Schemas; anything else there is refused', () => {
  assert.deepEqual(parseDescription(JSON.stringify({ endpoints: [{ name: 'A.B', request, response }, { name: 'A.C' }] })),
    [{ name: 'A.B', metadata: {}, schemas: { request, response } }, { name: 'A.C', metadata: {} }]);
  for (const bad of [{ request: 'string' }, { response: [1] }, { request: null }]) {
    assert.throws(() => parseDescription(JSON.stringify({ endpoints: [{ name: 'A.B', ...bad }] })),
      (e: MeshError) => e.code === 'PROTOCOL_ERROR' && /A\.B: (request|response) must be a JSON Schema object/.test(e.detail));
  }
});

test('the sidecar validates requests for its app and publishes the schemas', { timeout: 15_000 }, async () => {
  const hits: unknown[] = [];
  const app = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (req.url === '/.well-known/micromesh') return send({ endpoints: [{ name: 'Orders.Create', request, response }, { name: 'Orders.List' }] });
      hits.push(JSON.parse(body || 'null'));
      send({ id: 'o-1' });
    });
  }).listen(0, '127.0.0.1');
  await once(app, 'listening');
  cleanup.push(() => {
    app.closeAllConnections();
    return new Promise((r) => app.close(r));
  });
  const appAddress = `127.0.0.1:${(app.address() as { port: number }).port}`;
  const registry = new MemoryRegistry();
  const broker = new MemoryBroker();
  const service = createService({ name: 'orders', mesh: false, registry, broker, logger: silentLogger, nodeMetadata: httpNode(appAddress) });
  const caller = createService({ name: 'caller', mesh: false, registry, broker, logger: silentLogger });
  const sidecar = createSidecar({ service, logger: silentLogger, appAddress, http: { address: '127.0.0.1:0' } });
  cleanup.push(async () => {
    await sidecar.stop();
    await service.stop();
    await caller.stop();
  });
  await sidecar.start();
  await assert.rejects(caller.client.call('orders', 'Orders.Create', { sku: 'a', qty: 0 }),
    (e: MeshError) => e.code === 'BAD_REQUEST' && e.detail === 'request.qty: must be >= 1');
  await assert.rejects(caller.client.call('orders', 'Orders.Create', { qty: 2 }),
    (e: MeshError) => e.code === 'BAD_REQUEST' && e.detail === 'request.sku: required');
  assert.deepEqual(hits, [], 'invalid requests never reach the app');
  assert.deepEqual(await caller.client.call('orders', 'Orders.Create', { sku: 'a', qty: 2 }), { id: 'o-1' });
  assert.deepEqual(await caller.client.call('orders', 'Orders.List', 'anything'), { id: 'o-1' }, 'no schema, no check');
  const [record] = await registry.getService('orders');
  assert.deepEqual(await endpointSchemas(caller.client, record!, 'Orders.Create'), { request, response });
});
