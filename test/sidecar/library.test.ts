// createSidecar as a library, in one process: an app on node:http, services
// on a shared MemoryRegistry, calls over real TCP. What the process test
// cannot reach easily: config errors, waiting for the app, refused
// connections, cancellation, health flips, stop.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { MemoryBroker, MemoryRegistry, MeshError, createService, silentLogger, type Service } from 'micromesh';
import { SIDECAR_HEALTH, SIDECAR_SERVICE, createSidecar, httpNode, parseDescription, type Sidecar } from 'micromesh/sidecar';
import { INTERNAL_SERVICE } from '../../src/rpc/internal.ts';
import { until } from '../support/gateway.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** An HTTP app whose routes the test sets; `seen` records each request's path. */
async function startApp(routes: Record<string, Handler>, port = 0): Promise<{ server: Server; address: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      const h = routes[`${req.method} ${req.url}`];
      if (h === undefined) return void res.writeHead(404).end('no route');
      h(req, body, res);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

/** An address nothing listens on (a port just freed). */
async function closedAddress(): Promise<string> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

const json = (res: ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

interface Rig {
  registry: MemoryRegistry;
  service: Service;
  caller: Service;
  sidecar: Sidecar;
}

function rig(name: string, opts: Omit<Parameters<typeof createSidecar>[0], 'service'>): Rig {
  const registry = new MemoryRegistry();
  const broker = new MemoryBroker();
  const service = createService({ name, mesh: false, registry, broker, logger: silentLogger, nodeMetadata: httpNode(opts.appAddress) });
  const caller = createService({ name: 'caller', mesh: false, registry, broker, logger: silentLogger });
  const sidecar = createSidecar({ service, logger: silentLogger, ...opts, http: { address: '127.0.0.1:0', ...opts.http } });
  cleanup.push(async () => {
    await sidecar.stop();
    await service.stop();
    await caller.stop();
  });
  return { registry, service, caller, sidecar };
}

test('config errors name the field; describe documents are checked', () => {
  const service = createService({ name: 'x', mesh: false, logger: silentLogger });
  const bad = (opts: Partial<Parameters<typeof createSidecar>[0]>, field: RegExp) =>
    assert.throws(() => createSidecar({ service, appAddress: '127.0.0.1:1', ...opts }), (e: MeshError) => e.code === 'INVALID_CONFIG' && field.test(e.detail));
  bad({ appAddress: 'nowhere' }, /sidecar\.appAddress/);
  bad({ healthIntervalMs: 5 }, /sidecar\.healthIntervalMs must be an integer in \[100, 3600000\]/);
  bad({ healthUrl: 'ftp://x' }, /sidecar\.healthUrl/);
  bad({ endpoints: ['NoDot'] }, /sidecar\.endpoints/);
  bad({ pathTemplate: '/{nope}' }, /sidecar\.pathTemplate/);
  bad({ http: { bodyLimitBytes: 0 } }, /sidecar\.bodyLimitBytes/);
  assert.deepEqual(parseDescription('{"endpoints":[{"name":"A.B","metadata":{"stream":"true","k":"v"}},{"name":"A.C"}]}'),
    [{ name: 'A.B', metadata: { k: 'v' } }, { name: 'A.C', metadata: {} }], 'a stream flag is dropped: the sidecar forwards unary calls');
  for (const text of ['nope', '{}', '{"endpoints":[]}', '{"endpoints":[{"name":"x"}]}', '{"endpoints":[{"name":"A.B","metadata":{"n":1}}]}']) {
    assert.throws(() => parseDescription(text), (e: MeshError) => e.code === 'PROTOCOL_ERROR', text);
  }
});

test('start waits for the app to describe itself, publishes its endpoints, and forwards by the path template', { timeout: 15_000 }, async () => {
  // The port is taken now and served later: the sidecar starts first.
  const port = Number((await closedAddress()).split(':')[1]);
  const r = rig('orders', { appAddress: `127.0.0.1:${port}`, pathTemplate: '/rpc/{service}/{handler}.{method}' });
  const starting = r.sidecar.start();
  await new Promise((res) => setTimeout(res, 300));
  const app = await startApp({
    'GET /.well-known/micromesh': (_q, _b, res) => json(res, 200, { endpoints: [{ name: 'Orders.Create', metadata: { http: 'POST /orders' } }] }),
    'POST /rpc/orders/Orders.Create': (req, body, res) => json(res, 201, { got: JSON.parse(body), timeout: req.headers.timeout }),
  }, port);
  await starting;
  const [record] = await r.registry.getService('orders');
  assert.deepEqual(record!.endpoints.find((e) => e.name === 'Orders.Create')?.metadata, { http: 'POST /orders' });
  assert.equal(record!.nodes[0]!.metadata['http-address'], `127.0.0.1:${port}`);
  const res = await r.caller.client.call<{ got: unknown; timeout: string }>('orders', 'Orders.Create', { sku: 'a' }, { timeoutMs: 3000 });
  assert.deepEqual(res.got, { sku: 'a' });
  assert.ok(Number(res.timeout.replace('ms', '')) <= 3000);
  assert.ok(app.seen.includes('POST /rpc/orders/Orders.Create'));
});

test('an app that serves no description fails start; an aborted start stops waiting', { timeout: 15_000 }, async () => {
  const app = await startApp({});
  await assert.rejects(rig('nodesc', { appAddress: app.address }).sidecar.start(), (e: MeshError) => e.code === 'NOT_FOUND' && /--endpoints/.test(e.detail));
  const ctl = new AbortController();
  const waiting = rig('never', { appAddress: await closedAddress() }).sidecar.start({ signal: ctl.signal });
  setTimeout(() => ctl.abort(), 200);
  await assert.rejects(waiting);
});

test('refused connections are UNAVAILABLE; a cancelled call aborts the request to the app', { timeout: 15_000 }, async () => {
  const down = rig('down', { appAddress: await closedAddress(), endpoints: ['Down.Call'] });
  await down.sidecar.start();
  await assert.rejects(down.caller.client.call('down', 'Down.Call', {}, { retries: 0 }), (e: MeshError) => e.code === 'UNAVAILABLE' && /connection refused/.test(e.detail));

  let closed = 0;
  const app = await startApp({ 'POST /Slow/Call': (req) => req.socket.once('close', () => closed++) });
  const slow = rig('slow', { appAddress: app.address, endpoints: ['Slow.Call'] });
  await slow.sidecar.start();
  const ctl = new AbortController();
  const call = slow.caller.client.call('slow', 'Slow.Call', {}, { signal: ctl.signal, timeoutMs: 30_000, retries: 0 });
  await until(async () => app.seen.length, (n) => n === 1, 'the request at the app');
  ctl.abort();
  await assert.rejects(call);
  await until(async () => closed, (n) => n === 1, 'the app request aborted');
});

test('health: critical withdraws the record and flips the companion; passing lists it again; stop withdraws what the sidecar added', { timeout: 15_000 }, async () => {
  let healthy = false;
  const app = await startApp({
    'GET /health': (_q, _b, res) => void res.writeHead(healthy ? 200 : 500).end(healthy ? 'ok' : 'down'),
    'POST /Svc/Ping': (_q, _b, res) => json(res, 200, { pong: true }),
  });
  const r = rig('flaky', { appAddress: app.address, endpoints: ['Svc.Ping'], healthUrl: `http://${app.address}/health`, healthIntervalMs: 100 });
  await r.sidecar.start();
  // Critical from the first check: never listed.
  assert.deepEqual(await r.registry.getService('flaky'), []);
  const companion = async () => (await r.registry.getService(SIDECAR_SERVICE))[0]?.nodes[0]?.metadata;
  assert.deepEqual(await companion(), { app: 'flaky', 'app-health': 'critical' });
  const report = await r.caller.client.call<{ status: string; reason: string }>(INTERNAL_SERVICE, SIDECAR_HEALTH.endpoint, {}, { address: r.service.address });
  assert.equal(report.status, 'critical');
  assert.match(report.reason, /HTTP 500/);
  assert.equal((await fetch(`http://${r.sidecar.address}/health`)).status, 503);

  healthy = true;
  await until(async () => (await r.registry.getService('flaky')).length, (n) => n === 1, 'listed once passing');
  assert.deepEqual(await companion(), { app: 'flaky', 'app-health': 'passing' });
  assert.deepEqual(await r.caller.client.call('flaky', 'Svc.Ping', {}), { pong: true });
  assert.equal((await fetch(`http://${r.sidecar.address}/health`)).status, 200);

  healthy = false;
  await until(async () => (await r.registry.getService('flaky')).length, (n) => n === 0, 'withdrawn once critical');
  // Withdrawn from the registry, still answering a caller that knows where it is.
  assert.deepEqual(await r.caller.client.call('flaky', 'Svc.Ping', {}, { address: r.service.address }), { pong: true });

  const posted = await fetch(`http://${r.sidecar.address}/registry`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'extra', nodes: [{ id: 'e1', address: '10.0.0.1:1' }] }),
  });
  assert.equal(posted.status, 200);
  await Promise.all([r.sidecar.stop(), r.sidecar.stop()]);
  assert.deepEqual(await r.registry.getService(SIDECAR_SERVICE), [], 'companion withdrawn');
  assert.deepEqual(await r.registry.getService('extra'), [], 'posted records withdrawn');
});

