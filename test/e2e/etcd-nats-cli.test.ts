// The README's greeter with etcd and NATS instead of the mesh, through the
// CLI as users run it: a demo node listed in etcd (no SWIM, no mDNS), the
// read commands against etcd, and pubsub through NATS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createService, silentLogger } from 'micromesh';
import { CLI, cli } from '../support/cli.ts';
import { etcdGate, type Etcd } from '../support/etcd.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { natsGate, type NatsServer } from '../support/nats.ts';

const etcdG = await etcdGate();
const natsG = await natsGate();
const skip = etcdG.skip || natsG.skip;
const procs: JsonLinesProcess[] = [];
let etcd: Etcd;
let nats: NatsServer;
let flags: string[];

function start(args: string[], name: string): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(process.execPath, [CLI, ...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(p);
  return p;
}

before(async () => {
  if (skip) return;
  [etcd, nats] = await Promise.all([etcdG.start(), natsG.start()]);
  flags = ['--no-mdns', '--registry', etcd.url.replace(/^http:/, 'etcd:'), '--broker', nats.url];
});

after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await etcd?.dispose();
  await nats?.dispose();
});

test('micromesh run --demo on etcd + NATS: services, service, call, health; no SWIM view', { skip, timeout: 60_000 }, async () => {
  const demo = start(['--interface', 'lo', 'run', '--demo'], 'demo');
  const line = await demo.waitFor((m) => typeof m.address === 'string', 20_000, 'demo start');
  assert.equal(line.registry, 'etcd');
  assert.equal(line.gossip, undefined, 'no SWIM');
  const services = await cli([...flags, '--json', 'services']);
  assert.equal(services.code, 0, services.stderr);
  assert.ok((JSON.parse(services.stdout) as { name: string }[]).some((s) => s.name === 'greeter'), services.stdout);
  const call = await cli([...flags, 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}']);
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout), { msg: 'Hello Ada' });
  const svc = await cli([...flags, 'service', 'greeter']);
  assert.match(svc.stdout, /name string/);
  const health = await cli([...flags, 'health', 'greeter']);
  assert.equal(health.code, 0, health.stderr);
  const members = await cli([...flags, 'members']);
  assert.notEqual(members.code, 0);
  assert.match(members.stderr, /no SWIM view|--registry etcd/);
});

test('publish and subscribe through NATS from the CLI, a queue group included', { skip, timeout: 60_000 }, async () => {
  const sub = start(['--json', 'subscribe', 'orders.*', '--queue', 'billing'], 'subscriber');
  await new Promise((r) => setTimeout(r, 500));
  let got: Record<string, unknown> | undefined;
  for (let i = 0; i < 40 && got === undefined; i++) {
    const pub = await cli([...flags, 'publish', 'orders.created', `{"id":${i}}`]);
    assert.equal(pub.code, 0, pub.stderr);
    got = await sub.waitFor((m) => m.topic === 'orders.created', 250, 'a message').catch(() => undefined);
  }
  assert.ok(got, 'the subscriber got a message through NATS');
  assert.equal(typeof (got!.message as { id: number }).id, 'number');
});

test('mixing: services on the mesh registry (SWIM) publish through NATS', { skip, timeout: 60_000 }, async () => {
  const mesh = (join: string[]) => ({ mdns: false, gossipAddress: '127.0.0.1:0', join, profile: 'local' as const });
  const got: unknown[] = [];
  const a = createService({ name: 'shop', address: '127.0.0.1:0', mesh: mesh([]), broker: { nats: { servers: nats.url } }, logger: silentLogger })
    .handle('Shop', { Ping: () => ({ pong: true }) })
    // Its own group: the CLI test's subscriber (still running) is in `billing`, and a group's message goes to one member.
    .subscribe('orders.*', (m) => void got.push(m), { queue: 'shipping' });
  await a.start();
  const b = createService({ name: 'front', address: '127.0.0.1:0', mesh: mesh([a.mesh!.swim.address]), broker: { nats: { servers: nats.url } }, logger: silentLogger });
  await b.start();
  try {
    assert.equal(a.registry.name, 'mesh');
    assert.equal(a.broker.name, 'nats');
    let pong: unknown;
    for (let i = 0; i < 100 && pong === undefined; i++) pong = await b.client.call('shop', 'Shop.Ping', {}).catch(() => new Promise((r) => setTimeout(r, 50)).then(() => undefined));
    assert.deepEqual(pong, { pong: true }, 'RPC found the service through SWIM');
    await b.client.publish('orders.paid', { id: 7 });
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, [{ id: 7 }]);
  } finally {
    await b.stop();
    await a.stop();
  }
});
