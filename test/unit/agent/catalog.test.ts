// The agent's catalog from the mesh (src/agent/catalog.ts): members as nodes, registry nodes as instances, status
// from SWIM's state, addresses and tags as Consul shows them; an index that moves with every change and only then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogIndex, catalogOf, dnsLabel, type CatalogSource } from '../../../src/agent/catalog.ts';

const source = (over: Partial<CatalogSource> = {}): CatalogSource => ({
  datacenter: 'micromesh',
  members: [
    { id: 'greeter-a1', address: '198.18.0.1:7946', state: 'alive' },
    { id: 'greeter-B2', address: '198.18.0.2:7946', state: 'suspect' },
    { id: 'gone-c3', address: '198.18.0.3:7946', state: 'dead' },
  ],
  services: [{
    name: 'greeter', version: '1.2.0', metadata: {}, endpoints: [],
    nodes: [
      { id: 'greeter-a1', address: '198.18.0.1:40001', metadata: { tags: 'primary, eu' } },
      { id: 'greeter-B2', address: '10.0.0.9:40002', metadata: { zone: 'b' } },
      { id: 'gone-c3', address: '198.18.0.3:40003', metadata: {} },
      { id: 'etcd-only', address: '192.0.2.7:5000', metadata: {} },
    ],
  }],
  ...over,
});

test('members are nodes; registry nodes are instances with Consul\'s address, port, tags, meta and status', () => {
  const c = catalogOf(source());
  assert.deepEqual(c.nodes.map((n) => [n.name, n.address]), [['etcd-only', '192.0.2.7'], ['greeter-a1', '198.18.0.1'], ['greeter-b2', '198.18.0.2']]);
  assert.deepEqual(c.instances.map((i) => ({ node: i.node, address: i.address, port: i.port, tags: i.tags, status: i.status, meta: i.meta })), [
    { node: 'etcd-only', address: '', port: 5000, tags: [], status: 'passing', meta: { version: '1.2.0' } },
    { node: 'greeter-a1', address: '', port: 40001, tags: ['primary', 'eu'], status: 'passing', meta: { version: '1.2.0' } },
    { node: 'greeter-b2', address: '10.0.0.9', port: 40002, tags: [], status: 'warning', meta: { zone: 'b', version: '1.2.0' } },
  ], 'a dead member is neither a node nor an instance; a suspect one is a warning; an instance elsewhere than its node keeps its address');
  assert.equal(dnsLabel('Greeter_Svc.1'), 'greeter-svc-1');
});

test('the index starts at 1, moves on every change, and not without one', () => {
  const idx = new CatalogIndex();
  const a = idx.stamp(catalogOf(source()));
  assert.equal(a.index, 1);
  assert.equal(idx.stamp(catalogOf(source())).index, 1, 'the same catalog keeps its index');
  const members = source().members.map((m) => (m.id === 'greeter-B2' ? { ...m, state: 'alive' as const } : m));
  assert.equal(idx.stamp(catalogOf(source({ members }))).index, 2, 'a suspect back alive changes the answer');
  assert.equal(idx.stamp(catalogOf(source({ members }))).index, 2);
  assert.equal(idx.stamp(catalogOf(source())).index, 3, 'and back again is a change too');
});
