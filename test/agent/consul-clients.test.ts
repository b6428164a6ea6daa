// Real Consul clients against the agent, none written by us: Debian's python3-consul and the npm `consul`
// client each list services, read health, register a service with a TTL check, pass it, let it expire to
// critical, and run a blocking query that a mesh change wakes (the wake-up latency is reported; the
// benchmark holds the figure).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Consul from 'consul';
import type { Service } from '../../src/index.ts';
import { createAgent, type Agent } from '../../src/agent/index.ts';
import { eventually, startNode } from '../support/agent-mesh.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { REQUIRE_SERVERS_ENV } from '../support/servers.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../support/consul_client.py', import.meta.url));
const pyGate = await access('/usr/lib/python3/dist-packages/consul/__init__.py').then(() => false as const, () => {
  if ((process.env[REQUIRE_SERVERS_ENV] ?? '') !== '' && process.env[REQUIRE_SERVERS_ENV] !== '0') throw new Error(`${REQUIRE_SERVERS_ENV} is set but python3-consul is not installed`);
  return 'no python3-consul (apt-get install python3-consul)';
});

const nodes: Service[] = [];
let agent: Agent;
let port: number;
before(async () => {
  nodes.push(await startNode('consul'));
  const seed = nodes[0]!.mesh!.swim.address;
  nodes.push(await startNode('greeter', seed), await startNode('greeter', seed));
  agent = createAgent({ service: nodes[0]!, httpAddress: '127.0.0.1:0', dnsAddress: '' });
  await agent.start();
  port = Number(agent.httpAddress!.split(':')[1]);
  await eventually(() => agent.snapshot().instances.filter((i) => i.service === 'greeter').length, (n) => n === 2, 'two greeters listed');
});
after(async () => {
  await agent.stop();
  for (const s of nodes.reverse()) await s.stop();
});

test('python3-consul: services, health, TTL register/pass/expire, a blocking query woken by a mesh change', { skip: pyGate, timeout: 60_000 }, async (t) => {
  const py = new JsonLinesProcess(spawn(PYTHON, [SCRIPT, '127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }), 'python3-consul');
  try {
    const step = (name: string, ms = 15_000) => py.waitFor((m) => m.step === name, ms, name);
    const services = await step('services');
    assert.deepEqual(services.names, ['consul', 'greeter']);
    assert.ok(Number(services.index) >= 1);
    assert.equal((await step('health')).count, 2);
    assert.deepEqual((await step('registered')).status, ['passing', 'critical']);
    assert.deepEqual(await step('passed'), { step: 'passed', count: 1, output: 'all good' });
    const expired = await step('expired');
    assert.equal(expired.status, 'critical');
    assert.match(String(expired.output), /TTL expired/);
    const blocking = await step('blocking');
    assert.equal(blocking.count, 2);
    // The client is (about to be) blocked on index; a third greeter joins the mesh.
    await new Promise((r) => setTimeout(r, 300));
    const changedAt = Date.now();
    nodes.push(await startNode('greeter', nodes[0]!.mesh!.swim.address));
    const woke = await step('woke');
    assert.equal(woke.count, 3);
    assert.ok(Number(woke.index) > Number(blocking.index));
    assert.ok(Number(woke.waited_ms) < 10_000, 'woken by the change, not by its wait');
    t.diagnostic(`python3-consul blocking query returned ${Math.round(Number(woke.returned_at_ms) - changedAt)} ms after the change began (node start included)`);
  } finally {
    py.child.kill('SIGKILL');
  }
  await nodes.pop()!.stop();
});

test('npm consul: services, health, TTL register/pass/expire, and a watch woken by a mesh change', { timeout: 60_000 }, async (t) => {
  const consul = new Consul({ host: '127.0.0.1', port });
  assert.deepEqual(Object.keys(await consul.catalog.service.list()).sort(), ['consul', 'greeter']);
  assert.equal((await consul.health.service({ service: 'greeter', passing: true })).length, 2);
  await consul.agent.service.register({ name: 'nodeweb', id: 'nodeweb', port: 9001, check: { ttl: '2s' } } as never);
  const status = async () => ((await consul.health.service('nodeweb')) as any[])[0].Checks.map((c: any) => c.Status);
  assert.deepEqual(await status(), ['passing', 'critical']);
  await consul.agent.check.pass({ id: 'service:nodeweb', note: 'fine' });
  assert.deepEqual(await status(), ['passing', 'passing']);
  await eventually(status, (s) => s[1] === 'critical', 'the TTL to expire', 10_000);
  await consul.agent.service.deregister('nodeweb');
  assert.deepEqual(await consul.health.service('nodeweb'), []);

  const watch = consul.watch({ method: consul.health.service, options: { service: 'greeter', wait: '10s' } as never, backoffFactor: 50 } as never);
  const changes: { at: number; count: number }[] = [];
  watch.on('change', (data: unknown[]) => changes.push({ at: Date.now(), count: data.length }));
  watch.on('error', (err: Error) => changes.push({ at: Date.now(), count: -1, ...{ err: String(err) } }));
  try {
    await eventually(() => changes.length, (n) => n >= 1, 'the first answer');
    assert.equal(changes[0]!.count, 2);
    await new Promise((r) => setTimeout(r, 300));
    const changedAt = Date.now();
    const extra = await startNode('greeter', nodes[0]!.mesh!.swim.address);
    await eventually(() => changes.at(-1)!.count, (n) => n === 3, 'the watch to see the third greeter');
    t.diagnostic(`npm consul watch saw the change ${changes.at(-1)!.at - changedAt} ms after the change began (node start included)`);
    await extra.stop();
    await eventually(() => changes.at(-1)!.count, (n) => n === 2, 'the watch to see it leave');
  } finally {
    watch.end();
  }
});
