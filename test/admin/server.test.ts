import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { AdminServer, type AdminOptions, type AdminSource, type HttpSdGroup } from '../../src/admin/index.ts';
import { SystemClock } from '../../src/clock/index.ts';
import { MeshError } from '../../src/errors/index.ts';
import { silentLogger, type LogFields, type Logger } from '../../src/log/index.ts';

/** A source whose answers the test sets. */
class FakeSource implements AdminSource {
  ready: { ready: boolean; reason?: string } = { ready: false, reason: 'joining the mesh' };
  groups: HttpSdGroup[] = [];
  metricsCalls = 0;
  metricsImpl: (signal?: AbortSignal) => Promise<{ contentType: string; body: string }> = async () => ({
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    body: '# TYPE calls_total counter\ncalls_total 3\n',
  });
  statsImpl: (signal?: AbortSignal) => Promise<unknown> = async () => ({ started: 1, calls: 5n });
  metrics(signal?: AbortSignal) {
    this.metricsCalls++;
    return this.metricsImpl(signal);
  }
  readiness() {
    return this.ready;
  }
  stats(signal?: AbortSignal) {
    return this.statsImpl(signal);
  }
  targets() {
    return this.groups;
  }
}

/** Collects warnings, to see source failures logged. */
class Recorder implements Logger {
  warnings: { msg: string; fields?: LogFields }[] = [];
  debug() {}
  info() {}
  warn(msg: string, fields?: LogFields) {
    this.warnings.push({ msg, fields });
  }
  error() {}
  child() {
    return this;
  }
}

async function started(t: { after(fn: () => Promise<void>): void }, o: Partial<AdminOptions> = {}) {
  const source = new FakeSource();
  const server = new AdminServer({ address: '127.0.0.1:0', source, clock: new SystemClock(), logger: silentLogger, ...o });
  await server.start();
  t.after(() => server.stop());
  const base = `http://${server.address}`;
  return { source, server, base };
}

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One request through node:http, any method, optional body (sent chunked when `chunked`). */
function call(base: string, method: string, path: string, body?: { data: string; chunked?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : body.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body.data) };
    const req = request(`${base}${path}`, { method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body.data);
    req.end();
  });
}

/** Writes raw bytes and returns whatever comes back until the server closes. */
function raw(address: string, bytes: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port }, () => s.write(bytes));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

const json = (a: Answer): unknown => JSON.parse(a.body);

