// Consul's /v1/kv on the agent over the mesh's key/value store, driven by real clients: Debian's python3-consul
// and curl against agent a of a 3-node mesh; a blocking get is woken by a write made on node c; cas is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Service } from '../../src/index.ts';
import { createAgent, type Agent } from '../../src/agent/index.ts';
import { eventually, startNode } from '../support/agent-mesh.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { REQUIRE_SERVERS_ENV, serverGate } from '../support/servers.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../support/consul_kv.py', import.meta.url));
const curlGate = await serverGate('/usr/bin/curl', 'apt-get install curl');
const pyGate = await access('/usr/lib/python3/dist-packages/consul/__init__.py').then(() => false as const, () => {
  if ((process.env[REQUIRE_SERVERS_ENV] ?? '') !== '' && process.env[REQUIRE_SERVERS_ENV] !== '0') throw new Error(`${REQUIRE_SERVERS_ENV} is set but python3-consul is not installed`);
  return 'no python3-consul (apt-get install python3-consul)';
});

const nodes: Service[] = [];
let agent: Agent;
let base: string;
before(async () => {
  nodes.push(await startNode('consul', undefined, { kv: { antiEntropyIntervalMs: 500 } }));
  for (let i = 0; i < 2; i++) nodes.push(await startNode('greeter', nodes[0]!.mesh!.swim.address, { kv: { antiEntropyIntervalMs: 500 } }));
  await eventually(() => nodes[0]!.mesh!.peerCount(), (n) => n === 2, 'three members');
  agent = createAgent({ service: nodes[0]!, httpAddress: '127.0.0.1:0', dnsAddress: '' });
  await agent.start();
  base = `http://${agent.httpAddress}`;
});
after(async () => {
  await agent.stop();
  for (const s of nodes.reverse()) await s.stop();
});

const curl = async (...args: string[]): Promise<{ code: number; body: string; index: number }> => {
  const { stdout } = await run('curl', ['-sS', '-D', '-', ...args]);
  const [head, ...rest] = stdout.split('\r\n\r\n');
  return { code: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head!)![1]), body: rest.join('\r\n\r\n'), index: Number(/x-consul-index: (\d+)/i.exec(head!)?.[1] ?? 0) };
};

test('curl: the seed\'s put, get, recurse, keys, raw and delete', { skip: curlGate.skip }, async () => {
  assert.equal((await curl('-X', 'PUT', '--data', 'hello', `${base}/v1/kv/k1`)).body, 'true');
  assert.equal((await curl('-X', 'PUT', '--data', 'world', `${base}/v1/kv/dir/k2?flags=42`)).body, 'true');
  const got = await curl(`${base}/v1/kv/k1`);
  assert.equal(got.code, 200);
  assert.ok(got.index >= 1);
  const [pair] = JSON.parse(got.body);
  assert.deepEqual({ ...pair, CreateIndex: 0, ModifyIndex: 0 }, { LockIndex: 0, Key: 'k1', Flags: 0, Value: Buffer.from('hello').toString('base64'), CreateIndex: 0, ModifyIndex: 0 });
  assert.equal((await curl(`${base}/v1/kv/dir/k2?raw`)).body, 'world');
  assert.deepEqual(JSON.parse((await curl(`${base}/v1/kv/?recurse`)).body).map((p: any) => [p.Key, p.Flags]), [['dir/k2', 42], ['k1', 0]]);
  assert.deepEqual(JSON.parse((await curl(`${base}/v1/kv/?keys&separator=/`)).body), ['dir/', 'k1']);
  assert.equal((await curl(`${base}/v1/kv/nope`)).code, 404);
  // The write is on every node (a's put waited for 3 copies).
  for (const n of nodes) assert.equal(new TextDecoder().decode((await n.kv.get('k1'))?.value), 'hello');
  const cas = await curl('-X', 'PUT', '--data', 'x', `${base}/v1/kv/k1?cas=0`);
  assert.equal(cas.code, 501);
  assert.match(JSON.parse(cas.body).detail, /linearizable.*etcd/);
  assert.equal((await curl('-X', 'DELETE', `${base}/v1/kv/?recurse`)).body, 'true');
  assert.equal((await curl(`${base}/v1/kv/k1`)).code, 404);
});

test('python3-consul: put, get, recurse, keys, delete, cas refused, a blocking get woken by a write on another node', { skip: pyGate, timeout: 60_000 }, async (t) => {
  const py = new JsonLinesProcess(spawn('/usr/bin/python3', [SCRIPT, '127.0.0.1', agent.httpAddress!.split(':')[1]!], { stdio: ['ignore', 'pipe', 'pipe'] }), 'python3-consul');
  try {
    const step = (name: string) => py.waitFor((m) => m.step === name, 15_000, name);
    assert.equal((await step('put')).ok, true);
    const got = await step('get');
    assert.equal(got.value, 'hello');
    assert.equal(got.flags, 7);
    assert.deepEqual((await step('recurse')).keys, ['app/db/host', 'app/db/port', 'app/greeting']);
    assert.deepEqual((await step('keys')).keys, ['app/db/', 'app/greeting']);
    assert.equal((await step('missing')).value, null);
    const cas = await step('cas');
    assert.equal(cas.refused, true);
    assert.equal((await step('delete')).ok, true);
    assert.deepEqual((await step('after-delete')).keys, ['app/greeting']);
    const blocking = await step('blocking');
    await new Promise((r) => setTimeout(r, 300));
    const changedAt = Date.now();
    await nodes[2]!.kv.put('app/greeting', 'changed on c');
    const woke = await step('woke');
    assert.equal(woke.value, 'changed on c');
    assert.ok(Number(woke.index) > Number(blocking.index));
    assert.ok(Number(woke.waited_ms) < 20_000, 'woken by the write, not by its wait');
    t.diagnostic(`python3-consul blocking kv get returned ${Math.round(Number(woke.returned_at_ms) - changedAt)} ms after the put on another node began`);
  } finally {
    py.child.kill('SIGKILL');
  }
});
