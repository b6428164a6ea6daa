// The README's greeter with etcd and NATS instead of the mesh, through the
// CLI as users run it: a demo node listed in etcd (no SWIM, no mDNS), the
// read commands against etcd, and pubsub through NATS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
