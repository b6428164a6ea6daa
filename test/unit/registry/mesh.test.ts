import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshRegistry } from '../../../src/registry/mesh.ts';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { registryCompliance, node, svc } from '../../compliance/registry.ts';

let n = 0;
registryCompliance('mesh', {
  setup: async () => {
    const net = new MemoryMembershipNetwork();
    const registry = new MeshRegistry({ membership: net.join(`node-${n++}`) });
    return { registry, teardown: async () => registry.close() };
  },
});

const flush = () => new Promise((r) => setImmediate(r));

test('mesh registry: services of other members appear, update and vanish with the member', async () => {
  const net = new MemoryMembershipNetwork();
  const a = new MeshRegistry({ membership: net.join('a') });
  const bm = net.join('b');
  const b = new MeshRegistry({ membership: bm });
  const events: string[] = [];
  const watcher = a.watch({ service: 'greeter' });
  void (async () => { for await (const e of watcher) events.push(`${e.type}:${e.service.nodes.map((x) => x.id).join(',')}`); })();
  await b.register(svc('greeter', '1.0.0', [node('b1', '10.0.0.2:7000')]));
  await flush();
  assert.deepEqual((await a.getService('greeter'))[0]!.nodes.map((x) => x.address), ['10.0.0.2:7000']);
  await a.register(svc('greeter', '1.0.0', [node('a1', '10.0.0.1:7000')]));
  await flush();
  assert.deepEqual((await b.getService('greeter'))[0]!.nodes.map((x) => x.id).sort(), ['a1', 'b1']);
  net.remove('b', 'dead');
  await flush();
  assert.deepEqual((await a.getService('greeter'))[0]!.nodes.map((x) => x.id), ['a1'], 'a dead member takes its services along');
  await a.deregister(svc('greeter', '1.0.0', [node('a1')]));
  await flush();
  assert.deepEqual(await a.getService('greeter'), []);
  assert.deepEqual(events, ['add:b1', 'update:b1,a1', 'update:a1', 'remove:a1']);
  watcher.stop();
  a.close();
  b.close();
});

test('mesh registry: registrations made before attach are published on attach; close forgets the others', async () => {
  const net = new MemoryMembershipNetwork();
  const other = new MeshRegistry({ membership: net.join('b') });
  await other.register(svc('remote', '1', [node('b1')]));
  const r = new MeshRegistry();
  await r.register(svc('early', '1', [node('a1')]));
  assert.deepEqual((await r.listServices()).map((s) => s.name), ['early']);
  r.attach(net.join('a'));
  await flush();
  assert.deepEqual((await other.getService('early'))[0]!.nodes.map((x) => x.id), ['a1']);
  assert.deepEqual((await r.listServices()).map((s) => s.name).sort(), ['early', 'remote']);
  r.close();
  assert.deepEqual((await r.listServices()).map((s) => s.name), ['early']);
  other.close();
});

test('mesh registry: malformed records from a peer are ignored, never trusted', async () => {
  const net = new MemoryMembershipNetwork();
  const a = new MeshRegistry({ membership: net.join('a') });
  const evil = net.join('evil');
  evil.setLocal('services', [{ n: 'ok', v: '1', i: 'x', a: 'h:1' }, { n: 5 }, null, 'junk', { n: 'bad', v: '1', i: 'y' }]);
  net.join('evil2').setLocal('services', 'not a list');
  // An endpoint list that is not a list (a number, an object) yields no endpoints rather than a throw.
  net.join('evil3').setLocal('services', [{ n: 'odd', v: '1', i: 'z', a: 'h:2', e: 7 }, { n: 'odd2', v: '1', i: 'w', a: 'h:3', e: { x: 1 } }]);
  await flush();
  assert.deepEqual((await a.listServices()).map((s) => [s.name, s.endpoints.length]).sort(), [['odd', 0], ['odd2', 0], ['ok', 0]]);
  a.close();
});
