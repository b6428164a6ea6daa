// The API gateway's rpc handler over real HTTP: Go Micro's path table,
// declared routes (live from the registry), /rpc, errors → status, headers →
// metadata, deadlines, access rules, CORS and the event handler.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CborCodec, createService, silentLogger } from 'micromesh';
import { routes } from 'micromesh/api';
import { getJson, postJson, startFixture, until, type Fixture } from '../support/gateway.ts';

let f: Fixture;
before(async () => {
  f = await startFixture({ deny: ['echo/Echo.Crash'] });
  // Services named as the path table needs them.
  const greeter = createService({ name: 'greeter', mesh: false, registry: f.registry, logger: silentLogger });
  greeter.handle('Greeter', { Hello: (r: { name: string }) => ({ msg: `Hello ${r.name}`, via: 'Greeter.Hello' }) });
  greeter.handle('Say', { Hello: (r: { name: string }) => ({ msg: `Say ${r.name}`, via: 'Say.Hello' }) });
  const v1 = createService({ name: 'vgreeter', version: 'v1', mesh: false, registry: f.registry, logger: silentLogger });
  v1.handle('Vgreeter', { Hello: () => ({ via: 'v1' }) });
  const v2 = createService({ name: 'vgreeter', version: 'v2', mesh: false, registry: f.registry, logger: silentLogger });
  v2.handle('Vgreeter', { Hello: () => ({ via: 'v2' }) });
  const foo = createService({ name: 'foo', mesh: false, registry: f.registry, logger: silentLogger });
  foo.handle('Bar', { GetUser: () => ({ via: 'Bar.GetUser' }) });
  const foobar = createService({ name: 'foo.bar', mesh: false, registry: f.registry, logger: silentLogger });
  foobar.handle('Baz', { Cat: () => ({ via: 'foo.bar Baz.Cat' }) });
  for (const s of [greeter, v1, v2, foo, foobar]) {
    await s.start();
    f.services.push(s);
  }
});
after(() => f.stop());

test('path → service and endpoint by Go Micro rules (POST JSON, GET query)', async () => {
  const rows: [string, unknown][] = [
    ['/greeter/say/hello', 'Say.Hello'],
    ['/greeter/hello', 'Greeter.Hello'],
    ['/foo/bar/get-user', 'Bar.GetUser'],
    ['/foo/bar/baz/cat', 'foo.bar Baz.Cat'],
  ];
  for (const [path, via] of rows) {
    const r = await postJson(f.base + path, { name: 'Ada' });
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.via, via, path);
  }
  // A version prefix picks that version, every time.
  for (let i = 0; i < 5; i++) {
    assert.deepEqual((await postJson(`${f.base}/v1/vgreeter/hello`, {})).body, { via: 'v1' });
    assert.deepEqual((await postJson(`${f.base}/v2/vgreeter/hello`, {})).body, { via: 'v2' });
  }
  const q = await getJson(`${f.base}/echo/echo/echo?name=Ada&tag=a&tag=b`);
  assert.deepEqual(q.body, { name: 'Ada', tag: ['a', 'b'] });
});

