// The agent's health checks (src/agent/checks.ts): TTL expiry and the reaper on a VirtualClock; HTTP and TCP probes
// against real servers on 127.0.0.1; output cut at the limit; removed or replaced checks never report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { MeshError, SystemClock, VirtualClock, silentLogger, type Clock } from '../../../src/index.ts';
import {
  AgentChecks, httpCheckStatus, reapDue, truncateOutput, ttlExpiredOutput, type CheckState,
} from '../../../src/agent/checks.ts';
import type { CheckDefinition } from '../../../src/agent/registration.ts';

function def(over: Partial<CheckDefinition> & Pick<CheckDefinition, 'kind'>): CheckDefinition {
  return {
    id: 'service:web', name: "Service 'web' check", serviceId: 'web', serviceName: 'web',
    timeoutMs: 10_000, initialStatus: 'critical', notes: '', ...over,
  };
}

/** AgentChecks with every onChange and onDeregister recorded, and a way to wait for the next change. */
function harness(clock: Clock, outputLimitBytes = 4096, reapIntervalMs?: number) {
  const changes: CheckState[] = [];
  const deregistered: [string, string][] = [];
  let waiter: ((c: CheckState) => void) | undefined;
  const checks = new AgentChecks({
    clock, logger: silentLogger, outputLimitBytes, reapIntervalMs,
    onChange: (c) => {
      changes.push(c);
      waiter?.(c);
    },
    onDeregister: (s, c) => deregistered.push([s, c]),
  });
  const next = (): Promise<CheckState> => new Promise((resolve) => { waiter = resolve; });
  return { checks, changes, deregistered, next };
}

