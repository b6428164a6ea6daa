// The mesh key/value store in one process over real TCP and UDP: writes from any node reach every node,
// concurrent writes converge, deletes spread, a node that joins later gets everything, a put waits for its
// copies, and a node restarted on its data dir keeps what it held.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError, type Service } from '../../src/index.ts';
import { eventually, startNode } from '../support/agent-mesh.ts';

const nodes: Service[] = [];
after(async () => {
  for (const s of nodes.reverse()) await s.stop();
});
const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : new TextDecoder().decode(v));
const valueAt = async (s: Service, key: string): Promise<string | undefined> => text((await s.kv.get(key))?.value);
const fast = { kv: { antiEntropyIntervalMs: 200 } };

test('a write from any node reaches every node; concurrent writes converge; deletes spread; a late joiner gets everything', async () => {
  const a = await startNode('kv', undefined, fast);
  nodes.push(a);
  const seed = a.mesh!.swim.address;
  for (let i = 0; i < 4; i++) nodes.push(await startNode('kv', seed, fast));
  await eventually(() => nodes.every((n) => n.mesh!.peerCount() === 4), (ok) => ok, 'five members');

  const e = await a.kv.put('config/greeting', 'hello', { flags: 42 });
  assert.equal(e.flags, 42);
  assert.ok(e.modifyIndex >= 1 && e.createIndex === e.modifyIndex);
  const holding = (await Promise.all(nodes.map((n) => valueAt(n, 'config/greeting')))).filter((v) => v === 'hello').length;
  assert.ok(holding >= 3, `a put resolves once 3 nodes hold it (${holding} did)`);
  await eventually(async () => (await Promise.all(nodes.map((n) => valueAt(n, 'config/greeting')))).every((v) => v === 'hello'), (ok) => ok, 'every node has it');

  // Several nodes write the same key at once: every node ends with the same winner.
  await Promise.all(nodes.map((n, i) => n.kv.put('race', `from-${i}`)));
  const winners = await eventually(async () => new Set(await Promise.all(nodes.map((n) => valueAt(n, 'race')))), (s) => s.size === 1, 'one value everywhere');
  assert.match([...winners][0]!, /^from-\d$/);

  // Different keys from different nodes; then a delete.
  await Promise.all(nodes.map((n, i) => n.kv.put(`app/k${i}`, `v${i}`)));
  await eventually(async () => Promise.all(nodes.map(async (n) => (await n.kv.list('app/')).length)), (ls) => ls.every((l) => l === 5), 'five keys everywhere');
  assert.equal(await nodes[3]!.kv.delete('app/', { recurse: true }), 5);
  await eventually(async () => Promise.all(nodes.map(async (n) => (await n.kv.list('app/')).length)), (ls) => ls.every((l) => l === 0), 'the deletes everywhere');

  const late = await startNode('kv', seed, fast);
  nodes.push(late);
  await eventually(() => valueAt(late, 'config/greeting'), (v) => v === 'hello', 'the late joiner to get the store');
  assert.equal(await valueAt(late, 'app/k1'), undefined, 'and not the deleted keys');
  assert.ok(await late.kv.index('config/') >= 1);
});

test('a watch and a blocking index wait see a write made on another node', async () => {
  const [a, b] = [nodes[0]!, nodes[1]!];
  const idx = await b.kv.index('watched/');
  const w = b.kv.watch('watched/');
  const waited = b.kv.waitIndex('watched/', idx);
  await a.kv.put('watched/x', '1');
  assert.ok((await waited) > idx);
  for await (const ev of w) {
    assert.equal(ev.type, 'put');
    assert.equal(ev.type === 'put' && text(ev.entry.value), '1');
    break;
  }
});

test('a missing mesh config key is an error naming the key and the cluster', async () => {
  const { loadConfig, mesh } = await import('../../src/appconfig/index.ts');
  await assert.rejects(loadConfig({ sources: [mesh(nodes[0]!.kv, 'test/server')] }),
    (e: unknown) => e instanceof MeshError && e.code === 'NOT_FOUND' && /test\/server: no such key in the key\/value store of the mesh "micromesh"/.test(e.detail));
});

test('limits are errors with codes, naming the limit', async () => {
  const a = nodes[0]!;
  await assert.rejects(a.kv.put('big', new Uint8Array(600_000)), (e: unknown) => e instanceof MeshError && e.code === 'PAYLOAD_TOO_LARGE' && /valueMaxBytes/.test(e.detail));
  await assert.rejects(a.kv.put('', 'x'), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
  await assert.rejects(a.kv.put('k', 'x', { flags: -1 }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
});

test('a node restarted on its data dir starts with what it held', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'micromesh-kv-'));
  const solo = await startNode('kv-solo', undefined, { dataDir: dir });
  await solo.kv.put('kept', 'across restarts');
  const before = (await solo.kv.get('kept'))!.modifyIndex;
  await solo.stop();
  const again = await startNode('kv-solo', undefined, { dataDir: dir });
  try {
    assert.equal(await valueAt(again, 'kept'), 'across restarts');
    const e = await again.kv.put('kept', 'changed');
    assert.ok(e.modifyIndex > before, 'indexes keep going up across restarts');
  } finally {
    await again.stop();
  }
});
