// Real processes on 127.0.0.1 over real UDP and TCP: the failure modes that a
// simulation can only imitate (SIGKILL leaves a port that refuses, SIGSTOP a
// process whose kernel still accepts connections). The local profile with
// shortened timers keeps this file to a few seconds; limits are generous
// "eventually" bounds, not timings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, NodeProc, startCluster } from './procs.ts';
import type { SwimConfig } from '../../src/swim/config.ts';

const config: Partial<SwimConfig> = {
  probeIntervalMs: 250, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 5000, clusterName: 'real-test',
};
const keyHex = '11'.repeat(32);
let nodes: NodeProc[] = [];

before(async () => {
  nodes = await startCluster(8, { config, keyHex });
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

const liveIds = async (n: NodeProc): Promise<string[]> =>
  (await n.members()).filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id).sort();

test('8 processes joining through one seed all see each other', async () => {
  const all = nodes.map((n) => n.name).sort();
  await eventually(async () => (await Promise.all(nodes.map(liveIds))).every((ids) => ids.join() === all.join()), 20_000, 'full view everywhere');
});

test('SIGKILL: every other process sees the killed one dead', async () => {
  const victim = nodes[3]!;
  victim.kill('SIGKILL');
  const rest = nodes.filter((n) => n !== victim);
  await eventually(() => rest.every((n) => n.lastState(victim.name) === 'dead'), 20_000, `${victim.name} dead everywhere`);
});

test('SIGSTOP past the suspicion timeout: dead everywhere; SIGCONT: it refutes with a higher incarnation, alive everywhere', async () => {
  const victim = nodes[5]!;
  const rest = nodes.filter((n) => n !== victim && n !== nodes[3]);
  const before = (await rest[0]!.members()).find((m) => m.id === victim.name)!.incarnation;
  victim.kill('SIGSTOP');
  await eventually(() => rest.every((n) => n.lastState(victim.name) === 'dead'), 30_000, `${victim.name} dead everywhere`);
  victim.kill('SIGCONT');
  await eventually(() => rest.every((n) => n.lastState(victim.name) === 'alive'), 20_000, `${victim.name} alive again everywhere`);
  for (const n of rest) {
    const m = (await n.members()).find((x) => x.id === victim.name)!;
    assert.equal(m.state, 'alive');
    assert.ok(m.incarnation > before, `${n.name} sees incarnation ${m.incarnation} > ${before}`);
  }
});

test('a node with the wrong key or the wrong cluster name never appears in anyone\'s view', async () => {
  const seed = nodes[0]!.address;
  const intruders = [
    new NodeProc({ name: 'wrong-key', seeds: [seed], config, keyHex: '22'.repeat(32) }),
    new NodeProc({ name: 'no-key', seeds: [seed], config }),
    new NodeProc({ name: 'wrong-cluster', seeds: [seed], config: { ...config, clusterName: 'other' }, keyHex }),
  ];
  try {
    await Promise.all(intruders.map((p) => p.waitLine((l) => l.ev === 'join-failed', 20_000, 'its join to fail')));
    await new Promise((r) => setTimeout(r, 1500));
    const live = nodes.filter((n) => n !== nodes[3]);
    for (const n of live) {
      const ids = (await n.members()).map((m) => m.id);
      for (const p of intruders) assert.ok(!ids.includes(p.name), `${n.name} lists ${p.name}`);
    }
    for (const p of intruders) assert.deepEqual((await p.members()).map((m) => m.id), [p.name]);
  } finally {
    await Promise.all(intruders.map((p) => p.stop()));
  }
});