async function listen(server: http.Server | net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

test('pure rules: HTTP status → check status, output cut in bytes and on a character boundary, TTL output, reap due', () => {
  assert.deepEqual([200, 204, 299, 429, 300, 404, 500, 503].map(httpCheckStatus),
    ['passing', 'passing', 'passing', 'warning', 'critical', 'critical', 'critical', 'critical']);
  assert.equal(truncateOutput('short', 64), 'short');
  const cut = truncateOutput('é'.repeat(100), 64);
  assert.ok(Buffer.byteLength(cut) <= 64, cut);
  assert.match(cut, /^é+\n\.\.\. \(output truncated to 64 bytes\)$/);
  assert.ok(Buffer.byteLength(truncateOutput('x'.repeat(100), 10)) <= 10, 'a limit below the note still holds');
  assert.equal(ttlExpiredOutput(''), 'TTL expired');
  assert.equal(ttlExpiredOutput('ok'), 'TTL expired (last output before timeout follows): ok');
  const d = def({ kind: 'ttl', ttlMs: 1000, deregisterCriticalAfterMs: 60_000 });
  assert.equal(reapDue({ status: 'critical', changedAtMs: 0, definition: d }, 60_000), false);
  assert.equal(reapDue({ status: 'critical', changedAtMs: 0, definition: d }, 60_001), true);
  assert.equal(reapDue({ status: 'warning', changedAtMs: 0, definition: d }, 1e9), false);
  assert.equal(reapDue({ status: 'critical', changedAtMs: 0, definition: def({ kind: 'ttl', ttlMs: 1 }) }, 1e9), false);
});

test('TTL: starts critical, an update passes it and restarts the TTL, silence turns it critical with Consul\'s output', () => {
  const clock = new VirtualClock();
  const { checks, changes } = harness(clock, 64);
  const t0 = clock.now();
  checks.add([def({ kind: 'ttl', ttlMs: 10_000, notes: 'n' })]);
  assert.equal(checks.get('service:web')?.status, 'critical');
  assert.equal(changes.length, 0, 'adding is no change');
  assert.equal(checks.update('service:web', 'passing', 'ok'), true);
  assert.deepEqual(changes.map((c) => [c.status, c.output]), [['passing', 'ok']]);
  assert.equal(checks.update('service:web', 'passing', 'ok'), true);
  assert.equal(changes.length, 1, 'the same status and output is no change');
  clock.advance(9_000);
  checks.update('service:web', 'passing', 'ok');
  clock.advance(9_000);
  assert.equal(checks.get('service:web')?.status, 'passing', 'the update restarted the TTL');
  clock.advance(1_001);
  assert.deepEqual(checks.get('service:web')?.output, 'TTL expired (last output before timeout follows): ok');
  assert.equal(checks.get('service:web')?.status, 'critical');
  assert.equal(checks.get('service:web')?.changedAtMs, t0 + 19_000, 'it changed when the TTL ran out, 10 s after the last update');
  assert.equal(changes.length, 2);
  checks.update('service:web', 'warning', 'w'.repeat(200));
  const out = checks.get('service:web')!.output;
  assert.ok(Buffer.byteLength(out) <= 64 && out.endsWith('(output truncated to 64 bytes)'), out);
  assert.equal(checks.update('nope', 'passing', ''), false);
  checks.stop();
});

test('a service critical longer than DeregisterCriticalServiceAfter is reaped once; passing and other services stay', () => {
  const clock = new VirtualClock();
  const { checks, deregistered } = harness(clock);
  const after = 60_000;
  checks.add([def({ id: 'a:1', serviceId: 'a', kind: 'ttl', ttlMs: 1e9, deregisterCriticalAfterMs: after }),
    def({ id: 'a:2', serviceId: 'a', kind: 'ttl', ttlMs: 1e9, deregisterCriticalAfterMs: after })]);
  checks.add([def({ id: 'b', serviceId: 'b', kind: 'ttl', ttlMs: 1e9, deregisterCriticalAfterMs: after })]);
  checks.add([def({ id: 'c', serviceId: 'c', kind: 'ttl', ttlMs: 1e9 })]);
  checks.update('b', 'passing', '');
  clock.advance(60_000);
  assert.deepEqual(deregistered, [], 'critical for exactly the limit is not longer than it');
  clock.advance(30_000);
  assert.deepEqual(deregistered, [['a', 'a:1']], 'once per service, at the next reap (every 30 s)');
  assert.deepEqual(checks.list().map((c) => c.id).sort(), ['b', 'c'], 'the reaped service\'s checks are gone');
  checks.update('b', 'critical', 'down');
  clock.advance(120_000);
  assert.deepEqual(deregistered, [['a', 'a:1'], ['b', 'b']], 'critical counts from when it turned critical');
  clock.advance(600_000);
  assert.deepEqual(checks.list().map((c) => c.id), ['c'], 'no DeregisterCriticalServiceAfter: never reaped');
  assert.equal(clock.nextDue() !== undefined, true);
  checks.stop();
  checks.stop();
  assert.equal(clock.nextDue(), undefined, 'stop clears every timer');
  assert.throws(() => checks.add([def({ kind: 'ttl', ttlMs: 1 })]), (e: unknown) => e instanceof MeshError && e.code === 'NOT_RUNNING');
});

test('removed checks never report, on a TTL or from a probe in flight; a replaced check reports only its new self', async () => {
  const clock = new VirtualClock();
  const ttl = harness(clock);
  ttl.checks.add([def({ kind: 'ttl', ttlMs: 1_000 })]);
  ttl.checks.removeService('web');
  clock.advance(5_000);
  assert.deepEqual(ttl.changes, []);
  assert.equal(ttl.checks.update('service:web', 'passing', ''), false);

  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('new');
  });
  const port = await listen(server);
  const h = harness(new SystemClock());
  h.checks.add([def({ kind: 'http', intervalMs: 60_000, http: { url: `http://127.0.0.1:${port}/hold`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  while (held.length === 0) await new Promise((r) => setImmediate(r));
  h.checks.removeService('web');
  held[0]!.end('late');
  h.checks.add([def({ id: 'x', kind: 'http', intervalMs: 60_000, http: { url: `http://127.0.0.1:${port}/hold`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  while (held.length === 1) await new Promise((r) => setImmediate(r));
  const replaced = h.next();
  h.checks.add([def({ id: 'x', kind: 'http', intervalMs: 60_000, http: { url: `http://127.0.0.1:${port}/new`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  held[1]!.end('late');
  assert.match((await replaced).output, /Output: new$/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(h.changes.map((c) => [c.id, c.output.slice(-3)]), [['x', 'new']], 'no late report from the removed or replaced probe');
  h.checks.stop();
  server.close();
});

test('HTTP: 2xx passing, 429 warning, 500 critical, refused critical; method, headers and body sent; output as Consul\'s', async () => {
  const seen: { method?: string; token?: string | string[]; agent?: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method, token: req.headers['x-token'], agent: req.headers['user-agent'], body });
      res.statusCode = Number(req.url?.slice(1));
      res.end(req.url === '/200' ? 'all good' : 'meh');
    });
  });
  const port = await listen(server);
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const h = harness(new SystemClock());
  const run = async (path: string, method = 'GET'): Promise<CheckState> => {
    const changed = h.next();
    h.checks.add([def({ kind: 'http', intervalMs: 60_000, http: { url: url(path), method, headers: { 'X-Token': ['a', 'b'] }, body: method === 'POST' ? '{"q":1}' : '', tlsSkipVerify: false } })]);
    return changed;
  };
  const ok = await run('/200');
  assert.equal(ok.status, 'passing');
  assert.equal(ok.output, `HTTP GET ${url('/200')}: 200 OK Output: all good`);
  assert.equal((await run('/429')).status, 'warning');
  const failed = await run('/500', 'POST');
  assert.equal(failed.status, 'critical');
  assert.equal(failed.output, `HTTP POST ${url('/500')}: 500 Internal Server Error Output: meh`);
  assert.deepEqual(seen.at(-1), { method: 'POST', token: 'a, b', agent: 'Consul Health Check', body: '{"q":1}' });
  const dead = await closedPort();
  h.checks.add([def({ kind: 'http', initialStatus: 'passing', intervalMs: 60_000, http: { url: `http://127.0.0.1:${dead}/`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  const refused = await h.next();
  assert.equal(refused.status, 'critical');
  assert.match(refused.output, /^HTTP GET http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/);
  h.checks.stop();
  server.close();
});

test('HTTP: the body is read only up to the output limit; a slow server times out; probes of a check never overlap', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url === '/big') {
      res.end('x'.repeat(1_000_000));
    } else if (req.url === '/slow') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => { inFlight--; res.end('done'); }, 30);
    }
    // '/never' never answers.
  });
  const port = await listen(server);
  const h = harness(new SystemClock(), 256);
  h.checks.add([def({ kind: 'http', intervalMs: 60_000, http: { url: `http://127.0.0.1:${port}/big`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  const big = await h.next();
  assert.ok(Buffer.byteLength(big.output) <= 256 && big.output.endsWith('(output truncated to 256 bytes)'), big.output);
  assert.equal(big.status, 'passing');

  h.checks.add([def({ kind: 'http', timeoutMs: 100, intervalMs: 60_000, http: { url: `http://127.0.0.1:${port}/never`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false }, initialStatus: 'passing' })]);
  const slow = await h.next();
  assert.equal(slow.status, 'critical');
  assert.match(slow.output, /timed out after 100 ms/);

  // An interval shorter than the response time: the next probe starts only after the last one ended.
  h.checks.add([def({ kind: 'http', intervalMs: 1, http: { url: `http://127.0.0.1:${port}/slow`, method: 'GET', headers: {}, body: '', tlsSkipVerify: false } })]);
  const start = requests;
  while (requests < start + 4) await new Promise((r) => setTimeout(r, 10));
  h.checks.stop();
  assert.equal(maxInFlight, 1);
  server.closeAllConnections();
  server.close();
});

test('TCP: a connect passes, a refused connect is critical', async () => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  const h = harness(new SystemClock());
  h.checks.add([def({ kind: 'tcp', intervalMs: 60_000, tcp: `127.0.0.1:${port}` })]);
  const up = await h.next();
  assert.deepEqual([up.status, up.output], ['passing', `TCP connect 127.0.0.1:${port}: Success`]);
  const dead = await closedPort();
  h.checks.add([def({ id: 'down', kind: 'tcp', intervalMs: 60_000, tcp: `127.0.0.1:${dead}`, initialStatus: 'passing' })]);
  const down = await h.next();
  assert.equal(down.status, 'critical');
  assert.match(down.output, new RegExp(`^TCP connect 127\\.0\\.0\\.1:${dead}: .*ECONNREFUSED`));
  assert.throws(() => h.checks.update('down', 'passing', ''), (e: unknown) => e instanceof MeshError && e.code === 'BAD_REQUEST' && /not a TTL check/.test(e.message));
  h.checks.stop();
  server.close();
});