test('/broker: JSON and CBOR bodies arrive decoded, others as base64; no health URL is passing', { timeout: 15_000 }, async () => {
  const app = await startApp({});
  const r = rig('pub', { appAddress: app.address, endpoints: ['Pub.X'] });
  await r.sidecar.start();
  const base = `http://${r.sidecar.address}`;
  assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'passing', app: 'pub' });
  const sub = await fetch(`${base}/broker?topic=t.*`, { headers: { accept: 'text/event-stream' } });
  const reader = sub.body!.getReader();
  // The stream is open once subscribed: nothing published from here on is missed.
  const raw = await fetch(`${base}/broker?topic=t.raw`, { method: 'POST', body: new Uint8Array([0, 255]), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(raw.status, 202);
  await r.caller.client.publish('t.cbor', { n: 1 });
  const text = new TextDecoder();
  let got = '';
  while ((got.match(/^data: /gm) ?? []).length < 2) got += text.decode((await reader.read()).value);
  const events = got.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
  assert.deepEqual(events.map((e) => [e.topic, e.body, e.encoding]), [['t.raw', 'AP8=', 'base64'], ['t.cbor', { n: 1 }, undefined]]);
  await reader.cancel();
});

test('/broker over WebSocket: messages arrive as JSON frames; frames the app sends are published to the topic', { timeout: 15_000 }, async () => {
  const app = await startApp({});
  const r = rig('ws', { appAddress: app.address, endpoints: ['Ws.X'] });
  await r.sidecar.start();
  const got: unknown[] = [];
  await r.caller.broker.subscribe('chat', (m) => void got.push({ body: Buffer.from(m.body).toString(), type: m.headers['content-type'] }));
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://${r.sidecar.address}/broker?topic=chat`);
  const frames: unknown[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await once(ws, 'open');
  ws.send('hello from the app');
  await until(async () => got.length, (n) => n === 1, 'the frame published');
  assert.deepEqual(got[0], { body: 'hello from the app', type: 'text/plain' });
  // The socket subscribed too: its own message comes back, as text/plain bytes (base64).
  await until(async () => frames.length, (n) => n >= 1, 'the message delivered to the socket');
  assert.deepEqual(frames[0], { topic: 'chat', metadata: (frames[0] as { metadata: Record<string, string> }).metadata, body: Buffer.from('hello from the app').toString('base64'), encoding: 'base64' });
  ws.close(1000);
  await once(ws, 'close');
});

test('stop, then start again: the sidecar\'s HTTP port and its forwarding work as before', { timeout: 15_000 }, async () => {
  const app = await startApp({
    'GET /.well-known/micromesh': (_q, _b, res) => json(res, 200, { endpoints: [{ name: 'Stock.Get' }] }),
    'POST /Stock/Get': (_req, body, res) => json(res, 200, { echo: JSON.parse(body) }),
  });
  const r = rig('stock', { appAddress: app.address });
  for (let round = 1; round <= 2; round++) {
    await r.sidecar.start();
    await r.service.start();
    assert.deepEqual(await r.caller.client.call('stock', 'Stock.Get', { round }), { echo: { round } }, `round ${round}`);
    const res = await fetch(`http://${r.sidecar.address}/registry/stock`);
    assert.equal(res.status, 200, `the sidecar's HTTP API answers in round ${round}`);
    await r.sidecar.stop();
    assert.equal(r.sidecar.address, undefined);
  }
});