test('CBOR in, CBOR out; JSON by default', async () => {
  const cbor = new CborCodec();
  const r = await fetch(`${f.base}/echo/echo/echo`, { method: 'POST', body: Buffer.from(cbor.encode({ n: 1, b: new Uint8Array([1, 2]) })), headers: { 'content-type': 'application/cbor' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/cbor');
  const back = cbor.decode(new Uint8Array(await r.arrayBuffer())) as { n: number; b: Uint8Array };
  assert.equal(back.n, 1);
  assert.deepEqual([...back.b], [1, 2]);
});

test('every response carries a request id; the client\'s own is kept', async () => {
  const a = await postJson(`${f.base}/echo/echo/meta`, {});
  assert.match(a.headers.get('x-request-id')!, /^[0-9a-f]{24}$/);
  const b = await postJson(`${f.base}/echo/echo/meta`, {}, { 'x-request-id': 'req-42' });
  assert.equal(b.headers.get('x-request-id'), 'req-42');
  assert.equal(b.body.metadata['x-request-id'], 'req-42');
  const miss = await getJson(`${f.base}/nowhere`);
  assert.ok(miss.headers.get('x-request-id'));
});

test('headers → metadata: the allowlist and the X-Micro- prefix pass, others do not; X-Forwarded-For gets the client', async () => {
  const r = await postJson(`${f.base}/echo/echo/meta`, {}, {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    authorization: 'Bearer t',
    'x-micro-tenant': 'acme',
    'x-forwarded-for': '203.0.113.9',
    cookie: 'secret=1',
    'x-other': 'no',
  });
  const md = r.body.metadata as Record<string, string>;
  assert.equal(md.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(md.authorization, 'Bearer t');
  assert.equal(md.tenant, 'acme');
  assert.match(md['x-forwarded-for']!, /^203\.0\.113\.9, (::ffff:)?127\.0\.0\.1$/);
  assert.equal(md.cookie, undefined);
  assert.equal(md['x-other'], undefined);
  assert.equal(r.body.hasDeadline, true, 'every call gets the default deadline');
});

test('a Timeout header sets the deadline: a slower handler answers 504 and sees its signal fire', async () => {
  const before = f.echo.state.cancelled;
  const r = await postJson(`${f.base}/echo/echo/slow`, { ms: 3000 }, { timeout: '0.2' });
  assert.equal(r.status, 504);
  assert.equal(r.body.code, 'TIMEOUT');
  assert.deepEqual(Object.keys(r.body).sort(), ['code', 'detail', 'id', 'status']);
  await until(async () => f.echo.state.cancelled, (n) => n > before, 'handler cancelled');
  assert.equal((await postJson(`${f.base}/echo/echo/slow`, { ms: 10 }, { timeout: '500ms' })).status, 200);
  assert.equal((await postJson(`${f.base}/echo/echo/slow`, { ms: 10 }, { timeout: 'soon' })).status, 400);
});

test('a client that goes away mid-call cancels the call: the handler sees its signal fire', async () => {
  const before = f.echo.state.cancelled;
  const ctl = new AbortController();
  const pending = fetch(`${f.base}/echo/echo/slow`, { method: 'POST', body: '{"ms":5000}', headers: { 'content-type': 'application/json' }, signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 200));
  ctl.abort();
  await assert.rejects(pending);
  await until(async () => f.echo.state.cancelled, (n) => n > before, 'handler cancelled after the client left');
});

test('errors map to HTTP status from their code, body {id, code, detail, status}', async () => {
  const table: [string, number][] = [
    ['BAD_REQUEST', 400], ['UNAUTHORIZED', 401], ['FORBIDDEN', 403], ['NOT_FOUND', 404], ['CONFLICT', 409],
    ['PAYLOAD_TOO_LARGE', 413], ['TOO_MANY_REQUESTS', 429], ['INTERNAL', 500], ['UNAVAILABLE', 503], ['TIMEOUT', 504],
    ['SOMETHING_OF_OURS', 500],
  ];
  for (const [code, status] of table) {
    const r = await postJson(`${f.base}/echo/echo/fail`, { code });
    assert.equal(r.status, status, code);
    assert.deepEqual(r.body, { id: 'echo', code, detail: `failed with ${code} on purpose`, status });
  }
  const crash = await postJson(`${f.base}/echo/echo/crash`, {});
  assert.equal(crash.status, 404, 'denied endpoints are not there');
});

test('unknown routes are 404, never 500: no service, no endpoint, too short a path', async () => {
  for (const path of ['/nobody/hello', '/greeter/nope', '/x', '/', '/echo/../etc']) {
    const r = await getJson(f.base + path);
    assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
    assert.ok(['NOT_FOUND', 'SERVICE_NOT_FOUND'].includes(r.body.code), path);
  }
});

test('internal endpoints are never exposed: $mesh and Debug (unless allowed by name)', async () => {
  assert.equal((await getJson(`${f.base}/echo/debug/health`)).status, 404);
  assert.equal((await postJson(`${f.base}/rpc`, { service: '$mesh', endpoint: 'Membership.Record' })).status, 404);
  assert.equal((await postJson(`${f.base}/rpc`, { service: 'echo', endpoint: 'Debug.Health' })).status, 404);
  const g = await startFixture({ allow: ['echo/Debug.Health', 'echo/Echo.*'] });
  try {
    assert.deepEqual((await getJson(`${g.base}/echo/debug/health`)).body, { status: 'ok' });
    assert.equal((await getJson(`${g.base}/echo/debug/stats`)).status, 404);
    assert.equal((await getJson(`${g.base}/echo/echo/echo`)).status, 200);
    assert.equal((await getJson(`${g.base}/users/1`)).status, 404, 'Users.* is not in the allow list');
  } finally {
    await g.stop();
  }
});

test('routes declared by services win over path rules, merge path params, and follow the registry live', async () => {
  const r = await getJson(`${f.base}/users/42?q=x`);
  assert.deepEqual(r.body, { id: '42', q: 'x' });
  assert.deepEqual((await getJson(`${f.base}/users`)).body, [{ id: '1' }]);
  assert.equal((await fetch(`${f.base}/users`, { method: 'HEAD' })).status, 200);
  assert.equal((await postJson(`${f.base}/users/42`, {})).status, 404, 'no POST route, and /users/42 is no service path');
  // A service registering later gets its routes; leaving removes them.
  const late = createService({ name: 'orders', mesh: false, registry: f.registry, logger: silentLogger });
  late.handle('Orders', { Create: (o: { item: string; shop: string }) => ({ ordered: o.item, shop: o.shop }) }, { metadata: routes({ Create: 'POST /shops/:shop/orders' }) });
  await late.start();
  const made = await until(() => postJson(`${f.base}/shops/s1/orders`, { item: 'tea' }), (x) => x.status === 200, 'route of a new service');
  assert.deepEqual(made.body, { ordered: 'tea', shop: 's1' });
  await late.stop();
  await until(() => postJson(`${f.base}/shops/s1/orders`, { item: 'tea' }), (x) => x.status === 404, 'route gone');
});

test('/rpc: {service, endpoint|method, request}, as JSON or a form; 400 without service or endpoint; off with rpcPath ""', async () => {
  assert.deepEqual((await postJson(`${f.base}/rpc`, { service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'R' } })).body, { msg: 'Hello R', via: 'Greeter.Hello' });
  assert.deepEqual((await postJson(`${f.base}/rpc`, { service: 'greeter', method: 'Greeter.Hello', request: '{"name":"S"}' })).body.msg, 'Hello S');
  const form = await fetch(`${f.base}/rpc`, { method: 'POST', body: new URLSearchParams({ service: 'greeter', endpoint: 'Greeter.Hello', request: '{"name":"F"}' }) });
  assert.equal((await form.json() as { msg: string }).msg, 'Hello F');
  const addr = f.services[0]!.address!;
  assert.deepEqual((await postJson(`${f.base}/rpc`, { service: 'echo', endpoint: 'Echo.Echo', request: { a: 1 }, address: addr })).body, { a: 1 });
  for (const bad of [{ endpoint: 'Greeter.Hello' }, { service: 'greeter' }, { service: 'greeter', endpoint: 'nodot' }, [1]]) {
    const r = await postJson(`${f.base}/rpc`, bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.body.code, 'BAD_REQUEST');
  }
  const g = await startFixture({ http: { rpcPath: '' } });
  try {
    assert.equal((await postJson(`${g.base}/rpc`, { service: 'echo', endpoint: 'Echo.Echo' })).status, 404);
  } finally {
    await g.stop();
  }
});

test('CORS: preflight answered on /rpc, declared routes and path routes; configured origins only', async () => {
  for (const path of ['/rpc', '/users/1', '/greeter/hello']) {
    const r = await fetch(f.base + path, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-micro-tenant' } });
    assert.equal(r.status, 204, path);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(r.headers.get('access-control-allow-headers')!, /x-micro-tenant/);
  }
  const g = await startFixture({ http: { cors: { origins: ['http://good.example'], credentials: true, maxAgeS: 60 } } });
  try {
    const ok = await fetch(`${g.base}/rpc`, { method: 'OPTIONS', headers: { origin: 'http://good.example', 'access-control-request-method': 'POST' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://good.example');
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(ok.headers.get('access-control-max-age'), '60');
    const bad = await fetch(`${g.base}/rpc`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(bad.headers.get('access-control-allow-origin'), null);
    const simple = await fetch(`${g.base}/echo/echo/echo`, { headers: { origin: 'http://good.example' } });
    assert.equal(simple.headers.get('access-control-allow-origin'), 'http://good.example');
    assert.match(simple.headers.get('access-control-expose-headers')!, /X-Request-Id/i);
  } finally {
    await g.stop();
  }
});

test('event handler: POST /events/<topic> publishes the body as sent, headers as metadata', async () => {
  const got: { body: Uint8Array; headers: Record<string, string> }[] = [];
  const sub = await f.services[0]!.broker.subscribe('orders.created', (m) => void got.push({ body: m.body, headers: m.headers }));
  const r = await fetch(`${f.base}/events/orders.created`, { method: 'POST', body: '{"id":7}', headers: { 'content-type': 'application/json', 'x-micro-source': 'web' } });
  assert.equal(r.status, 202);
  await until(async () => got.length, (n) => n === 1, 'event delivered');
  assert.equal(Buffer.from(got[0]!.body).toString(), '{"id":7}');
  assert.equal(got[0]!.headers['content-type'], 'application/json');
  assert.equal(got[0]!.headers.source, 'web');
  assert.equal((await fetch(`${f.base}/events/bad topic!`, { method: 'POST', body: 'x' })).status, 400);
  await sub.unsubscribe();
});