test('/metrics answers the source\'s text with its content type', async (t) => {
  const { base } = await started(t);
  const r = await call(base, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(r.body, '# TYPE calls_total counter\ncalls_total 3\n');
  assert.equal(r.headers['cache-control'], 'no-store');
});

test('HEAD gives the headers and no body', async (t) => {
  const { base } = await started(t);
  const r = await call(base, 'HEAD', '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(Number(r.headers['content-length']), '# TYPE calls_total counter\ncalls_total 3\n'.length);
  assert.equal((await call(base, 'HEAD', '/health/live')).status, 200);
});

test('/health/live is 200 while it runs; /health/ready follows the source', async (t) => {
  const { base, source } = await started(t);
  const live = await call(base, 'GET', '/health/live');
  assert.equal(live.status, 200);
  assert.deepEqual(json(live), { status: 'ok' });

  const notYet = await call(base, 'GET', '/health/ready');
  assert.equal(notYet.status, 503);
  assert.match(String(notYet.headers['content-type']), /^application\/json/);
  assert.deepEqual(json(notYet), { status: 'unavailable', reason: 'joining the mesh' });

  source.ready = { ready: true };
  const ready = await call(base, 'GET', '/health/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(json(ready), { status: 'ok' });

  source.ready = { ready: false, reason: 'draining' };
  assert.deepEqual(json(await call(base, 'GET', '/health/ready')), { status: 'unavailable', reason: 'draining' });
  source.ready = { ready: false };
  assert.deepEqual(json(await call(base, 'GET', '/health/ready')), { status: 'unavailable', reason: 'not ready' });
});

test('/debug/stats is the source\'s document as JSON (bigints as strings)', async (t) => {
  const { base } = await started(t);
  const r = await call(base, 'GET', '/debug/stats');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(json(r), { started: 1, calls: '5' });
});

test('/v1/prometheus/targets is http_sd: 200, application/json, [] when none, the full list each time', async (t) => {
  const { base, source } = await started(t);
  const empty = await call(base, 'GET', '/v1/prometheus/targets');
  assert.equal(empty.status, 200);
  assert.match(String(empty.headers['content-type']), /^application\/json/);
  assert.equal(empty.body, '[]');
  source.groups = [
    { targets: ['127.0.0.1:9101'], labels: { __meta_micromesh_node_id: 'a' } },
    { targets: ['127.0.0.1:9102'], labels: { __meta_micromesh_node_id: 'b' } },
  ];
  assert.deepEqual(json(await call(base, 'GET', '/v1/prometheus/targets')), source.groups);
  assert.deepEqual(json(await call(base, 'GET', '/v1/prometheus/targets?x=1')), source.groups);
});

test('unknown paths get 404 and other methods 405 with Allow, as JSON errors', async (t) => {
  const { base } = await started(t);
  const nf = await call(base, 'GET', '/nope');
  assert.equal(nf.status, 404);
  const e = json(nf) as { id: string; code: string; detail: string; status: number };
  assert.equal(e.code, 'NOT_FOUND');
  assert.equal(e.status, 404);
  assert.equal(e.id, 'micromesh.admin');
  assert.match(e.detail, /\/nope/);
  assert.equal((await call(base, 'GET', '/metrics/')).status, 404);

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await call(base, method, '/metrics');
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.equal((json(r) as { code: string }).code, 'METHOD_NOT_ALLOWED');
  }
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('bodies: a small one is ignored, one over the limit gets 413 (declared or chunked)', async (t) => {
  const { base } = await started(t, { maxBodyBytes: 16 });
  assert.equal((await call(base, 'GET', '/health/live', { data: 'tiny' })).status, 200);
  const big = await call(base, 'GET', '/health/live', { data: 'x'.repeat(1000) });
  assert.equal(big.status, 413);
  assert.equal((json(big) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  assert.equal(big.headers.connection, 'close');
  const chunked = await call(base, 'GET', '/health/live', { data: 'x'.repeat(1000), chunked: true });
  assert.equal(chunked.status, 413);
  assert.equal((await call(base, 'GET', '/health/live', { data: 'tiny', chunked: true })).status, 200);
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('a URL over the limit gets 414; a request head over its limit 431', async (t) => {
  const { base, server } = await started(t, { maxUrlBytes: 64 });
  const r = await call(base, 'GET', `/metrics?${'q'.repeat(100)}`);
  assert.equal(r.status, 414);
  assert.equal((json(r) as { code: string; status: number }).status, 414);
  const head = await raw(server.address!, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
  assert.match(head, /^HTTP\/1\.1 431 /);
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('malformed requests get 400 and the port keeps answering', async (t) => {
  const { base, server } = await started(t);
  const line = await raw(server.address!, 'GET /metrics\u0001 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(line, /^HTTP\/1\.1 400 /);
  const body = JSON.parse(line.slice(line.indexOf('\r\n\r\n') + 4)) as { code: string; status: number };
  assert.equal(body.code, 'BAD_REQUEST');
  assert.equal(body.status, 400);
  assert.match(await raw(server.address!, 'this is not http\r\n\r\n'), /^HTTP\/1\.1 400 /);
  // A request target that is neither a path nor an absolute URL.
  const target = await raw(server.address!, 'GET metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(target, /^HTTP\/1\.1 400 /);
  // The absolute form is a valid target.
  assert.match(await raw(server.address!, `GET http://${server.address}/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 200 /);
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('a throwing source gets 500 with a stable code, logged, and the port stays up', async (t) => {
  const logger = new Recorder();
  const { base, source } = await started(t, { logger });
  source.metricsImpl = async () => {
    throw new Error('registry exploded');
  };
  const r = await call(base, 'GET', '/metrics');
  assert.equal(r.status, 500);
  assert.deepEqual(json(r), { id: 'micromesh.admin', code: 'INTERNAL', detail: 'registry exploded', status: 500 });
  assert.equal(logger.warnings.length, 1);
  assert.equal(logger.warnings[0]!.fields?.code, 'INTERNAL');
  // A second failure within the interval is counted, not logged.
  assert.equal((await call(base, 'GET', '/metrics')).status, 500);
  assert.equal(logger.warnings.length, 1);

  // A typed error keeps its code; a 4xx status from a source is still the server's fault (500).
  source.statsImpl = async () => {
    throw new MeshError('NOT_RUNNING', 'stopped');
  };
  assert.deepEqual(json(await call(base, 'GET', '/debug/stats')), { id: 'micromesh', code: 'NOT_RUNNING', detail: 'stopped', status: 503 });
  source.statsImpl = async () => {
    throw new MeshError('NOT_FOUND', 'odd');
  };
  assert.equal((await call(base, 'GET', '/debug/stats')).status, 500);
  // Synchronous throws and documents that are not JSON too.
  source.ready = null as never;
  assert.equal((await call(base, 'GET', '/health/ready')).status, 500);
  source.statsImpl = async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    return cyclic;
  };
  const cyc = await call(base, 'GET', '/debug/stats');
  assert.equal(cyc.status, 500);
  assert.equal((json(cyc) as { code: string }).code, 'ENCODE_FAILED');
  source.groups = null as never;
  source.targets = () => {
    throw new Error('no members');
  };
  assert.equal((await call(base, 'GET', '/v1/prometheus/targets')).status, 500);

  source.metricsImpl = async () => ({ contentType: 'text/plain', body: 'ok 1\n' });
  assert.equal((await call(base, 'GET', '/metrics')).body, 'ok 1\n');
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('a source slower than sourceTimeoutMs gets 504 TIMEOUT, and its signal is aborted', async (t) => {
  const { base, source } = await started(t, { sourceTimeoutMs: 50 });
  let seen: AbortSignal | undefined;
  source.metricsImpl = (signal) => {
    seen = signal;
    return new Promise(() => {}); // never settles, ignores the signal
  };
  const r = await call(base, 'GET', '/metrics');
  assert.equal(r.status, 504);
  assert.equal((json(r) as { code: string }).code, 'TIMEOUT');
  assert.equal(seen?.aborted, true);
  assert.equal((await call(base, 'GET', '/health/live')).status, 200);
});

test('stop answers requests waiting on the source with 503 and closes the port', async (t) => {
  const { base, source, server } = await started(t);
  let signal: AbortSignal | undefined;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  source.metricsImpl = (s) => {
    signal = s;
    entered();
    return new Promise(() => {});
  };
  const pending = call(base, 'GET', '/metrics');
  await inside;
  await server.stop();
  const r = await pending;
  assert.equal(r.status, 503);
  assert.equal((json(r) as { code: string }).code, 'SERVER_STOPPING');
  assert.equal(signal?.aborted, true);
  await assert.rejects(call(base, 'GET', '/health/live'), { code: 'ECONNREFUSED' });
});

test('start and stop are idempotent; it starts again after a stop; address is the bound port', async () => {
  const server = new AdminServer({ address: '127.0.0.1:0', source: new FakeSource(), clock: new SystemClock(), logger: silentLogger });
  assert.equal(server.address, undefined);
  await server.stop(); // before start: nothing to do
  await Promise.all([server.start(), server.start()]);
  await server.start();
  const address = server.address!;
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(address, '127.0.0.1:0');
  assert.equal((await call(`http://${address}`, 'GET', '/health/live')).status, 200);
  await Promise.all([server.stop(), server.stop()]);
  await server.stop();
  assert.equal(server.address, undefined);
  await assert.rejects(call(`http://${address}`, 'GET', '/health/live'), { code: 'ECONNREFUSED' });
  await server.start();
  assert.equal((await call(`http://${server.address}`, 'GET', '/health/live')).status, 200);
  await server.stop();
});

test('a port in use fails start with UNAVAILABLE, and an aborted signal stops a start', async (t) => {
  const { server: first } = await started(t);
  const second = new AdminServer({ address: first.address!, source: new FakeSource(), clock: new SystemClock(), logger: silentLogger });
  await assert.rejects(second.start(), (e: unknown) => e instanceof MeshError && e.code === 'UNAVAILABLE' && /EADDRINUSE/.test(e.detail));
  assert.equal(second.address, undefined);
  const ac = new AbortController();
  ac.abort(new Error('never mind'));
  await assert.rejects(second.start({ signal: ac.signal }), /never mind/);
  assert.throws(() => new AdminServer({ address: 'nowhere', source: new FakeSource(), clock: new SystemClock(), logger: silentLogger }), { code: 'INVALID_CONFIG' });
});
