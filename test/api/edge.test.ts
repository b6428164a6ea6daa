// The gateway at its edges: reverse-proxying services that serve HTTP
// (plain and WebSocket), limits (body, head, URL, slow clients), malformed
// input, and the graceful drain of stop().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { createService, silentLogger } from 'micromesh';
import { httpNode } from 'micromesh/api';
import { postJson, startFixture, until, type Fixture } from '../support/gateway.ts';

let f: Fixture;
let app: Server;
let wss: WebSocketServer;

before(async () => {
  f = await startFixture({ http: { headersTimeoutMs: 500, requestTimeoutMs: 1000, maxUrlBytes: 256, maxHeaderBytes: 4096, bodyLimitBytes: 1024 } });
  // A web app that serves HTTP itself and registers as service `web` with its HTTP address.
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-app': 'web' });
      res.end(JSON.stringify({ method: req.method, url: req.url, prefix: req.headers['x-forwarded-prefix'], body: Buffer.concat(chunks).toString() }));
    });
  });
  wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws, req) => {
    ws.send(JSON.stringify({ hello: req.url }));
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  const port = (app.address() as { port: number }).port;
  const web = createService({ name: 'web', mesh: false, registry: f.registry, logger: silentLogger, nodeMetadata: httpNode(`127.0.0.1:${port}`) });
  await web.start();
  f.services.push(web);
});

after(async () => {
  await f.stop();
  wss.close();
  app.close();
});

/** Sends raw bytes on a fresh connection and returns what comes back before the server closes it. */
async function raw(bytes: string, address = f.gateway.address!): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  const s = connect(Number(port), host);
  await once(s, 'connect');
  s.write(bytes);
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  await once(s, 'close');
  return out;
}

test('services that serve HTTP are reverse-proxied under /<service>/, prefix stripped, status and headers kept', async () => {
  const r = await until(() => fetch(`${f.base}/web/things/7?x=1`, { method: 'PUT', body: 'hi', headers: { 'content-type': 'text/plain' } }), (x) => x.status === 201, 'the proxy to know web');
  assert.equal(r.headers.get('x-app'), 'web');
  assert.deepEqual(await r.json(), { method: 'PUT', url: '/things/7?x=1', prefix: '/web', body: 'hi' });
});

test('WebSocket through the proxy: frames both ways, text and binary', async () => {
  const ws = new WebSocket(`${f.base.replace('http:', 'ws:')}/web/live`);
  const got: unknown[] = [];
  ws.on('message', (d, isBinary) => got.push(isBinary ? [...(d as Buffer)] : d.toString()));
  await once(ws, 'open');
  ws.send('ping');
  ws.send(Buffer.from([1, 2, 3]));
  await until(async () => got.length, (n) => n === 3, 'three frames back');
  assert.deepEqual(got, ['{"hello":"/live"}', 'echo:ping', [1, 2, 3]]);
  ws.close(1000);
  await once(ws, 'close');
});

test('a body over the limit is 413 naming the limit; the gateway keeps serving', async () => {
  const r = await postJson(`${f.base}/echo/echo/echo`, { pad: 'x'.repeat(2000) });
  assert.equal(r.status, 413);
  assert.equal(r.body.code, 'PAYLOAD_TOO_LARGE');
  assert.match(r.body.detail, /1024 bytes/);
  assert.equal((await postJson(`${f.base}/echo/echo/echo`, { ok: 1 })).status, 200);
});

test('a URL over the limit is 414, a head over the limit 431, both naming the limit', async () => {
  const long = await fetch(`${f.base}/echo/echo/echo?q=${'a'.repeat(400)}`);
  assert.equal(long.status, 414);
  assert.match(((await long.json()) as { detail: string }).detail, /256 bytes/);
  const big = await raw(`GET /echo/echo/echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(8000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  assert.match(big, /4096 bytes/);
});

test('slowloris: a head that never ends is cut off by the head timeout', async () => {
  const out = await raw('GET /echo/echo/echo HTTP/1.1\r\nHost: x\r\n');
  assert.match(out, /^HTTP\/1\.1 408 /);
});

test('malformed input is a 400, never a crash: JSON naming the position, garbage bytes, bad content type, bad CBOR', async () => {
  const j = await fetch(`${f.base}/echo/echo/echo`, { method: 'POST', body: '{"a": tru}', headers: { 'content-type': 'application/json' } });
  assert.equal(j.status, 400);
  assert.match(((await j.json()) as { detail: string }).detail, /position 9 \(line 1 column 10\)/);
  assert.match(await raw('\x00\x01garbage\r\n\r\n'), /^HTTP\/1\.1 400 /);
  const t = await fetch(`${f.base}/echo/echo/echo`, { method: 'POST', body: '<x/>', headers: { 'content-type': 'application/xml' } });
  assert.equal(t.status, 415);
  const c = await fetch(`${f.base}/echo/echo/echo`, { method: 'POST', body: Buffer.from([0xff, 0xff]), headers: { 'content-type': 'application/cbor' } });
  assert.equal(c.status, 400);
  assert.equal((await postJson(`${f.base}/echo/echo/echo`, { still: 'alive' })).status, 200);
});

test('stop drains: in-flight requests finish, new ones get 503 with Connection: close, then the listener closes', async () => {
  const g = await startFixture();
  try {
    const slow = postJson(`${g.base}/echo/echo/slow`, { ms: 800 });
    await new Promise((r) => setTimeout(r, 200));
    const stopping = g.gateway.stop();
    const out = await raw('POST /echo/echo/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', g.gateway.address!);
    assert.match(out, /^HTTP\/1\.1 503 /);
    assert.match(out, /connection: close/i);
    assert.match(out, /"code":"SERVER_STOPPING"/);
    const done = await slow;
    assert.equal(done.status, 200, 'the in-flight request finished');
    assert.deepEqual(done.body, { done: true });
    await stopping;
    await assert.rejects(fetch(`${g.base}/echo/echo/echo`), 'the listener is closed');
  } finally {
    await g.stop();
  }
});
