// `micromesh sidecar` across real processes on 127.0.0.1 (mDNS off, seeds
// through --join): the demo greeter, the sidecar, a Python app behind it
// (test/support/sidecar_app.py), and this process as a Node mesh member.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MeshError, createService, silentLogger, type Service } from 'micromesh';
import { CLI, cli } from '../support/cli.ts';
import { getJson, postJson, until } from '../support/gateway.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';

const APP = fileURLToPath(new URL('../support/sidecar_app.py', import.meta.url));
const NAME = 'shop';
const HEALTH_INTERVAL_MS = 1000;

const children: JsonLinesProcess[] = [];
let caller: Service;
let greeterGossip: string;
let appAddress: string;
let sidecarBase: string;
let app: JsonLinesProcess;

function start(cmd: string, args: string[], label: string): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), label);
  children.push(p);
  return p;
}

/** A port free now (the sidecar's address must be known before the app that calls it starts). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startApp(port: number): Promise<JsonLinesProcess> {
  const p = start('python3', [APP, '--sidecar', sidecarBase.slice('http://'.length), '--port', String(port)], 'python app');
  appAddress = (await p.waitFor((m) => typeof m.app === 'string', 10_000, 'app start')).app as string;
  return p;
}

const registered = async (): Promise<number> => (await caller.registry.getService(NAME)).flatMap((s) => s.nodes).length;

before(async () => {
  const greeter = start(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', 'run', '--demo'], 'greeter');
  greeterGossip = (await greeter.waitFor((m) => typeof m.gossip === 'string', 20_000, 'greeter start')).gossip as string;
  sidecarBase = `http://127.0.0.1:${await freePort()}`;
  app = await startApp(0);
  // The sidecar imports the toolkit through 'micromesh', which tsx maps to the sources.
  const sidecar = start(process.execPath, [
    '--import', 'tsx', CLI, '--no-mdns', '--interface', 'lo', '--join', greeterGossip,
    'sidecar', '--app-name', NAME, '--app-address', appAddress, '--address', sidecarBase.slice('http://'.length),
    '--health-url', `http://${appAddress}/health`, '--health-interval', `${HEALTH_INTERVAL_MS}ms`,
  ], 'sidecar');
  const started = await sidecar.waitFor((m) => typeof m.sidecar === 'string', 30_000, 'sidecar start');
  assert.deepEqual(started.endpoints, ['Foo.Bar', 'Foo.Headers', 'Foo.Status', 'Foo.Custom', 'Foo.Garbage', 'Foo.Fail', 'Foo.Hang', 'Foo.Big'], 'endpoints from the app');
  caller = createService({ name: 'caller', address: '127.0.0.1:0', logger: silentLogger, mesh: { join: [greeterGossip], mdns: false } });
  await caller.start();
  await until(registered, (n) => n === 1, `${NAME} in the caller's registry`, 20_000);
}, { timeout: 60_000 });

after(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await caller?.stop();
});

const callApp = (endpoint: string, req: unknown, timeoutMs = 5000) => caller.client.call<any>(NAME, endpoint, req, { timeoutMs, retries: 0 });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeshError, String(err));
    return err.code;
  }
  return 'OK';
}

test('a Node caller calls the Python app by name; the app answers with what the greeter said through the sidecar', { timeout: 30_000 }, async () => {
  assert.deepEqual(await callApp('Foo.Bar', { name: 'Ada' }), { reply: 'Hello Ada', via: 'python' });
  // Metadata travels as headers (allowlisted as is, the rest prefixed), with the remaining deadline.
  const { headers } = await caller.client.call<{ headers: Record<string, string> }>(NAME, 'Foo.Headers', {}, { metadata: { tenant: 'acme', traceparent: '00-abc-def-01' } });
  assert.equal(headers['x-micro-tenant'], 'acme');
  assert.equal(headers.traceparent, '00-abc-def-01');
  assert.match(headers.timeout!, /^\d+ms$/);
});

test('app misbehaviour becomes the right error code, within the deadline, and the sidecar keeps serving', { timeout: 30_000 }, async () => {
  assert.equal(await codeOf(callApp('Foo.Garbage', {})), 'PROTOCOL_ERROR');
  await assert.rejects(callApp('Foo.Garbage', {}), (e: MeshError) => e.detail.includes(`app "${NAME}"`));
  assert.equal(await codeOf(callApp('Foo.Fail', {})), 'INTERNAL');
  await assert.rejects(callApp('Foo.Fail', {}), (e: MeshError) => e.detail === 'boom: the app failed on purpose');
  assert.equal(await codeOf(callApp('Foo.Custom', {})), 'OUT_OF_STOCK', "the app's own error body is used as is");
  assert.equal(await codeOf(callApp('Foo.Big', {})), 'PAYLOAD_TOO_LARGE');
  const table: [number, string][] = [
    [400, 'BAD_REQUEST'], [401, 'UNAUTHORIZED'], [403, 'FORBIDDEN'], [404, 'NOT_FOUND'], [405, 'METHOD_NOT_ALLOWED'],
    [408, 'TIMEOUT'], [409, 'CONFLICT'], [413, 'PAYLOAD_TOO_LARGE'], [429, 'TOO_MANY_REQUESTS'], [503, 'UNAVAILABLE'],
    [504, 'TIMEOUT'], [502, 'INTERNAL'], [500, 'INTERNAL'],
  ];
  for (const [status, code] of table) assert.equal(await codeOf(callApp('Foo.Status', { status })), code, `HTTP ${status}`);
  const t0 = Date.now();
  assert.equal(await codeOf(callApp('Foo.Hang', {}, 1500)), 'TIMEOUT');
  assert.ok(Date.now() - t0 < 1500 + 1000, 'the hung app costs the caller its deadline, not more');
  assert.deepEqual(await callApp('Foo.Bar', { name: 'still here' }), { reply: 'Hello still here', via: 'python' });
});

test('/health is the app\'s health; /registry lists, watches over SSE, registers with a TTL that expires, deregisters', { timeout: 30_000 }, async () => {
  const health = await getJson(`${sidecarBase}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'passing');
  assert.equal(health.body.app, NAME);

  const listed = await getJson(`${sidecarBase}/registry?service=greeter`);
  assert.equal(listed.status, 200);
  assert.equal(listed.body[0].name, 'greeter');
  assert.equal((await getJson(`${sidecarBase}/registry/nobody`)).body.code, 'NOT_FOUND');

  const watch = await fetch(`${sidecarBase}/registry?service=legacy`, { headers: { accept: 'text/event-stream' } });
  assert.equal(watch.status, 200);
  const events = sseEvents(watch);
  const record = { name: 'legacy', version: '1.0', metadata: {}, endpoints: [{ name: 'Legacy.Call' }], nodes: [{ id: 'legacy-1', address: '127.0.0.1:9999', metadata: { zone: 'a' } }] };
  const posted = await postJson(`${sidecarBase}/registry?ttl=1500ms`, record);
  assert.equal(posted.status, 200, JSON.stringify(posted.body));
  const got = await getJson(`${sidecarBase}/registry/legacy`);
  assert.deepEqual(got.body[0].nodes, [{ id: 'legacy-1', address: '127.0.0.1:9999', metadata: { zone: 'a' } }]);
  // Posted records are the sidecar's: the whole mesh sees them.
  await until(async () => (await caller.registry.getService('legacy')).length, (n) => n === 1, 'legacy in the mesh');
  assert.deepEqual((await events.next()).value, { type: 'add', node: 'legacy-1' });
  // Not posted again: it expires on its own.
  assert.deepEqual((await events.next()).value, { type: 'remove', node: 'legacy-1' });
  assert.equal((await getJson(`${sidecarBase}/registry/legacy`)).status, 404);

  await postJson(`${sidecarBase}/registry`, { ...record, nodes: [{ id: 'legacy-2', address: '127.0.0.1:9998' }] });
  assert.deepEqual((await events.next()).value, { type: 'add', node: 'legacy-2' });
  const del = await fetch(`${sidecarBase}/registry`, { method: 'DELETE', body: JSON.stringify({ ...record, nodes: [{ id: 'legacy-2', address: '127.0.0.1:9998' }] }), headers: { 'content-type': 'application/json' } });
  assert.equal(del.status, 200);
  assert.deepEqual((await events.next()).value, { type: 'remove', node: 'legacy-2' });
  await events.return(undefined);

  const bad = await postJson(`${sidecarBase}/registry?ttl=soon`, record);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'BAD_REQUEST');
  assert.equal((await postJson(`${sidecarBase}/registry`, { name: 'x', nodes: [] })).body.code, 'BAD_REQUEST');
});

test('a Python subscriber on /broker receives what a Node service publishes', { timeout: 30_000 }, async () => {
  const sub = start('python3', [APP, '--sidecar', sidecarBase.slice('http://'.length), '--subscribe', 'orders.created'], 'python subscriber');
  await sub.waitFor((m) => m.subscribed === 'orders.created', 10_000, 'subscription');
  // The subscription reaches the publisher with the sidecar's membership record: publish until it arrives.
  await until(async () => {
    await caller.client.publish('orders.created', { id: 7, item: 'widget' }, { metadata: { tenant: 'acme' } });
    return sub.messages.length;
  }, (n) => n > 1, 'a message at the Python subscriber', 15_000);
  const msg = sub.messages.find((m) => m.topic === 'orders.created')!;
  assert.deepEqual(msg.body, { id: 7, item: 'widget' }, 'a CBOR body arrives decoded');
  assert.equal((msg.metadata as Record<string, string>).tenant, 'acme');
  assert.equal(msg.encoding, undefined);
  sub.child.kill('SIGTERM');
});

test('SIGKILLed app: out of the registry within one health interval + 1 s, reported critical; restarted: listed and callable again', { timeout: 30_000 }, async () => {
  const port = appAddress.split(':')[1]!;
  const killedAt = Date.now();
  app.child.kill('SIGKILL');
  await until(registered, (n) => n === 0, `${NAME} gone from the caller's registry`, HEALTH_INTERVAL_MS + 1000);
  assert.ok(Date.now() - killedAt <= HEALTH_INTERVAL_MS + 1000);
  assert.equal((await getJson(`${sidecarBase}/health`)).status, 503);

  const health = await cli(['--no-mdns', '--join', greeterGossip, '--json', 'health', NAME]);
  assert.equal(health.code, 1, health.stderr);
  const rows = JSON.parse(health.stdout) as { app?: string; status: string; reason?: string }[];
  const appRow = rows.find((r) => r.app === NAME);
  assert.equal(appRow?.status, 'critical', health.stdout);
  assert.match(appRow!.reason!, /UNAVAILABLE/);

  app = await startApp(Number(port));
  await until(registered, (n) => n === 1, `${NAME} listed again`, 10_000);
  assert.deepEqual(await callApp('Foo.Bar', { name: 'again' }), { reply: 'Hello again', via: 'python' });
  const healthy = await cli(['--no-mdns', '--join', greeterGossip, '--json', 'health', NAME]);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.deepEqual((JSON.parse(healthy.stdout) as { status: string }[]).map((r) => r.status).sort(), ['ok', 'passing']);
});

/** Registry events of an SSE response, as {type, node}. */
async function* sseEvents(res: Response): AsyncGenerator<{ type: string; node: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body!) {
    buf += decoder.decode(chunk, { stream: true });
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data === '') continue; // a heartbeat
      const ev = JSON.parse(data) as { type: string; service: { nodes: { id: string }[] } };
      yield { type: ev.type, node: ev.service.nodes[0]!.id };
    }
  }
}
