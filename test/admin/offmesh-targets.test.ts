// Off the mesh (a shared registry such as etcd, here the memory one), /v1/prometheus/targets
// lists every registered node with an admin port, from the registry's node metadata; a node
// that deregisters leaves the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, MemoryRegistry, silentLogger } from 'micromesh';

interface Group { targets: string[]; labels: Record<string, string> }

test('off the mesh, http_sd lists the admin ports of every registered node, not only its own', async (t) => {
  const registry = new MemoryRegistry();
  const mk = (name: string) => createService({ name, registry, logger: silentLogger, admin: { address: '127.0.0.1:0' } }).handle('X', { Ping: () => 'pong' });
  const a = mk('greeter');
  const b = mk('users');
  const c = mk('users');
  for (const s of [a, b, c]) await s.start();
  t.after(async () => {
    for (const s of [a, b, c]) await s.stop();
  });
  const read = async (): Promise<Group[]> => (await (await fetch(`http://${a.adminAddress}/v1/prometheus/targets`)).json()) as Group[];
  const groups = await read();
  assert.deepEqual(groups.map((g) => g.targets[0]).sort(), [a.adminAddress, b.adminAddress, c.adminAddress].sort());
  const byNode = new Map(groups.map((g) => [g.labels.__meta_micromesh_node_id, g.labels.__meta_micromesh_services]));
  assert.equal(byNode.get(a.id), ',greeter,');
  assert.equal(byNode.get(b.id), ',users,');
  await c.stop();
  assert.deepEqual((await read()).map((g) => g.targets[0]).sort(), [a.adminAddress, b.adminAddress].sort());
});
