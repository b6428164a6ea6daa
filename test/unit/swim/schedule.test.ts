// The coordinated probe schedule (coordinatedProbes): pure, on MemberTable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/index.ts';
import { MemberRecord, MemberTable } from '../../../src/swim/members.ts';
import { WireState } from '../../../src/swim/wire.ts';
import { VirtualCluster } from '../../sim/cluster.ts';

const rec = (id: string): MemberRecord => new MemberRecord(id, `${id}:1`, 1, new Uint8Array(0), 0, 0);

/** One table per member, each holding the same view, inserted in a different order. */
function views(n: number): MemberTable[] {
  const ids = Array.from({ length: n }, (_, i) => `node-${i}`);
  return ids.map((self, k) => {
    const t = new MemberTable(rec(self), new SeededRandom(k + 1));
    for (const id of new SeededRandom(k + 100).shuffle(ids.filter((x) => x !== self))) t.add(rec(id));
    return t;
  });
}

test('with one view, every round probes every member exactly once, and nobody itself', () => {
  const tables = views(13);
  for (let round = 1_700_000_000; round < 1_700_000_030; round++) {
    const targets = tables.map((t) => t.scheduledProbeTarget(round)!.id);
    assert.equal(new Set(targets).size, 13, `round ${round}: ${targets.join()}`);
    tables.forEach((t, i) => assert.notEqual(targets[i], t.self.id));
  }
});

test('over M - 1 consecutive rounds each node probes every other member once, as a round-robin does', () => {
  for (const t of views(9)) {
    const seen = Array.from({ length: 8 }, (_, r) => t.scheduledProbeTarget(42 + r)!.id);
    assert.equal(new Set(seen).size, 8);
  }
});

test('a dead or left target passes to the next live member; alone, nobody to probe', () => {
  const tables = views(6);
  const dead = tables[0]!.get('node-3')!;
  const left = tables[0]!.get('node-4')!;
  tables[0]!.setState(dead, WireState.Dead, 0);
  tables[0]!.setState(left, WireState.Left, 0);
  for (let round = 0; round < 20; round++) {
    const m = tables[0]!.scheduledProbeTarget(round)!;
    assert.ok(m.isLive && m !== tables[0]!.self, `round ${round}: ${m.id}`);
  }
  assert.equal(new MemberTable(rec('alone'), new SeededRandom(1)).scheduledProbeTarget(5), undefined);
});

test('departed members leave the ring, so the live ones still cover every live member each round', () => {
  const tables = views(10);
  for (const t of tables) for (const id of ['node-3', 'node-7']) t.setState(t.get(id)!, WireState.Dead, 0);
  const live = tables.filter((t) => !['node-3', 'node-7'].includes(t.self.id));
  for (let round = 100; round < 120; round++) {
    const targets = live.map((t) => t.scheduledProbeTarget(round)!.id);
    assert.equal(new Set(targets).size, 8, `round ${round}: ${targets.join()}`);
  }
});

test('probes per node are unchanged: one per probe interval', async () => {
  const c = new VirtualCluster({ seed: 5 });
  const hosts = await c.startJoined(12);
  const before = hosts.map((h) => h.node.stats().probes);
  await c.run(10_000);
  const probes = hosts.map((h, i) => h.node.stats().probes - before[i]!);
  // 12 nodes × 10 rounds, every node probing once per round.
  assert.ok(probes.every((p) => p >= 9 && p <= 11), probes.join());
  await c.stopAll();
});
