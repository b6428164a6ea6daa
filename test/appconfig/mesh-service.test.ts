// Config from the mesh's own store across two running services: a key
// written on one node reaches a config watcher on the other (issue 22).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'micromesh';
import { z } from 'zod';
import { loadConfig, mesh } from 'micromesh/config';
import { eventually, startNode } from '../support/agent-mesh.ts';

const nodes: Service[] = [];
after(async () => {
  for (const s of nodes.reverse()) await s.stop();
});

test('a key written on one node reaches the config watcher of a service on another', { timeout: 30_000 }, async () => {
  const a = await startNode('greeter');
  nodes.push(a);
  const b = await startNode('greeter', a.mesh!.swim.address);
  nodes.push(b);
  await eventually(() => a.mesh!.peerCount() === 1 && b.mesh!.peerCount() === 1, (ok) => ok, 'two members');

  await a.kv.put('greeter/greeting', 'Hello');
  await eventually(async () => (await b.kv.list('greeter/')).length, (n) => n === 1, 'the key on b');
  const config = await loadConfig({ sources: [mesh(b.kv, 'greeter')], schema: z.object({ greeting: z.string() }), debounceMs: 10 });
  assert.equal(config.value.greeting, 'Hello');

  const changed = new Promise<[string, string]>((resolve) => config.watch('greeting', (now, before) => resolve([now, before])));
  await a.kv.put('greeter/greeting', 'Bonjour');
  assert.deepEqual(await changed, ['Bonjour', 'Hello']);
  await config.close();
});
